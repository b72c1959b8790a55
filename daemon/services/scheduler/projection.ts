import {
  PendingTimer,
  SchedulerEventType,
  TimerCancelledPayload,
  TimerDonePayload,
  TimerFailedPayload,
  TimerFiredPayload,
  TimerSetPayload,
} from '../../protocol';
import type { EventRecord, Projection } from '../../store/types';

/**
 * Pending timers, built from `scheduler.*` events. Everything `apply` needs is in the events
 * (including a recurring timer's next due time), so a rebuild from the log gives the same state
 * whatever the clock says now.
 */
export class SchedulerProjection implements Projection {
  readonly name = 'scheduler';
  private timers = new Map<string, PendingTimer>();
  private byKey = new Map<string, string>();

  apply(event: EventRecord): void {
    switch (event.type) {
      case SchedulerEventType.TimerSet: {
        const p = TimerSetPayload.safeParse(event.payload);
        if (!p.success) return;
        const { timerId, kind, due, payload, key, everyMs } = p.data;
        // Two schedules with one key racing each other: the later event wins, as if it replaced the other.
        if (key !== undefined) {
          const previous = this.byKey.get(key);
          if (previous !== undefined && previous !== timerId) this.remove(previous);
          this.byKey.set(key, timerId);
        }
        this.timers.set(timerId, { timerId, kind, due, payload, key, everyMs, setAt: event.time });
        return;
      }
      case SchedulerEventType.TimerFired: {
        const p = TimerFiredPayload.safeParse(event.payload);
        if (!p.success) return;
        const t = this.timers.get(p.data.timerId);
        if (!t) return;
        t.firing = { due: p.data.due, firedAt: p.data.firedAt };
        if (t.everyMs !== undefined && p.data.nextDue !== undefined) t.due = p.data.nextDue;
        return;
      }
      case SchedulerEventType.TimerDone:
      case SchedulerEventType.TimerFailed: {
        const p = (event.type === SchedulerEventType.TimerDone ? TimerDonePayload : TimerFailedPayload).safeParse(
          event.payload,
        );
        if (!p.success) return;
        const t = this.timers.get(p.data.timerId);
        if (!t || t.firing?.due !== p.data.due) return;
        if (t.everyMs === undefined) this.remove(t.timerId);
        else delete t.firing;
        return;
      }
      case SchedulerEventType.TimerCancelled: {
        const p = TimerCancelledPayload.safeParse(event.payload);
        if (p.success) this.remove(p.data.timerId);
        return;
      }
      default:
        return;
    }
  }

  get(timerId: string): PendingTimer | undefined {
    return this.timers.get(timerId);
  }

  idForKey(key: string): string | undefined {
    return this.byKey.get(key);
  }

  /** Soonest first; ties by id so the order is stable. */
  list(): PendingTimer[] {
    return [...this.timers.values()].sort(
      (a, b) => Date.parse(a.due) - Date.parse(b.due) || (a.timerId < b.timerId ? -1 : 1),
    );
  }

  get size(): number {
    return this.timers.size;
  }

  snapshot(): unknown {
    return { timers: [...this.timers.values()] };
  }

  restore(state: unknown): void {
    this.reset();
    const timers = (state as { timers?: unknown } | null)?.timers;
    if (!Array.isArray(timers)) return;
    for (const raw of timers) {
      const t = PendingTimer.safeParse(raw);
      if (!t.success) continue;
      this.timers.set(t.data.timerId, t.data);
      if (t.data.key !== undefined) this.byKey.set(t.data.key, t.data.timerId);
    }
  }

  reset(): void {
    this.timers = new Map();
    this.byKey = new Map();
  }

  private remove(timerId: string): void {
    const t = this.timers.get(timerId);
    if (!t) return;
    this.timers.delete(timerId);
    if (t.key !== undefined && this.byKey.get(t.key) === timerId) this.byKey.delete(t.key);
  }
}
