import { existsSync } from 'node:fs';
import WebSocket from 'ws';
import {
  DidAppend,
  ErrorCode,
  Initialize,
  JsonRpcErrorObject,
  MAX_BATCH,
  PROTOCOL_VERSION,
  RpcError,
  Subscribe,
  Unsubscribe,
  summarizeIssues,
  type AnyNotificationType,
  type AnyRequestType,
  type DurableFilter,
  type EventEnvelope,
  type NotificationParamsOf,
  type ParamsOf,
  type ResultOf,
} from '../protocol';
import { backoffDelay, resolveReconnectOptions, type ReconnectOptions } from './backoff';
import { ClientError, isClientError } from './clientError';
import { defaultDataDir } from './paths';
import { validateResult } from './resultValidation';
import { isRetrySafe } from './retryRule';
import { readRuntimeFile, isPidAlive, runtimeFilePath, runtimeUrl } from './runtimeFile';
import { subscribeDurable, type DurableHandler, type DurableSubscribeOptions, type DurableSubscription } from './durableSubscription';
import { ClientSubscription, type SubscribeFilter, type Subscription } from './subscription';

/**
 * `idle` before start(); `connecting` until the first connection is initialized; `connected`;
 * `reconnecting` after a connection was lost; `stopped` after close() or when the client gave up.
 */
export type ClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type InitializeResult = ResultOf<typeof Initialize>;

/** Shaped like vscode.Disposable, so it can go straight into `ctx.subscriptions`. */
export interface Disposable {
  dispose(): void;
}

export interface DaemonClientOptions {
  /** `ws://127.0.0.1:<port>/rpc`. With `url`, `token` is required and no runtime file is read. */
  url?: string;
  /** Bearer token for `url` (the owner token or a minted one). */
  token?: string;
  /**
   * Data dir of the daemon (default: `defaultDataDir()`). Port and owner token come from its runtime
   * file, read again before every connection attempt: a restarted daemon has a new port and token.
   */
  dataDir?: string;
  /** Sent in `daemon/initialize`; shows in the daemon's log. */
  clientName: string;
  clientVersion?: string;
  /** Default per-request timeout, ms, counted from the call (time queued while connecting included). */
  requestTimeoutMs?: number;
  /** Limit for the ws handshake plus `daemon/initialize`, ms. */
  connectTimeoutMs?: number;
  /** Interval of client pings, ms; a connection with no pong or message for one interval is dropped. 0 = off. */
  heartbeatIntervalMs?: number;
  reconnect?: Partial<ReconnectOptions>;
  /** Diagnostics; never receives the token. */
  log?: (level: LogLevel, message: string) => void;
}

export interface RequestOptions {
  /** Overrides `requestTimeoutMs` for this call, ms. */
  timeoutMs?: number;
  /** Aborting rejects the call with a ClientError of kind `aborted` (the daemon may still run a sent command). */
  signal?: AbortSignal;
}

export interface StateChange {
  previous: ClientState;
  /** Why the connection was lost or the client stopped, when that is the cause of the change. */
  error?: Error;
}

/** One call of a batch; build it with `batchCall()` so its params are typed. */
export interface BatchCall<T extends AnyRequestType = AnyRequestType> {
  readonly type: T;
  readonly params: ParamsOf<T>;
}

export type BatchOutcome<R> = { readonly ok: true; readonly result: R } | { readonly ok: false; readonly error: Error };

export type BatchResults<C extends readonly BatchCall[]> = {
  -readonly [K in keyof C]: C[K] extends { readonly type: infer T extends AnyRequestType } ? BatchOutcome<ResultOf<T>> : never;
};

