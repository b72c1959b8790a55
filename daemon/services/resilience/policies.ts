import {
  ExponentialBackoff,
  bulkhead,
  handleWhen,
  isBulkheadRejectedError,
  retry,
  type BulkheadPolicy,
  type RetryPolicy,
} from 'cockatiel';
import {
  DependencyName,
  DependencyPolicyConfig,
  ErrorCode,
  ResilienceEventType,
  RpcError,
  SEED_BREAKER,
  SEED_BULKHEADS,
  type BreakerStateChangedPayload,
  type BulkheadTemplateName,
  type BulkheadRejectedPayload,
  type DependencyStats,
} from '../../protocol';
import type { Clock, TimerHandle } from '../shared/clock';
import type { EventStore, NewEvent, StoreOptions } from '../../store/types';
import { CircuitBreaker, CircuitOpenError, type BreakerTransitionInfo } from './breaker';
import { ReportedStats } from './reportedStats';

export type LogFn = NonNullable<StoreOptions['log']>;

/** The seed's bulkhead templates (max concurrent / max queue / timeout), shared with the client library. */
export const BULKHEAD_TEMPLATES = SEED_BULKHEADS;

export type { BulkheadTemplateName };

/** The seed's breaker: open after 5 consecutive failures, half-open after 60 s, close after 3 successes. */
export const DEFAULT_POLICY_CONFIG: DependencyPolicyConfig = {
  ...BULKHEAD_TEMPLATES.external_api,
  retry: { maxRetries: 2, initialDelayMs: 200, maxDelayMs: 5_000 },
  breaker: { ...SEED_BREAKER },
};

/** Overrides of a dependency's policy; anything left out comes from the defaults. */
export interface DependencyPolicyOverrides {
  maxConcurrent?: number;
  maxQueue?: number;
  timeoutMs?: number;
  retry?: Partial<DependencyPolicyConfig['retry']>;
  breaker?: Partial<DependencyPolicyConfig['breaker']>;
}

/**
 * A chaos hook. It runs inside the policy, after the bulkhead, breaker and timeout admitted the
 * attempt and right before the real call: a thrown error is a failure the breaker counts and retries
 * may repeat; a delay runs against the timeout (honour `signal`, which aborts on timeout). It may
 * answer a function that runs after the real call succeeded and may throw in its place (the call
 * reached the dependency, the answer is lost).
 */
export type FaultInjector = (context: FaultContext) => AfterCall | void | Promise<AfterCall | void>;

/** Runs after a successful real call; throwing turns the success into a failure. */
export type AfterCall = () => void;

/**
 * What happened to a call of a dependency, for observers (live stats, chaos results):
 * `start` / `startQueued` (no free slot: it waits) when it enters the policy; one of the others when
 * it ends for its caller; `changed` when the policy's state changed otherwise (breaker, configuration).
 */
export type PolicyCallEvent =
  | 'start'
  | 'startQueued'
  | 'success'
  | 'failure'
  | 'timeout'
  | 'rejected'
  | 'shortCircuited'
  | 'changed';

export type PolicyObserver = (dependency: string, event: PolicyCallEvent) => void;

/**
 * The daemon's own outbound dependencies (and prefixes of the per-target ones). Chaos experiments and
 * configuration accept these and any dependency already used or configured, so a typo is refused.
 */
export const KNOWN_DEPENDENCIES: readonly string[] = [
  'vault',
  'aws-secrets',
  'kafka',
  'rabbitmq',
  'runbook',
  'notify:webhook',
  'notify:slack',
  'notify:pagerduty',
];
export const KNOWN_DEPENDENCY_PREFIXES: readonly string[] = ['dr-check:', 'webhook:'];

export interface FaultContext {
  dependency: string;
  /** 0 for the first attempt, 1.. for retries. */
  attempt: number;
  signal: AbortSignal;
}

