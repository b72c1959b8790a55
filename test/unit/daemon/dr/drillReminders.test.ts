import { describe, expect, it } from 'vitest';
import { DrPlanSpec } from '../../../../daemon/protocol/dr';
import { DrProjection } from '../../../../daemon/services/dr/drProjection';
import { DrService } from '../../../../daemon/services/dr/drService';
import { DRILL_DUE_EVENT, DRILL_DUE_TIMER, DrillReminders, REMINDER_TRIGGERS, reminderKey } from '../../../../daemon/services/dr/drillReminders';
import type { StepExecutors } from '../../../../daemon/services/dr/stepExecutors';
import { Scheduler, SchedulerProjection } from '../../../../daemon/services/scheduler';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

const noExecutors: StepExecutors = {
  command: () => Promise.reject(new Error('no commands in this test')),
  httpCheck: () => Promise.reject(new Error('no checks in this test')),
};

/** One daemon run on a shared log, wired as drFeature wires it. */
function boot(log: MemoryEventLog, clock: ManualClock) {
  const projection = new DrProjection();
  const schedulerProjection = new SchedulerProjection();
  const store = log.open({ clock, projections: [schedulerProjection, projection] });
  const scheduler = new Scheduler({ store, clock, projection: schedulerProjection });
  const service = new DrService(store, projection, clock, noExecutors, { findExecutable: (e) => Promise.resolve(e) });
  const reminders = new DrillReminders({ store, scheduler, projection, clock });
  reminders.register();
  const syncs: Promise<void>[] = [];
  store.onAppend((events) => {
    for (const e of events) {
      if (!REMINDER_TRIGGERS.has(e.type)) continue;
      const p = e.payload as { id?: string; plan?: { id: string }; runId?: string };
      const planId = p.runId !== undefined ? projection.run(p.runId)?.planId : (p.id ?? p.plan?.id);
      if (planId !== undefined) syncs.push(reminders.sync(planId));
    }
  });
  scheduler.start();
  const settle = async () => {
    for (let i = 0; i < 10; i++) {
      await Promise.all(syncs.splice(0));
      await scheduler.idle();
      await new Promise<void>((r) => setImmediate(r));
    }
  };
  const reminded = () => log.records.filter((r) => r.type === DRILL_DUE_EVENT).map((r) => ({ at: r.time, ...(r.payload as object) }));
  return { service, scheduler, reminders, settle, reminded };
}

const plan = DrPlanSpec.parse({
  id: 'p',
  name: 'Payments DR',
  services: ['api'],
  strategy: 'warm_standby',
  rtoSeconds: 300,
  rpoSeconds: 60,
  testEveryDays: 30,
  steps: [{ id: 'a', name: 'a', action: { kind: 'manual', instructions: 'x' } }],
});

describe('drill reminders', () => {
  it('reminds of a never-tested plan a day after creation and daily, moves after a successful drill, and fires once after downtime', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock(T0);
    const first = boot(log, clock);
    await first.service.createPlan(plan, 'owner');
    await first.settle();
    expect(first.reminded()).toEqual([]);
    clock.advance(DAY);
    await first.settle();
    expect(first.reminded()).toEqual([{ at: iso(T0 + DAY), planId: 'p', planName: 'Payments DR', testEveryDays: 30 }]);
    clock.advance(DAY);
    await first.settle();
    expect(first.reminded()).toHaveLength(2);

    // A successful drill: nothing until 30 days after it.
    const run = await first.service.startRun({ planId: 'p', mode: 'drill' }, 'owner', 'admin');
    await first.settle();
    clock.advance(MIN);
    await first.service.completeManualStep({ runId: run.id, stepId: 'a', outcome: 'done' }, 'owner');
    await first.settle();
    const passedAt = T0 + 2 * DAY + MIN;
    expect(first.scheduler.get(reminderKey('p'))?.due).toBe(iso(passedAt + 30 * DAY));
    clock.advance(30 * DAY - 1);
    await first.settle();
    expect(first.reminded()).toHaveLength(2);

    // Down from before the due time until 3 days after it: one late reminder on start, not three.
    await first.scheduler.stop();
    clock.set(passedAt + 33 * DAY);
    const second = boot(log, clock);
    await second.reminders.syncAll();
    await second.settle();
    expect(second.reminded()).toHaveLength(3);
    expect(second.reminded()[2]).toMatchObject({ planId: 'p', dueAt: iso(passedAt + 30 * DAY), lastSuccessfulTestAt: iso(passedAt) });
    clock.advance(DAY);
    await second.settle();
    expect(second.reminded()).toHaveLength(4);
  });

  it('a failed drill does not move the reminder; deleting the plan cancels it', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock(T0);
    const run = boot(log, clock);
    await run.service.createPlan(plan, 'owner');
    clock.advance(DAY);
    await run.settle();
    const before = run.scheduler.get(reminderKey('p'))?.due;
    const failed = await run.service.startRun({ planId: 'p', mode: 'drill' }, 'owner', 'admin');
    await run.settle();
    await run.service.completeManualStep({ runId: failed.id, stepId: 'a', outcome: 'failed' }, 'owner');
    await run.settle();
    expect(run.scheduler.get(reminderKey('p'))?.due).toBe(before);
    await run.service.deletePlan('p', 'owner');
    await run.settle();
    expect(run.scheduler.pending({ kind: DRILL_DUE_TIMER })).toEqual([]);
    clock.advance(3 * DAY);
    await run.settle();
    expect(run.reminded()).toHaveLength(1);
  });

  it('syncAll at start appends nothing when every reminder is already in line', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock(T0);
    const first = boot(log, clock);
    await first.service.createPlan(plan, 'owner');
    await first.settle();
    await first.scheduler.stop();
    const count = log.records.length;
    const second = boot(log, clock);
    await second.reminders.syncAll();
    await second.settle();
    expect(log.records.length).toBe(count);
  });
});
