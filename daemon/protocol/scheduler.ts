import * as z from 'zod';
import { IsoTime } from './common';
import { defineRequest } from './define';

/**
 * The durable scheduler's contract: the payloads of its events (timers are events in the log, so a
 * client reading `events/query` sees them in these shapes) and its read-only query.
 */

/** Names the handler a timer runs, e.g. `incident.escalate`. */
export const TimerKind = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z][\w-]*(\.[A-Za-z0-9_-]+)*$/, 'timer kinds are dot-separated words, e.g. "incident.escalate"');

export const SchedulerEventType = {
  TimerSet: 'scheduler.timerSet',
  TimerFired: 'scheduler.timerFired',
  TimerDone: 'scheduler.timerDone',
  TimerFailed: 'scheduler.timerFailed',
  TimerCancelled: 'scheduler.timerCancelled',
} as const;

export const TimerSetPayload = z.object({
  timerId: z.string().min(1),
  kind: TimerKind,
  /** When the (first) occurrence is due (ISO-8601). */
  due: IsoTime,
  /** Handed to the handler unchanged. JSON only. */
  payload: z.unknown(),
  /** Dedupe key: scheduling another timer with the same key replaces this one. */
  key: z.string().min(1).max(256).optional(),
  /** Recurring period in ms; absent for a one-shot timer. */
  everyMs: z.number().int().positive().optional(),
});
export type TimerSetPayload = z.infer<typeof TimerSetPayload>;

export const TimerFiredPayload = z.object({
  timerId: z.string().min(1),
  /** The occurrence that fired (its scheduled time, ISO-8601). */
  due: IsoTime,
  firedAt: IsoTime,
  /** True when it fired after its due time had passed (daemon down, laptop asleep). */
  late: z.boolean(),
  /** Recurring timers: the next occurrence (missed periods skipped). */
  nextDue: IsoTime.optional(),
});
export type TimerFiredPayload = z.infer<typeof TimerFiredPayload>;

export const TimerDonePayload = z.object({ timerId: z.string().min(1), due: IsoTime });
export type TimerDonePayload = z.infer<typeof TimerDonePayload>;

export const TimerFailedPayload = z.object({
  timerId: z.string().min(1),
  kind: TimerKind,
  due: IsoTime,
  /** The handler's error message (never a stack). */
  error: z.string(),
});
export type TimerFailedPayload = z.infer<typeof TimerFailedPayload>;

export const TimerCancelledPayload = z.object({
  timerId: z.string().min(1),
  reason: z.enum(['cancelled', 'replaced']),
  /** For `replaced`: the timer that took its key. */
  replacedBy: z.string().optional(),
});
export type TimerCancelledPayload = z.infer<typeof TimerCancelledPayload>;

export const PendingTimer = z.object({
  timerId: z.string(),
  kind: z.string(),
  /** Next occurrence (ISO-8601). */
  due: IsoTime,
  payload: z.unknown(),
  key: z.string().optional(),
  /** Recurring period in ms. */
  everyMs: z.number().int().positive().optional(),
  /** When the timer was scheduled (ISO-8601). */
  setAt: IsoTime,
  /** Present while an occurrence has fired and its handler has not finished (redelivered on restart). */
  firing: z.object({ due: IsoTime, firedAt: IsoTime }).optional(),
});
export type PendingTimer = z.infer<typeof PendingTimer>;

export const ListTimers = defineRequest(
  'scheduler/list',
  z.object({
    /** Only timers of this kind. */
    kind: z.string().max(128).optional(),
    limit: z.number().int().min(1).max(1000).default(100),
  }),
  z.object({
    /** Soonest first. */
    timers: z.array(PendingTimer),
    /** Pending timers matching the filter, before the limit. */
    total: z.number().int().min(0),
  }),
  { kind: 'query', doc: 'Pending durable timers (escalations, rotations, drill due dates), soonest first.' },
);
