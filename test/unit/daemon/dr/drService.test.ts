import { describe, expect, it } from 'vitest';
import { ErrorCode, RpcError } from '../../../../daemon/protocol';
import { DrPlanSpec, type CommandAction, type DrRun } from '../../../../daemon/protocol/dr';
import { DrEvent, DrProjection } from '../../../../daemon/services/dr/drProjection';
import { DrService, INTERRUPTED_REASON } from '../../../../daemon/services/dr/drService';
import type { StepContext, StepExecutors, StepResult } from '../../../../daemon/services/dr/stepExecutors';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

/** Executors whose steps finish when the test says so; an abort answers `cancelled` like the real ones. */
class ScriptedExecutors implements StepExecutors {
  readonly calls: string[] = [];
  private pending = new Map<string, (r: StepResult) => void>();

  readonly contexts: StepContext[] = [];

  command(action: CommandAction, signal: AbortSignal, context: StepContext): Promise<StepResult> {
    this.calls.push(action.executable);
    this.contexts.push(context);
    return new Promise((resolve) => {
      this.pending.set(action.executable, resolve);
      signal.addEventListener('abort', () => resolve({ status: 'cancelled', error: 'cancelled: the process tree was killed' }), { once: true });
    });
  }

  httpCheck(): Promise<StepResult> {
    this.calls.push('http');
    return Promise.resolve({ status: 'succeeded', httpStatus: 200, attempts: 1 });
  }

  finish(executable: string, r: StepResult): void {
    const resolve = this.pending.get(executable);
    if (!resolve) throw new Error(`${executable} is not running`);
    this.pending.delete(executable);
    resolve(r);
  }

  isRunning(executable: string): boolean {
    return this.pending.has(executable);
  }
}

const T0 = Date.parse('2026-03-01T10:00:00Z');

function setup(log = new MemoryEventLog(), clock = new ManualClock(T0), missing: string[] = []) {
  const projection = new DrProjection();
  const store = log.open({ clock, projections: [projection] });
  const executors = new ScriptedExecutors();
  const stoppedLeftovers: (readonly string[])[] = [];
  const service = new DrService(store, projection, clock, executors, {
    findExecutable: (e) => Promise.resolve(missing.includes(e) ? undefined : `/usr/bin/${e}`),
    stopLeftovers: (ids) => {
      stoppedLeftovers.push(ids);
      return Promise.resolve([]);
    },
  });
  return { log, clock, projection, store, executors, service, stoppedLeftovers };
}

const cmd = (id: string, executable: string, extra: object = {}) => ({ id, name: id, action: { kind: 'command', executable }, ...extra });
const manual = (id: string) => ({ id, name: id, action: { kind: 'manual', instructions: `do ${id}` } });

function plan(steps: unknown[], extra: object = {}) {
  return DrPlanSpec.parse({ id: 'p1', name: 'Plan', services: ['db'], strategy: 'warm_standby', rtoSeconds: 60, rpoSeconds: 300, testEveryDays: 30, steps, ...extra });
}

