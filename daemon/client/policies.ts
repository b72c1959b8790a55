import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleAll,
  handleWhen,
  isBrokenCircuitError,
  isBulkheadRejectedError,
  retry,
  timeout,
  wrap,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import {
  ReportStats,
  SEED_BREAKER,
  SEED_BULKHEADS,
  type BreakerState,
  type BulkheadTemplateName,
  type ReportedPolicyStats,
} from '../protocol';
import type { DaemonClient } from './daemonClient';

/** How a service's calls are protected. Anything left out comes from the template (`external_api` by default). */
export interface ServicePolicyOptions {
  /** One of the seed's bulkheads: database 20/50/30 s, llm 10/100/60 s, external_api 15/50/30 s, file_operations 5/20/20 s. */
  template?: BulkheadTemplateName;
  /** Calls running at once. */
  maxConcurrent?: number;
  /** Calls waiting for a slot; more are rejected at once. */
  maxQueue?: number;
  /** Per attempt, ms; the operation's signal aborts then. */
  timeoutMs?: number;
  /** Retries after a failed attempt (only for operations safe to repeat). Default: none. */
  retry?: { maxAttempts: number; initialDelayMs?: number; maxDelayMs?: number };
  /** Consecutive failures that open the circuit (default 5) and the wait before a trial call, ms (default 60 s). */
  breaker?: { failureThreshold?: number; halfOpenAfterMs?: number };
  /** Answer for a failed call (its error is passed in): the call then counts as a success with `fallback: true`. */
  fallback?: (error: Error) => unknown;
}

/** The seed's result shape: never throws. */
export interface CallResult<T> {
  success: boolean;
  result?: T;
  error?: Error;
  /** The result came from the fallback. */
  fallback?: boolean;
}

export interface PolicyBuilderOptions {
  /** Options of services that were not declared with `service()`. */
  defaults?: ServicePolicyOptions;
  /** Report stats to the daemon through this connection (`resilience/reportStats`). */
  client?: Pick<DaemonClient, 'request'>;
  /** How often stats are sent when they changed, ms (at least 1000). Default 5000. */
  reportIntervalMs?: number;
  /** This process's id in the daemon's list. Default `<hostname-less pid>-<random>`. */
  clientId?: string;
}

/** Unchanged stats are still re-sent this often so the daemon keeps them (it drops reports after 10 min), ms. */
const KEEPALIVE_MS = 60_000;

interface Service {
  id: string;
  template: BulkheadTemplateName | undefined;
  bulkhead: BulkheadPolicy;
  breaker: CircuitBreakerPolicy;
  policy: IPolicy;
  fallback: ServicePolicyOptions['fallback'];
  limits: { maxConcurrent: number; maxQueue: number; timeoutMs: number };
  counters: { successes: number; failures: number; rejected: number; timedOut: number; shortCircuited: number; fallbacks: number };
  breakerState: BreakerState;
  breakerTransitions: number;
}

/**
 * Resilience policies for a user's own services, built from cockatiel and shaped like the seed's
 * bulkhead manager: `await policies.call('database', () => db.query(sql))` answers
 * `{ success, result?, error? }` and never throws. Each service id gets one policy,
 *
 *   fallback → bulkhead → retry → circuit breaker → timeout → operation
 *
 * from the template of the same name (`database`, `llm`, `external_api`, `file_operations`), its
 * `service()` declaration, or the defaults. With a `client`, the stats go to the daemon every few
 * seconds (only when they changed, in the background: a call never waits for it) and show in
 * `resilience/policies` under `reported`, marked with this process's token name and client id.
 */
export class PolicyBuilder {
  private readonly services = new Map<string, Service>();
  private readonly defaults: ServicePolicyOptions;
  private readonly client: Pick<DaemonClient, 'request'> | undefined;
  readonly clientId: string;
  private timer: ReturnType<typeof setInterval> | undefined;
  private dirty = false;
  private lastSent = 0;
  private sending: Promise<void> | undefined;

