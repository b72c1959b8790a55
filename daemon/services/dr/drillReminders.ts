import * as z from 'zod';
import type { Scheduler, TimerFiring } from '../scheduler/scheduler';
import type { Clock } from '../shared/clock';
import type { EventStore } from '../../store/types';
import { DrEvent, type DrProjection } from './drProjection';
import { planStatus } from './drStatus';

/** Timer kind of a plan's drill reminder on the durable scheduler. */
export const DRILL_DUE_TIMER = 'dr.drillDue';
/** Event appended when a plan's test falls due (and again every day it stays overdue). */
export const DRILL_DUE_EVENT = 'dr.drill.due';
/** A plan left overdue is reminded of again this often, ms. */
export const REMIND_EVERY_MS = 86_400_000;

const TimerPayload = z.object({ planId: z.string() });

export const DrillDuePayload = z.object({
  planId: z.string(),
  planName: z.string(),
  /** When the test fell due; absent for a plan never tested successfully. */
  dueAt: z.string().optional(),
  lastSuccessfulTestAt: z.string().optional(),
  testEveryDays: z.number(),
});
export type DrillDuePayload = z.infer<typeof DrillDuePayload>;

/** Timer key of a plan's reminder. */
export const reminderKey = (planId: string) => `drill-due:${planId}`;

export interface DrillReminderDeps {
  store: EventStore;
  scheduler: Scheduler;
  projection: DrProjection;
  clock: Clock;
}

/**
 * One durable timer per plan, due when its test falls due (the last successful run plus
 * `testEveryDays`; a day after creation for a plan never tested), repeating daily while the plan
 * stays overdue.
 * A successful run moves it; deleting the plan cancels it. Firing appends `dr.drill.due`, so the
 * reminder is in the log (the feature turns it into a `dr/didChange` notification).
 */
export class DrillReminders {
  /** Syncs run one at a time: two reading the same pending timer would both schedule, and both fire. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: DrillReminderDeps) {}

  /** Register the timer handler (in the feature's `register`, before the scheduler starts). */
  register(): void {
    this.deps.scheduler.register(DRILL_DUE_TIMER, (f) => this.fire(f));
  }

  /** Every plan's reminder in line with its status (at start: plans may have changed in a log written elsewhere). */
  syncAll(): Promise<void> {
    return this.serial(async () => {
      for (const plan of this.deps.projection.allPlans()) await this.syncNow(plan.id);
      for (const t of this.deps.scheduler.pending({ kind: DRILL_DUE_TIMER })) {
        const p = TimerPayload.safeParse(t.payload);
        if (p.success && !this.deps.projection.plan(p.data.planId)) await this.deps.scheduler.cancel(t.timerId);
      }
    });
  }

  /** After a plan changed or one of its runs finished: (re)schedule or cancel its reminder. */
  sync(planId: string): Promise<void> {
    return this.serial(() => this.syncNow(planId));
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async syncNow(planId: string): Promise<void> {
    const key = reminderKey(planId);
    const plan = this.deps.projection.plan(planId);
    if (!plan) {
      await this.deps.scheduler.cancel(key);
      return;
    }
    const status = planStatus(plan, this.deps.projection.allRuns(planId), [], this.deps.clock.now());
    // A plan never tested is overdue from the start; its first reminder leaves a day to run that first drill.
    const due = status.nextTestDueAt ?? new Date(Date.parse(plan.createdAt) + REMIND_EVERY_MS).toISOString();
    const pending = this.deps.scheduler.get(key);
    // Already set for that time, or already repeating after it (an overdue plan's daily reminder).
    if (pending && (pending.due === due || (status.overdue && Date.parse(pending.due) > Date.parse(due)))) return;
    await this.deps.scheduler.schedule({ kind: DRILL_DUE_TIMER, key, due, everyMs: REMIND_EVERY_MS, payload: { planId } });
  }

  private async fire(f: TimerFiring): Promise<void> {
    const { planId } = TimerPayload.parse(f.payload);
    const plan = this.deps.projection.plan(planId);
    if (!plan) {
      await this.deps.scheduler.cancel(f.timerId);
      return;
    }
    const status = planStatus(plan, this.deps.projection.allRuns(planId), [], this.deps.clock.now());
    if (!status.overdue) return;
    const payload: DrillDuePayload = {
      planId,
      planName: plan.name,
      ...(status.nextTestDueAt !== undefined ? { dueAt: status.nextTestDueAt } : {}),
      ...(status.lastSuccessfulTestAt !== undefined ? { lastSuccessfulTestAt: status.lastSuccessfulTestAt } : {}),
      testEveryDays: plan.testEveryDays,
    };
    await this.deps.store.append([{ type: DRILL_DUE_EVENT, actor: 'system', payload, source: 'dr', priority: 'high' }]);
  }
}

/** Event types after which a plan's reminder may have to move. */
export const REMINDER_TRIGGERS: ReadonlySet<string> = new Set([DrEvent.planCreated, DrEvent.planUpdated, DrEvent.planDeleted, DrEvent.runFinished]);