export function batchCall<T extends AnyRequestType>(type: T, params: ParamsOf<T>): BatchCall<T> {
  return { type, params };
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_HEARTBEAT_MS = 30_000;
/** Initialize errors that another attempt cannot fix: stop instead of retrying forever. */
const FATAL_INITIALIZE_CODES: ReadonlySet<number> = new Set([
  ErrorCode.UnsupportedProtocolVersion,
  ErrorCode.Unauthorized,
  ErrorCode.Forbidden,
]);

interface Connection {
  readonly ws: WebSocket;
  readonly target: Target;
  initialized: boolean;
  initId?: number;
  /** Why this connection failed or closed, when known before the close event. */
  failure?: ClientError;
  /** Saw a pong or a message since the last heartbeat tick. */
  alive: boolean;
  /** Set when the client itself closes the socket (close(), heartbeat, failed initialize). */
  fatal?: ClientError;
}

interface Target {
  url: string;
  token: string;
  /** Runtime file the target came from, for messages. */
  runtimeFile?: string;
  pid?: number;
}

/** Calls sent together in one batch frame (and re-sent together after a reconnect). */
type BatchGroup = { readonly size: number };

interface PendingCall {
  readonly id: number;
  readonly type: AnyRequestType;
  readonly params: unknown;
  readonly retrySafe: boolean;
  readonly group?: BatchGroup;
  /** Runs synchronously with the validated result, before any later frame is handled. */
  readonly onResult?: (result: unknown) => void;
  /** The connection it was written to; undefined while queued. */
  sentOn?: Connection;
  settled: boolean;
  resolve(value: unknown): void;
  reject(error: Error): void;
  cleanup(): void;
}

interface NotificationListener {
  readonly type: AnyNotificationType;
  readonly callback: (params: unknown) => void;
}

/**
 * A typed JSON-RPC client of the CogniForge daemon over WebSocket (Node only).
 *
 * - Every (re)connect starts with `daemon/initialize`; calls made meanwhile are queued.
 * - Results are validated with each method's result schema; daemon errors become `RpcError`.
 * - Reconnects with exponential backoff and jitter. A call in flight when the connection drops is
 *   re-sent only if it is retry-safe (see `isRetrySafe`: queries, and commands with a caller-chosen
 *   idempotency key); any other command rejects with a ClientError of kind `outcomeUnknown`.
 * - Subscriptions resume after a reconnect from the last delivered seq: no gap, no duplicate.
 */
export class DaemonClient {
  /** Data dir whose runtime file is used; undefined when connecting to an explicit `url`. */
  readonly dataDir: string | undefined;

  private readonly options: DaemonClientOptions;
  private readonly reconnect: ReconnectOptions;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly heartbeatMs: number;

  private currentState: ClientState = 'idle';
  private conn: Connection | undefined;
  private everConnected = false;
  /** Consecutive failed attempts since the last initialized connection. */
  private failedAttempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private initTimer: NodeJS.Timeout | undefined;
  private lastFailure: ClientError | undefined;
  private stopReason: ClientError | undefined;
  private closing: Promise<void> | undefined;
  private initResult: InitializeResult | undefined;

  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  /** Calls not yet written to the current connection, in call order. */
  private queue: PendingCall[] = [];

  private readonly readyWaiters: { resolve(r: InitializeResult): void; reject(e: Error): void }[] = [];
  private readonly stateListeners = new Set<(state: ClientState, change: StateChange) => void>();
  private readonly connectErrorListeners = new Set<(error: ClientError, attempt: number) => void>();
  private readonly notificationListeners = new Map<string, Set<NotificationListener>>();

  /** Established at least once; resumed after every reconnect. */
  private readonly subscriptions = new Set<ClientSubscription>();
  private readonly subsByServerId = new Map<string, ClientSubscription>();
  /** `events/didAppend` for ids not yet known: the daemon may push catch-up before the subscribe answer. */
  private readonly earlyEvents = new Map<string, EventEnvelope[]>();

  constructor(options: DaemonClientOptions) {
    if (!options.clientName) throw new TypeError('DaemonClient: clientName is required');
    if (options.url !== undefined && !options.token) throw new TypeError('DaemonClient: a url needs a token');
    if (options.url !== undefined && options.dataDir !== undefined) {
      throw new TypeError('DaemonClient: pass either url+token or dataDir, not both');
    }
    this.options = options;
    this.dataDir = options.url === undefined ? (options.dataDir ?? defaultDataDir()) : undefined;
    this.reconnect = resolveReconnectOptions(options.reconnect);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.heartbeatMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS;
  }

  get state(): ClientState {
    return this.currentState;
  }

  /** What the daemon answered to `daemon/initialize` on the current (or last) connection. */
  get initializeResult(): InitializeResult | undefined {
    return this.initResult;
  }

  /** Why the last connection attempt failed or the last connection was lost. */
  get lastError(): ClientError | undefined {
    return this.stopReason ?? this.lastFailure;
  }

  /** Begin connecting (and keep reconnecting). Idempotent; does nothing once stopped. */
  start(): void {
    if (this.currentState !== 'idle') return;
    this.setState('connecting');
    this.openSocket();
  }

  /**
   * Resolves with the initialize result once connected; rejects when the client stops (close(), a
   * fatal initialize error, or `reconnect.maxAttempts` used up). Does not start the client.
   */
  ready(): Promise<InitializeResult> {
    if (this.currentState === 'connected' && this.initResult) return Promise.resolve(this.initResult);
    if (this.currentState === 'stopped') return Promise.reject(this.stopReason);
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  request<T extends AnyRequestType>(type: T, params: ParamsOf<T>, opts?: RequestOptions): Promise<ResultOf<T>> {
    return this.call(type, params, opts) as Promise<ResultOf<T>>;
  }

  /**
   * Send the calls as one JSON-RPC batch frame. Never rejects: each call has its own outcome, in
   * order. Over the daemon's `maxBatch` (or the protocol's MAX_BATCH), every call fails unsent.
   */
  async batch<const C extends readonly BatchCall[]>(calls: C, opts?: RequestOptions): Promise<BatchResults<C>> {
    if (calls.length === 0) return [] as unknown as BatchResults<C>;
    const limit = this.initResult?.capabilities.maxBatch ?? MAX_BATCH;
    let promises: Promise<unknown>[];
    if (calls.length > limit) {
      const error = new RpcError(
        ErrorCode.InvalidRequest,
        `batch of ${calls.length} calls is over the daemon's limit of ${limit}`,
        { size: calls.length, maxBatch: limit },
      );
      promises = calls.map(() => Promise.reject(error));
    } else {
      const group: BatchGroup = { size: calls.length };
      promises = calls.map((c) => this.call(c.type, c.params, opts, { group }));
      this.flush();
    }
    const settled = await Promise.allSettled(promises);
    return settled.map((s) =>
      s.status === 'fulfilled' ? { ok: true, result: s.value } : { ok: false, error: toError(s.reason) },
    ) as unknown as BatchResults<C>;
  }

  /**
   * Call `callback` with the params of every `type` notification, validated with its schema
   * (invalid ones are logged and dropped).
   */
  onNotification<T extends AnyNotificationType>(type: T, callback: (params: NotificationParamsOf<T>) => void): Disposable {
    const listener: NotificationListener = { type, callback: callback as (params: unknown) => void };
    let set = this.notificationListeners.get(type.method);
    if (!set) this.notificationListeners.set(type.method, (set = new Set()));
    set.add(listener);
    return { dispose: () => void set.delete(listener) };
  }

  /**
   * Subscribe to events. Resolves once the daemon accepted it; the callback then sees every matching
   * event once, in seq order, across reconnects (re-subscribed with `afterSeq` = the last delivered seq).
   * `onError` hears a re-subscription the daemon refused after a reconnect.
   */
  subscribe(filter: SubscribeFilter, onEvent: (event: EventEnvelope) => void, options?: { onError?: (error: Error) => void }): Promise<Subscription>;
  /**
   * A durable named subscription (`subscribeDurable`): created if absent, attached, `handler`'s
   * success acks and its throw nacks; re-attached after a reconnect.
   */
  subscribe(name: string, filter: DurableFilter, handler: DurableHandler, options?: DurableSubscribeOptions): Promise<DurableSubscription>;
  subscribe(
    filterOrName: SubscribeFilter | string,
    onEventOrFilter: ((event: EventEnvelope) => void) | DurableFilter,
    optionsOrHandler?: { onError?: (error: Error) => void } | DurableHandler,
    durableOptions?: DurableSubscribeOptions,
  ): Promise<Subscription | DurableSubscription> {
    if (typeof filterOrName === 'string') {
      return subscribeDurable(this, filterOrName, onEventOrFilter as DurableFilter, optionsOrHandler as DurableHandler, durableOptions);
    }
    return this.subscribeEvents(filterOrName, onEventOrFilter as (event: EventEnvelope) => void, optionsOrHandler as { onError?: (error: Error) => void } | undefined);
  }

  private async subscribeEvents(
    filter: SubscribeFilter,
    onEvent: (event: EventEnvelope) => void,
    options?: { onError?: (error: Error) => void },
  ): Promise<Subscription> {
    const { afterSeq, ...rest } = filter;
    const sub = new ClientSubscription(rest, afterSeq, onEvent, options?.onError, this.log, (s) => this.release(s));
    await this.call(Subscribe, { ...rest, afterSeq }, undefined, {
      onResult: (r) => this.activate(sub, r as ResultOf<typeof Subscribe>),
    });
    return sub;
  }

  onStateChange(callback: (state: ClientState, change: StateChange) => void): Disposable {
    this.stateListeners.add(callback);
    return { dispose: () => void this.stateListeners.delete(callback) };
  }

  /** Each failed connection attempt, with the count of consecutive failures (1-based). */
  onConnectError(callback: (error: ClientError, attempt: number) => void): Disposable {
    this.connectErrorListeners.add(callback);
    return { dispose: () => void this.connectErrorListeners.delete(callback) };
  }

  /**
   * Stop for good: pending calls reject (kind `closed`; a command already sent is reported as of
   * unknown outcome), the socket closes. Safe to call twice; resolves when the socket is closed.
   */
  close(): Promise<void> {
    this.stop(new ClientError('closed', 'DaemonClient was closed'));
    return this.closing ?? Promise.resolve();
  }

  // ---------------------------------------------------------------- connection lifecycle

  private readonly log = (level: LogLevel, message: string): void => {
    this.options.log?.(level, message);
  };

  private setState(state: ClientState, error?: Error): void {
    const previous = this.currentState;
    if (previous === state) return;
    this.currentState = state;
    this.log(state === 'stopped' && error && !isClientError(error, 'closed') ? 'warn' : 'debug', `state ${previous} → ${state}${error ? `: ${error.message}` : ''}`);
    for (const listener of [...this.stateListeners]) {
      try {
        listener(state, { previous, error });
      } catch (e) {
        this.log('error', `onStateChange listener threw: ${String(e)}`);
      }
    }
  }

  private resolveTarget(): Target {
    if (this.options.url !== undefined) return { url: this.options.url, token: this.options.token ?? '' };
    const dataDir = this.dataDir ?? defaultDataDir();
    const file = runtimeFilePath(dataDir);
    const info = readRuntimeFile(dataDir);
    if (!info) {
      const what = existsSync(file) ? `the runtime file ${file} is unreadable or not a runtime file` : `no runtime file at ${file}`;
      throw new ClientError(
        'daemonNotRunning',
        `CogniForge daemon is not running on data dir ${dataDir}: ${what}. Start it with \`cogniforged --data-dir ${dataDir}\`.`,
        undefined,
        { dataDir },
      );
    }
    return { url: runtimeUrl(info), token: info.token, runtimeFile: file, pid: info.pid };
  }

  private openSocket(): void {
    this.reconnectTimer = undefined;
    let target: Target;
    try {
      target = this.resolveTarget();
    } catch (e) {
      this.attemptFailed(e instanceof ClientError ? e : new ClientError('connectFailed', String(e)));
      return;
    }
    this.log('debug', `connecting to ${target.url}`);
    const ws = new WebSocket(target.url, {
      headers: { Authorization: `Bearer ${target.token}` },
      handshakeTimeout: this.connectTimeoutMs,
    });
    const conn: Connection = { ws, target, initialized: false, alive: true };
    this.conn = conn;
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < 2048) chunks.push(chunk);
        size += chunk.length;
      });
      const done = (): void => {
        conn.failure = this.describeRefusal(target, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8').slice(0, 500));
        ws.terminate();
      };
      res.once('end', done);
      res.once('error', done);
    });
    ws.on('error', (err) => {
      conn.failure ??= this.describeSocketError(target, err);
    });
    ws.on('open', () => this.onOpen(conn));
    ws.on('message', (data) => {
      conn.alive = true;
      if (this.conn === conn) this.onFrame(conn, data.toString());
    });
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('close', (code, reason) => this.onClose(conn, code, reason.toString('utf8')));
  }

  private describeRefusal(target: Target, status: number, body: string): ClientError {
    const detail = body.trim() ? `: ${body.trim()}` : '';
    if (status === 401 || status === 403) {
      const hint = target.runtimeFile
        ? ` (token from ${target.runtimeFile}; the daemon may have restarted, retrying with a fresh read)`
        : ' (check the token)';
      return new ClientError('unauthorized', `The daemon at ${target.url} refused the token (HTTP ${status})${detail}${hint}`, undefined, { status });
    }
    return new ClientError('connectFailed', `The daemon at ${target.url} answered HTTP ${status} instead of upgrading${detail}`, undefined, { status });
  }

  private describeSocketError(target: Target, err: Error): ClientError {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') {
      if (target.runtimeFile) {
        const dataDir = this.dataDir ?? '';
        const pidNote =
          target.pid !== undefined && !isPidAlive(target.pid)
            ? `its pid ${target.pid} has exited, so the file is stale`
            : `pid ${target.pid ?? '?'} is not listening`;
        return new ClientError(
          'daemonNotRunning',
          `CogniForge daemon is not running on data dir ${dataDir}: nothing listens on ${target.url} named by ${target.runtimeFile} (${pidNote}). Start it with \`cogniforged --data-dir ${dataDir}\`.`,
          undefined,
          { dataDir, url: target.url },
          { cause: err },
        );
      }
      return new ClientError('daemonNotRunning', `Cannot connect to the CogniForge daemon at ${target.url}: connection refused. Is it running?`, undefined, { url: target.url }, { cause: err });
    }
    return new ClientError('connectFailed', `Cannot connect to the CogniForge daemon at ${target.url}: ${err.message}`, undefined, { url: target.url }, { cause: err });
  }

  private onOpen(conn: Connection): void {
    if (this.conn !== conn) return;
    const id = this.nextId++;
    conn.initId = id;
    const params: ParamsOf<typeof Initialize> = {
      protocolVersion: PROTOCOL_VERSION,
      client: { name: this.options.clientName, version: this.options.clientVersion },
    };
    this.initTimer = setTimeout(() => {
      this.dropConnection(conn, new ClientError('connectFailed', `${conn.target.url} did not answer daemon/initialize within ${this.connectTimeoutMs} ms`));
    }, this.connectTimeoutMs);
    this.write(conn, JSON.stringify({ jsonrpc: '2.0', id, method: Initialize.method, params }));
  }

  private onInitializeAnswer(conn: Connection, msg: Record<string, unknown>): void {
    clearTimeout(this.initTimer);
    if ('error' in msg) {
      const parsed = JsonRpcErrorObject.safeParse(msg.error);
      const err = parsed.success
        ? new RpcError(parsed.data.code, parsed.data.message, parsed.data.data)
        : new RpcError(ErrorCode.InternalError, 'malformed error answer to daemon/initialize');
      if (FATAL_INITIALIZE_CODES.has(err.code)) {
        const kind = err.code === ErrorCode.UnsupportedProtocolVersion ? 'connectFailed' : 'unauthorized';
        this.stop(new ClientError(kind, `daemon/initialize refused by ${conn.target.url}: ${err.message}`, Initialize.method, err.toJSON(), { cause: err }));
      } else {
        this.dropConnection(conn, new ClientError('connectFailed', `daemon/initialize failed: ${err.message}`, Initialize.method, err.toJSON(), { cause: err }));
      }
      return;
    }
    let result: InitializeResult;
    try {
      result = validateResult(Initialize, msg.result);
    } catch (e) {
      // The daemon speaks another contract: retrying the same daemon would fail the same way.
      this.stop(e as ClientError);
      return;
    }
    conn.initialized = true;
    this.initResult = result;
    this.failedAttempts = 0;
    this.lastFailure = undefined;
    this.everConnected = true;
    this.log('info', `connected to ${conn.target.url} (daemon ${result.daemonVersion}, protocol ${result.protocolVersion}, actor ${result.actor})`);
    this.startHeartbeat(conn);
    // Queued calls go first, then resumed subscriptions; listeners hear `connected` after both are on the wire.
    this.flush();
    this.resubscribeAll();
    this.setState('connected');
    for (const waiter of this.readyWaiters.splice(0)) waiter.resolve(result);
  }

  /** Close a connection the client gave up on; the close event then schedules a reconnect. */
  private dropConnection(conn: Connection, reason: ClientError): void {
    conn.failure ??= reason;
    this.log('warn', reason.message);
    conn.ws.terminate();
  }

  private onClose(conn: Connection, code: number, reason: string): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    clearTimeout(this.initTimer);
    this.stopHeartbeat();
    this.subsByServerId.clear();
    this.earlyEvents.clear();
    for (const sub of this.subscriptions) sub.subscriptionId = undefined;
    const lost =
      conn.failure ??
      new ClientError('connectFailed', `connection to ${conn.target.url} closed (code ${code}${reason ? `, ${reason}` : ''})`);
    this.settleInFlight(conn, lost);
    if (this.currentState === 'stopped') return;
    if (conn.initialized) {
      this.lastFailure = lost;
      this.log('warn', `lost the connection to ${conn.target.url}: ${lost.message}; reconnecting`);
      this.setState('reconnecting', lost);
      this.scheduleReconnect(0);
    } else {
      this.attemptFailed(lost);
    }
  }

  private attemptFailed(error: ClientError): void {
    this.failedAttempts++;
    this.lastFailure = error;
    this.log(this.failedAttempts === 1 ? 'warn' : 'debug', `connection attempt ${this.failedAttempts} failed: ${error.message}`);
    for (const listener of [...this.connectErrorListeners]) {
      try {
        listener(error, this.failedAttempts);
      } catch (e) {
        this.log('error', `onConnectError listener threw: ${String(e)}`);
      }
    }
    if (this.currentState === 'stopped') return;
    if (error.kind === 'unauthorized' && this.options.url !== undefined) {
      // A fixed token the daemon refused stays refused; only a runtime file can bring a new one.
      this.stop(error);
      return;
    }
    if (this.failedAttempts >= this.reconnect.maxAttempts) {
      this.stop(
        new ClientError('closed', `gave up connecting after ${this.failedAttempts} attempts: ${error.message}`, undefined, error.data, { cause: error }),
      );
      return;
    }
    this.scheduleReconnect(this.failedAttempts - (this.everConnected ? 0 : 1));
  }

  private scheduleReconnect(retry: number): void {
    const delay = backoffDelay(retry, this.reconnect);
    this.log('debug', `next connection attempt in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => this.openSocket(), delay);
  }

  private startHeartbeat(conn: Connection): void {
    if (this.heartbeatMs <= 0) return;
    this.heartbeatTimer = setInterval(() => {
      if (!conn.alive) {
        this.dropConnection(conn, new ClientError('connectFailed', `no answer from ${conn.target.url} for ${this.heartbeatMs} ms`));
        return;
      }
      conn.alive = false;
      if (conn.ws.readyState === WebSocket.OPEN) conn.ws.ping();
    }, this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private stop(reason: ClientError): void {
    if (this.currentState === 'stopped') return;
    this.stopReason = reason;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.initTimer);
    this.stopHeartbeat();
    const conn = this.conn;
    this.conn = undefined;
    if (conn) this.closing = closeSocket(conn.ws);
    for (const call of [...this.pending.values()]) {
      const inFlight = call.sentOn !== undefined;
      const message = inFlight
        ? `${reason.message} while ${call.type.method} was in flight${call.type.kind === 'command' ? ': its outcome is unknown' : ''}`
        : `${reason.message} before ${call.type.method} was sent`;
      this.settle(call, new ClientError(reason.kind, message, call.type.method, reason.data, { cause: reason }));
    }
    this.queue = [];
    this.subscriptions.clear();
    this.subsByServerId.clear();
    this.earlyEvents.clear();
    this.setState('stopped', reason);
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(reason);
  }

  // ---------------------------------------------------------------- calls

  private call(
    type: AnyRequestType,
    params: unknown,
    opts: RequestOptions | undefined,
    extra?: { group?: BatchGroup; onResult?: (result: unknown) => void; retrySafe?: boolean },
  ): Promise<unknown> {
    if (this.currentState === 'stopped') {
      const reason = this.stopReason ?? new ClientError('closed', 'DaemonClient was closed');
      return Promise.reject(new ClientError(reason.kind, `${type.method} not sent: ${reason.message}`, type.method, reason.data, { cause: reason }));
    }
    if (type.method === Initialize.method) {
      return Promise.reject(new TypeError('daemon/initialize is sent by the client on every connect; read client.initializeResult instead'));
    }
    const signal = opts?.signal;
    if (signal?.aborted) {
      return Promise.reject(new ClientError('aborted', `${type.method} was aborted before it was sent`, type.method, undefined, { cause: signal.reason }));
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = opts?.timeoutMs ?? this.requestTimeoutMs;
      const call: PendingCall = {
        id: this.nextId++,
        type,
        params,
        retrySafe: extra?.retrySafe ?? isRetrySafe(type, params),
        group: extra?.group,
        onResult: extra?.onResult,
        settled: false,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      const timer = setTimeout(() => this.settle(call, this.timeoutError(call, timeoutMs)), timeoutMs);
      const onAbort = (): void => {
        const sentCommand = call.sentOn !== undefined && type.kind === 'command';
        this.settle(
          call,
          new ClientError(
            'aborted',
            `${type.method} was aborted${sentCommand ? ' after it was sent: the daemon may still complete it' : ''}`,
            type.method,
            undefined,
            { cause: signal?.reason },
          ),
        );
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(call.id, call);
      this.queue.push(call);
      if (!call.group) this.flush();
    });
  }

  private timeoutError(call: PendingCall, timeoutMs: number): RpcError {
    let detail: string;
    if (call.sentOn) {
      detail = call.type.kind === 'command' ? '; it was sent, so the daemon may still complete it' : '';
    } else {
      const why = this.lastFailure ? ` (${this.lastFailure.message})` : '';
      detail = `; it was never sent: the client is ${this.currentState}${why}${this.currentState === 'idle' ? '; call start() first' : ''}`;
    }
    return new RpcError(ErrorCode.Timeout, `${call.type.method} timed out after ${timeoutMs} ms${detail}`, {
      method: call.type.method,
      timeoutMs,
    });
  }

  private settle(call: PendingCall, outcome: Error | { value: unknown }): void {
    if (call.settled) return;
    call.settled = true;
    call.cleanup();
    this.pending.delete(call.id);
    if (outcome instanceof Error) call.reject(outcome);
    else call.resolve(outcome.value);
  }

  /** Write every queued call to the connection if it is initialized; a batch group goes as one frame. */
  private flush(): void {
    const conn = this.conn;
    // A socket already closing keeps its calls queued: its close event reconnects and flushes them.
    if (!conn?.initialized || this.queue.length === 0 || conn.ws.readyState !== WebSocket.OPEN) return;
    const queued = this.queue;
    this.queue = [];
    const frames = new Map<PendingCall | BatchGroup, PendingCall[]>();
    for (const call of queued) {
      if (call.settled) continue;
      const key = call.group ?? call;
      const list = frames.get(key);
      if (list) list.push(call);
      else frames.set(key, [call]);
    }
    for (const [key, calls] of frames) this.sendFrame(conn, calls, key !== calls[0]);
  }

  private sendFrame(conn: Connection, calls: PendingCall[], asBatch: boolean): void {
    const caps = this.initResult?.capabilities;
    if (asBatch && caps && calls.length > caps.maxBatch) {
      const error = new RpcError(ErrorCode.InvalidRequest, `batch of ${calls.length} calls is over the daemon's limit of ${caps.maxBatch}`, {
        size: calls.length,
        maxBatch: caps.maxBatch,
      });
      for (const call of calls) this.settle(call, error);
      return;
    }
    let text: string;
    try {
      const requests = calls.map((c) => ({ jsonrpc: '2.0', id: c.id, method: c.type.method, params: c.params ?? {} }));
      text = JSON.stringify(asBatch ? requests : requests[0]);
    } catch (e) {
      for (const call of calls) this.settle(call, new TypeError(`${call.type.method}: params are not JSON-serializable: ${String(e)}`));
      return;
    }
    const bytes = Buffer.byteLength(text);
    if (caps && bytes > caps.maxMessageBytes) {
      const error = new RpcError(ErrorCode.MessageTooLarge, `${calls.map((c) => c.type.method).join(', ')}: message of ${bytes} bytes is over the daemon's limit of ${caps.maxMessageBytes}`, {
        bytes,
        maxMessageBytes: caps.maxMessageBytes,
      });
      for (const call of calls) this.settle(call, error);
      return;
    }
    for (const call of calls) call.sentOn = conn;
    this.write(conn, text);
  }

  private write(conn: Connection, text: string): void {
    // A failed write surfaces as the socket's close event, which settles the calls on it.
    conn.ws.send(text, (err) => {
      if (err) this.log('debug', `write failed: ${err.message}`);
    });
  }

  /**
   * The connection is gone: calls written to it re-queue if retry-safe (see retryRule.ts), others
   * reject as `outcomeUnknown`.
   */
  private settleInFlight(conn: Connection, lost: ClientError): void {
    const requeue: PendingCall[] = [];
    for (const call of this.pending.values()) {
      if (call.sentOn !== conn) continue;
      call.sentOn = undefined;
      if (call.retrySafe) {
        requeue.push(call);
        continue;
      }
      this.settle(
        call,
        new ClientError(
          'outcomeUnknown',
          `${call.type.method} was sent but the connection dropped before the daemon answered (${lost.message}): its outcome is unknown. It was not re-sent because it is a command without an idempotency key.`,
          call.type.method,
          undefined,
          { cause: lost },
        ),
      );
    }
    // Re-sent calls keep their place ahead of anything queued after them.
    this.queue = [...requeue, ...this.queue].sort((a, b) => a.id - b.id);
  }

  // ---------------------------------------------------------------- incoming frames

  private onFrame(conn: Connection, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.log('warn', `dropped a frame that is not JSON (${text.length} chars)`);
      return;
    }
    for (const item of Array.isArray(msg) ? msg : [msg]) {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        this.log('warn', 'dropped a frame item that is not a JSON-RPC object');
        continue;
      }
      const m = item as Record<string, unknown>;
      if (typeof m.method === 'string' && !('id' in m)) this.onNotificationFrame(m.method, m.params);
      else if ('id' in m) this.onAnswer(conn, m);
      else this.log('warn', 'dropped a frame item that is neither an answer nor a notification');
    }
  }

  private onAnswer(conn: Connection, m: Record<string, unknown>): void {
    if (conn.initId !== undefined && m.id === conn.initId && !conn.initialized) {
      this.onInitializeAnswer(conn, m);
      return;
    }
    const call = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
    if (!call || call.sentOn !== conn) {
      if ('error' in m && m.id === null) this.log('warn', `the daemon reported an error about a frame: ${JSON.stringify(m.error)}`);
      else this.log('debug', `answer for unknown or expired request id ${JSON.stringify(m.id)}`);
      return;
    }
    const method = call.type.method;
    if (m.jsonrpc !== '2.0' || ('error' in m) === ('result' in m)) {
      this.settle(call, new ClientError('invalidResult', `Malformed answer to ${method}: not a JSON-RPC 2.0 response`, method));
      return;
    }
    if ('error' in m) {
      const parsed = JsonRpcErrorObject.safeParse(m.error);
      this.settle(
        call,
        parsed.success
          ? new RpcError(parsed.data.code, parsed.data.message, parsed.data.data)
          : new ClientError('invalidResult', `Malformed error answer to ${method}: ${summarizeIssues(parsed.error)}`, method),
      );
      return;
    }
    let value: unknown;
    try {
      value = validateResult(call.type, m.result);
    } catch (e) {
      this.settle(call, e as Error);
      return;
    }
    if (call.onResult) {
      try {
        call.onResult(value);
      } catch (e) {
        this.log('error', `handling the answer to ${method} failed: ${String(e)}`);
      }
    }
    this.settle(call, { value });
  }

  private onNotificationFrame(method: string, params: unknown): void {
    if (method === DidAppend.method) this.onDidAppend(params);
    const listeners = this.notificationListeners.get(method);
    if (!listeners || listeners.size === 0) {
      if (method !== DidAppend.method) this.log('debug', `notification ${method} has no listener`);
      return;
    }
    const parsedBySchema = new Map<unknown, ReturnType<AnyNotificationType['params']['safeParse']>>();
    for (const listener of [...listeners]) {
      let parsed = parsedBySchema.get(listener.type.params);
      if (!parsed) parsedBySchema.set(listener.type.params, (parsed = listener.type.params.safeParse(params ?? {})));
      if (!parsed.success) {
        this.log('warn', `dropped an invalid ${method} notification: ${summarizeIssues(parsed.error)}`);
        continue;
      }
      try {
        listener.callback(parsed.data);
      } catch (e) {
        this.log('error', `${method} listener threw: ${String(e)}`);
      }
    }
  }

  // ---------------------------------------------------------------- subscriptions

  private onDidAppend(params: unknown): void {
    const parsed = DidAppend.params.safeParse(params);
    if (!parsed.success) {
      this.log('warn', `dropped an invalid events/didAppend notification: ${summarizeIssues(parsed.error)}`);
      return;
    }
    const { subscriptionId, event } = parsed.data;
    const sub = this.subsByServerId.get(subscriptionId);
    if (sub) {
      sub.deliver(event);
    } else if (this.subscribeInFlight()) {
      const early = this.earlyEvents.get(subscriptionId);
      if (early) early.push(event);
      else this.earlyEvents.set(subscriptionId, [event]);
    } else {
      this.log('debug', `event seq ${event.seq} for unknown subscription ${subscriptionId} dropped`);
    }
  }

  private subscribeInFlight(): boolean {
    const conn = this.conn;
    for (const call of this.pending.values()) {
      if (call.type.method === Subscribe.method && call.sentOn === conn) return true;
    }
    return false;
  }

  /** Runs synchronously on the subscribe answer, so no later frame can slip past the early-event buffer. */
  private activate(sub: ClientSubscription, result: ResultOf<typeof Subscribe>): void {
    if (sub.disposed) {
      void this.unsubscribeOnDaemon(result.subscriptionId);
      return;
    }
    sub.activate(result.subscriptionId, result.headSeq);
    this.subscriptions.add(sub);
    this.subsByServerId.set(result.subscriptionId, sub);
    const early = this.earlyEvents.get(result.subscriptionId) ?? [];
    this.earlyEvents.delete(result.subscriptionId);
    for (const event of early) sub.deliver(event);
    // The answer is settled after this returns, so "still in flight" means more than this one call.
    let others = 0;
    for (const call of this.pending.values()) if (call.type.method === Subscribe.method && call.sentOn === this.conn) others++;
    if (others <= 1) this.earlyEvents.clear();
  }

  private resubscribeAll(): void {
    for (const sub of this.subscriptions) {
      // Not retry-safe on purpose: if this connection drops too, the next connect resubscribes anyway,
      // and a transparent retry on top would open the subscription twice.
      this.call(Subscribe, { ...sub.filter, afterSeq: sub.lastSeq }, undefined, {
        retrySafe: false,
        onResult: (r) => this.activate(sub, r as ResultOf<typeof Subscribe>),
      }).catch((e: unknown) => {
        if (isClientError(e, 'outcomeUnknown') || isClientError(e, 'closed')) return;
        const error = toError(e);
        this.log('error', `re-subscribing after reconnect failed (${JSON.stringify(sub.filter)}): ${error.message}`);
        sub.onError?.(error);
      });
    }
  }

  private release(sub: ClientSubscription): Promise<void> {
    this.subscriptions.delete(sub);
    const id = sub.subscriptionId;
    sub.subscriptionId = undefined;
    if (id === undefined) return Promise.resolve();
    this.subsByServerId.delete(id);
    return this.unsubscribeOnDaemon(id);
  }

  private unsubscribeOnDaemon(subscriptionId: string): Promise<void> {
    if (!this.conn?.initialized) return Promise.resolve();
    return this.request(Unsubscribe, { subscriptionId }).then(
      () => undefined,
      (e: unknown) => this.log('debug', `events/unsubscribe ${subscriptionId}: ${toError(e).message}`),
    );
  }
}

/** Connect a client and wait until it is initialized. */
export interface ConnectOptions extends DaemonClientOptions {
  /**
   * Keep trying until the daemon answers (bounded by `reconnect.maxAttempts`). Default false: the
   * first failed attempt rejects with its reason, e.g. "daemon is not running on data dir ...".
   */
  waitForDaemon?: boolean;
}

/** `new DaemonClient(options)`, `start()`, `ready()`; for scripts. On failure the client is closed. */
export async function connect(options: ConnectOptions): Promise<DaemonClient> {
  const { waitForDaemon, ...clientOptions } = options;
  const client = new DaemonClient(clientOptions);
  let firstError: Disposable | undefined;
  const failed = new Promise<never>((_, reject) => {
    if (!waitForDaemon) firstError = client.onConnectError((e) => reject(e));
  });
  client.start();
  try {
    await Promise.race([client.ready(), failed]);
    return client;
  } catch (e) {
    await client.close();
    throw e;
  } finally {
    firstError?.dispose();
  }
}

function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => ws.terminate(), 1000);
    force.unref();
    ws.once('close', () => {
      clearTimeout(force);
      resolve();
    });
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'client closed');
    else ws.terminate();
  });
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

