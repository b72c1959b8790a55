/**
 * Why the client, rather than the daemon, failed a call or a connection attempt. Errors the daemon
 * answers are `RpcError` (daemon/protocol/errors.ts); a request timeout is `RpcError(ErrorCode.Timeout)`.
 */
export type ClientErrorKind =
  /** No runtime file, a stale one (its pid is gone), or nothing listening on its port. */
  | 'daemonNotRunning'
  /** The daemon refused the token (HTTP 401/403 on the upgrade). */
  | 'unauthorized'
  /** Any other failure to open the connection or initialize it. */
  | 'connectFailed'
  /** A command was sent, then the connection dropped before its answer: it may or may not have run. */
  | 'outcomeUnknown'
  /** `close()` was called, or the client gave up reconnecting (`reconnect.maxAttempts`). */
  | 'closed'
  /** The caller's AbortSignal fired. */
  | 'aborted'
  /** The daemon answered a result that does not match the method's result schema. */
  | 'invalidResult';

export class ClientError extends Error {
  constructor(
    readonly kind: ClientErrorKind,
    message: string,
    /** Method of the call that failed, when the error belongs to one call. */
    readonly method?: string,
    readonly data?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ClientError';
  }
}

export const isClientError = (e: unknown, kind?: ClientErrorKind): e is ClientError =>
  e instanceof ClientError && (kind === undefined || e.kind === kind);
