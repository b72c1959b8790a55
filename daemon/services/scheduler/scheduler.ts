import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  RpcError,
  SchedulerEventType,
  TimerKind,
  type PendingTimer,
  type TimerCancelledPayload,
  type TimerDonePayload,
  type TimerFailedPayload,
  type TimerFiredPayload,
  type TimerSetPayload,
} from '../../protocol';
import type { Clock, TimerHandle } from '../shared/clock';
import type { EventStore, NewEvent, StoreOptions } from '../../store/types';
import type { SchedulerProjection } from './projection';

export type LogFn = NonNullable<StoreOptions['log']>;

/** One occurrence of a timer, as its handler sees it. */
export interface TimerFiring {
  timerId: string;
  kind: string;
  payload: unknown;
  key?: string;
  /** Recurring period, ms. */
  everyMs?: number;
  /** The scheduled time of this occurrence (ISO-8601). */
  due: string;
  /** When it fired (ISO-8601). */
  firedAt: string;
  /** Fired after its due time had passed: the daemon was down or the machine asleep. */
  late: boolean;
  /** This occurrence already fired before a restart and its handler never finished: it runs again. */
  redelivered: boolean;
  /**
   * `<timerId>@<due>`: the same for every delivery of one occurrence. Handlers make their side
   * effects idempotent with it (e.g. as the id of the events they append, or an idempotency header).
   */
  occurrenceId: string;
}

export type TimerHandler = (timer: TimerFiring) => Promise<void>;

export interface ScheduleRequest {
  /** The handler to run, registered with `register`. */
  kind: string;
  /** Date, epoch ms, or ISO-8601 string. A time in the past fires at once. */
  due: Date | number | string;
  /** Handed to the handler. JSON only. */
  payload?: unknown;
  /** Scheduling again with the same key replaces the pending timer (one escalation per incident, say). */
  key?: string;
  /** Recurring: fire every this many ms after `due` (at least 1000). */
  everyMs?: number;
  /** Recorded as the actor of the event (the token name of the command that caused it). */
  actor?: string;
  correlationId?: string;
}

export interface SchedulerOptions {
  store: EventStore;
  clock: Clock;
  /** The same instance that was passed to the store's projections. */
  projection: SchedulerProjection;
  log?: LogFn;
  /** A firing this much after its due time counts as late, ms. Default 1000. */
  lateToleranceMs?: number;
  /**
   * How often every pending timer is checked against the wall clock, ms. Default 60,000. Timers of
   * the system clock stop while the machine sleeps; this bounds how late a timer fires after a wake.
   */
  wallClockCheckMs?: number;
  /** Wait before trying again when the firing could not be recorded (store failure), ms. Default 5000. */
  appendRetryMs?: number;
}

type FireMode = 'due' | 'overdueAtStart' | 'redeliver';

const MIN_EVERY_MS = 1000;
const SYSTEM_ACTOR = 'system';

/**
 * Durable timers. A timer is a `scheduler.timerSet` event; the projection of those events is the set
 * of pending timers, so timers survive restarts and are rebuilt like any other state.
 *
 * Delivery is at-least-once. Firing appends `scheduler.timerFired` BEFORE the handler runs and
 * `scheduler.timerDone` (or `scheduler.timerFailed`) after it. Consequences:
 * - a due time is recorded as fired once, so a restart never fires an occurrence "again" because of
 *   the clock, and a timer missed while the daemon was down fires once, late, not once per period;
 * - a crash after `timerFired` but before `timerDone` leaves the occurrence marked as firing, and
 *   `start()` runs its handler again (`redelivered: true`) — a lost escalation is worse than a
 *   duplicate one, so handlers make their effect idempotent with `occurrenceId`;
 * - a handler failure is recorded (`timerFailed`, message only) and ends that occurrence; the
 *   scheduler keeps running. Handlers that want retries schedule them.
 */
export class Scheduler {
  private readonly store: EventStore;
  private readonly clock: Clock;
  private readonly projection: SchedulerProjection;
  private readonly log: LogFn;
  private readonly lateToleranceMs: number;
  private readonly wallClockCheckMs: number;
  private readonly appendRetryMs: number;
  private readonly handlers = new Map<string, TimerHandler>();
  private readonly armed = new Map<string, TimerHandle>();
  private readonly running = new Map<string, Promise<void>>();
  /** Timers whose firing could not be recorded: epoch ms before which they are not tried again. */
  private readonly backoffUntil = new Map<string, number>();
  private started = false;
  private watchdog: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(options: SchedulerOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.projection = options.projection;
    this.log = options.log ?? (() => undefined);
    this.lateToleranceMs = options.lateToleranceMs ?? 1000;
    this.wallClockCheckMs = options.wallClockCheckMs ?? 60_000;
    this.appendRetryMs = options.appendRetryMs ?? 5000;
  }

