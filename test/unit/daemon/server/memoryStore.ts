import { randomUUID } from 'node:crypto';
import type { Clock } from '../../../../daemon/services/shared/clock';
import { DEFAULT_STREAMS, StreamRouter, matchesTypePattern } from '../../../../daemon/store/streams';
import type { AppendResult, EventFilter, EventRecord, EventStore, LogStats, NewEvent, Projection, StreamConfig } from '../../../../daemon/store/types';

const RANK = { low: 0, normal: 1, high: 2, critical: 3 } as const;

/**
 * An in-memory EventStore for unit tests of services and subscriptions: same contract (seq, duplicates
 * by id, projections applied before the append resolves, onAppend after), no disk. `readFrom` yields
 * between events so tests can interleave appends with a catch-up.
 */
export class MemoryStore implements EventStore {
  readonly events: EventRecord[] = [];
  private readonly listeners = new Set<(events: EventRecord[]) => void>();
  private readonly router = new StreamRouter(DEFAULT_STREAMS);
  /** Called before each event `readFrom` yields (tests append from here). */
  onRead: ((seq: number) => Promise<void> | void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly projections: Projection[] = [],
  ) {}

  get lastSeq(): number {
    return this.events.length === 0 ? 0 : this.events[this.events.length - 1].seq;
  }

  async append(batch: NewEvent[]): Promise<AppendResult[]> {
    await Promise.resolve();
    const results: AppendResult[] = [];
    const fresh: EventRecord[] = [];
    for (const e of batch) {
      const existing = e.id ? this.events.find((x) => x.id === e.id) : undefined;
      if (existing) {
        results.push({ event: existing, duplicate: true });
        continue;
      }
      const record: EventRecord = {
        id: e.id ?? randomUUID(),
        seq: this.lastSeq + 1,
        type: e.type,
        stream: this.router.resolve(e.type, e.stream).name,
        time: new Date(this.clock.now()).toISOString(),
        priority: e.priority ?? 'normal',
        actor: e.actor,
        ...(e.source ? { source: e.source } : {}),
        ...(e.correlationId ? { correlationId: e.correlationId } : {}),
        ...(e.causationId ? { causationId: e.causationId } : {}),
        schemaVersion: e.schemaVersion ?? 1,
        payload: e.payload,
      };
      this.events.push(record);
      fresh.push(record);
      results.push({ event: record, duplicate: false });
    }
    for (const r of fresh) this.projections.forEach((p) => p.apply(r));
    if (fresh.length > 0) this.listeners.forEach((l) => l(fresh));
    return results;
  }

  async query(filter: EventFilter, page: { limit: number; order: 'asc' | 'desc'; beforeSeq?: number }): Promise<EventRecord[]> {
    const rows = this.events.filter(
      (e) =>
        (!filter.types || filter.types.some((p) => matchesTypePattern(p, e.type))) &&
        (!filter.stream || e.stream === filter.stream) &&
        (!filter.streams || filter.streams.includes(e.stream)) &&
        (filter.fromTime === undefined || Date.parse(e.time) >= filter.fromTime) &&
        (filter.toTime === undefined || Date.parse(e.time) < filter.toTime) &&
        (filter.afterSeq === undefined || e.seq > filter.afterSeq) &&
        (page.beforeSeq === undefined || e.seq < page.beforeSeq) &&
        (!filter.minPriority || RANK[e.priority] >= RANK[filter.minPriority]),
    );
    if (page.order === 'desc') rows.reverse();
    return rows.slice(0, page.limit);
  }

  async *readFrom(afterSeq: number): AsyncIterable<EventRecord> {
    const end = this.lastSeq;
    for (const e of this.events) {
      if (e.seq <= afterSeq || e.seq > end) continue;
      await this.onRead?.(e.seq);
      yield e;
    }
  }

  stats(): LogStats {
    const streams = new Map<string, { name: string; events: number; bytes: number; lastSeq: number }>();
    for (const e of this.events) {
      const s = streams.get(e.stream) ?? { name: e.stream, events: 0, bytes: 0, lastSeq: 0 };
      s.events++;
      s.bytes += JSON.stringify(e).length;
      s.lastSeq = e.seq;
      streams.set(e.stream, s);
    }
    const bytes = [...streams.values()].reduce((n, s) => n + s.bytes, 0);
    return { bytes, events: this.events.length, segments: 1, lastSeq: this.lastSeq, snapshotSeq: 0, streams: [...streams.values()] };
  }

  streams(): StreamConfig[] {
    return [...this.router.configs];
  }

  onAppend(listener: (events: EventRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async snapshot(): Promise<void> {}

  async enforceRetention(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {}
}
