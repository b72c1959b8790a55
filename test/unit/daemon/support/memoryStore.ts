import { randomUUID } from 'node:crypto';
import type { Clock } from '../../../../daemon/services/shared/clock';
import { DEFAULT_STREAMS, DEFAULT_STREAM_NAME, matchesAnyTypePattern, matchesTypePattern } from '../../../../daemon/store';
import type {
  AppendResult,
  EventFilter,
  EventRecord,
  EventStore,
  LogStats,
  NewEvent,
  Projection,
  StreamConfig,
} from '../../../../daemon/store/types';

/**
 * An in-memory EventStore for fast unit tests of services. It keeps the `EventStore` contract that
 * services rely on (atomic batches, duplicate ids, projections applied before `append` resolves,
 * `onAppend` after projections, routing by the streams' type patterns, DEFAULT_STREAMS unless given)
 * but nothing is durable and retention does nothing.
 *
 * A `MemoryEventLog` outlives the stores opened on it, so a test can simulate a daemon restart:
 * `log.open(...)` again with fresh projections restores them from the last `snapshot()` and replays
 * the tail, the way the real store starts.
 */
export class MemoryEventLog {
  readonly records: EventRecord[] = [];
  /** Projection name → { seq it covers, state }. */
  readonly snapshots = new Map<string, { seq: number; state: unknown }>();
  /** When set, every append rejects with this error and writes nothing (a full disk). */
  failAppends: Error | undefined;

  open(options: { clock: Clock; projections?: Projection[]; streams?: StreamConfig[] }): MemoryStore {
    return new MemoryStore(this, options.clock, options.projections ?? [], options.streams);
  }

  get lastSeq(): number {
    return this.records.at(-1)?.seq ?? 0;
  }

  /** Stored events of these types, in order (test convenience). */
  ofType(...types: string[]): EventRecord[] {
    return this.records.filter((r) => types.includes(r.type));
  }
}

const PRIORITY_RANK = { low: 0, normal: 1, high: 2, critical: 3 } as const;

export class MemoryStore implements EventStore {
  private readonly listeners = new Set<(events: EventRecord[]) => void>();
  private closed = false;
  private readonly streamConfigs: StreamConfig[];

  constructor(
    private readonly log: MemoryEventLog,
    private readonly clock: Clock,
    private readonly projections: Projection[],
    streams?: StreamConfig[],
  ) {
    this.streamConfigs = streams ?? DEFAULT_STREAMS;
    for (const p of projections) {
      const snap = log.snapshots.get(p.name);
      p.reset();
      let from = 0;
      if (snap) {
        p.restore(structuredClone(snap.state));
        from = snap.seq;
      }
      for (const r of log.records) if (r.seq > from) p.apply(r);
    }
  }

  get lastSeq(): number {
    return this.log.lastSeq;
  }

  async append(events: NewEvent[]): Promise<AppendResult[]> {
    if (this.closed) throw new Error('store is closed');
    // The real store acknowledges after an fsync: yield once so callers cannot rely on synchrony.
    await Promise.resolve();
    if (this.log.failAppends) throw this.log.failAppends;
    const results: AppendResult[] = [];
    const fresh: EventRecord[] = [];
    const time = new Date(this.clock.now()).toISOString();
    for (const e of events) {
      const existing =
        e.id === undefined ? undefined : [...this.log.records, ...fresh].find((r) => r.id === e.id);
      if (existing) {
        results.push({ event: existing, duplicate: true });
        continue;
      }
      const record: EventRecord = {
        id: e.id ?? randomUUID(),
        seq: this.log.lastSeq + fresh.length + 1,
        type: e.type,
        stream: e.stream ?? this.routeStream(e.type),
        time,
        priority: e.priority ?? 'normal',
        actor: e.actor,
        source: e.source,
        correlationId: e.correlationId,
        causationId: e.causationId,
        schemaVersion: e.schemaVersion ?? 1,
        // A real store serialises payloads: nothing the caller mutates later may leak into the log.
        payload: structuredClone(e.payload),
        ...(e.origin ? { origin: { ...e.origin } } : {}),
      };
      fresh.push(record);
      results.push({ event: record, duplicate: false });
    }
    this.log.records.push(...fresh);
    for (const r of fresh) for (const p of this.projections) p.apply(r);
    if (fresh.length > 0) for (const l of [...this.listeners]) l(fresh);
    return results;
  }

