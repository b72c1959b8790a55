import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  ListPolicies,
  ResilienceEventType,
  RpcError,
  type BreakerStateChangedPayload,
} from '../../../../daemon/protocol';
import { Router } from '../../../../daemon/server/router';
import {
  BULKHEAD_TEMPLATES,
  DEFAULT_POLICY_CONFIG,
  DependencyPolicies,
  NonTransientError,
  registerResilience,
  type DependencyPoliciesOptions,
} from '../../../../daemon/services/resilience';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

/** Real timers drive cockatiel's timeout and retry backoff: keep them tiny. */
const FAST = { timeoutMs: 1000, retry: { initialDelayMs: 1, maxDelayMs: 2 } };

function setup(options: Partial<DependencyPoliciesOptions> = {}) {
  const log = new MemoryEventLog();
  const clock = new ManualClock();
  const messages: string[] = [];
  const policies = new DependencyPolicies({
    store: log.open({ clock }),
    clock,
    log: (level, message) => messages.push(`${level}: ${message}`),
    defaults: FAST,
    ...options,
  });
  return { log, clock, policies, messages };
}

const fail = (message = 'connection refused') => async (): Promise<never> => {
  throw new Error(message);
};

async function failTimes(policies: DependencyPolicies, name: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await expect(policies.execute(name, fail())).rejects.toThrow('connection refused');
}

function transitions(log: MemoryEventLog): string[] {
  return log
    .ofType(ResilienceEventType.BreakerStateChanged)
    .map((e) => e.payload as BreakerStateChangedPayload)
    .map((p) => `${p.dependency}:${p.from}->${p.to}`);
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Waits for `ms` of real time, or rejects when the signal aborts (a well-behaved call). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    });
  });
}

