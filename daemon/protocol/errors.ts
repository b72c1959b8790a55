/**
 * The one error vocabulary of the daemon. Handlers throw `RpcError(code, message, data)`; anything
 * else becomes InternalError naming the method. Every code here is documented in the README (a unit
 * test checks it). Application codes live outside the JSON-RPC reserved range -32768..-32000.
 */
export const ErrorCode = {
  // JSON-RPC 2.0 standard codes
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  // Application codes (outside -32768..-32000)
  NotInitialized: -31000,
  AlreadyInitialized: -31001,
  UnsupportedProtocolVersion: -31002,
  Unauthorized: -31003,
  Forbidden: -31004,
  RateLimited: -31005,
  MessageTooLarge: -31006,
  NotFound: -31100,
  Conflict: -31101,
  InvalidTransition: -31102,
  Duplicate: -31103,
  FailedPrecondition: -31104,
  BackendUnavailable: -31200,
  Timeout: -31201,
  ShuttingDown: -31202,
  StorageFailure: -31203,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

/** Meaning of each code, in the words the README uses. */
export const ErrorCodeDoc: Record<ErrorCodeName, string> = {
  ParseError: 'The frame is not valid JSON.',
  InvalidRequest: 'The JSON is not a JSON-RPC 2.0 request (missing `jsonrpc: "2.0"`, bad `id`, `method` not a string, empty batch).',
  MethodNotFound: 'No method of that name. `data.method` names it.',
  InvalidParams: 'Params failed validation. `data.issues` lists each problem with its path.',
  InternalError: 'A bug or an unexpected failure inside a handler. `data.method` names the method; the daemon log has the detail.',
  NotInitialized: 'A call other than `daemon/initialize` arrived before `daemon/initialize` on this connection.',
  AlreadyInitialized: '`daemon/initialize` was called twice on one connection.',
  UnsupportedProtocolVersion: 'The client speaks a protocol major version the daemon does not. `data.supported` lists what it speaks.',
  Unauthorized: 'Missing or wrong bearer token (HTTP 401).',
  Forbidden: "The token's scope does not allow this method, or a browser `Origin` was sent (HTTP 403).",
  RateLimited: 'Too many requests on this connection. `data.retryAfterMs` says when to retry.',
  MessageTooLarge: 'The message is over the size limit (`--max-message-bytes`, default 4 MiB).',
  NotFound: 'The id named in the params does not exist. `data` names the kind and id.',
  Conflict: 'The state changed under the call (a concurrent write won, or an expected version did not match).',
  InvalidTransition: 'A state machine refused the move. `data.allowed` lists the allowed next states.',
  Duplicate: 'An object with that id or name already exists.',
  FailedPrecondition: 'The call is valid but the current state does not allow it; the message says what must change first.',
  BackendUnavailable: 'An outbound dependency (broker, vault, webhook) is down or its circuit breaker is open.',
  Timeout: 'The call or an outbound dependency took longer than its timeout.',
  ShuttingDown: 'The daemon is stopping and no longer accepts commands.',
  StorageFailure: 'The event log could not make the write durable (disk full, I/O error). Nothing was acknowledged.',
};

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }

  toJSON(): { code: number; message: string; data?: unknown } {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

export const isRpcError = (e: unknown): e is RpcError => e instanceof RpcError;
