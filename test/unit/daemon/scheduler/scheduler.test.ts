import { describe, expect, it } from 'vitest';
import { ErrorCode, SchedulerEventType, type TimerFiredPayload } from '../../../../daemon/protocol';
import { Router } from '../../../../daemon/server/router';
import { Scheduler, SchedulerProjection, registerScheduler, type TimerFiring } from '../../../../daemon/services/scheduler';
import { ManualClock, type Clock, type TimerHandle } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** One daemon "run": a store opened on the shared log, a projection and a scheduler. */
function boot(log: MemoryEventLog, clock: ManualClock, handlers: Record<string, (t: TimerFiring) => Promise<void>> = {}) {
  const projection = new SchedulerProjection();
  const store = log.open({ clock, projections: [projection] });
  const messages: string[] = [];
  const scheduler = new Scheduler({
    store,
    clock,
    projection,
    log: (level, message) => messages.push(`${level}: ${message}`),
  });
  for (const [kind, handler] of Object.entries(handlers)) scheduler.register(kind, handler);
  return { store, projection, scheduler, messages };
}

/**
 * A laptop's clock: timers run on monotonic time, which stands still while the machine sleeps,
 * while `now()` is wall time, which keeps going.
 */
class SleepingLaptopClock implements Clock {
  private wall = Date.parse('2026-01-01T00:00:00Z');
  private mono = 0;
  private timers: { at: number; fn: () => void }[] = [];

  now(): number {
    return this.wall;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const t = { at: this.mono + ms, fn };
    this.timers.push(t);
    return { cancel: () => (this.timers = this.timers.filter((x) => x !== t)) };
  }

  sleep(ms: number): void {
    this.wall += ms;
  }

  advance(ms: number): void {
    const target = this.mono + ms;
    for (;;) {
      const next = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.wall += next.at - this.mono;
      this.mono = next.at;
      next.fn();
    }
    this.wall += target - this.mono;
    this.mono = target;
  }
}

function recorder() {
  const fired: TimerFiring[] = [];
  return { fired, handler: async (t: TimerFiring) => void fired.push(t) };
}