  async query(
    filter: EventFilter,
    page: { limit: number; order: 'asc' | 'desc'; beforeSeq?: number },
  ): Promise<EventRecord[]> {
    let rows = this.log.records.filter((r) => matches(filter, r));
    if (page.beforeSeq !== undefined) rows = rows.filter((r) => r.seq < page.beforeSeq!);
    if (page.order === 'desc') rows = [...rows].reverse();
    return rows.slice(0, page.limit);
  }

  /** Called before each event `readFrom` yields, so tests can append in the middle of a catch-up. */
  onRead: ((seq: number) => Promise<void> | void) | undefined;

  /** Every stored event, in order (test convenience). */
  get events(): readonly EventRecord[] {
    return this.log.records;
  }

  async *readFrom(afterSeq: number): AsyncIterable<EventRecord> {
    // Like the real store: ends at the last seq current when the read started.
    const end = this.lastSeq;
    for (let i = 0; i < this.log.records.length; i++) {
      const r = this.log.records[i];
      if (r.seq <= afterSeq || r.seq > end) continue;
      await this.onRead?.(r.seq);
      yield r;
    }
  }

  stats(): LogStats {
    const byStream = new Map<string, { events: number; bytes: number; lastSeq: number; lastTime?: string }>();
    let bytes = 0;
    for (const r of this.log.records) {
      const size = Buffer.byteLength(JSON.stringify(r));
      bytes += size;
      const s = byStream.get(r.stream) ?? { events: 0, bytes: 0, lastSeq: 0 };
      s.events++;
      s.bytes += size;
      s.lastSeq = r.seq;
      s.lastTime = r.time;
      byStream.set(r.stream, s);
    }
    const snapshotSeq = Math.min(...[...this.log.snapshots.values()].map((s) => s.seq), this.lastSeq);
    return {
      bytes,
      events: this.log.records.length,
      segments: 1,
      lastSeq: this.lastSeq,
      snapshotSeq: this.log.snapshots.size === 0 ? 0 : snapshotSeq,
      streams: [...byStream].map(([name, s]) => ({ name, ...s })),
    };
  }

  streams(): StreamConfig[] {
    return this.streamConfigs;
  }

  onAppend(listener: (events: EventRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async snapshot(): Promise<void> {
    for (const p of this.projections) {
      this.log.snapshots.set(p.name, { seq: this.lastSeq, state: structuredClone(p.snapshot()) });
    }
  }

  async enforceRetention(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  private routeStream(type: string): string {
    const hit = this.streamConfigs.find((s) => matchesAnyTypePattern(s.typePatterns, type));
    return hit?.name ?? DEFAULT_STREAM_NAME;
  }
}

function matches(f: EventFilter, r: EventRecord): boolean {
  if (f.types && !f.types.some((p) => matchesTypePattern(p, r.type))) return false;
  if (f.stream !== undefined && r.stream !== f.stream) return false;
  if (f.streams && !f.streams.includes(r.stream)) return false;
  const t = Date.parse(r.time);
  if (f.fromTime !== undefined && t < f.fromTime) return false;
  if (f.toTime !== undefined && t >= f.toTime) return false;
  if (f.afterSeq !== undefined && r.seq <= f.afterSeq) return false;
  if (f.minPriority !== undefined && PRIORITY_RANK[r.priority] < PRIORITY_RANK[f.minPriority]) return false;
  return true;
}
