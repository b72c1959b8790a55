import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode, RpcError } from '../protocol';

/** The HTTP status a REST caller sees for each error code. */
export function httpStatusFor(code: number): number {
  switch (code) {
    case ErrorCode.ParseError:
    case ErrorCode.InvalidRequest:
    case ErrorCode.InvalidParams:
    case ErrorCode.NotInitialized:
    case ErrorCode.AlreadyInitialized:
    case ErrorCode.UnsupportedProtocolVersion:
      return 400;
    case ErrorCode.Unauthorized:
      return 401;
    case ErrorCode.Forbidden:
      return 403;
    case ErrorCode.MethodNotFound:
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.Conflict:
    case ErrorCode.InvalidTransition:
    case ErrorCode.Duplicate:
    case ErrorCode.FailedPrecondition:
      return 409;
    case ErrorCode.MessageTooLarge:
      return 413;
    case ErrorCode.RateLimited:
      return 429;
    case ErrorCode.BackendUnavailable:
    case ErrorCode.ShuttingDown:
      return 503;
    case ErrorCode.Timeout:
      return 504;
    default:
      return 500;
  }
}

const BASE_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...BASE_HEADERS, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** `{ error: { code, message, data } }` with the status that goes with the code. */
export function sendError(res: ServerResponse, error: RpcError, headers: Record<string, string> = {}): void {
  const extra = { ...headers };
  if (error.code === ErrorCode.Unauthorized) extra['WWW-Authenticate'] = 'Bearer realm="cogniforge"';
  const retryAfterMs = (error.data as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  if (error.code === ErrorCode.RateLimited && typeof retryAfterMs === 'number') {
    extra['Retry-After'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  }
  sendJson(res, httpStatusFor(error.code), { error: error.toJSON() }, extra);
}

/** Refuse a WebSocket upgrade with a plain HTTP answer before any WebSocket frame is exchanged. */
export function refuseUpgrade(socket: Duplex, error: RpcError, status = httpStatusFor(error.code)): void {
  const body = JSON.stringify({ error: error.toJSON() });
  const headers: Record<string, string | number> = {
    Connection: 'close',
    ...BASE_HEADERS,
    'Content-Length': Buffer.byteLength(body),
  };
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer realm="cogniforge"';
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\r\n') +
      '\r\n\r\n' +
      body,
  );
}

/** The bearer token of a request, or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return m?.[1];
}

/** Read a request body up to `limit` bytes; rejects with MessageTooLarge beyond it. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const tooLarge = () =>
      new RpcError(ErrorCode.MessageTooLarge, `Request body exceeds ${limit} bytes (--max-message-bytes)`, { maxMessageBytes: limit });
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!failed) {
        failed = true;
        reject(e);
      }
    });
  });
}
