import { performance } from 'node:perf_hooks';
import type * as z from 'zod';
import {
  ErrorCode,
  Initialize,
  RpcError,
  describeIssues,
  summarizeIssues,
  type ErrorCodeName,
  type JsonRpcId,
  type Scope,
} from '../protocol';
import type { Logger } from './logger';
import type { ServerMetrics } from './metrics';
import type { TokenBucket } from './rateLimit';
import type { CallContext, Router } from './router';

/** Per-connection call state: who is calling, whether `daemon/initialize` ran, its rate limit. */
export interface Session {
  readonly actor: string;
  readonly scope: Scope;
  /** `ws:<n>` or `http`. */
  readonly connectionId: string;
  /** `ready` once `daemon/initialize` succeeded (REST sessions start ready). */
  state: 'new' | 'initializing' | 'ready';
  readonly limiter: TokenBucket;
}

export interface DispatcherOptions {
  router: Router;
  metrics: ServerMetrics;
  log: Logger;
  /** Check each result against its method's result schema; a mismatch becomes InternalError. */
  validateResults: boolean;
  /** Largest number of calls in one batch frame. */
  maxBatch: number;
  /** Requests per second the rate limit allows, for the RateLimited message. */
  rateLimitPerSecond: number;
  /** True once the daemon is stopping: commands are refused with ShuttingDown. */
  isShuttingDown: () => boolean;
}

type Outcome = { ok: true; result: unknown } | { ok: false; error: RpcError };

const codeNames = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

/** The name of an error code for metrics and logs (`InvalidParams`), or the number for foreign codes. */
export function errorCodeName(code: number): ErrorCodeName | string {
  return codeNames.get(code) ?? String(code);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const isValidId = (id: unknown): id is JsonRpcId =>
  (typeof id === 'string' && id.length <= 256) || (typeof id === 'number' && Number.isSafeInteger(id));

function errorFrame(id: JsonRpcId | null, error: RpcError): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: error.toJSON() });
}

/**
 * JSON-RPC 2.0 over any text transport: parses a frame (a request, a notification or a batch),
 * enforces the initialize handshake and the rate limit, routes each call and answers. The REST
 * routes reuse `call`, so both paths share validation, scopes, metrics and error mapping.
 */