export interface ExecuteOptions {
  /** Retried with backoff on failure only when true: the call is safe to repeat. Default false. */
  idempotent?: boolean;
  /** A shorter per-attempt timeout for this call, ms (the dependency's timeout is the upper bound). */
  timeoutMs?: number;
  /** The caller gives up: aborts the call; not counted against the dependency. */
  signal?: AbortSignal;
}

/**
 * Throw this from inside a policy call when the dependency answered and refused this one request
 * (HTTP 4xx, a validation error): the call fails with `error`, is not retried, and does not count
 * against the circuit breaker — the dependency is healthy, the request was wrong.
 */
export class NonTransientError extends Error {
  constructor(readonly error: unknown) {
    super(error instanceof Error ? error.message : String(error));
    this.name = 'NonTransientError';
  }
}

/** An attempt's timeout fired (inside the policy; surfaced to callers as RpcError Timeout). */
class AttemptTimeoutError extends Error {
  constructor(
    readonly dependency: string,
    readonly timeoutMs: number,
  ) {
    super(`${dependency} did not answer within ${timeoutMs} ms`);
    this.name = 'AttemptTimeoutError';
  }
}

export interface DependencyPoliciesOptions {
  store: EventStore;
  clock: Clock;
  log?: LogFn;
  /** Defaults for every dependency (over DEFAULT_POLICY_CONFIG). */
  defaults?: DependencyPolicyOverrides;
  /** Per dependency overrides; these dependencies are listed in stats() from the start. */
  dependencies?: Record<string, DependencyPolicyOverrides>;
  /**
   * Bulkhead rejections of one dependency are summed into one `resilience.bulkheadRejected` event per
   * this many ms (the first of a burst is recorded at once), so saturation does not flood the log. Default 10,000.
   */
  rejectionEventIntervalMs?: number;
}

interface RetiredBulkhead {
  bulkhead: BulkheadPolicy;
  maxConcurrent: number;
  maxQueue: number;
}

interface Dependency {
  name: string;
  config: DependencyPolicyConfig;
  bulkhead: BulkheadPolicy;
  /** Bulkheads replaced by a reconfiguration whose calls have not all finished (counted in stats). */
  retiredBulkheads: RetiredBulkhead[];
  retry: RetryPolicy;
  breaker: CircuitBreaker;
  injector: FaultInjector | undefined;
  counters: {
    successes: number;
    failures: number;
    rejected: number;
    timedOut: number;
    shortCircuited: number;
    retries: number;
  };
  lastTransition: BreakerTransitionInfo | undefined;
  transitions: number;
  /** Open rejection window: rejections counted since its event, and the timer that closes it. */
  rejectionWindow: { count: number; timer: TimerHandle } | undefined;
}

const SYSTEM_ACTOR = 'system';

/**
 * One composed policy per named outbound dependency (`webhook:slack`, `vault`, `aws-secrets`,
 * `kafka`, `rabbitmq`, `runbook`), built once and shared by every call to it:
 *
 *   bulkhead → retry (idempotent calls only) → circuit breaker → timeout → fault injector → call
 *
 * The bulkhead is outermost so retries and backoff waits hold the caller's slot (a saturated
 * dependency cannot be hammered by retries). Retry wraps the breaker so each attempt is counted and
 * an open circuit stops the retries at once. The timeout is per attempt and cooperative: the call
 * receives an AbortSignal that aborts on timeout and must stop on it (fetch does).
 *
 * Failures surface as RpcError: open circuit and full bulkhead → BackendUnavailable, timeout →
 * Timeout. Any other error of the call reaches the caller unchanged (NonTransientError unwrapped).
 * Breaker transitions and bulkhead rejections are appended as events in the background: a call
 * never waits for an append.
 */
export class DependencyPolicies {
  private readonly store: EventStore;
  private readonly clock: Clock;
  private readonly log: LogFn;
  private readonly defaults: DependencyPolicyConfig;
  private readonly overrides: Record<string, DependencyPolicyOverrides>;
  private readonly rejectionEventIntervalMs: number;
  private readonly deps = new Map<string, Dependency>();
  /** Stats of client processes' own policies (`resilience/reportStats`), listed beside the daemon's. */
  readonly reported: ReportedStats;
  private observer: PolicyObserver | undefined;
  private readonly outbox: NewEvent[] = [];
  private draining: Promise<void> | undefined;

