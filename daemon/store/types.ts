import type { EventEnvelope, Priority } from '../protocol';
import type { Clock } from '../services/shared/clock';

/** An event as stored in the log and handed to projections and subscribers. */
export type EventRecord = EventEnvelope;

/** What a command handler appends; the store assigns seq, time, stream (if absent) and id (if absent). */
export interface NewEvent {
  /** UUID; when an event with this id is already stored, the append is a no-op reported as duplicate. */
  id?: string;
  type: string;
  stream?: string;
  priority?: Priority;
  /** Token name that caused the event. */
  actor: string;
  source?: string;
  correlationId?: string;
  causationId?: string;
  schemaVersion?: number;
  payload: unknown;
  /** Team mode: where an imported event was first appended (kept on the stored envelope). */
  origin?: EventEnvelope['origin'];
}

export interface AppendResult {
  event: EventRecord;
  /** True when an event with the same id was already stored: nothing was written. */
  duplicate: boolean;
}

/**
 * A service's read model. `apply` is called once per event in seq order, synchronously, after the
 * event is durable and before the command that appended it is answered, so a query right after a
 * command sees its effect. `apply` must be deterministic and must not throw for events it does not
 * understand (ignore them). Snapshots are plain JSON.
 */
export interface Projection {
  readonly name: string;
  apply(event: EventRecord): void;
  snapshot(): unknown;
  restore(state: unknown): void;
  /** Back to the empty state (used before a rebuild from the log). */
  reset(): void;
}

/** Retention configuration of a stream. */
export interface StreamConfig {
  name: string;
  /** Days to keep; null = forever. Streams with equal retention share a retention class (segment files). */
  retentionDays: number | null;
  /** Event type patterns routed to this stream when `stream` is not given (first match wins). */
  typePatterns: string[];
}

export interface EventFilter {
  types?: string[];
  stream?: string;
  streams?: string[];
  /** Inclusive, epoch ms. */
  fromTime?: number;
  /** Exclusive, epoch ms. */
  toTime?: number;
  afterSeq?: number;
  minPriority?: Priority;
}

export interface LogStats {
  bytes: number;
  events: number;
  segments: number;
  lastSeq: number;
  snapshotSeq: number;
  streams: { name: string; events: number; bytes: number; lastSeq: number; lastTime?: string }[];
}

export interface StoreOptions {
  dataDir: string;
  clock: Clock;
  streams: StreamConfig[];
  /** Share one fdatasync among concurrent appends (default true). Off = one fdatasync per append call. */
  groupCommit?: boolean;
  /** fdatasync at all (default true). Off only for benchmarks. */
  fsync?: boolean;
  /** Take a projection snapshot every N appended events (default 10,000). */
  snapshotEvery?: number;
  /** Roll to a new segment file past this size (default 64 MiB) or age (default 1 day). */
  segmentMaxBytes?: number;
  segmentMaxAgeMs?: number;
  /** Where start-up and recovery messages go (never event payloads). */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/**
 * The event-sourced store: append-only log + projection snapshots. Create with `openStore` from
 * `daemon/store`; register projections before `open()` resolves (they are passed in the options of
 * `openStore`) so start-up can restore them from the snapshot and replay the tail.
 */
export interface EventStore {
  /**
   * Append events atomically (all or none) and resolve once they are durable. Projections have
   * applied them by the time the promise resolves. Events with an id already stored are reported
   * as duplicates and not written again.
   */
  append(events: NewEvent[]): Promise<AppendResult[]>;
  /** Events matching the filter, in seq order (or reverse), starting after/before a seq cursor. */
  query(filter: EventFilter, page: { limit: number; order: 'asc' | 'desc'; beforeSeq?: number }): Promise<EventRecord[]>;
  /** Stream every stored event with seq > afterSeq, in order (for catch-up and rebuilds). */
  readFrom(afterSeq: number): AsyncIterable<EventRecord>;
  readonly lastSeq: number;
  stats(): LogStats;
  streams(): StreamConfig[];
  /** Called synchronously after each durable append batch, after projections applied it. */
  onAppend(listener: (events: EventRecord[]) => void): () => void;
  /** Write a snapshot of every projection now. */
  snapshot(): Promise<void>;
  /** Drop segments whose retention has fully expired (also runs on a timer). Returns segments dropped. */
  enforceRetention(): Promise<number>;
  /** Finish in-flight appends, flush, close files. Safe to call twice. */
  close(): Promise<void>;
}
