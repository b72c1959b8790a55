import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { ErrorCode, MAX_BATCH, RpcError, type AnyNotificationType, type NotificationParamsOf, type Scope } from '../protocol';
import type { Clock } from '../services/shared/clock';
import { CloseCode, Connection, webSocketClassWithLimit } from './connection';
import { Dispatcher, type Session } from './dispatcher';
import { bearerToken, readBody, refuseUpgrade, sendError, sendJson } from './httpErrors';
import type { Logger } from './logger';
import { PROMETHEUS_CONTENT_TYPE, type ServerMetrics } from './metrics';
import { TokenBucket } from './rateLimit';
import { QueryReader, type RestRoutes } from './rest';
import type { Router } from './router';

/** Who a bearer token belongs to. */
export interface Identity {
  /** `owner` or a minted token's name. */
  actor: string;
  scope: Scope;
}

export interface Authenticator {
  /** The identity behind a bearer token, or undefined when it is unknown or revoked. */
  authenticate(token: string): Identity | undefined;
}

export interface ServerOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Largest WebSocket message and HTTP body, bytes. */
  maxMessageBytes: number;
  /** Heartbeat ping interval, ms. */
  heartbeatMs: number;
  /** Unsent bytes per connection before it is cut as a slow consumer. */
  maxSendBufferBytes: number;
  rateLimit: { perSecond: number; burst: number };
  validateResults: boolean;
  router: Router;
  rest: RestRoutes;
  auth: Authenticator;
  metrics: ServerMetrics;
  log: Logger;
  clock: Clock;
}

/** The port is taken: `main` turns this into a message naming the flag. */
export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`port ${port} is in use`);
    this.name = 'PortInUseError';
  }
}

/**
 * One node:http server on one port: `/healthz`, the WebSocket API at `/rpc`, REST under `/api/`
 * and `/metrics`. Hardened the way `ws` recommends: authentication in the `upgrade` handler (401
 * before upgrading), `maxPayload`, heartbeat, bounded send buffers; `close()` is safe twice.
 */
export class DaemonServer {
  readonly dispatcher: Dispatcher;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<string, Connection>();
  private readonly closeListeners = new Set<(connectionId: string) => void>();
  private readonly httpBuckets = new Map<string, TokenBucket>();
  private nextConnection = 1;
  private heartbeat: NodeJS.Timeout | undefined;
  private accepting = false;
  private shuttingDown = false;
  private closed: Promise<void> | undefined;
  private boundPort = 0;