  constructor(options: DependencyPoliciesOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.log = options.log ?? (() => undefined);
    this.defaults = mergeConfig(DEFAULT_POLICY_CONFIG, options.defaults ?? {});
    this.overrides = { ...options.dependencies };
    this.rejectionEventIntervalMs = options.rejectionEventIntervalMs ?? 10_000;
    this.reported = new ReportedStats(options.clock);
    for (const name of Object.keys(this.overrides)) this.dependency(name);
  }

  /**
   * Run `fn` through the named dependency's policy. `fn` gets an AbortSignal that aborts on timeout
   * (or when `options.signal` aborts) and must honour it.
   */
  async execute<T>(name: string, fn: (signal: AbortSignal) => Promise<T>, options: ExecuteOptions = {}): Promise<T> {
    const dep = this.dependency(name);
    const timeoutMs = Math.min(options.timeoutMs ?? dep.config.timeoutMs, dep.config.timeoutMs);
    const callerSignal = options.signal;
    const observer = this.observer;
    if (observer) observer(name, dep.bulkhead.executionSlots === 0 ? 'startQueued' : 'start');
    try {
      const result = await dep.bulkhead.execute(() => {
        const once = (attempt: number) => this.attempt(dep, fn, timeoutMs, attempt, callerSignal);
        return options.idempotent ? dep.retry.execute(({ attempt }) => once(attempt), callerSignal) : once(0);
      }, callerSignal);
      dep.counters.successes++;
      if (observer) observer(name, 'success');
      return result;
    } catch (e) {
      const surfaced = this.surface(dep, e);
      if (observer) observer(name, outcomeOf(surfaced));
      throw surfaced;
    }
  }

  /** Hear every call's start and end and every other change (one observer: the resilience feature). */
  setObserver(observer: PolicyObserver | undefined): void {
    this.observer = observer;
  }

  /** Whether `name` is a dependency of the daemon: used or configured already, or a known one. */
  isKnown(name: string): boolean {
    return (
      this.deps.has(name) ||
      KNOWN_DEPENDENCIES.includes(name) ||
      KNOWN_DEPENDENCY_PREFIXES.some((p) => name.startsWith(p) && name.length > p.length)
    );
  }

  /** Names of the dependencies used or configured so far. */
  names(): string[] {
    return [...this.deps.keys()].sort();
  }

  /** The configuration `overrides` would give (over the defaults); throws RpcError InvalidParams when invalid. */
  validate(overrides: DependencyPolicyOverrides): DependencyPolicyConfig {
    return mergeConfig(this.defaults, overrides);
  }

  /**
   * Replace a dependency's overrides (over the defaults) and apply them now. Calls in flight finish
   * under the old bulkhead (still counted in `active`); new calls get the new limits. The breaker
   * keeps its state with the new thresholds. Throws RpcError InvalidParams (nothing changed) when
   * the merged configuration is invalid.
   */
  configure(name: string, overrides: DependencyPolicyOverrides): DependencyPolicyConfig {
    const dep = this.dependency(name);
    const config = mergeConfig(this.defaults, overrides);
    this.overrides[name] = structuredClone(overrides);
    const limitsChanged = config.maxConcurrent !== dep.config.maxConcurrent || config.maxQueue !== dep.config.maxQueue;
    if (limitsChanged) {
      const old = { bulkhead: dep.bulkhead, maxConcurrent: dep.config.maxConcurrent, maxQueue: dep.config.maxQueue };
      dep.retiredBulkheads = [...dep.retiredBulkheads, old].filter(
        (r) => r.bulkhead.executionSlots < r.maxConcurrent || r.bulkhead.queueSlots < r.maxQueue,
      );
      dep.bulkhead = bulkhead(config.maxConcurrent, config.maxQueue);
    }
    dep.retry = buildRetry(config, dep);
    dep.breaker.setConfig(config.breaker);
    dep.config = config;
    this.observer?.(name, 'changed');
    return structuredClone(config);
  }

