import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SchedulerEventType } from '../../../../daemon/protocol';
import { Scheduler, SchedulerProjection, type TimerFiring } from '../../../../daemon/services/scheduler';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { DEFAULT_STREAMS, openStore } from '../../../../daemon/store';

const HOUR = 3_600_000;
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function boot(dataDir: string, clock: ManualClock, fired: TimerFiring[]) {
  const projection = new SchedulerProjection();
  const store = await openStore({ dataDir, clock, streams: DEFAULT_STREAMS, projections: [projection], log: () => undefined });
  const scheduler = new Scheduler({ store, clock, projection });
  scheduler.register('incident.escalate', async (t) => void fired.push(t));
  scheduler.register('slo.evaluate', async (t) => void fired.push(t));
  return { store, scheduler };
}

describe('Scheduler on the file event store', () => {
  it('keeps timers across a restart and fires the ones missed while down once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cogniforge-scheduler-'));
    dirs.push(dataDir);
    const clock = new ManualClock();
    const fired: TimerFiring[] = [];

    const run1 = await boot(dataDir, clock, fired);
    run1.scheduler.start();
    const once = await run1.scheduler.schedule({ kind: 'incident.escalate', due: clock.now() + HOUR, key: 'inc_1' });
    const later = await run1.scheduler.schedule({ kind: 'incident.escalate', due: clock.now() + 10 * HOUR });
    const hourly = await run1.scheduler.schedule({ kind: 'slo.evaluate', due: clock.now() + HOUR, everyMs: HOUR });
    await run1.store.snapshot();
    await run1.scheduler.stop();
    await run1.store.close();

    clock.advance(3 * HOUR + 5 * 60_000);
    const run2 = await boot(dataDir, clock, fired);
    expect(run2.scheduler.pending().map((t) => t.timerId).sort()).toEqual([once, later, hourly].sort());
    run2.scheduler.start();
    await run2.scheduler.idle();
    expect(fired.map((f) => [f.timerId, f.late]).sort()).toEqual([[once, true], [hourly, true]].sort());
    expect(run2.scheduler.pending().map((t) => t.timerId).sort()).toEqual([later, hourly].sort());

    const events = await run2.store.query({ types: ['scheduler.*'] }, { limit: 100, order: 'asc' });
    expect(events.filter((e) => e.type === SchedulerEventType.TimerFired)).toHaveLength(2);
    // Timers must never expire with a retention class.
    const kept = new Set(run2.store.streams().filter((s) => s.retentionDays === null).map((s) => s.name));
    expect(events.every((e) => kept.has(e.stream))).toBe(true);
    await run2.scheduler.stop();
    await run2.store.close();
  });
});
