import type { Priority } from '../protocol';
import type { EventRecord } from './types';

export const PRIORITY_RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, critical: 3 };
export const PRIORITY_BY_RANK: readonly Priority[] = ['low', 'normal', 'high', 'critical'];

/** Small string ↔ number table so the index stores types and streams as integers. */
export class Interner {
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    return id;
  }

  find(name: string): number | undefined {
    return this.ids.get(name);
  }
}

/** What the index keeps per event besides the (optional) event itself. */
export interface IndexEntry {
  seq: number;
  /** Epoch ms. */
  time: number;
  typeId: number;
  streamId: number;
  priority: number;
  segmentId: number;
  /** Byte offset of the frame in its segment. */
  offset: number;
  /** Frame bytes (header + body). */
  size: number;
  id: string;
}

/**
 * The in-memory index of every stored event, in seq order, as parallel typed columns: queries scan
 * integers, never JSON. The events themselves are kept only for the most recent `cacheSize`
 * entries; older ones are read from their segment with (segmentId, offset, size). Time is
 * non-decreasing in seq (the store clamps it), so both seq and time ranges are binary searches.
 */
export class EventIndex {
  length = 0;
  private cap: number;
  seq: Float64Array;
  time: Float64Array;
  typeId: Uint32Array;
  streamId: Uint32Array;
  priority: Uint8Array;
  segmentId: Uint32Array;
  offset: Float64Array;
  size: Uint32Array;
  ids: string[] = [];
  events: (EventRecord | undefined)[] = [];
  /** Positions below this hold no cached event. */
  private evictCursor = 0;
  /** Frame bytes of the events held in `events` (a proxy for their memory: parsed JSON is ~2–4× it). */
  cachedBytes = 0;

  constructor(initialCapacity = 1024) {
    this.cap = Math.max(16, initialCapacity);
    this.seq = new Float64Array(this.cap);
    this.time = new Float64Array(this.cap);
    this.typeId = new Uint32Array(this.cap);
    this.streamId = new Uint32Array(this.cap);
    this.priority = new Uint8Array(this.cap);
    this.segmentId = new Uint32Array(this.cap);
    this.offset = new Float64Array(this.cap);
    this.size = new Uint32Array(this.cap);
  }

  private grow(min: number): void {
    let cap = this.cap;
    while (cap < min) cap *= 2;
    if (cap === this.cap) return;
    const g = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(0, this.length));
      return b;
    };
    this.seq = g(this.seq, (n) => new Float64Array(n));
    this.time = g(this.time, (n) => new Float64Array(n));
    this.typeId = g(this.typeId, (n) => new Uint32Array(n));
    this.streamId = g(this.streamId, (n) => new Uint32Array(n));
    this.priority = g(this.priority, (n) => new Uint8Array(n));
    this.segmentId = g(this.segmentId, (n) => new Uint32Array(n));
    this.offset = g(this.offset, (n) => new Float64Array(n));
    this.size = g(this.size, (n) => new Uint32Array(n));
    this.cap = cap;
  }

  push(e: IndexEntry, event: EventRecord | undefined): void {
    if (this.length === this.cap) this.grow(this.length + 1);
    const i = this.length++;
    this.seq[i] = e.seq;
    this.time[i] = e.time;
    this.typeId[i] = e.typeId;
    this.streamId[i] = e.streamId;
    this.priority[i] = e.priority;
    this.segmentId[i] = e.segmentId;
    this.offset[i] = e.offset;
    this.size[i] = e.size;
    this.ids.push(e.id);
    this.events.push(event);
    if (event !== undefined) this.cachedBytes += e.size;
  }

  /** Put `older` (whose seqs are all below ours) in front of this index. */
  prepend(older: EventIndex): void {
    if (older.length === 0) return;
    const n = older.length + this.length;
    const cols = ['seq', 'time', 'typeId', 'streamId', 'priority', 'segmentId', 'offset', 'size'] as const;
    let cap = Math.max(this.cap, 16);
    while (cap < n) cap *= 2;
    for (const c of cols) {
      const a = this[c];
      const b = new (a.constructor as new (n: number) => typeof a)(cap);
      b.set(older[c].subarray(0, older.length), 0);
      b.set(a.subarray(0, this.length), older.length);
      (this as Record<(typeof cols)[number], typeof a>)[c] = b;
    }
    this.cap = cap;
    this.ids = older.ids.concat(this.ids);
    this.events = older.events.concat(this.events);
    this.length = n;
    this.evictCursor = 0;
    this.recountCachedBytes();
  }

  private recountCachedBytes(): void {
    let bytes = 0;
    for (let i = 0; i < this.length; i++) if (this.events[i] !== undefined) bytes += this.size[i]!;
    this.cachedBytes = bytes;
  }

  /**
   * Keep at most `cacheSize` events and `cacheBytes` frame bytes in memory, the newest (the newest
   * event always stays, however big). Amortised O(1) per append.
   */
  evict(cacheSize: number, cacheBytes = Number.POSITIVE_INFINITY): void {
    const limit = this.length - cacheSize;
    while (this.evictCursor < limit || (this.cachedBytes > cacheBytes && this.evictCursor < this.length - 1)) {
      const i = this.evictCursor++;
      if (this.events[i] !== undefined) {
        this.cachedBytes -= this.size[i]!;
        this.events[i] = undefined;
      }
    }
  }

  /** First position whose seq is greater than `seq`. */
  upperBoundSeq(seq: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seq[mid]! <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First position whose seq is at least `seq`. */
  lowerBoundSeq(seq: number): number {
    return this.upperBoundSeq(seq - 1);
  }

  /** First position whose time is at least `time` (epoch ms). */
  lowerBoundTime(time: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.time[mid]! < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  positionOf(seq: number): number {
    const p = this.lowerBoundSeq(seq);
    return p < this.length && this.seq[p] === seq ? p : -1;
  }

  /** Remove every entry of the given segments (retention). Returns the ids removed. */
  removeSegments(segmentIds: ReadonlySet<number>): string[] {
    const removed: string[] = [];
    let w = 0;
    let newEvict = 0;
    for (let r = 0; r < this.length; r++) {
      if (segmentIds.has(this.segmentId[r]!)) {
        removed.push(this.ids[r]!);
        continue;
      }
      if (r < this.evictCursor) newEvict++;
      if (w !== r) {
        this.seq[w] = this.seq[r]!;
        this.time[w] = this.time[r]!;
        this.typeId[w] = this.typeId[r]!;
        this.streamId[w] = this.streamId[r]!;
        this.priority[w] = this.priority[r]!;
        this.segmentId[w] = this.segmentId[r]!;
        this.offset[w] = this.offset[r]!;
        this.size[w] = this.size[r]!;
        this.ids[w] = this.ids[r]!;
        this.events[w] = this.events[r];
      }
      w++;
    }
    this.length = w;
    this.ids.length = w;
    this.events.length = w;
    this.evictCursor = newEvict;
    this.recountCachedBytes();
    return removed;
  }
}