describe('DependencyPolicies', () => {
  it('exports the seed templates and defaults', () => {
    expect(BULKHEAD_TEMPLATES).toEqual({
      database: { maxConcurrent: 20, maxQueue: 50, timeoutMs: 30_000 },
      llm: { maxConcurrent: 10, maxQueue: 100, timeoutMs: 60_000 },
      external_api: { maxConcurrent: 15, maxQueue: 50, timeoutMs: 30_000 },
      file_operations: { maxConcurrent: 5, maxQueue: 20, timeoutMs: 20_000 },
    });
    expect(DEFAULT_POLICY_CONFIG.breaker).toEqual({ failureThreshold: 5, halfOpenAfterMs: 60_000, successThreshold: 3 });
    const { policies } = setup({ defaults: {}, dependencies: { vault: { ...BULKHEAD_TEMPLATES.database, breaker: { failureThreshold: 2 } } } });
    expect(policies.config('vault')).toMatchObject({ maxConcurrent: 20, maxQueue: 50, timeoutMs: 30_000 });
    expect(policies.config('vault').breaker).toEqual({ failureThreshold: 2, halfOpenAfterMs: 60_000, successThreshold: 3 });
    expect(policies.config('kafka')).toEqual(DEFAULT_POLICY_CONFIG);
    expect(policies.stats().map((s) => s.dependency)).toEqual(['kafka', 'vault']);
    expect(() => policies.config('Not A Name')).toThrow(RpcError);
    expect(() => setup({ dependencies: { vault: { maxConcurrent: 0 } } })).toThrow(/maxConcurrent/);
  });

  it('runs calls and counts successes', async () => {
    const { policies } = setup();
    await expect(policies.execute('vault', async (signal) => (signal.aborted ? 'aborted' : 'secret-ref'))).resolves.toBe('secret-ref');
    expect(policies.stats('vault')[0]).toMatchObject({ successes: 1, failures: 0, active: 0, queued: 0, breaker: { state: 'closed' } });
  });

  it('opens the circuit after 5 consecutive failures and then fails fast without calling', async () => {
    const { policies, log, clock } = setup();
    await policies.execute('vault', async () => 'ok');
    await failTimes(policies, 'vault', 4);
    await policies.execute('vault', async () => 'ok'); // a success resets the count
    await failTimes(policies, 'vault', 4);
    expect(policies.stats('vault')[0]!.breaker.state).toBe('closed');
    await failTimes(policies, 'vault', 1);
    expect(policies.stats('vault')[0]!.breaker.state).toBe('open');

    let called = 0;
    const err = await policies
      .execute('vault', async () => {
        called++;
      })
      .catch((e: unknown) => e);
    expect(called).toBe(0);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({
      code: ErrorCode.BackendUnavailable,
      message: `circuit open for vault, retry after ${new Date(clock.now() + 60_000).toISOString()}`,
      data: { dependency: 'vault', reason: 'circuitOpen', retryAfterMs: 60_000 },
    });
    const s = policies.stats('vault')[0]!;
    expect(s).toMatchObject({ failures: 9, shortCircuited: 1, successes: 2 });
    expect(s.lastTransition).toMatchObject({ from: 'closed', to: 'open', reason: '5 consecutive failures; last: connection refused' });

    await policies.flush();
    expect(transitions(log)).toEqual(['vault:closed->open']);
  });

  it('half-opens after 60 s and closes only after 3 successful trial calls', async () => {
    const { policies, log, clock } = setup();
    await failTimes(policies, 'webhook:slack', 5);
    clock.advance(59_999);
    await expect(policies.execute('webhook:slack', async () => 'ok')).rejects.toMatchObject({ code: ErrorCode.BackendUnavailable });
    clock.advance(1);

    await expect(policies.execute('webhook:slack', async () => 'ok')).resolves.toBe('ok');
    expect(policies.stats('webhook:slack')[0]!.breaker).toMatchObject({ state: 'halfOpen', halfOpenSuccesses: 1 });
    await policies.execute('webhook:slack', async () => 'ok');
    expect(policies.stats('webhook:slack')[0]!.breaker.state).toBe('halfOpen');
    await policies.execute('webhook:slack', async () => 'ok');
    expect(policies.stats('webhook:slack')[0]!.breaker.state).toBe('closed');

    await policies.flush();
    expect(transitions(log)).toEqual([
      'webhook:slack:closed->open',
      'webhook:slack:open->halfOpen',
      'webhook:slack:halfOpen->closed',
    ]);
  });

  it('re-opens on a failed trial call and admits at most 3 trial calls at once', async () => {
    const { policies, log, clock } = setup();
    await failTimes(policies, 'runbook', 5);
    clock.advance(60_000);
    await policies.execute('runbook', async () => 'ok');
    await failTimes(policies, 'runbook', 1);
    expect(policies.stats('runbook')[0]!.breaker).toMatchObject({ state: 'open' });
    await expect(policies.execute('runbook', async () => 'ok')).rejects.toMatchObject({ data: { reason: 'circuitOpen' } });

    clock.advance(60_000);
    const gates = [deferred(), deferred(), deferred()];
    const trials = gates.map((g) => policies.execute('runbook', () => g.promise));
    await expect(policies.execute('runbook', async () => 'ok')).rejects.toThrow('circuit half-open for runbook: trial calls are in progress');
    for (const g of gates) g.resolve();
    await Promise.all(trials);
    expect(policies.stats('runbook')[0]!.breaker.state).toBe('closed');
    await policies.flush();
    expect(transitions(log)).toEqual([
      'runbook:closed->open',
      'runbook:open->halfOpen',
      'runbook:halfOpen->open',
      'runbook:open->halfOpen',
      'runbook:halfOpen->closed',
    ]);
  });

  it('retries with backoff only calls that say they are idempotent', async () => {
    const { policies } = setup();
    let calls = 0;
    const flaky = async () => {
      calls++;
      throw new Error('503');
    };
    await expect(policies.execute('aws-secrets', flaky)).rejects.toThrow('503');
    expect(calls).toBe(1);
    calls = 0;
    await expect(policies.execute('aws-secrets', flaky, { idempotent: true })).rejects.toThrow('503');
    expect(calls).toBe(3); // the first attempt and maxRetries = 2
    expect(policies.stats('aws-secrets')[0]).toMatchObject({ retries: 2, failures: 4 });

    // Each attempt counts against the breaker (4 so far here): a fresh dependency for the recovery.
    let n = 0;
    const recovers = async () => {
      if (++n < 3) throw new Error('503');
      return 'value';
    };
    await expect(policies.execute('vault', recovers, { idempotent: true })).resolves.toBe('value');
    expect(policies.stats('vault')[0]).toMatchObject({ retries: 2, failures: 2, successes: 1 });
  });

  it('neither retries nor counts a NonTransientError, and hands the caller the wrapped error', async () => {
    const { policies } = setup();
    let calls = 0;
    const refused = new RpcError(ErrorCode.FailedPrecondition, 'receiver answered 404');
    for (let i = 0; i < 7; i++) {
      await expect(
        policies.execute(
          'webhook:teams',
          async () => {
            calls++;
            throw new NonTransientError(refused);
          },
          { idempotent: true },
        ),
      ).rejects.toBe(refused);
    }
    expect(calls).toBe(7);
    expect(policies.stats('webhook:teams')[0]).toMatchObject({ failures: 0, retries: 0, breaker: { state: 'closed' } });
  });

  it('times out an attempt through its AbortSignal, as ErrorCode.Timeout, counted as a failure', async () => {
    const { policies } = setup({ defaults: { ...FAST, timeoutMs: 40 } });
    let sawAbort = false;
    const err = await policies
      .execute('vault', async (signal) => {
        await sleep(10_000, signal).catch((e: unknown) => {
          sawAbort = signal.aborted;
          throw e;
        });
      })
      .catch((e: unknown) => e);
    expect(sawAbort).toBe(true);
    expect(err).toMatchObject({ code: ErrorCode.Timeout, message: 'vault did not answer within 40 ms', data: { timeoutMs: 40 } });
    expect(policies.stats('vault')[0]).toMatchObject({ timedOut: 1, failures: 1, active: 0 });
    // A per-call timeout can only be shorter than the dependency's.
    await expect(policies.execute('vault', (s) => sleep(10_000, s), { timeoutMs: 20 })).rejects.toMatchObject({
      message: 'vault did not answer within 20 ms',
    });
  });

  it('does not count a call the caller abandoned', async () => {
    const { policies } = setup();
    const ctrl = new AbortController();
    const pending = policies.execute('kafka', (signal) => sleep(10_000, signal), { signal: ctrl.signal });
    ctrl.abort();
    await expect(pending).rejects.toThrow('aborted');
    expect(policies.stats('kafka')[0]).toMatchObject({ failures: 0, timedOut: 0, active: 0 });
  });

  it('rejects calls beyond the bulkhead, as BackendUnavailable, and sums rejections into events', async () => {
    const { policies, log, clock } = setup({ dependencies: { rabbitmq: { maxConcurrent: 1, maxQueue: 1 } } });
    const gate = deferred<string>();
    const running = policies.execute('rabbitmq', () => gate.promise);
    const queued = policies.execute('rabbitmq', async () => 'second');
    expect(policies.stats('rabbitmq')[0]).toMatchObject({ active: 1, queued: 1 });

    await expect(policies.execute('rabbitmq', async () => 'third')).rejects.toMatchObject({
      code: ErrorCode.BackendUnavailable,
      message: 'rabbitmq is saturated: 1 calls running and 1 waiting',
      data: { dependency: 'rabbitmq', reason: 'saturated' },
    });
    await expect(policies.execute('rabbitmq', async () => 'x')).rejects.toThrow(/saturated/);
    await expect(policies.execute('rabbitmq', async () => 'x')).rejects.toThrow(/saturated/);
    await policies.flush();
    const rejectedEvents = () => log.ofType(ResilienceEventType.BulkheadRejected).map((e) => (e.payload as { rejected: number }).rejected);
    expect(rejectedEvents()).toEqual([1]);

    clock.advance(10_000);
    await policies.flush();
    expect(rejectedEvents()).toEqual([1, 2]);
    clock.advance(10_000);
    await policies.flush();
    expect(rejectedEvents()).toEqual([1, 2]);

    gate.resolve('first');
    await expect(running).resolves.toBe('first');
    await expect(queued).resolves.toBe('second');
    expect(policies.stats('rabbitmq')[0]).toMatchObject({ active: 0, queued: 0, rejected: 3, successes: 2, breaker: { state: 'closed' } });
    await policies.close();
  });

  it('runs a fault injector inside the policy: injected latency hits the timeout, injected errors trip the breaker', async () => {
    const { policies, clock } = setup({ defaults: { ...FAST, timeoutMs: 30 } });
    let reached = 0;
    const call = async () => {
      reached++;
      return 'ok';
    };

    policies.setFaultInjector('vault', ({ signal }) => sleep(10_000, signal));
    expect(policies.stats('vault')[0]!.faultInjection).toBe(true);
    await expect(policies.execute('vault', call)).rejects.toMatchObject({ code: ErrorCode.Timeout });
    expect(reached).toBe(0);
    expect(policies.stats('vault')[0]).toMatchObject({ timedOut: 1, failures: 1 });

    policies.setFaultInjector('vault', () => {
      throw new Error('chaos: injected error');
    });
    for (let i = 0; i < 4; i++) await expect(policies.execute('vault', call)).rejects.toThrow('chaos: injected error');
    expect(policies.stats('vault')[0]!.breaker.state).toBe('open');
    expect(policies.stats('vault')[0]!.lastTransition?.reason).toContain('chaos: injected error');

    policies.setFaultInjector('vault', undefined);
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) await expect(policies.execute('vault', call)).resolves.toBe('ok');
    expect(reached).toBe(3);
    expect(policies.stats('vault')[0]).toMatchObject({ faultInjection: false, breaker: { state: 'closed' } });
  });

  it('keeps serving when its events cannot be recorded; a success never waits for an append', async () => {
    const { policies, log, messages } = setup();
    log.failAppends = new Error('EIO');
    await failTimes(policies, 'kafka', 5);
    await expect(policies.execute('kafka', async () => 'ok')).rejects.toMatchObject({ data: { reason: 'circuitOpen' } });
    await policies.flush();
    expect(messages.some((m) => m.startsWith('error:') && m.includes('EIO'))).toBe(true);
    expect(log.records).toHaveLength(0);

    log.failAppends = undefined;
    policies.resetBreaker('kafka', 'reset by owner');
    await expect(policies.execute('kafka', async () => 'ok')).resolves.toBe('ok');
    await policies.flush();
    expect(log.ofType(ResilienceEventType.BreakerStateChanged).map((e) => e.payload)).toEqual([
      { dependency: 'kafka', from: 'open', to: 'closed', reason: 'reset by owner' },
    ]);
  });

  it('serves resilience/policies through the router in the declared result shape', async () => {
    const { policies } = setup();
    await policies.execute('vault', async () => 1);
    await failTimes(policies, 'kafka', 5);
    const router = new Router();
    registerResilience(router, policies);
    const ctx = { actor: 'owner', scope: 'read' as const, connectionId: 'test' };
    const all = ListPolicies.result.parse(await router.dispatch('resilience/policies', {}, ctx));
    expect(all.policies.map((p) => [p.dependency, p.breaker.state])).toEqual([
      ['kafka', 'open'],
      ['vault', 'closed'],
    ]);
    const one = ListPolicies.result.parse(await router.dispatch('resilience/policies', { dependency: 'vault' }, ctx));
    expect(one.policies).toHaveLength(1);
    expect(one.policies[0]!.successes).toBe(1);
  });
});