  /**
   * Hold `count` bulkhead slots of a dependency until `release` resolves (chaos: resource
   * exhaustion). Each holder queues like a call when no slot is free. Answers how many were placed.
   */
  holdSlots(name: string, count: number, release: Promise<void>): number {
    const dep = this.dependency(name);
    let placed = 0;
    for (let i = 0; i < count; i++) {
      if (dep.bulkhead.executionSlots === 0 && dep.bulkhead.queueSlots === 0) break;
      dep.bulkhead.execute(() => release).catch(() => undefined);
      placed++;
    }
    this.observer?.(name, 'changed');
    return placed;
  }

  /** Live state of every dependency used or configured so far (or of one). */
  stats(name?: string): DependencyStats[] {
    const deps =
      name === undefined ? [...this.deps.values()] : [this.deps.get(name)].filter((d) => d !== undefined);
    return deps
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((d) => {
        const breaker = d.breaker.snapshot();
        return {
          dependency: d.name,
          config: structuredClone(d.config),
          active: d.config.maxConcurrent - d.bulkhead.executionSlots + retired(d, (b, c) => c.maxConcurrent - b.executionSlots),
          queued: d.config.maxQueue - d.bulkhead.queueSlots + retired(d, (b, c) => c.maxQueue - b.queueSlots),
          ...d.counters,
          breakerTransitions: d.transitions,
          breaker: {
            state: breaker.state,
            consecutiveFailures: breaker.consecutiveFailures,
            halfOpenSuccesses: breaker.halfOpenSuccesses,
            ...(breaker.retryAt === undefined ? {} : { retryAt: new Date(breaker.retryAt).toISOString() }),
          },
          ...(d.lastTransition === undefined
            ? {}
            : {
                lastTransition: {
                  from: d.lastTransition.from,
                  to: d.lastTransition.to,
                  at: new Date(d.lastTransition.at).toISOString(),
                  reason: d.lastTransition.reason,
                },
              }),
          faultInjection: d.injector !== undefined,
        };
      });
  }

  /** The effective configuration of a dependency. */
  config(name: string): DependencyPolicyConfig {
    return structuredClone(this.dependency(name).config);
  }

  /** Attach (or with undefined, remove) a chaos fault injector. */
  setFaultInjector(name: string, injector: FaultInjector | undefined): void {
    this.dependency(name).injector = injector;
    this.observer?.(name, 'changed');
  }

  /** Close a dependency's circuit now (the operator knows it is back). Answers whether it was not closed. */
  resetBreaker(name: string, reason: string): boolean {
    const dep = this.dependency(name);
    const wasOpen = dep.breaker.state !== 'closed';
    const hadFailures = dep.breaker.snapshot().consecutiveFailures > 0;
    dep.breaker.reset(reason);
    if (wasOpen || hadFailures) this.observer?.(name, 'changed');
    return wasOpen;
  }

  /** Resolves when every event produced so far is appended. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Record pending rejection counts, stop the windows' timers and flush. Safe to call twice. */
  async close(): Promise<void> {
    for (const dep of this.deps.values()) {
      const w = dep.rejectionWindow;
      if (!w) continue;
      w.timer.cancel();
      dep.rejectionWindow = undefined;
      if (w.count > 0) this.recordRejections(dep, w.count);
    }
    await this.flush();
  }

  private dependency(name: string): Dependency {
    const existing = this.deps.get(name);
    if (existing) return existing;
    if (!DependencyName.safeParse(name).success) {
      throw new RpcError(
        ErrorCode.InvalidParams,
        `invalid dependency name "${name}": use e.g. "vault" or "webhook:slack"`,
      );
    }
    const config = mergeConfig(this.defaults, this.overrides[name] ?? {});
    const counters = { successes: 0, failures: 0, rejected: 0, timedOut: 0, shortCircuited: 0, retries: 0 };
    const dep: Dependency = {
      name,
      config,
      bulkhead: bulkhead(config.maxConcurrent, config.maxQueue),
      retiredBulkheads: [],
      retry: buildRetry(config, { counters }),
      breaker: new CircuitBreaker(name, this.clock, config.breaker, (t) => this.onTransition(dep, t)),
      injector: undefined,
      counters,
      lastTransition: undefined,
      transitions: 0,
      rejectionWindow: undefined,
    };
    this.deps.set(name, dep);
    return dep;
  }