describe('Scheduler', () => {
  it('fires a timer at its due time, once, and records it', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    const r = recorder();
    const { scheduler } = boot(log, clock, { 'incident.escalate': r.handler });
    scheduler.start();
    const id = await scheduler.schedule({ kind: 'incident.escalate', due: clock.now() + 5 * MIN, payload: { incident: 'inc_1' } });

    clock.advance(5 * MIN - 1);
    await scheduler.idle();
    expect(r.fired).toEqual([]);

    clock.advance(1);
    await scheduler.idle();
    expect(r.fired).toHaveLength(1);
    expect(r.fired[0]).toMatchObject({
      timerId: id,
      kind: 'incident.escalate',
      payload: { incident: 'inc_1' },
      late: false,
      redelivered: false,
      due: new Date(clock.now()).toISOString(),
    });
    expect(r.fired[0]!.occurrenceId).toBe(`${id}@${r.fired[0]!.due}`);
    expect(scheduler.pending()).toEqual([]);
    expect(log.records.map((e) => e.type)).toEqual([
      SchedulerEventType.TimerSet,
      SchedulerEventType.TimerFired,
      SchedulerEventType.TimerDone,
    ]);

    clock.advance(DAY);
    await scheduler.idle();
    expect(r.fired).toHaveLength(1);
  });

  it('fires timers further away than a Node timer can wait (2^31 ms)', async () => {
    const clock = new ManualClock();
    const r = recorder();
    const { scheduler } = boot(new MemoryEventLog(), clock, { 'dr.drillDue': r.handler });
    scheduler.start();
    await scheduler.schedule({ kind: 'dr.drillDue', due: clock.now() + 90 * DAY });
    clock.advance(89 * DAY);
    await scheduler.idle();
    expect(r.fired).toHaveLength(0);
    clock.advance(DAY);
    await scheduler.idle();
    expect(r.fired).toHaveLength(1);
  });

  it('fires a timer scheduled in the past at once', async () => {
    const clock = new ManualClock();
    const r = recorder();
    const { scheduler } = boot(new MemoryEventLog(), clock, { 'secrets.rotate': r.handler });
    scheduler.start();
    await scheduler.schedule({ kind: 'secrets.rotate', due: new Date(clock.now() - HOUR) });
    await scheduler.idle();
    expect(r.fired).toHaveLength(1);
    expect(r.fired[0]!.late).toBe(true);
  });

  it('cancels by id and by key; cancelling an unknown timer answers false', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    const r = recorder();
    const { scheduler } = boot(log, clock, { 'incident.escalate': r.handler });
    scheduler.start();
    const a = await scheduler.schedule({ kind: 'incident.escalate', due: clock.now() + MIN });
    await scheduler.schedule({ kind: 'incident.escalate', due: clock.now() + MIN, key: 'inc_2/level1' });
    const c = await scheduler.schedule({ kind: 'incident.escalate', due: clock.now() + MIN });

    expect(await scheduler.cancel(a)).toBe(true);
    expect(await scheduler.cancel('inc_2/level1')).toBe(true);
    expect(await scheduler.cancel('no-such-timer')).toBe(false);
    expect(await scheduler.cancel(a)).toBe(false);

    clock.advance(2 * MIN);
    await scheduler.idle();
    expect(r.fired.map((f) => f.timerId)).toEqual([c]);
    expect(log.ofType(SchedulerEventType.TimerCancelled).map((e) => e.payload)).toEqual([
      { timerId: a, reason: 'cancelled' },
      expect.objectContaining({ reason: 'cancelled' }),
    ]);
  });

  it('replaces the pending timer when the same key is scheduled again', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    const r = recorder();
    const { scheduler } = boot(log, clock, { 'incident.escalate': r.handler });
    scheduler.start();
    const first = await scheduler.schedule({ kind: 'incident.escalate', due: clock.now() + 10 * MIN, key: 'inc_3', payload: 1 });
    const second = await scheduler.schedule({ kind: 'incident.escalate', due: clock.now() + 20 * MIN, key: 'inc_3', payload: 2 });

    expect(scheduler.pending().map((t) => t.timerId)).toEqual([second]);
    expect(scheduler.get('inc_3')?.timerId).toBe(second);
    clock.advance(15 * MIN);
    await scheduler.idle();
    expect(r.fired).toEqual([]);
    clock.advance(5 * MIN);
    await scheduler.idle();
    expect(r.fired.map((f) => [f.timerId, f.payload])).toEqual([[second, 2]]);
    expect(log.ofType(SchedulerEventType.TimerCancelled)[0]!.payload).toEqual({
      timerId: first,
      reason: 'replaced',
      replacedBy: second,
    });
  });

  it('rebuilds pending timers after a restart, from the log and from a snapshot', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    const run1 = boot(log, clock);
    run1.scheduler.start();
    const a = await run1.scheduler.schedule({ kind: 'slo.missingData', due: clock.now() + HOUR, payload: { slo: 'slo_avail_30d' } });
    await run1.store.snapshot();
    const b = await run1.scheduler.schedule({ kind: 'slo.missingData', due: clock.now() + 2 * HOUR, key: 'k' });
    await run1.scheduler.stop();
    await run1.store.close();

    const r = recorder();
    const run2 = boot(log, clock, { 'slo.missingData': r.handler });
    expect(run2.scheduler.pending().map((t) => t.timerId)).toEqual([a, b]);
    run2.scheduler.start();
    clock.advance(HOUR);
    await run2.scheduler.idle();
    expect(r.fired.map((f) => [f.timerId, f.late, f.payload])).toEqual([[a, false, { slo: 'slo_avail_30d' }]]);
    clock.advance(HOUR);
    await run2.scheduler.idle();
    expect(r.fired.map((f) => f.timerId)).toEqual([a, b]);
  });

  it('fires a timer missed while the daemon was down once, late; a recurring one skips the missed periods', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    const run1 = boot(log, clock);
    run1.scheduler.start();
    const once = await run1.scheduler.schedule({ kind: 'incident.escalate', due: clock.now() + HOUR });
    const hourly = await run1.scheduler.schedule({ kind: 'slo.evaluate', due: clock.now() + HOUR, everyMs: HOUR });
    await run1.scheduler.stop();
    await run1.store.close();

    // Down for five hours and a bit: five periods of the hourly timer were missed.
    clock.advance(5 * HOUR + 17 * MIN);
    const restartedAt = clock.now();
    const escalations = recorder();
    const evaluations = recorder();
    const run2 = boot(log, clock, { 'incident.escalate': escalations.handler, 'slo.evaluate': evaluations.handler });
    run2.scheduler.start();
    await run2.scheduler.idle();

    expect(escalations.fired.map((f) => [f.timerId, f.late])).toEqual([[once, true]]);
    expect(evaluations.fired.map((f) => [f.timerId, f.late])).toEqual([[hourly, true]]);
    expect(run2.scheduler.get(hourly)?.due).toBe(new Date(restartedAt + HOUR).toISOString());
    const firedEvents = log.ofType(SchedulerEventType.TimerFired).map((e) => e.payload as TimerFiredPayload);
    expect(firedEvents).toHaveLength(2);

    clock.advance(HOUR - 1);
    await run2.scheduler.idle();
    expect(evaluations.fired).toHaveLength(1);
    clock.advance(1);
    await run2.scheduler.idle();
    expect(evaluations.fired).toHaveLength(2);
    expect(evaluations.fired[1]).toMatchObject({ late: false, due: new Date(restartedAt + HOUR).toISOString() });
  });

  it('keeps a recurring timer on its grid while it fires on time', async () => {
    const clock = new ManualClock();
    const start = clock.now();
    const r = recorder();
    const { scheduler } = boot(new MemoryEventLog(), clock, { 'dr.check': r.handler });
    scheduler.start();
    await scheduler.schedule({ kind: 'dr.check', due: start + 10 * MIN, everyMs: 10 * MIN });
    // Handlers run asynchronously: move time a minute at a time, as a live process would see it.
    for (let i = 0; i < 35; i++) {
      clock.advance(MIN);
      await scheduler.idle();
    }
    expect(r.fired.map((f) => Date.parse(f.due) - start)).toEqual([10 * MIN, 20 * MIN, 30 * MIN]);
    expect(r.fired.every((f) => !f.late)).toBe(true);
    expect(Date.parse(scheduler.pending()[0]!.due) - start).toBe(40 * MIN);
  });

  it('fires a timer that fell due while the machine slept within a minute of waking, late', async () => {
    const clock = new SleepingLaptopClock();
    const projection = new SchedulerProjection();
    const store = new MemoryEventLog().open({ clock, projections: [projection] });
    const scheduler = new Scheduler({ store, clock, projection });
    const r = recorder();
    scheduler.register('incident.escalate', r.handler);
    scheduler.start();
    await scheduler.schedule({ kind: 'incident.escalate', due: clock.now() + 30 * MIN });
    clock.advance(10 * MIN);
    clock.sleep(2 * HOUR);
    clock.advance(MIN);
    await scheduler.idle();
    expect(r.fired).toHaveLength(1);
    expect(r.fired[0]!.late).toBe(true);
    await scheduler.stop();
  });

  it('records a failing handler and keeps firing other timers', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    const r = recorder();
    const { scheduler, messages } = boot(log, clock, {
      'webhook.send': async () => {
        throw new Error('receiver said no');
      },
      'incident.escalate': r.handler,
    });
    scheduler.start();
    const bad = await scheduler.schedule({ kind: 'webhook.send', due: clock.now() + MIN });
    const orphan = await scheduler.schedule({ kind: 'nobody.handles', due: clock.now() + MIN });
    const good = await scheduler.schedule({ kind: 'incident.escalate', due: clock.now() + 2 * MIN });
    clock.advance(2 * MIN);
    await scheduler.idle();

    expect(r.fired.map((f) => f.timerId)).toEqual([good]);
    const failures = log.ofType(SchedulerEventType.TimerFailed).map((e) => e.payload);
    expect(failures).toHaveLength(2);
    expect(failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ timerId: bad, kind: 'webhook.send', error: 'receiver said no' }),
        expect.objectContaining({ timerId: orphan, error: 'no handler registered for timer kind "nobody.handles"' }),
      ]),
    );
    expect(scheduler.pending()).toEqual([]);
    expect(messages.some((m) => m.startsWith('error:') && m.includes('receiver said no'))).toBe(true);
  });

  it('delivers an occurrence again after a crash interrupted its handler (at-least-once)', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    let started = 0;
    const run1 = boot(log, clock, {
      'incident.escalate': () => {
        started++;
        return new Promise<void>(() => undefined); // the process dies before this finishes
      },
    });
    run1.scheduler.start();
    const id = await run1.scheduler.schedule({ kind: 'incident.escalate', due: clock.now() + MIN });
    clock.advance(MIN);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toBe(1);
    expect(run1.scheduler.get(id)?.firing).toBeDefined();

    const r = recorder();
    const run2 = boot(log, clock, { 'incident.escalate': r.handler });
    run2.scheduler.start();
    await run2.scheduler.idle();
    expect(r.fired).toHaveLength(1);
    expect(r.fired[0]).toMatchObject({ timerId: id, redelivered: true, late: true });
    expect(r.fired[0]!.occurrenceId).toBe(`${id}@${new Date(clock.now()).toISOString()}`);
    expect(log.ofType(SchedulerEventType.TimerFired)).toHaveLength(1);
    expect(run2.scheduler.pending()).toEqual([]);
  });

  it('retries recording a firing after a store failure instead of losing the timer', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock();
    const r = recorder();
    const { scheduler, messages } = boot(log, clock, { 'incident.escalate': r.handler });
    scheduler.start();
    await scheduler.schedule({ kind: 'incident.escalate', due: clock.now() + MIN });
    log.failAppends = new Error('ENOSPC: no space left on device');
    clock.advance(MIN);
    await scheduler.idle();
    expect(r.fired).toHaveLength(0);
    expect(messages.some((m) => m.includes('ENOSPC'))).toBe(true);

    log.failAppends = undefined;
    clock.advance(5000);
    await scheduler.idle();
    expect(r.fired).toHaveLength(1);
  });

  it('rejects bad schedules with InvalidParams', async () => {
    const clock = new ManualClock();
    const { scheduler } = boot(new MemoryEventLog(), clock);
    await expect(scheduler.schedule({ kind: 'x', due: 'not a date' })).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
    await expect(scheduler.schedule({ kind: 'bad kind!', due: 0 })).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
    await expect(scheduler.schedule({ kind: 'x', due: 0, everyMs: 10 })).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
    await expect(scheduler.schedule({ kind: 'x', due: 0, payload: { n: 1n } })).rejects.toMatchObject({
      code: ErrorCode.InvalidParams,
    });
    expect(() => scheduler.register('x', async () => undefined)).not.toThrow();
    expect(() => scheduler.register('x', async () => undefined)).toThrow(/twice/);
  });

  it('serves scheduler/list through the router, soonest first, filtered by kind', async () => {
    const clock = new ManualClock();
    const { scheduler } = boot(new MemoryEventLog(), clock);
    await scheduler.schedule({ kind: 'b.kind', due: clock.now() + 2 * MIN });
    await scheduler.schedule({ kind: 'a.kind', due: clock.now() + 3 * MIN, payload: { x: 1 } });
    await scheduler.schedule({ kind: 'b.kind', due: clock.now() + MIN, key: 'k1' });
    const router = new Router();
    registerScheduler(router, scheduler);
    const ctx = { actor: 'owner', scope: 'read' as const, connectionId: 'test' };

    const all = (await router.dispatch('scheduler/list', {}, ctx)) as { timers: { kind: string; due: string }[]; total: number };
    expect(all.total).toBe(3);
    expect(all.timers.map((t) => Date.parse(t.due) - clock.now())).toEqual([MIN, 2 * MIN, 3 * MIN]);
    const some = (await router.dispatch('scheduler/list', { kind: 'b.kind', limit: 1 }, ctx)) as typeof all;
    expect(some.total).toBe(2);
    expect(some.timers).toEqual([expect.objectContaining({ kind: 'b.kind', key: 'k1' })]);
  });
});