  /** Register the handler for a timer kind. Register every kind before `start()`. */
  register(kind: string, handler: TimerHandler): void {
    TimerKind.parse(kind);
    if (this.handlers.has(kind)) throw new Error(`timer kind ${kind} registered twice`);
    this.handlers.set(kind, handler);
  }

  /** Record a timer; resolves with its id once the event is durable. */
  async schedule(request: ScheduleRequest): Promise<string> {
    const kind = TimerKind.safeParse(request.kind);
    if (!kind.success) throw new RpcError(ErrorCode.InvalidParams, `invalid timer kind: ${request.kind}`);
    const dueMs = toEpochMs(request.due);
    if (!Number.isFinite(dueMs)) throw new RpcError(ErrorCode.InvalidParams, `invalid due time: ${String(request.due)}`);
    if (request.everyMs !== undefined && (!Number.isInteger(request.everyMs) || request.everyMs < MIN_EVERY_MS)) {
      throw new RpcError(ErrorCode.InvalidParams, `everyMs must be an integer of at least ${MIN_EVERY_MS}`);
    }
    if (request.key !== undefined && (request.key.length === 0 || request.key.length > 256)) {
      throw new RpcError(ErrorCode.InvalidParams, 'timer key must be 1 to 256 characters');
    }
    const timerId = randomUUID();
    const set: TimerSetPayload = {
      timerId,
      kind: kind.data,
      due: new Date(dueMs).toISOString(),
      payload: toJson(request.payload ?? null),
      ...(request.key === undefined ? {} : { key: request.key }),
      ...(request.everyMs === undefined ? {} : { everyMs: request.everyMs }),
    };
    const actor = request.actor ?? SYSTEM_ACTOR;
    const events: NewEvent[] = [];
    const previous = request.key === undefined ? undefined : this.projection.idForKey(request.key);
    if (previous !== undefined) {
      const cancelled: TimerCancelledPayload = { timerId: previous, reason: 'replaced', replacedBy: timerId };
      events.push({
        type: SchedulerEventType.TimerCancelled,
        actor,
        correlationId: request.correlationId,
        payload: cancelled,
      });
    }
    events.push({ type: SchedulerEventType.TimerSet, actor, correlationId: request.correlationId, payload: set });
    await this.store.append(events);
    return timerId;
  }

  /** Cancel by timer id or key. Resolves false when no such timer is pending. */
  async cancel(timerIdOrKey: string, actor: string = SYSTEM_ACTOR): Promise<boolean> {
    const timerId = this.resolveId(timerIdOrKey);
    if (timerId === undefined) return false;
    const payload: TimerCancelledPayload = { timerId, reason: 'cancelled' };
    await this.store.append([{ type: SchedulerEventType.TimerCancelled, actor, payload }]);
    return true;
  }

  /** Pending timers, soonest first (copies). */
  pending(filter: { kind?: string } = {}): PendingTimer[] {
    return this.projection
      .list()
      .filter((t) => filter.kind === undefined || t.kind === filter.kind)
      .map((t) => structuredClone(t));
  }

  get(timerIdOrKey: string): PendingTimer | undefined {
    const id = this.resolveId(timerIdOrKey);
    const t = id === undefined ? undefined : this.projection.get(id);
    return t && structuredClone(t);
  }

  /**
   * Arm every pending timer. Call after the store is open (the projection is rebuilt) and every
   * handler is registered. Overdue timers fire now, once, marked late; recurring ones continue one
   * period after now. Occurrences a crash interrupted run again.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe = this.store.onAppend((events) => {
      for (const e of events) {
        if (!e.type.startsWith('scheduler.')) continue;
        const id = (e.payload as { timerId?: unknown } | null)?.timerId;
        if (typeof id === 'string') this.sync(id);
      }
    });
    const now = this.clock.now();
    for (const t of this.projection.list()) {
      const overdue = Date.parse(t.due) <= now;
      if (t.firing && (t.everyMs === undefined || !overdue)) this.trigger(t.timerId, 'redeliver');
      else if (overdue) this.trigger(t.timerId, 'overdueAtStart');
      else this.sync(t.timerId);
    }
    this.armWatchdog();
  }

  /** Disarm every timer and wait for handlers already running. Safe to call twice. */
  async stop(): Promise<void> {
    this.started = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.watchdog?.cancel();
    this.watchdog = undefined;
    for (const h of this.armed.values()) h.cancel();
    this.armed.clear();
    await this.idle();
  }

  /** Resolves when no firing is in progress (tests advance a ManualClock, then await this). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  private resolveId(timerIdOrKey: string): string | undefined {
    if (this.projection.get(timerIdOrKey)) return timerIdOrKey;
    return this.projection.idForKey(timerIdOrKey);
  }

  /** Bring one timer's arming in line with the projection. */
  private sync(timerId: string): void {
    this.armed.get(timerId)?.cancel();
    this.armed.delete(timerId);
    if (!this.started || this.running.has(timerId)) return;
    const t = this.projection.get(timerId);
    if (!t) {
      this.backoffUntil.delete(timerId);
      return;
    }
    // A one-shot occurrence interrupted by a crash is redelivered by start(), not re-fired.
    if (t.firing && t.everyMs === undefined) return;
    const now = this.clock.now();
    const at = Math.max(Date.parse(t.due), this.backoffUntil.get(timerId) ?? 0);
    if (at <= now) {
      this.trigger(timerId, 'due');
      return;
    }
    this.armed.set(
      timerId,
      this.clock.setTimer(at - now, () => {
        this.armed.delete(timerId);
        this.trigger(timerId, 'due');
      }),
    );
  }