  private async attempt<T>(
    dep: Dependency,
    fn: (signal: AbortSignal) => Promise<T>,
    timeoutMs: number,
    attempt: number,
    callerSignal: AbortSignal | undefined,
  ): Promise<T> {
    let permit;
    try {
      permit = dep.breaker.acquire();
    } catch (e) {
      if (e instanceof CircuitOpenError) dep.counters.shortCircuited++;
      throw e;
    }
    // A cooperative per-attempt timeout by hand rather than cockatiel's TimeoutPolicy: that one aborts
    // its controller after every call (building an AbortError with a stack each time) and listens on
    // signals through EventTarget, about 30 µs per call; this costs one controller and one timer.
    const ctrl = new AbortController();
    const signal = ctrl.signal;
    const timer = setTimeout(() => ctrl.abort(), timeoutMs);
    let unlink: (() => void) | undefined;
    if (callerSignal) {
      if (callerSignal.aborted) ctrl.abort();
      else {
        const onAbort = () => ctrl.abort();
        callerSignal.addEventListener('abort', onAbort, { once: true });
        unlink = () => callerSignal.removeEventListener('abort', onAbort);
      }
    }
    try {
      let value: T;
      try {
        const after = dep.injector ? await dep.injector({ dependency: dep.name, attempt, signal }) : undefined;
        value = await fn(signal);
        if (after) after();
      } catch (e) {
        // The attempt's signal aborted and the caller did not: our timeout, whatever the call threw.
        if (signal.aborted && !callerSignal?.aborted && !(e instanceof NonTransientError)) {
          throw new AttemptTimeoutError(dep.name, timeoutMs);
        }
        throw e;
      }
      dep.breaker.success(permit);
      return value;
    } catch (e) {
      if (e instanceof NonTransientError || callerSignal?.aborted) {
        dep.breaker.release(permit);
      } else {
        dep.counters.failures++;
        if (e instanceof AttemptTimeoutError) dep.counters.timedOut++;
        dep.breaker.failure(permit, e instanceof Error ? e.message : String(e));
      }
      throw e;
    } finally {
      clearTimeout(timer);
      unlink?.();
    }
  }

  private surface(dep: Dependency, e: unknown): unknown {
    if (e instanceof NonTransientError) return e.error;
    if (e instanceof CircuitOpenError) {
      const retryAfterMs = Math.max(0, e.retryAt - this.clock.now());
      return new RpcError(ErrorCode.BackendUnavailable, e.message, {
        dependency: dep.name,
        reason: 'circuitOpen',
        retryAfterMs,
        retryAt: new Date(e.retryAt).toISOString(),
      });
    }
    if (isBulkheadRejectedError(e)) {
      this.onRejected(dep);
      return new RpcError(
        ErrorCode.BackendUnavailable,
        `${dep.name} is saturated: ${dep.config.maxConcurrent} calls running and ${dep.config.maxQueue} waiting`,
        { dependency: dep.name, reason: 'saturated' },
      );
    }
    if (e instanceof AttemptTimeoutError) {
      return new RpcError(ErrorCode.Timeout, e.message, { dependency: dep.name, timeoutMs: e.timeoutMs });
    }
    return e;
  }

  private onTransition(dep: Dependency, t: BreakerTransitionInfo): void {
    dep.lastTransition = t;
    dep.transitions++;
    this.observer?.(dep.name, 'changed');
    this.log(t.to === 'open' ? 'warn' : 'info', `resilience: circuit of ${dep.name} ${t.from} → ${t.to}: ${t.reason}`);
    const payload: BreakerStateChangedPayload = { dependency: dep.name, from: t.from, to: t.to, reason: t.reason };
    this.enqueue({ type: ResilienceEventType.BreakerStateChanged, actor: SYSTEM_ACTOR, priority: 'high', payload });
  }

