import { describe, expect, it } from 'vitest';
import type { DrRun } from '../../../daemon/protocol/dr';
import { sleep, useDaemons, type RpcClient } from '../helpers/daemonProcess';

const spawn = useDaemons();

interface TimerSet {
  timerId: string;
  kind: string;
  due: string;
  key?: string;
  everyMs?: number;
  payload: { planId: string };
}

/** Every drill-reminder timer the daemon recorded, oldest first. */
async function reminderTimers(c: RpcClient): Promise<TimerSet[]> {
  const { events } = await c.request<{ events: { payload: TimerSet }[] }>('events/query', { types: ['scheduler.timerSet'], limit: 1000 });
  return events.map((e) => e.payload).filter((t) => t.kind === 'dr.drillDue');
}

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const DAY = 86_400_000;

describe('drill reminders on a real daemon', () => {
  // Firing (at the due time, daily while overdue, once after downtime) is covered with a ManualClock
  // in test/unit/daemon/dr/drillReminders.test.ts; a real daemon shows the durable timers it keeps.
  it('keeps one durable reminder per plan, moved by a successful drill and not duplicated by a restart', async () => {
    const d = await spawn();
    const c = await d.connect();
    const seeded = await until('the seeded plans to get reminders', async () => {
      const t = await reminderTimers(c);
      return t.length >= 3 ? t : undefined;
    });
    const plans = await c.request<{ plans: { id: string; createdAt: string }[] }>('dr/listPlans', {});
    expect(seeded.map((t) => t.payload.planId).sort()).toEqual(['dr_api_001', 'dr_db_001', 'dr_files_001']);
    for (const t of seeded) {
      // Never tested: a day after the plan was created, then daily.
      const created = plans.plans.find((p) => p.id === t.payload.planId)!.createdAt;
      expect(t).toMatchObject({ key: `drill-due:${t.payload.planId}`, due: new Date(Date.parse(created) + DAY).toISOString(), everyMs: DAY });
    }

    await c.request('dr/createPlan', {
      id: 'orders_db',
      name: 'Orders DB',
      services: ['orders-db'],
      strategy: 'warm_standby',
      rtoSeconds: 600,
      rpoSeconds: 900,
      testEveryDays: 30,
      steps: [{ id: 'dns', name: 'Update DNS', action: { kind: 'manual', instructions: 'Point orders-db at the standby.' } }],
    });
    await until('a reminder for the new plan', async () => ((await reminderTimers(c)).some((t) => t.payload.planId === 'orders_db') ? true : undefined));

    // A successful drill moves the reminder to 30 days after it.
    const run = await c.request<DrRun>('dr/startRun', { planId: 'orders_db', mode: 'drill' });
    await until('the manual step', async () => ((await c.request<DrRun>('dr/getRun', { runId: run.id })).status === 'waiting' ? true : undefined));
    await c.request('dr/completeManualStep', { runId: run.id, stepId: 'dns', outcome: 'done' });
    const done = await until('the drill to succeed', async () => {
      const r = await c.request<DrRun>('dr/getRun', { runId: run.id });
      return r.status === 'succeeded' ? r : undefined;
    });
    const moved = await until('the reminder to move', async () => {
      const t = (await reminderTimers(c)).filter((x) => x.payload.planId === 'orders_db');
      return t.length === 2 ? t[1] : undefined;
    });
    expect(moved.due).toBe(new Date(Date.parse(done.finishedAt!) + 30 * DAY).toISOString());
    const status = await c.request<{ plans: { overdue: boolean; nextTestDueAt?: string }[] }>('dr/status', { planId: 'orders_db' });
    expect(status.plans[0]).toMatchObject({ overdue: false, nextTestDueAt: moved.due });

    // Deleting the plan cancels its reminder.
    const plan2 = { id: 'scratch', name: 'Scratch', services: ['x'], strategy: 'backup_restore', rtoSeconds: 60, rpoSeconds: 60, testEveryDays: 7, steps: [{ id: 'a', name: 'a', action: { kind: 'manual', instructions: 'a' } }] };
    await c.request('dr/createPlan', plan2);
    const scratch = await until('a reminder for the scratch plan', async () => (await reminderTimers(c)).find((t) => t.payload.planId === 'scratch'));
    await c.request('dr/deletePlan', { id: 'scratch' });
    await until('the reminder to be cancelled', async () => {
      const { events } = await c.request<{ events: { payload: { timerId: string } }[] }>('events/query', { types: ['scheduler.timerCancelled'], limit: 1000 });
      return events.some((e) => e.payload.timerId === scratch.timerId) ? true : undefined;
    });
    const count = (await reminderTimers(c)).length;
    await c.close();

    // Restart: every reminder is in line, so none is recorded again.
    await d.stop();
    const again = await spawn({ dataDir: d.dataDir });
    const c2 = await again.connect();
    await sleep(300);
    expect(await reminderTimers(c2)).toHaveLength(count);
    await c2.close();
  });
});