  constructor(private readonly options: ServerOptions) {
    this.dispatcher = new Dispatcher({
      router: options.router,
      metrics: options.metrics,
      log: options.log,
      validateResults: options.validateResults,
      maxBatch: MAX_BATCH,
      rateLimitPerSecond: options.rateLimit.perSecond,
      isShuttingDown: () => this.shuttingDown,
    });
    this.http = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
      this.handleHttp(req, res).catch((e: unknown) => {
        options.log.error(`http handler failed: ${(e as Error).stack ?? String(e)}`);
        if (!res.headersSent) sendError(res, new RpcError(ErrorCode.InternalError, 'Internal error; see the daemon log'));
        else res.destroy();
      });
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head));
    this.http.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageBytes,
      clientTracking: false,
      perMessageDeflate: false,
      WebSocket: webSocketClassWithLimit(options.maxMessageBytes),
    });
  }

  /** Start listening; resolves the bound port. Rejects with PortInUseError when the port is taken. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        this.http.off('listening', onListening);
        reject(e.code === 'EADDRINUSE' ? new PortInUseError(this.options.host, this.options.port) : e);
      };
      const onListening = () => {
        this.http.off('error', onError);
        this.http.on('error', (e) => this.options.log.error(`http server error: ${e.message}`));
        this.boundPort = (this.http.address() as AddressInfo).port;
        this.accepting = true;
        this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs);
        this.heartbeat.unref();
        resolve(this.boundPort);
      };
      this.http.once('error', onError);
      this.http.once('listening', onListening);
      this.http.listen({ host: this.options.host, port: this.options.port, exclusive: true });
    });
  }

  get port(): number {
    return this.boundPort;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Refuse new connections and new commands (queries on open connections still answer). */
  beginShutdown(): void {
    this.shuttingDown = true;
    this.accepting = false;
    this.http.close();
  }

  /** Send a pre-serialised frame to every open connection. */
  broadcast(frame: string): void {
    for (const conn of this.connections.values()) conn.send(frame);
  }

  /** Push a typed notification (`incidents/didChange`) to every initialized connection. */
  notifyAll<T extends AnyNotificationType>(type: T, params: NotificationParamsOf<T>): void {
    const frame = JSON.stringify({ jsonrpc: '2.0', method: type.method, params });
    for (const conn of this.connections.values()) if (conn.session.state === 'ready') conn.send(frame);
  }

  /** Push a typed notification to one connection; false when it is gone. */
  notify<T extends AnyNotificationType>(connectionId: string, type: T, params: NotificationParamsOf<T>): boolean {
    return this.send(connectionId, JSON.stringify({ jsonrpc: '2.0', method: type.method, params }));
  }

  hasConnection(connectionId: string): boolean {
    return this.connections.get(connectionId)?.open ?? false;
  }

  /** Send a pre-serialised frame to one connection; false when it is gone. */
  send(connectionId: string, frame: string): boolean {
    return this.connections.get(connectionId)?.send(frame) ?? false;
  }

  /** Send and, if the connection's backlog is large, wait until it drained. False when it is gone. */
  sendPaced(connectionId: string, frame: string): Promise<boolean> {
    return this.connections.get(connectionId)?.sendPaced(frame) ?? Promise.resolve(false);
  }

  /** Called with the id of each connection that closes, for whatever it had (subscriptions). */
  onConnectionClosed(listener: (connectionId: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Close every connection authenticated as `actor` (a revoked token). Returns how many. */
  closeConnectionsOf(actor: string, code: number, reason: string): number {
    let n = 0;
    for (const conn of this.connections.values()) {
      if (conn.session.actor === actor) {
        conn.close(code, reason);
        n++;
      }
    }
    this.httpBuckets.delete(actor);
    return n;
  }

  /** Stop everything: listener, heartbeat, connections (1001). Safe to call twice. */
  close(reason = 'daemon stopping'): Promise<void> {
    if (this.closed) return this.closed;
    this.closed = (async () => {
      this.beginShutdown();
      if (this.heartbeat) clearInterval(this.heartbeat);
      const open = [...this.connections.values()];
      await Promise.all(
        open.map(
          (conn) =>
            new Promise<void>((resolve) => {
              if (conn.ws.readyState === conn.ws.CLOSED) return resolve();
              const timer = setTimeout(() => {
                conn.terminate();
                resolve();
              }, 2000);
              timer.unref();
              conn.ws.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
              conn.close(CloseCode.GoingAway, reason);
            }),
        ),
      );
      this.wss.close();
      this.http.closeAllConnections();
      await new Promise<void>((resolve) => {
        if (!this.http.listening) return resolve();
        this.http.close(() => resolve());
      });
    })();
    return this.closed;
  }

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/rpc') {
      refuseUpgrade(socket, new RpcError(ErrorCode.NotFound, `No WebSocket endpoint at ${url.pathname}; use /rpc`), 404);
      return;
    }
    if (!this.accepting) {
      refuseUpgrade(socket, new RpcError(ErrorCode.ShuttingDown, 'The daemon is shutting down'), 503);
      return;
    }
    const identity = this.checkRequest(req);
    if (identity instanceof RpcError) {
      this.options.log.warn('refused WebSocket upgrade', { status: identity.code === ErrorCode.Forbidden ? 403 : 401, reason: identity.message });
      refuseUpgrade(socket, identity);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, identity));
  }

  /** Browser origins are refused (403), then the bearer token is checked (401). */
  private checkRequest(req: IncomingMessage): Identity | RpcError {
    if (req.headers.origin !== undefined) {
      return new RpcError(
        ErrorCode.Forbidden,
        `Requests from browsers are refused (Origin: ${String(req.headers.origin).slice(0, 100)})`,
      );
    }
    const token = bearerToken(req);
    if (!token) return new RpcError(ErrorCode.Unauthorized, 'Missing "Authorization: Bearer <token>" header');
    const identity = this.options.auth.authenticate(token);
    if (!identity) return new RpcError(ErrorCode.Unauthorized, 'Unknown or revoked token');
    return identity;
  }

  private accept(ws: WebSocket, identity: Identity): void {
    const id = `ws:${this.nextConnection++}`;
    const session: Session = {
      actor: identity.actor,
      scope: identity.scope,
      connectionId: id,
      state: 'new',
      limiter: new TokenBucket(this.options.rateLimit.perSecond, this.options.rateLimit.burst, this.options.clock),
    };
    const conn = new Connection(id, ws, session, this.options.maxSendBufferBytes, (c, buffered) => this.cutSlowConsumer(c, buffered));
    this.connections.set(id, conn);
    this.options.log.debug('connection opened', { connection: id, actor: identity.actor });
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('message', (data: RawData) => {
      conn.alive = true;
      const text = rawToString(data);
      this.dispatcher
        .handleFrame(text, session, (frame) => conn.send(frame))
        .catch((e: unknown) => this.options.log.error(`frame handling failed: ${(e as Error).stack ?? String(e)}`, { connection: id }));
    });
    ws.on('error', (e: Error & { code?: string }) => {
      this.options.log.warn(`connection error: ${e.message}`, { connection: id, code: e.code });
    });
    ws.on('close', (code: number) => {
      this.connections.delete(id);
      this.options.log.debug('connection closed', { connection: id, code });
      for (const listener of this.closeListeners) {
        try {
          listener(id);
        } catch (e) {
          this.options.log.error(`connection close listener failed: ${(e as Error).message}`);
        }
      }
    });
  }

  private cutSlowConsumer(conn: Connection, buffered: number): void {
    this.options.metrics.slowConsumers.inc();
    this.options.log.warn('closing slow consumer: send buffer over the limit', {
      connection: conn.id,
      actor: conn.session.actor,
      bufferedBytes: buffered,
      limitBytes: this.options.maxSendBufferBytes,
    });
    conn.close(CloseCode.PolicyViolation, `slow consumer: more than ${this.options.maxSendBufferBytes} bytes unsent`);
  }

  private beat(): void {
    for (const conn of this.connections.values()) {
      if (!conn.alive) {
        this.options.log.info('terminating connection: no pong since the last heartbeat', { connection: conn.id });
        conn.terminate();
        continue;
      }
      conn.alive = false;
      try {
        conn.ws.ping();
      } catch {
        conn.terminate();
      }
    }
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = url.pathname.startsWith('/api/') ? '/api' : url.pathname;
    res.on('finish', () => this.options.metrics.httpRequests.inc({ route: knownRoute(route), status: String(res.statusCode) }));
    if (req.headers.origin !== undefined) {
      sendError(res, new RpcError(ErrorCode.Forbidden, 'Requests from browsers are refused'));
      return;
    }
    if (url.pathname === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, ['GET']);
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (url.pathname !== '/metrics' && !url.pathname.startsWith('/api/')) {
      sendError(res, new RpcError(ErrorCode.NotFound, `Not found: ${url.pathname.slice(0, 200)}`));
      return;
    }
    const identity = this.checkRequest(req);
    if (identity instanceof RpcError) {
      req.resume();
      sendError(res, identity);
      return;
    }
    if (url.pathname === '/metrics') {
      if (req.method !== 'GET') return methodNotAllowed(res, ['GET']);
      const body = this.options.metrics.registry.render();
      res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    await this.handleRest(req, res, url, identity);
  }

  private async handleRest(req: IncomingMessage, res: ServerResponse, url: URL, identity: Identity): Promise<void> {
    let match: ReturnType<RestRoutes['match']>;
    try {
      match = this.options.rest.match(req.method ?? 'GET', url.pathname);
    } catch {
      sendError(res, new RpcError(ErrorCode.InvalidRequest, 'Malformed URL encoding in the path'));
      return;
    }
    if (!match) {
      req.resume();
      sendError(res, new RpcError(ErrorCode.NotFound, `No REST route ${req.method} ${url.pathname.slice(0, 200)}`));
      return;
    }
    if ('allowed' in match) {
      req.resume();
      return methodNotAllowed(res, match.allowed);
    }
    let body: unknown;
    if (match.route.verb !== 'GET' && match.route.verb !== 'DELETE') {
      let raw: Buffer;
      try {
        raw = await readBody(req, this.options.maxMessageBytes);
      } catch (e) {
        if (e instanceof RpcError) {
          res.setHeader('Connection', 'close');
          sendError(res, e);
          return;
        }
        throw e;
      }
      try {
        body = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
      } catch (e) {
        sendError(res, new RpcError(ErrorCode.ParseError, `Request body is not valid JSON: ${(e as Error).message}`));
        return;
      }
    }
    const session: Session = {
      actor: identity.actor,
      scope: identity.scope,
      connectionId: 'http',
      state: 'ready',
      limiter: this.httpBucket(identity.actor),
    };
    try {
      const params = match.route.toParams({ query: new QueryReader(url.searchParams), path: match.path, body });
      const result = await this.dispatcher.call(match.route.type.method, params, session);
      sendJson(res, match.route.status, result);
    } catch (e) {
      if (e instanceof RpcError) sendError(res, e);
      else throw e;
    }
  }

  /** REST calls have no connection: their rate limit is per token. */
  private httpBucket(actor: string): TokenBucket {
    let bucket = this.httpBuckets.get(actor);
    if (!bucket) {
      bucket = new TokenBucket(this.options.rateLimit.perSecond, this.options.rateLimit.burst, this.options.clock);
      this.httpBuckets.set(actor, bucket);
    }
    return bucket;
  }
}

/** Text and binary frames alike are read as UTF-8 JSON; invalid bytes end up as a parse error. */
function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function methodNotAllowed(res: ServerResponse, allowed: string[]): void {
  sendJson(
    res,
    405,
    { error: { code: ErrorCode.InvalidRequest, message: `Method not allowed; use ${allowed.join(', ')}`, data: { allowed } } },
    { Allow: allowed.join(', ') },
  );
}

/** Metric label for an HTTP path: known routes only, so scanners cannot grow the label set. */
function knownRoute(route: string): string {
  return route === '/api' || route === '/metrics' || route === '/healthz' ? route : '(other)';
}
