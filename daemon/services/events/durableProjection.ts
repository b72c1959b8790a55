import type { DlqEntry, DurableFilter } from '../../protocol';
import type { EventRecord, Projection } from '../../store/types';

/** The stored definition of a durable subscription. */
export interface DurableDefinition {
  name: string;
  filter: DurableFilter;
  /** ms */
  ackTimeoutMs: number;
  maxAttempts: number;
  backoff: { initialMs: number; maxMs: number; jitter: number };
  maxInFlight: number;
  createdAt: string;
  createdBy: string;
  /** Highest seq below which every matching event was acked or parked (persisted watermark). */
  checkpoint: number;
  /** Seq of the subscription's newest own event (created or checkpoint), which lies after its checkpoint. */
  checkpointEventSeq?: number;
}

/** Event types of durable subscriptions; all in `daemon_events`, all reserved for the daemon. */
export const SubscriptionEvents = {
  created: 'subscription.created',
  deleted: 'subscription.deleted',
  checkpoint: 'subscription.checkpoint',
  parked: 'subscription.parked',
  unparked: 'subscription.unparked',
  redelivered: 'subscription.redelivered',
  discarded: 'subscription.discarded',
  replayed: 'subscription.replayed',
} as const;

export const SUBSCRIPTION_STREAM = 'daemon_events';

interface State {
  subs: Record<string, DurableDefinition>;
  /** In the order entries were first parked; `parkSeq` is the seq of that first park event (the page cursor). */
  dlq: { entry: DlqEntry; parkSeq: number }[];
}

/** Read model of durable subscriptions (definitions and checkpoints) and of the dead-letter queue. */
export class DurableSubscriptionsProjection implements Projection {
  readonly name = 'durableSubscriptions';
  private subs = new Map<string, DurableDefinition>();
  private dlq = new Map<string, { entry: DlqEntry; parkSeq: number }>();

  apply(e: EventRecord): void {
    const p = e.payload as Record<string, unknown>;
    switch (e.type) {
      case SubscriptionEvents.created: {
        const def = p.definition as DurableDefinition;
        // Its own creation lies after its starting checkpoint, like a checkpoint event does.
        this.subs.set(def.name, { ...def, checkpointEventSeq: e.seq });
        break;
      }
      case SubscriptionEvents.deleted: {
        const name = p.name as string;
        this.subs.delete(name);
        for (const [id, { entry }] of this.dlq) if (entry.subscription === name) this.dlq.delete(id);
        break;
      }
      case SubscriptionEvents.checkpoint: {
        const sub = this.subs.get(p.name as string);
        if (sub) {
          sub.checkpoint = Math.max(sub.checkpoint, p.seq as number);
          sub.checkpointEventSeq = e.seq;
        }
        break;
      }
      case SubscriptionEvents.parked: {
        const entry = p.entry as DlqEntry;
        const prev = this.dlq.get(entry.id);
        // A retried entry that failed again is parked anew under the same id, its attempts added up.
        this.dlq.set(
          entry.id,
          prev
            ? { parkSeq: prev.parkSeq, entry: { ...prev.entry, status: 'parked', reason: entry.reason, attempts: prev.entry.attempts + entry.attempts, parkedAt: entry.parkedAt } }
            : { parkSeq: e.seq, entry: { ...entry, status: 'parked' } },
        );
        break;
      }
      case SubscriptionEvents.unparked:
        this.setStatus(p.ids as string[], 'retrying');
        break;
      case SubscriptionEvents.redelivered:
        this.setStatus([p.id as string], 'delivered');
        break;
      case SubscriptionEvents.discarded:
        for (const id of p.ids as string[]) this.dlq.delete(id);
        break;
      default:
        break;
    }
  }

  private setStatus(ids: readonly string[], status: DlqEntry['status']): void {
    for (const id of ids) {
      const row = this.dlq.get(id);
      if (row) row.entry.status = status;
    }
  }

  get(name: string): DurableDefinition | undefined {
    return this.subs.get(name);
  }

  list(): DurableDefinition[] {
    return [...this.subs.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  entry(id: string): DlqEntry | undefined {
    return this.dlq.get(id)?.entry;
  }

  /** DLQ entries in parking order, each with the seq of its first park (a stable page cursor). */
  entries(): { entry: DlqEntry; parkSeq: number }[] {
    return [...this.dlq.values()];
  }

  snapshot(): unknown {
    const state: State = { subs: Object.fromEntries(this.subs), dlq: [...this.dlq.values()] };
    return structuredClone(state);
  }

  restore(state: unknown): void {
    const s = structuredClone(state) as State;
    this.subs = new Map(Object.entries(s.subs ?? {}));
    this.dlq = new Map((s.dlq ?? []).map((row) => [row.entry.id, row]));
  }

  reset(): void {
    this.subs.clear();
    this.dlq.clear();
  }
}