  private trigger(timerId: string, mode: FireMode): void {
    if (!this.started || this.running.has(timerId)) return;
    this.armed.get(timerId)?.cancel();
    this.armed.delete(timerId);
    const run = Promise.resolve()
      .then(() => this.fire(timerId, mode))
      .catch((e: unknown) => this.log('error', `scheduler: timer ${timerId} could not fire: ${errorMessage(e)}`))
      .finally(() => {
        this.running.delete(timerId);
        this.sync(timerId);
      });
    this.running.set(timerId, run);
  }

  private async fire(timerId: string, mode: FireMode): Promise<void> {
    const t = this.projection.get(timerId);
    if (!t) return;
    const now = this.clock.now();
    let due: string;
    let firedAt: string;
    let late: boolean;
    if (mode === 'redeliver') {
      if (!t.firing) return;
      ({ due, firedAt } = t.firing);
      late = true;
    } else {
      const dueMs = Date.parse(t.due);
      if (dueMs > now) return;
      due = t.due;
      firedAt = new Date(now).toISOString();
      late = mode === 'overdueAtStart' || now - dueMs > this.lateToleranceMs;
      const fired: TimerFiredPayload = { timerId, due, firedAt, late };
      if (t.everyMs !== undefined) fired.nextDue = new Date(nextOccurrence(dueMs, t.everyMs, now)).toISOString();
      try {
        await this.store.append([{ type: SchedulerEventType.TimerFired, actor: SYSTEM_ACTOR, payload: fired }]);
        this.backoffUntil.delete(timerId);
      } catch (e) {
        this.backoffUntil.set(timerId, now + this.appendRetryMs);
        this.log(
          'error',
          `scheduler: could not record firing of timer ${timerId} (${t.kind}); ` +
            `retrying in ${this.appendRetryMs} ms: ${errorMessage(e)}`,
        );
        return;
      }
      if (late) this.log('info', `scheduler: timer ${timerId} (${t.kind}) due ${due} fired late at ${firedAt}`);
    }

    const firing: TimerFiring = {
      timerId,
      kind: t.kind,
      payload: structuredClone(t.payload),
      ...(t.key === undefined ? {} : { key: t.key }),
      ...(t.everyMs === undefined ? {} : { everyMs: t.everyMs }),
      due,
      firedAt,
      late,
      redelivered: mode === 'redeliver',
      occurrenceId: `${timerId}@${due}`,
    };
    const handler = this.handlers.get(t.kind);
    let failure: string | undefined;
    try {
      if (!handler) throw new Error(`no handler registered for timer kind "${t.kind}"`);
      await handler(firing);
    } catch (e) {
      failure = errorMessage(e);
      this.log('error', `scheduler: timer ${timerId} (${t.kind}) handler failed: ${failure}`);
    }
    try {
      if (failure === undefined) {
        const done: TimerDonePayload = { timerId, due };
        await this.store.append([{ type: SchedulerEventType.TimerDone, actor: SYSTEM_ACTOR, payload: done }]);
      } else {
        const failed: TimerFailedPayload = { timerId, kind: t.kind, due, error: failure };
        await this.store.append([{ type: SchedulerEventType.TimerFailed, actor: SYSTEM_ACTOR, payload: failed }]);
      }
    } catch (e) {
      // The occurrence stays marked as firing: the next start delivers it again.
      this.log('error', `scheduler: could not record the end of timer ${timerId} (${t.kind}): ${errorMessage(e)}`);
    }
  }

  private armWatchdog(): void {
    this.watchdog = this.clock.setTimer(this.wallClockCheckMs, () => {
      if (!this.started) return;
      const now = this.clock.now();
      for (const t of this.projection.list()) {
        if (Date.parse(t.due) > now) break;
        if (!this.running.has(t.timerId)) this.sync(t.timerId);
      }
      this.armWatchdog();
    });
  }
}

/** The next due time after a firing: keep the grid when on time, else one period from now. */
export function nextOccurrence(dueMs: number, everyMs: number, nowMs: number): number {
  const next = dueMs + everyMs;
  return next > nowMs ? next : nowMs + everyMs;
}

function toEpochMs(due: Date | number | string): number {
  if (due instanceof Date) return due.getTime();
  return typeof due === 'number' ? due : Date.parse(due);
}

function toJson(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch (e) {
    throw new RpcError(ErrorCode.InvalidParams, `timer payload must be JSON: ${errorMessage(e)}`);
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