  constructor(options: PolicyBuilderOptions = {}) {
    this.defaults = options.defaults ?? {};
    this.client = options.client;
    this.clientId = options.clientId ?? `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    if (this.client) {
      const every = Math.max(1000, options.reportIntervalMs ?? 5000);
      this.timer = setInterval(() => void this.reportNow(false), every);
      this.timer.unref?.();
    }
  }

  /** Declare (or redefine) a service's policy. */
  service(serviceId: string, options: ServicePolicyOptions = {}): this {
    this.services.set(serviceId, this.build(serviceId, options));
    this.dirty = true;
    return this;
  }

  /** Run `operation` through the service's policy. `operation` gets a signal that aborts on timeout. */
  async call<T>(serviceId: string, operation: (signal: AbortSignal) => Promise<T> | T): Promise<CallResult<T>> {
    const s = this.serviceFor(serviceId);
    this.dirty = true;
    try {
      const result = await s.policy.execute(({ signal }) => operation(signal));
      s.counters.successes++;
      return { success: true, result: result as T };
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      if (isBulkheadRejectedError(error)) s.counters.rejected++;
      else if (isBrokenCircuitError(error)) s.counters.shortCircuited++;
      else s.counters.failures++;
      if (s.fallback) {
        try {
          const result = (await s.fallback(error)) as T;
          s.counters.fallbacks++;
          return { success: true, result, fallback: true };
        } catch (fe) {
          return { success: false, error: fe instanceof Error ? fe : new Error(String(fe)) };
        }
      }
      return { success: false, error };
    } finally {
      this.dirty = true;
    }
  }

  /** Live stats of every service used or declared, in the shape the daemon keeps. */
  stats(): ReportedPolicyStats[] {
    return [...this.services.values()].map((s) => ({
      serviceId: s.id,
      ...(s.template === undefined ? {} : { template: s.template }),
      active: s.limits.maxConcurrent - s.bulkhead.executionSlots,
      queued: s.limits.maxQueue - s.bulkhead.queueSlots,
      ...s.counters,
      breakerState: s.breakerState,
      breakerTransitions: s.breakerTransitions,
      ...s.limits,
    }));
  }

  /**
   * Send the stats now (normally the timer does). Resolves when sent or failed: a failure is
   * dropped, the next report carries the totals anyway. With `force` false, only changed stats (or
   * a keepalive) are sent.
   */
  async reportNow(force = true): Promise<void> {
    if (!this.client || this.sending) return this.sending;
    if (!force && !this.dirty && Date.now() - this.lastSent < KEEPALIVE_MS) return;
    const policies = this.stats();
    if (policies.length === 0) return;
    this.dirty = false;
    const client = this.client;
    this.sending = (async () => {
      try {
        await client.request(ReportStats, { clientId: this.clientId, policies });
        this.lastSent = Date.now();
      } catch {
        this.dirty = true;
      } finally {
        this.sending = undefined;
      }
    })();
    return this.sending;
  }

  /** Stop reporting. */
  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private serviceFor(serviceId: string): Service {
    let s = this.services.get(serviceId);
    if (!s) {
      s = this.build(serviceId, this.defaults);
      this.services.set(serviceId, s);
    }
    return s;
  }

  private build(serviceId: string, options: ServicePolicyOptions): Service {
    const templateName = options.template ?? (isTemplate(serviceId) ? serviceId : undefined);
    const template = SEED_BULKHEADS[templateName ?? 'external_api'];
    const limits = {
      maxConcurrent: options.maxConcurrent ?? template.maxConcurrent,
      maxQueue: options.maxQueue ?? template.maxQueue,
      timeoutMs: options.timeoutMs ?? template.timeoutMs,
    };
    const bh = bulkhead(limits.maxConcurrent, limits.maxQueue);
    const breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.breaker?.halfOpenAfterMs ?? SEED_BREAKER.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.breaker?.failureThreshold ?? SEED_BREAKER.failureThreshold),
    });
    const retryPolicy = retry(
      handleWhen((e) => !isBulkheadRejectedError(e) && !(e instanceof BrokenCircuitError)),
      {
        maxAttempts: options.retry?.maxAttempts ?? 0,
        backoff: new ExponentialBackoff({ initialDelay: options.retry?.initialDelayMs ?? 200, maxDelay: options.retry?.maxDelayMs ?? 5_000 }),
      },
    );
    const timeoutPolicy = timeout(limits.timeoutMs, TimeoutStrategy.Aggressive);
    const service: Service = {
      id: serviceId,
      template: templateName,
      bulkhead: bh,
      breaker,
      policy: wrap(bh, retryPolicy, breaker, timeoutPolicy),
      fallback: options.fallback,
      limits,
      counters: { successes: 0, failures: 0, rejected: 0, timedOut: 0, shortCircuited: 0, fallbacks: 0 },
      breakerState: 'closed',
      breakerTransitions: 0,
    };
    timeoutPolicy.onTimeout(() => service.counters.timedOut++);
    breaker.onStateChange((state) => {
      service.breakerState = toBreakerState(state);
      service.breakerTransitions++;
      this.dirty = true;
    });
    return service;
  }
}

/** A policy builder; see `PolicyBuilder`. */
export function policyBuilder(options: PolicyBuilderOptions = {}): PolicyBuilder {
  return new PolicyBuilder(options);
}

function isTemplate(name: string): name is BulkheadTemplateName {
  return Object.prototype.hasOwnProperty.call(SEED_BULKHEADS, name);
}

function toBreakerState(state: CircuitState): BreakerState {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.HalfOpen:
      return 'halfOpen';
    default:
      return 'open';
  }
}

export { SEED_BULKHEADS as BULKHEAD_TEMPLATES };
