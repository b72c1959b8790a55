import { describe, expect, it } from 'vitest';
import {
  ChaosEventType,
  ErrorCode,
  RpcError,
  StartChaos,
  type ExperimentFinishedPayload,
  type ParamsOf,
} from '../../../../daemon/protocol';
import { ChaosProjection } from '../../../../daemon/services/chaos/chaosProjection';
import { ChaosService } from '../../../../daemon/services/chaos/chaosService';
import { slotsToHold } from '../../../../daemon/services/chaos/faults';
import { DependencyPolicies } from '../../../../daemon/services/resilience/policies';
import { Scheduler, SchedulerProjection } from '../../../../daemon/services/scheduler';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

const MIN = 60_000;
const DEP = 'notify:webhook';

/** One daemon run on a shared log: store, scheduler, policies and the chaos service, started. */
async function boot(log: MemoryEventLog, clock: ManualClock, random: () => number = () => 0) {
  const schedulerProjection = new SchedulerProjection();
  const projection = new ChaosProjection();
  const store = log.open({ clock, projections: [schedulerProjection, projection] });
  const scheduler = new Scheduler({ store, clock, projection: schedulerProjection });
  const policies = new DependencyPolicies({
    store,
    clock,
    defaults: { timeoutMs: 1000, retry: { initialDelayMs: 1, maxDelayMs: 2 }, breaker: { failureThreshold: 3, halfOpenAfterMs: 60_000 } },
  });
  const chaos = new ChaosService({ store, projection, policies, scheduler, clock, random });
  chaos.register();
  policies.setObserver((d, e) => chaos.observe(d, e));
  scheduler.start();
  await chaos.resume();
  return { store, scheduler, policies, chaos, projection };
}