/** Let the run's background work reach its next wait. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
};

async function rpcErr(p: Promise<unknown> | (() => unknown)): Promise<RpcError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected an RpcError');
}

describe('DR plans', () => {
  it('validates plans: duplicate step ids, relative cwd, empty steps and unknown kinds are named by field', () => {
    const dup = DrPlanSpec.safeParse({ ...plan([manual('a')]), steps: [manual('a'), manual('a')] });
    expect(dup.success).toBe(false);
    expect(dup.error!.issues[0]).toMatchObject({ path: ['steps', 1, 'id'], message: 'step id "a" is used twice' });
    const cwd = DrPlanSpec.safeParse({ ...plan([manual('a')]), steps: [{ id: 'x', name: 'x', action: { kind: 'command', executable: 'node', cwd: 'tmp' } }] });
    expect(cwd.error!.issues[0]!.path).toEqual(['steps', 0, 'action', 'cwd']);
    expect(DrPlanSpec.safeParse({ ...plan([manual('a')]), steps: [] }).error!.issues[0]!.path).toEqual(['steps']);
    const kind = DrPlanSpec.safeParse({ ...plan([manual('a')]), steps: [{ id: 'x', name: 'x', action: { kind: 'shell', line: 'rm -rf /' } }] });
    expect(kind.error!.issues[0]!.path).toEqual(['steps', 0, 'action', 'kind']);
    const defaults = plan([cmd('a', 'node')]).steps[0]!.action as CommandAction;
    expect(defaults).toMatchObject({ args: [], env: {}, inheritEnv: [], timeoutMs: 60_000, expectExitCode: 0 });
  });

  it('refuses a plan whose executable is not on the host, naming the step, and appends nothing', async () => {
    const { service, log } = setup(undefined, undefined, ['pg_promote']);
    const e = await rpcErr(service.createPlan(plan([manual('a'), cmd('b', 'pg_promote')]), 'owner'));
    expect(e.code).toBe(ErrorCode.InvalidParams);
    expect(e.message).toContain('steps.1.action.executable: pg_promote is not an executable file');
    expect(log.records).toHaveLength(0);
  });

  it('creates, updates with a version check, refuses duplicates and deletes', async () => {
    const { service } = setup();
    const created = await service.createPlan(plan([manual('a')]), 'owner');
    expect(created).toMatchObject({ id: 'p1', version: 1, seeded: false });
    expect((await rpcErr(service.createPlan(plan([manual('a')]), 'owner'))).code).toBe(ErrorCode.Duplicate);
    const updated = await service.updatePlan({ ...plan([manual('a'), manual('b')]), expectedVersion: 1 }, 'owner');
    expect(updated).toMatchObject({ version: 2, createdAt: created.createdAt });
    expect(updated.steps.map((s) => s.id)).toEqual(['a', 'b']);
    const stale = await rpcErr(service.updatePlan({ ...plan([manual('a')]), expectedVersion: 1 }, 'owner'));
    expect(stale.code).toBe(ErrorCode.Conflict);
    await service.deletePlan('p1', 'owner');
    expect((await rpcErr(() => service.getPlan('p1'))).code).toBe(ErrorCode.NotFound);
  });

  it('seeds the three plans of the seed once, with manual steps and the seed objectives', async () => {
    const { service, log } = setup();
    await service.seedDefaults();
    await service.seedDefaults();
    const plans = service.listPlans();
    expect(plans.map((p) => [p.id, p.strategy, p.rtoSeconds, p.rpoSeconds, p.testEveryDays])).toEqual([
      ['dr_api_001', 'multi_site_active', 300, 0, 30],
      ['dr_db_001', 'warm_standby', 1800, 300, 90],
      ['dr_files_001', 'backup_restore', 7200, 3600, 90],
    ]);
    expect(plans.flatMap((p) => p.steps).every((s) => s.action.kind === 'manual')).toBe(true);
    expect(plans.find((p) => p.id === 'dr_db_001')!.steps.slice(0, 5).map((s) => [s.id, s.expectedSeconds])).toEqual([
      ['detect_failure', 30],
      ['verify_backup_availability', 60],
      ['initiate_failover', 300],
      ['verify_failover', 120],
      ['update_dns', 60],
    ]);
    expect(log.records).toHaveLength(3);
    // Deleting every seeded plan does not bring them back.
    for (const p of plans) await service.deletePlan(p.id, 'owner');
    await service.seedDefaults();
    expect(service.listPlans()).toHaveLength(0);
  });
});

describe('DR runs', () => {
  it('runs steps in order, waits for the manual confirmation, measures the actual RTO and records every step', async () => {
    const { service, executors, clock, log } = setup();
    await service.createPlan(plan([cmd('stop', 'stop-primary'), manual('dns'), { id: 'check', name: 'check', action: { kind: 'httpCheck', url: 'http://127.0.0.1:1/' } }]), 'admin');
    const run = await service.startRun({ planId: 'p1', mode: 'drill' }, 'ann', 'write');
    expect(run).toMatchObject({ status: 'running', mode: 'drill', startedBy: 'ann', rto: { objectiveSeconds: 60 } });
    await settle();
    expect(service.getRun(run.id).steps[0]!.status).toBe('running');
    expect((await rpcErr(service.startRun({ planId: 'p1', mode: 'drill' }, 'ann', 'write'))).code).toBe(ErrorCode.Conflict);

    clock.advance(20_000);
    executors.finish('stop-primary', { status: 'succeeded', exitCode: 0, stdoutTail: 'stopped\n', stderrTail: '' });
    await settle();
    let now = service.getRun(run.id);
    expect(now).toMatchObject({ status: 'waiting', currentStep: 1 });
    expect(now.steps[0]).toMatchObject({ status: 'succeeded', durationMs: 20_000, exitCode: 0, stdoutTail: 'stopped\n' });
    const wrong = await rpcErr(service.completeManualStep({ runId: run.id, stepId: 'check', outcome: 'done' }, 'bob'));
    expect(wrong.message).toBe(`run ${run.id} is waiting on step dns, not check`);

    clock.advance(30_000);
    now = await service.completeManualStep({ runId: run.id, stepId: 'dns', outcome: 'done', note: 'switched' }, 'bob');
    expect(now.steps[1]).toMatchObject({ status: 'succeeded', confirmedBy: 'bob', note: 'switched', durationMs: 30_000 });
    await settle();
    now = service.getRun(run.id);
    expect(now.status).toBe('succeeded');
    expect(now.steps[2]).toMatchObject({ status: 'succeeded', httpStatus: 200 });
    expect(now.rto).toEqual({ objectiveSeconds: 60, actualMs: 50_000, met: true });
    expect(log.records.map((r) => r.type).filter((t) => t.startsWith('dr.step') || t.startsWith('dr.run'))).toEqual([
      DrEvent.runStarted,
      ...Array(3).fill([DrEvent.stepStarted, DrEvent.stepFinished]).flat(),
      DrEvent.runFinished,
    ]);
    // The confirmation is recorded under the person who gave it.
    expect(log.ofType(DrEvent.stepFinished)[1]!.actor).toBe('bob');
  });

  it('stops at the first failed step unless the step continues on failure, and marks the RTO missed', async () => {
    const { service, executors } = setup();
    await service.createPlan(plan([cmd('a', 'a', { continueOnFailure: true }), cmd('b', 'b'), cmd('c', 'c')]), 'owner');
    const run = await service.startRun({ planId: 'p1', mode: 'drill' }, 'owner', 'admin');
    await settle();
    executors.finish('a', { status: 'failed', exitCode: 3, error: 'exit code 3, expected exit code 0' });
    await settle();
    executors.finish('b', { status: 'failed', exitCode: 1, error: 'exit code 1, expected exit code 0' });
    await settle();
    const done = service.getRun(run.id);
    expect(done.status).toBe('failed');
    expect(done.steps.map((s) => s.status)).toEqual(['failed', 'failed', 'skipped']);
    expect(done.rto.met).toBe(false);
    expect(executors.calls).toEqual(['a', 'b']);
    expect(executors.contexts).toEqual([
      { runId: run.id, mode: 'drill' },
      { runId: run.id, mode: 'drill' },
    ]);
  });

  it('a manual step answered `failed` fails the run; an RTO past the objective is missed', async () => {
    const { service, clock } = setup();
    await service.createPlan(plan([manual('a')]), 'owner');
    const run = await service.startRun({ planId: 'p1', mode: 'drill' }, 'owner', 'admin');
    await settle();
    clock.advance(61_000);
    await service.completeManualStep({ runId: run.id, stepId: 'a', outcome: 'failed' }, 'owner');
    await settle();
    expect(service.getRun(run.id)).toMatchObject({ status: 'failed', rto: { actualMs: 61_000, met: false } });
    const again = await service.startRun({ planId: 'p1', mode: 'drill' }, 'owner', 'admin');
    await settle();
    clock.advance(61_000);
    await service.completeManualStep({ runId: again.id, stepId: 'a', outcome: 'done' }, 'owner');
    await settle();
    expect(service.getRun(again.id)).toMatchObject({ status: 'succeeded', rto: { actualMs: 61_000, met: false } });
  });

  it('cancels: the running step is aborted, later steps are skipped, a finished run cannot be aborted', async () => {
    const { service, executors } = setup();
    await service.createPlan(plan([cmd('slow', 'sleep'), cmd('next', 'next')]), 'owner');
    const run = await service.startRun({ planId: 'p1', mode: 'drill' }, 'owner', 'admin');
    await settle();
    expect(executors.isRunning('sleep')).toBe(true);
    const cancelled = await service.abortRun({ runId: run.id, reason: 'wrong plan' }, 'carol');
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelledBy: 'carol', reason: 'wrong plan' });
    expect(cancelled.steps.map((s) => s.status)).toEqual(['cancelled', 'skipped']);
    const again = await rpcErr(service.abortRun({ runId: run.id }, 'carol'));
    expect(again.code).toBe(ErrorCode.InvalidTransition);
    expect(again.data).toMatchObject({ allowed: [] });
    expect((await rpcErr(service.abortRun({ runId: 'nope' }, 'carol'))).code).toBe(ErrorCode.NotFound);
  });

  it('aborts a run waiting on a manual step', async () => {
    const { service } = setup();
    await service.createPlan(plan([manual('a'), manual('b')]), 'owner');
    const run = await service.startRun({ planId: 'p1', mode: 'drill' }, 'owner', 'admin');
    await settle();
    const cancelled = await service.abortRun({ runId: run.id }, 'owner');
    expect(cancelled.steps.map((s) => s.status)).toEqual(['cancelled', 'skipped']);
    const late = await rpcErr(service.completeManualStep({ runId: run.id, stepId: 'a', outcome: 'done' }, 'owner'));
    expect(late.code).toBe(ErrorCode.FailedPrecondition);
  });

  it('only an admin token starts a failover; a drill needs write', async () => {
    const { service, log } = setup();
    await service.createPlan(plan([manual('a')]), 'owner');
    const before = log.records.length;
    const e = await rpcErr(service.startRun({ planId: 'p1', mode: 'failover' }, 'ci', 'write'));
    expect(e.code).toBe(ErrorCode.Forbidden);
    expect(e.message).toContain('scope "admin"');
    expect(log.records).toHaveLength(before);
    const run = await service.startRun({ planId: 'p1', mode: 'failover' }, 'owner', 'admin');
    expect(run.mode).toBe('failover');
    await settle();
    expect(service.getRun(run.id).status).toBe('waiting');
    expect(log.ofType(DrEvent.runStarted)[0]!.priority).toBe('critical');
  });

  it('marks a run left in progress by a crash as interrupted on restart, never resuming it', async () => {
    const first = setup();
    await first.service.createPlan(plan([cmd('a', 'a'), cmd('b', 'b')]), 'owner');
    const run = await first.service.startRun({ planId: 'p1', mode: 'drill' }, 'owner', 'admin');
    await settle();
    // The process dies here: nothing more is appended. A new daemon opens the same log.
    first.clock.advance(5_000);
    const second = setup(first.log, first.clock);
    expect(second.service.getRun(run.id).status).toBe('running');
    expect(await second.service.markInterruptedRuns()).toBe(1);
    const after = second.service.getRun(run.id);
    expect(after).toMatchObject({ status: 'interrupted', reason: INTERRUPTED_REASON, rto: { actualMs: 5_000, met: false } });
    expect(second.stoppedLeftovers).toEqual([[run.id]]);
    expect(after.steps.map((s) => s.status)).toEqual(['interrupted', 'skipped']);
    expect(second.executors.calls).toEqual([]);
    expect(await second.service.markInterruptedRuns()).toBe(0);
  });

  it('a run whose step could not be recorded (disk full) stops executing and can be aborted', async () => {
    const { service, executors, log } = setup();
    await service.createPlan(plan([cmd('a', 'a'), cmd('b', 'b')]), 'owner');
    const run = await service.startRun({ planId: 'p1', mode: 'drill' }, 'owner', 'admin');
    await settle();
    log.failAppends = new Error('disk full');
    executors.finish('a', { status: 'succeeded', exitCode: 0 });
    await settle();
    expect(executors.calls).toEqual(['a']);
    log.failAppends = undefined;
    expect(service.getRun(run.id).status).toBe('running');
    const stuck = await rpcErr(service.completeManualStep({ runId: run.id, stepId: 'a', outcome: 'done' }, 'owner'));
    expect(stuck.message).toContain('is not executing in this daemon');
    const closed = await service.abortRun({ runId: run.id }, 'owner');
    expect(closed).toMatchObject({ status: 'cancelled', cancelledBy: 'owner' });
    expect(closed.steps.map((s) => s.status)).toEqual(['cancelled', 'skipped']);
    expect((await service.startRun({ planId: 'p1', mode: 'drill' }, 'owner', 'admin')).status).toBe('running');
  });

  it('close() interrupts runs of this process', async () => {
    const { service } = setup();
    await service.createPlan(plan([cmd('a', 'a')]), 'owner');
    const run = await service.startRun({ planId: 'p1', mode: 'drill' }, 'owner', 'admin');
    await settle();
    await service.close();
    const after: DrRun = service.getRun(run.id);
    expect(after.status).toBe('interrupted');
    expect(after.steps[0]!.status).toBe('interrupted');
    expect((await rpcErr(service.startRun({ planId: 'p1', mode: 'drill' }, 'owner', 'admin'))).code).toBe(ErrorCode.ShuttingDown);
  });
});