  private onRejected(dep: Dependency): void {
    dep.counters.rejected++;
    if (dep.rejectionWindow) {
      dep.rejectionWindow.count++;
      return;
    }
    this.recordRejections(dep, 1);
    this.openRejectionWindow(dep);
  }

  private openRejectionWindow(dep: Dependency): void {
    const window = {
      count: 0,
      timer: this.clock.setTimer(this.rejectionEventIntervalMs, () => {
        dep.rejectionWindow = undefined;
        if (window.count === 0) return;
        this.recordRejections(dep, window.count);
        this.openRejectionWindow(dep);
      }),
    };
    dep.rejectionWindow = window;
  }

  private recordRejections(dep: Dependency, rejected: number): void {
    this.log('warn', `resilience: ${dep.name} is saturated; ${rejected} call(s) rejected`);
    const payload: BulkheadRejectedPayload = {
      dependency: dep.name,
      rejected,
      maxConcurrent: dep.config.maxConcurrent,
      maxQueue: dep.config.maxQueue,
    };
    this.enqueue({ type: ResilienceEventType.BulkheadRejected, actor: SYSTEM_ACTOR, payload });
  }

  /** Queue an event; one append at a time drains everything queued meanwhile in one batch. */
  private enqueue(event: NewEvent): void {
    this.outbox.push(event);
    if (this.draining) return;
    this.draining = (async () => {
      while (this.outbox.length > 0) {
        // Let the current tick queue its siblings (a burst of transitions) into the same batch.
        await Promise.resolve();
        const batch = this.outbox.splice(0);
        try {
          await this.store.append(batch);
        } catch (e) {
          const why = e instanceof Error ? e.message : String(e);
          this.log('error', `resilience: could not record ${batch.length} event(s): ${why}`);
        }
      }
      this.draining = undefined;
    })();
  }
}

function buildRetry(config: DependencyPolicyConfig, dep: Pick<Dependency, 'counters'>): RetryPolicy {
  const policy = retry(
    handleWhen((e) => !(e instanceof NonTransientError) && !(e instanceof CircuitOpenError)),
    {
      maxAttempts: config.retry.maxRetries,
      backoff: new ExponentialBackoff({ initialDelay: config.retry.initialDelayMs, maxDelay: config.retry.maxDelayMs }),
    },
  );
  policy.onRetry(() => dep.counters.retries++);
  return policy;
}

/** Sum of `used` over the bulkheads a reconfiguration replaced (0 when there are none). */
function retired(d: Dependency, used: (b: BulkheadPolicy, limits: RetiredBulkhead) => number): number {
  let sum = 0;
  for (const r of d.retiredBulkheads) sum += used(r.bulkhead, r);
  return sum;
}

function outcomeOf(surfaced: unknown): PolicyCallEvent {
  if (surfaced instanceof RpcError) {
    const reason = (surfaced.data as { reason?: unknown } | undefined)?.reason;
    if (reason === 'circuitOpen') return 'shortCircuited';
    if (reason === 'saturated') return 'rejected';
    if (surfaced.code === ErrorCode.Timeout) return 'timeout';
  }
  return 'failure';
}

function mergeConfig(base: DependencyPolicyConfig, o: DependencyPolicyOverrides): DependencyPolicyConfig {
  const merged = {
    ...base,
    ...definedOnly({ maxConcurrent: o.maxConcurrent, maxQueue: o.maxQueue, timeoutMs: o.timeoutMs }),
    retry: { ...base.retry, ...definedOnly(o.retry ?? {}) },
    breaker: { ...base.breaker, ...definedOnly(o.breaker ?? {}) },
  };
  const parsed = DependencyPolicyConfig.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new RpcError(ErrorCode.InvalidParams, `invalid dependency policy: ${issues}`);
  }
  return parsed.data;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