/** Let promise chains (timer handlers, background appends) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise<void>((r) => setImmediate(r));
}

const start = (p: Partial<ParamsOf<typeof StartChaos>> & Pick<ParamsOf<typeof StartChaos>, 'fault'>) =>
  StartChaos.params.parse({ dependency: DEP, durationMs: 10 * MIN, ...p });

const ok = async () => 'delivered';

async function rpcError(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected an RpcError');
}

describe('ChaosService', () => {
  it('an error experiment fails calls inside the policy, opens the breaker, and ends by its duration', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    const { chaos, policies } = await boot(log, clock);
    const exp = await chaos.start(start({ fault: 'error' }), 'owner');
    expect(exp).toMatchObject({ state: 'running', dependency: DEP, fault: 'error', rate: 1, startedBy: 'owner' });
    expect(policies.stats(DEP)[0]?.faultInjection).toBe(true);

    let reached = 0;
    const call = () => policies.execute(DEP, async () => (reached++, 'delivered'));
    for (let i = 0; i < 3; i++) expect((await rpcError(call())).message).toContain('chaos: injected error');
    // The breaker, not the fault, refuses the next call: the protection really ran.
    expect((await rpcError(call())).data).toMatchObject({ reason: 'circuitOpen' });
    expect(reached).toBe(0);
    await policies.flush();
    expect(chaos.get(exp.id)?.results).toEqual({ calls: 4, callsAffected: 3, breakerTrips: 1, callerErrors: 4 });

    clock.advance(10 * MIN);
    await settle();
    const done = chaos.get(exp.id);
    expect(done).toMatchObject({ state: 'finished', endReason: 'duration' });
    expect(done?.results).toEqual({ calls: 4, callsAffected: 3, breakerTrips: 1, callerErrors: 4 });
    expect(policies.stats(DEP)[0]?.faultInjection).toBe(false);
    const finished = log.ofType(ChaosEventType.ExperimentFinished).map((e) => e.payload as ExperimentFinishedPayload);
    expect(finished).toEqual([{ id: exp.id, reason: 'duration', results: done?.results }]);

    policies.resetBreaker(DEP, 'test');
    await expect(call()).resolves.toBe('delivered');
  });

  it('refuses bad input with clear errors and records nothing', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    const { chaos } = await boot(log, clock);
    const unknown = await rpcError(chaos.start(start({ fault: 'error', dependency: 'nosuch' }), 'owner'));
    expect(unknown.code).toBe(ErrorCode.NotFound);
    expect(unknown.message).toContain('unknown dependency "nosuch"');
    const misplaced = await rpcError(chaos.start(start({ fault: 'error', parameters: { latencyMs: 10 } }), 'owner'));
    expect(misplaced.code).toBe(ErrorCode.InvalidParams);
    expect(misplaced.message).toContain('parameters.latencyMs');
    expect(log.ofType(ChaosEventType.ExperimentStarted)).toHaveLength(0);

    expect(StartChaos.params.safeParse({ dependency: DEP, fault: 'error', rate: 1.5, durationMs: 1000 }).success).toBe(false);
    expect(StartChaos.params.safeParse({ dependency: DEP, fault: 'error', durationMs: 0 }).success).toBe(false);
    expect(StartChaos.params.safeParse({ dependency: DEP, fault: 'error', durationMs: 30 * 86_400_000 }).success).toBe(false);
    expect(StartChaos.params.safeParse({ dependency: DEP, fault: 'meteor', durationMs: 1000 }).success).toBe(false);

    const first = await chaos.start(start({ fault: 'latency', parameters: { latencyMs: 5 } }), 'owner');
    const twice = await rpcError(chaos.start(start({ fault: 'error' }), 'owner'));
    expect(twice.code).toBe(ErrorCode.Conflict);
    expect(twice.data).toMatchObject({ experimentId: first.id });
    expect(log.ofType(ChaosEventType.ExperimentStarted)).toHaveLength(1);

    expect((await rpcError(chaos.stop('nope', 'owner'))).code).toBe(ErrorCode.NotFound);
    const stopped = await chaos.stop(first.id, 'alice');
    expect(stopped).toMatchObject({ state: 'finished', endReason: 'stopped', stoppedBy: 'alice' });
    expect((await rpcError(chaos.stop(first.id, 'owner'))).code).toBe(ErrorCode.InvalidTransition);
    // Stopping cancels the end timer.
    clock.advance(10 * MIN);
    await settle();
    expect(log.ofType(ChaosEventType.ExperimentFinished)).toHaveLength(1);
  });

  it('resumes a running experiment after a restart, and finishes one that expired while down', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    const first = await boot(log, clock);
    const a = await first.chaos.start(start({ fault: 'network_partition' }), 'owner');
    for (let i = 0; i < 2; i++) await rpcError(first.policies.execute(DEP, ok));
    await first.policies.flush();
    await first.chaos.close();
    await first.scheduler.stop();

    clock.advance(5 * MIN);
    const second = await boot(log, clock);
    // The counts go on from where the stopped daemon left them.
    expect(second.chaos.get(a.id)).toMatchObject({ state: 'running', results: { calls: 2, callsAffected: 2, callerErrors: 2 } });
    expect((await rpcError(second.policies.execute(DEP, ok))).message).toContain('network partition');
    await second.policies.flush();
    expect(second.chaos.get(a.id)?.results).toMatchObject({ calls: 3, callsAffected: 3, callerErrors: 3 });
    // While it runs, changed counts are written every 10 s (a crash loses at most that much).
    clock.advance(10_000);
    await settle();
    expect(log.ofType(ChaosEventType.ExperimentProgress).map((e) => (e.payload as { results: { calls: number } }).results.calls)).toEqual([2, 3]);
    await second.chaos.close();
    expect(log.ofType(ChaosEventType.ExperimentProgress)).toHaveLength(2);
    await second.scheduler.stop();

    clock.advance(30 * MIN);
    const third = await boot(log, clock);
    await settle();
    expect(third.chaos.get(a.id)).toMatchObject({ state: 'finished', endReason: 'expired', results: { calls: 3, callsAffected: 3, callerErrors: 3 } });
    await expect(third.policies.execute(DEP, ok)).resolves.toBe('delivered');
    expect(log.ofType(ChaosEventType.ExperimentFinished)).toHaveLength(1);
  });

  it('partial_failure lets the call reach the dependency, then loses the answer for a fraction of calls', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    const rolls = [0.1, 0.9, 0.2, 0.8];
    let i = 0;
    const { chaos, policies } = await boot(log, clock, () => rolls[i++ % rolls.length]!);
    const exp = await chaos.start(start({ fault: 'partial_failure', rate: 0.5 }), 'owner');
    let reached = 0;
    const outcomes: string[] = [];
    for (let n = 0; n < 4; n++) {
      try {
        outcomes.push(await policies.execute(DEP, async () => (reached++, 'ok')));
      } catch (e) {
        outcomes.push((e as Error).message.includes('lost') ? 'lost' : 'other');
      }
    }
    expect(outcomes).toEqual(['lost', 'ok', 'lost', 'ok']);
    expect(reached).toBe(4);
    expect(chaos.get(exp.id)?.results).toMatchObject({ calls: 4, callsAffected: 2, callerErrors: 2 });
  });

  it('latency delays calls on the clock; timeout makes them hit the policy timeout', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    const { chaos, policies } = await boot(log, clock);
    const lat = await chaos.start(start({ fault: 'latency', parameters: { latencyMs: 500 } }), 'owner');
    let done = false;
    const pending = policies.execute(DEP, ok).then((v) => ((done = true), v));
    await settle();
    expect(done).toBe(false);
    clock.advance(500);
    await expect(pending).resolves.toBe('delivered');
    await chaos.stop(lat.id, 'owner');

    policies.configure(DEP, { timeoutMs: 20 });
    await chaos.start(start({ fault: 'timeout' }), 'owner');
    const timedOut = await rpcError(policies.execute(DEP, ok));
    expect(timedOut.code).toBe(ErrorCode.Timeout);
    expect(policies.stats(DEP)[0]?.timedOut).toBe(1);
  });

  it('resource_exhaustion holds bulkhead slots so calls queue and overflow is rejected, until it ends', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    const { chaos, policies } = await boot(log, clock);
    policies.configure(DEP, { maxConcurrent: 2, maxQueue: 1 });
    const exp = await chaos.start(start({ fault: 'resource_exhaustion' }), 'owner');
    expect(policies.stats(DEP)[0]).toMatchObject({ active: 2, queued: 0 });
    const queued = policies.execute(DEP, ok);
    expect(policies.stats(DEP)[0]).toMatchObject({ active: 2, queued: 1 });
    expect((await rpcError(policies.execute(DEP, ok))).data).toMatchObject({ reason: 'saturated' });
    const stopped = await chaos.stop(exp.id, 'owner');
    await expect(queued).resolves.toBe('delivered');
    expect(stopped.results).toMatchObject({ calls: 2, callsAffected: 2, callerErrors: 1 });
    await settle();
    expect(policies.stats(DEP)[0]).toMatchObject({ active: 0, queued: 0 });
  });

  it('holds a rate-sized share of the slots', () => {
    expect(slotsToHold(1, 15)).toBe(15);
    expect(slotsToHold(0.5, 15)).toBe(8);
    expect(slotsToHold(0.01, 15)).toBe(1);
    expect(slotsToHold(0, 15)).toBe(0);
  });
});