export class Dispatcher {
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: DispatcherOptions) {}

  /**
   * Handle one incoming frame and send the answer (if any) through `send`. Callbacks handlers
   * registered with `ctx.afterResponse` run after the answer was handed to `send`.
   */
  async handleFrame(text: string, session: Session, send: (frame: string) => void): Promise<void> {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (e) {
      this.count('(unparseable)', 'ParseError');
      send(errorFrame(null, new RpcError(ErrorCode.ParseError, `Parse error: ${(e as Error).message}`)));
      return;
    }
    const after: (() => void)[] = [];
    if (Array.isArray(message)) {
      const frame = await this.handleBatch(message, session, after);
      if (frame !== undefined) send(frame);
    } else {
      const frame = await this.handleOne(message, session, after);
      if (frame !== undefined) send(frame);
    }
    for (const fn of after) this.runAfter(fn);
  }

  /**
   * One call outside of a frame (a REST route). Resolves the result or rejects with RpcError;
   * `afterResponse` callbacks run once the caller settles.
   */
  async call(method: string, params: unknown, session: Session): Promise<unknown> {
    const after: (() => void)[] = [];
    const outcome = await this.execute(method, params, session, after, true);
    // setImmediate: after the caller has written its HTTP answer.
    if (after.length > 0) setImmediate(() => after.forEach((fn) => this.runAfter(fn)));
    if (outcome.ok) return outcome.result;
    throw outcome.error;
  }

  /** Calls currently running (for graceful shutdown). */
  get pending(): number {
    return this.inFlight;
  }

  /** Resolves once no call is running. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async handleBatch(batch: unknown[], session: Session, after: (() => void)[]): Promise<string | undefined> {
    if (batch.length === 0) {
      this.count('(invalid)', 'InvalidRequest');
      return errorFrame(null, new RpcError(ErrorCode.InvalidRequest, 'Invalid request: empty batch'));
    }
    if (batch.length > this.options.maxBatch) {
      this.count('(invalid)', 'InvalidRequest');
      return errorFrame(
        null,
        new RpcError(ErrorCode.InvalidRequest, `Invalid request: batch of ${batch.length} calls exceeds the maximum of ${this.options.maxBatch}`, {
          maxBatch: this.options.maxBatch,
        }),
      );
    }
    const answers: Promise<string | undefined>[] = [];
    for (const element of batch) {
      const answer = this.handleOne(element, session, after);
      answers.push(answer);
      // `daemon/initialize` is a barrier inside a batch, so `[initialize, x]` behaves as the client meant.
      if (isPlainObject(element) && element.method === Initialize.method) await answer;
    }
    const frames = (await Promise.all(answers)).filter((f): f is string => f !== undefined);
    return frames.length === 0 ? undefined : `[${frames.join(',')}]`;
  }

  /** One request or notification object: answers a frame, or undefined for a notification. */
  private async handleOne(message: unknown, session: Session, after: (() => void)[]): Promise<string | undefined> {
    const invalid = this.checkEnvelope(message);
    if (invalid) {
      this.count('(invalid)', 'InvalidRequest');
      const id = isPlainObject(message) && isValidId(message.id) ? message.id : null;
      return errorFrame(id, invalid);
    }
    // Nothing of the request object is used after the await: a big params object (a 10,000-sample
    // batch) can then be collected while its command waits for the disk, instead of being copied
    // by every scavenge until the answer goes out.
    const { id, method, params } = message as { id?: JsonRpcId; method: string; params?: unknown };
    const isNotification = !('id' in (message as object));
    const outcome = await this.execute(method, params, session, after, false);
    if (isNotification) {
      if (!outcome.ok) this.options.log.debug('notification failed', { method, code: outcome.error.code });
      return undefined;
    }
    if (!outcome.ok) return errorFrame(id as JsonRpcId, outcome.error);
    try {
      return JSON.stringify({ jsonrpc: '2.0', id, result: outcome.result });
    } catch (e) {
      this.options.log.error('result not serialisable', { method, error: (e as Error).message });
      return errorFrame(id as JsonRpcId, new RpcError(ErrorCode.InternalError, `Internal error in ${method}`, { method }));
    }
  }

  /** Why an object is not a JSON-RPC 2.0 request, or undefined when it is one. */
  private checkEnvelope(message: unknown): RpcError | undefined {
    const bad = (why: string) => new RpcError(ErrorCode.InvalidRequest, `Invalid request: ${why}`);
    if (!isPlainObject(message)) return bad(`expected a request object, got ${Array.isArray(message) ? 'a nested array' : message === null ? 'null' : typeof message}`);
    if (message.jsonrpc !== '2.0') return bad('"jsonrpc" must be "2.0"');
    if ('id' in message && !isValidId(message.id)) return bad('"id" must be a string (at most 256 characters) or a safe integer');
    if (typeof message.method !== 'string' || message.method.length === 0 || message.method.length > 128) {
      return bad('"method" must be a non-empty string of at most 128 characters');
    }
    if ('params' in message && message.params !== undefined && typeof message.params !== 'object') {
      return bad('"params" must be an object or an array');
    }
    if (message.params === null) return bad('"params" must be an object or an array, not null');
    return undefined;
  }

  private async execute(method: string, params: unknown, session: Session, after: (() => void)[], viaRest: boolean): Promise<Outcome> {
    const { router, log, metrics } = this.options;
    const label = router.has(method) ? method : '(unknown)';
    const started = performance.now();
    this.inFlight++;
    try {
      const retryAfterMs = session.limiter.take();
      if (retryAfterMs > 0) {
        metrics.rateLimited.inc();
        throw new RpcError(
          ErrorCode.RateLimited,
          `Rate limit exceeded: this connection may make ${this.options.rateLimitPerSecond} requests per second; retry after ${retryAfterMs} ms`,
          { retryAfterMs, limitPerSecond: this.options.rateLimitPerSecond },
        );
      }
      if (!viaRest) this.checkHandshake(method, session);
      const type = router.typeOf(method);
      if (type?.kind === 'command' && this.options.isShuttingDown()) {
        throw new RpcError(ErrorCode.ShuttingDown, `The daemon is shutting down; ${method} was not run`, { method });
      }
      const isInitialize = method === Initialize.method;
      if (isInitialize) session.state = 'initializing';
      const ctx: CallContext = {
        actor: session.actor,
        scope: session.scope,
        connectionId: session.connectionId,
        afterResponse: (fn) => after.push(fn),
      };
      let result: unknown;
      try {
        result = await router.dispatch(method, params, ctx);
      } catch (e) {
        if (isInitialize) session.state = 'new';
        throw e;
      }
      if (isInitialize) session.state = 'ready';
      if (this.options.validateResults && type) {
        const checked = (type.result as z.ZodType).safeParse(result);
        if (!checked.success) {
          log.error('handler result does not match its schema', { method, issues: summarizeIssues(checked.error) });
          throw new RpcError(ErrorCode.InternalError, `Internal error in ${method}: result failed validation`, {
            method,
            issues: describeIssues(checked.error),
          });
        }
      }
      this.observe(label, 'ok', started);
      return { ok: true, result };
    } catch (e) {
      const error = this.toRpcError(e, method);
      this.observe(label, errorCodeName(error.code), started);
      return { ok: false, error };
    } finally {
      if (--this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        waiters.forEach((w) => w());
      }
    }
  }

  private checkHandshake(method: string, session: Session): void {
    if (method === Initialize.method) {
      if (session.state !== 'new') {
        throw new RpcError(ErrorCode.AlreadyInitialized, 'daemon/initialize was already called on this connection');
      }
      return;
    }
    if (session.state !== 'ready') {
      throw new RpcError(
        ErrorCode.NotInitialized,
        `Call daemon/initialize first: ${method} arrived before the connection was initialized`,
        { method },
      );
    }
  }

  private toRpcError(e: unknown, method: string): RpcError {
    if (e instanceof RpcError) return e;
    const err = e instanceof Error ? e : new Error(String(e));
    // Detail (stack) goes to the log only; params never do, they may carry secrets.
    this.options.log.error(`unhandled error in ${method}: ${err.stack ?? err.message}`, { method });
    return new RpcError(ErrorCode.InternalError, `Internal error in ${method}; see the daemon log`, { method });
  }

  private observe(method: string, outcome: string, started: number): void {
    const seconds = (performance.now() - started) / 1000;
    this.options.metrics.requests.inc({ method, outcome });
    this.options.metrics.latency.observe({ method }, seconds);
    // Method, outcome and duration only: params and results may carry secrets.
    if (this.options.log.enabled('debug')) this.options.log.debug('rpc', { method, outcome, ms: Math.round(seconds * 100_000) / 100 });
  }

  private count(method: string, outcome: string): void {
    this.options.metrics.requests.inc({ method, outcome });
  }

  private runAfter(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.options.log.error(`afterResponse callback failed: ${(e as Error).stack ?? String(e)}`);
    }
  }
}
