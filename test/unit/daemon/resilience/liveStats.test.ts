import { describe, expect, it } from 'vitest';
import { ErrorCode, ResilienceEventType, RpcError, type PolicyOverrides } from '../../../../daemon/protocol';
import { ChangeThrottle } from '../../../../daemon/services/resilience/changeThrottle';
import { PolicyConfigProjection, mergeOverrides } from '../../../../daemon/services/resilience/configProjection';
import { DependencyPolicies, type PolicyCallEvent } from '../../../../daemon/services/resilience/policies';
import { REPORT_TTL_MS, ReportedStats } from '../../../../daemon/services/resilience/reportedStats';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

function setup() {
  const log = new MemoryEventLog();
  const clock = new ManualClock();
  const policies = new DependencyPolicies({ store: log.open({ clock }), clock, defaults: { timeoutMs: 1000 } });
  return { log, clock, policies };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const boom = async (): Promise<never> => {
  throw new Error('refused');
};

describe('DependencyPolicies live stats and configuration', () => {
  it('tells its observer each call start and outcome, and every other change', async () => {
    const { policies } = setup();
    const seen: string[] = [];
    policies.setObserver((d, e: PolicyCallEvent) => seen.push(`${d}:${e}`));
    policies.configure('vault', { maxConcurrent: 1, maxQueue: 0, breaker: { failureThreshold: 1 } });
    await policies.execute('vault', async () => 1);
    const gate = deferred();
    const held = policies.execute('vault', () => gate.promise);
    await expect(policies.execute('vault', async () => 1)).rejects.toMatchObject({ data: { reason: 'saturated' } });
    gate.resolve();
    await held;
    await expect(policies.execute('vault', boom)).rejects.toThrow('refused');
    await expect(policies.execute('vault', async () => 1)).rejects.toMatchObject({ data: { reason: 'circuitOpen' } });
    expect(seen).toEqual([
      'vault:changed',
      'vault:start',
      'vault:success',
      'vault:start',
      'vault:startQueued',
      'vault:rejected',
      'vault:success',
      'vault:start',
      'vault:changed',
      'vault:failure',
      'vault:start',
      'vault:shortCircuited',
    ]);
    expect(policies.stats('vault')[0]).toMatchObject({ successes: 2, failures: 1, rejected: 1, shortCircuited: 1, breakerTransitions: 1 });
  });

  it('records every breaker transition as one event, and counts them', async () => {
    const { log, clock, policies } = setup();
    policies.configure('kafka', { breaker: { failureThreshold: 2, halfOpenAfterMs: 1000, successThreshold: 1 } });
    await expect(policies.execute('kafka', boom)).rejects.toThrow();
    await expect(policies.execute('kafka', boom)).rejects.toThrow();
    clock.advance(1000);
    await policies.execute('kafka', async () => 1);
    expect(policies.resetBreaker('kafka', 'nothing to do')).toBe(false);
    await policies.flush();
    const moves = log.ofType(ResilienceEventType.BreakerStateChanged).map((e) => {
      const p = e.payload as { from: string; to: string };
      return `${p.from}->${p.to}`;
    });
    expect(moves).toEqual(['closed->open', 'open->halfOpen', 'halfOpen->closed']);
    expect(policies.stats('kafka')[0]?.breakerTransitions).toBe(3);
  });

  it('applies a new configuration live: calls in flight keep their slot, new calls get the new limits', async () => {
    const { policies } = setup();
    policies.configure('runbook', { maxConcurrent: 1, maxQueue: 0 });
    const gate = deferred();
    const inFlight = policies.execute('runbook', () => gate.promise);
    const config = policies.configure('runbook', { maxConcurrent: 2, maxQueue: 0, timeoutMs: 500 });
    expect(config).toMatchObject({ maxConcurrent: 2, timeoutMs: 500 });
    expect(policies.stats('runbook')[0]).toMatchObject({ active: 1 });
    const second = policies.execute('runbook', async () => 'second');
    await expect(second).resolves.toBe('second');
    gate.resolve();
    await inFlight;
    expect(policies.stats('runbook')[0]).toMatchObject({ active: 0, queued: 0 });
  });

  it('refuses an invalid configuration and keeps the old one', () => {
    const { policies } = setup();
    policies.configure('vault', { maxConcurrent: 3 });
    let error: unknown;
    try {
      policies.configure('vault', { maxConcurrent: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(ErrorCode.InvalidParams);
    expect((error as RpcError).message).toContain('maxConcurrent');
    expect(policies.config('vault').maxConcurrent).toBe(3);
  });

  it('knows the daemon dependencies and refuses others', () => {
    const { policies } = setup();
    expect(policies.isKnown('notify:webhook')).toBe(true);
    expect(policies.isKnown('dr-check:db.internal_5432')).toBe(true);
    expect(policies.isKnown('dr-check:')).toBe(false);
    expect(policies.isKnown('mainframe')).toBe(false);
  });
});

describe('PolicyConfigProjection', () => {
  it('keeps the latest overrides per dependency; empty overrides mean defaults', () => {
    const p = new PolicyConfigProjection();
    const apply = (dependency: string, overrides: PolicyOverrides) =>
      p.apply({ type: ResilienceEventType.PolicyConfigured, payload: { dependency, overrides } } as never);
    apply('vault', { timeoutMs: 100 });
    apply('kafka', { maxQueue: 3 });
    apply('kafka', {});
    expect(p.all()).toEqual([['vault', { timeoutMs: 100 }]]);
    const copy = new PolicyConfigProjection();
    copy.restore(JSON.parse(JSON.stringify(p.snapshot())));
    expect(copy.get('vault')).toEqual({ timeoutMs: 100 });
  });

  it('merges a partial change one level deep', () => {
    expect(mergeOverrides({ timeoutMs: 1, breaker: { failureThreshold: 2 } }, { breaker: { halfOpenAfterMs: 5 } })).toEqual({
      timeoutMs: 1,
      breaker: { failureThreshold: 2, halfOpenAfterMs: 5 },
    });
  });
});

describe('ChangeThrottle', () => {
  it('emits the first change at once and at most one more per interval per key', () => {
    const clock = new ManualClock();
    const emitted: string[] = [];
    const t = new ChangeThrottle(clock, 1000, (k) => emitted.push(`${k}@${clock.now() % 100_000}`));
    t.touch('a');
    t.touch('a');
    t.touch('a');
    t.touch('b');
    expect(emitted).toEqual(['a@0', 'b@0']);
    clock.advance(999);
    expect(emitted).toHaveLength(2);
    clock.advance(1);
    expect(emitted).toEqual(['a@0', 'b@0', 'a@1000']);
    clock.advance(5000);
    expect(emitted).toHaveLength(3);
    t.touch('a');
    expect(emitted).toHaveLength(4);
    t.close();
    expect(clock.pending).toBe(0);
  });
});

describe('ReportedStats', () => {
  const report = { serviceId: 'payments-db', template: 'database', active: 1, queued: 0, successes: 5, failures: 1, rejected: 0, timedOut: 0, shortCircuited: 0, fallbacks: 0, breakerState: 'closed' as const, breakerTransitions: 0, maxConcurrent: 20, maxQueue: 50, timeoutMs: 30_000 };

  it('keeps the latest report per client and service, marked with the reporter, and forgets silent ones', () => {
    const clock = new ManualClock();
    const r = new ReportedStats(clock);
    r.report('svc-token', 'proc-1', [report]);
    r.report('svc-token', 'proc-1', [{ ...report, successes: 9 }]);
    r.report('other', 'proc-2', [{ ...report, serviceId: 'llm' }]);
    expect(r.list().map((e) => `${e.serviceId}:${e.clientId}:${e.reporter}:${e.successes}`)).toEqual(['llm:proc-2:other:5', 'payments-db:proc-1:svc-token:9']);
    expect(r.list('llm')).toHaveLength(1);
    clock.advance(REPORT_TTL_MS / 2);
    r.report('other', 'proc-2', [{ ...report, serviceId: 'llm' }]);
    clock.advance(REPORT_TTL_MS / 2 + 1);
    expect(r.list().map((e) => e.serviceId)).toEqual(['llm']);
  });
});
