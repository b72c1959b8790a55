/**
 * Fixed latency buckets, log-linear like HDR histograms: each decade from 0.1 ms to 10^8 ms is cut
 * at the mantissas below (32 buckets per decade, neighbours at most 12.5 % apart), so every latency
 * histogram of every SLO and minute has the same buckets and merging is adding counts. The mantissas
 * make the thresholds people choose (100, 150, 200, 250, 300, 500, 750, 1000, 2500 ms...) exact
 * bucket bounds.
 */
const MANTISSAS = [
  1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.25, 4.5, 4.75, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5, 9,
  9.5,
] as const;

/** Upper bound (inclusive) of each bucket, ms; bucket 0 holds 0..0.1 ms. */
export const BUCKET_UPPER_BOUNDS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let exponent = -1; exponent <= 7; exponent++) {
    // toPrecision gives the double nearest the decimal, the same number a user types as a threshold.
    for (const m of MANTISSAS) bounds.push(Number((m * 10 ** exponent).toPrecision(6)));
  }
  bounds.push(1e8);
  return bounds;
})();

export const BUCKET_COUNT = BUCKET_UPPER_BOUNDS.length;

/** Smallest arena of a HistogramRing, pairs. */
const ARENA_MIN = 1024;

/** Largest ratio between neighbouring bounds: a percentile is reported at most this much (12.5 %) above the true value. */
export const MAX_RELATIVE_ERROR = 0.125;

/** Bucket of a duration: the first whose upper bound is ≥ the duration (durations beyond the last bound go to the last). */
export function bucketOf(durationMs: number): number {
  let lo = 0;
  let hi = BUCKET_COUNT - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (BUCKET_UPPER_BOUNDS[mid]! >= durationMs) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Sparse histogram: [bucket, count] pairs, buckets ascending. */
export type SparseHistogram = [number, number][];

/** Dense counts over all buckets. */
export type DenseHistogram = Float64Array;

export const newDense = (): DenseHistogram => new Float64Array(BUCKET_COUNT);

export function addSparse(into: DenseHistogram, sparse: SparseHistogram, sign = 1): void {
  for (const [bucket, count] of sparse) into[bucket]! += sign * count;
}

export function toSparse(dense: DenseHistogram): SparseHistogram {
  const out: SparseHistogram = [];
  for (let b = 0; b < dense.length; b++) if (dense[b] !== 0) out.push([b, dense[b]!]);
  return out;
}

export function countOf(sparse: SparseHistogram): number {
  let n = 0;
  for (const [, count] of sparse) n += count;
  return n;
}

/**
 * Samples a latency SLO with this threshold counts as good: those in buckets whose upper bound is ≤
 * the threshold. Exact when the threshold is a bucket bound; otherwise samples between the bound
 * below the threshold and the threshold (at most 12.5 % below it) count as bad.
 */
export function goodAtThreshold(sparse: SparseHistogram, thresholdMs: number): number {
  let good = 0;
  for (const [bucket, count] of sparse) if (BUCKET_UPPER_BOUNDS[bucket]! <= thresholdMs) good += count;
  return good;
}

/** Percentiles of a distribution, ms (the upper bound of the bucket holding the nearest-rank sample). */
export interface LatencyPercentiles {
  /** Null with no samples. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Samples in the distribution. */
  samples: number;
}

/** Nearest-rank percentiles: the q-quantile is the sample of rank ⌈q × n⌉, reported as its bucket's upper bound. */
export function percentiles(dense: DenseHistogram): LatencyPercentiles {
  let n = 0;
  for (let b = 0; b < dense.length; b++) n += dense[b]!;
  if (n === 0) return { p50: null, p95: null, p99: null, samples: 0 };
  const quantiles = [0.5, 0.95, 0.99];
  const ranks = quantiles.map((q) => Math.max(1, Math.ceil(Math.round(q * n * 1e9) / 1e9)));
  const values: number[] = [];
  let seen = 0;
  let next = 0;
  for (let b = 0; b < dense.length && next < ranks.length; b++) {
    seen += dense[b]!;
    while (next < ranks.length && seen >= ranks[next]!) {
      values.push(BUCKET_UPPER_BOUNDS[b]!);
      next++;
    }
  }
  return { p50: values[0]!, p95: values[1]!, p99: values[2]!, samples: n };
}

/**
 * Per-minute sparse histograms over the same ring of minutes as the counters, with a dense sum per
 * hour so a range of days merges hours, not minutes. The minutes' [bucket, count] runs live in one
 * typed-array arena (10 bytes a pair, compacted when full) rather than an object per minute: a
 * month of busy minutes costs megabytes, not tens of them. Hour sums leave by whole hours once the
 * hour is older than the ring's tail.
 */
export class HistogramRing {
  /** Per slot (minute mod capacity): where its run starts in the arena and how many pairs it has. */
  private readonly start: Int32Array;
  private readonly length: Uint16Array;
  private buckets = new Uint16Array(ARENA_MIN);
  private counts = new Float64Array(ARENA_MIN);
  /** Arena entries written, and how many of them belong to runs since replaced or cleared. */
  private used = 0;
  private garbage = 0;
  private readonly hours = new Map<number, DenseHistogram>();
  private head = -Infinity;
  private evictedBelowHour = -Infinity;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`capacity must be a positive integer, got ${capacity}`);
    this.start = new Int32Array(capacity);
    this.length = new Uint16Array(capacity);
  }

  get tailMinute(): number {
    return this.head - this.capacity + 1;
  }

  /** Add a minute's histogram; false (nothing changed) when the minute is older than the ring holds. */
  add(minute: number, sparse: SparseHistogram): boolean {
    if (minute > this.head) this.advanceTo(minute);
    if (minute < this.tailMinute) return false;
    const slot = this.slot(minute);
    let pairs = sparse;
    if (this.length[slot]! > 0) {
      const merged = newDense();
      this.addSlot(merged, slot);
      addSparse(merged, sparse);
      pairs = toSparse(merged);
      this.garbage += this.length[slot]!;
    }
    this.write(slot, pairs);
    const hour = Math.floor(minute / 60);
    let h = this.hours.get(hour);
    if (!h) this.hours.set(hour, (h = newDense()));
    addSparse(h, sparse);
    return true;
  }

  /** Add minutes from..to (inclusive) into `into`; minutes outside the ring count as empty. */
  mergeInto(into: DenseHistogram, from: number, to: number): void {
    const lo = Math.max(from, this.tailMinute);
    const hi = Math.min(to, this.head);
    let m = lo;
    while (m <= hi) {
      if (m % 60 === 0 && m + 59 <= hi) {
        const h = this.hours.get(m / 60);
        if (h) for (let b = 0; b < h.length; b++) into[b]! += h[b]!;
        m += 60;
      } else {
        this.addSlot(into, this.slot(m));
        m++;
      }
    }
  }

  /** Non-empty minutes, oldest first. */
  entries(): { minute: number; histogram: SparseHistogram }[] {
    const out: { minute: number; histogram: SparseHistogram }[] = [];
    if (this.head === -Infinity) return out;
    for (let m = this.tailMinute; m <= this.head; m++) {
      const slot = this.slot(m);
      const n = this.length[slot]!;
      if (n === 0) continue;
      const at = this.start[slot]!;
      const histogram: SparseHistogram = [];
      for (let i = at; i < at + n; i++) histogram.push([this.buckets[i]!, this.counts[i]!]);
      out.push({ minute: m, histogram });
    }
    return out;
  }

  private slot(minute: number): number {
    return ((minute % this.capacity) + this.capacity) % this.capacity;
  }

  private addSlot(into: DenseHistogram, slot: number): void {
    const at = this.start[slot]!;
    const end = at + this.length[slot]!;
    for (let i = at; i < end; i++) into[this.buckets[i]!]! += this.counts[i]!;
  }

  private write(slot: number, pairs: SparseHistogram): void {
    if (this.used + pairs.length > this.buckets.length) this.compact(pairs.length);
    const at = this.used;
    for (let i = 0; i < pairs.length; i++) {
      this.buckets[at + i] = pairs[i]![0];
      this.counts[at + i] = pairs[i]![1];
    }
    this.start[slot] = at;
    this.length[slot] = pairs.length;
    this.used += pairs.length;
  }

  /** Copy the live runs into a fresh arena with room for `extra` more (and half again, so compactions stay rare). */
  private compact(extra: number): void {
    const live = this.used - this.garbage;
    const size = Math.max(ARENA_MIN, Math.ceil((live + extra) * 1.5));
    const buckets = new Uint16Array(size);
    const counts = new Float64Array(size);
    let at = 0;
    for (let slot = 0; slot < this.capacity; slot++) {
      const n = this.length[slot]!;
      if (n === 0) continue;
      const from = this.start[slot]!;
      buckets.set(this.buckets.subarray(from, from + n), at);
      counts.set(this.counts.subarray(from, from + n), at);
      this.start[slot] = at;
      at += n;
    }
    this.buckets = buckets;
    this.counts = counts;
    this.used = at;
    this.garbage = 0;
  }

  /** Move the head forward, clearing the slots of minutes that fall out of the ring. */
  private advanceTo(minute: number): void {
    if (this.head === -Infinity || minute - this.head >= this.capacity) {
      this.length.fill(0);
      this.garbage = this.used;
    } else {
      for (let m = this.head + 1; m <= minute; m++) {
        const slot = this.slot(m);
        this.garbage += this.length[slot]!;
        this.length[slot] = 0;
      }
    }
    this.head = minute;
    const tailHour = Math.floor(this.tailMinute / 60);
    // Whole hours leave together; partly expired hours are merged minute by minute (see mergeInto).
    if (tailHour <= this.evictedBelowHour) return;
    this.evictedBelowHour = tailHour;
    for (const hour of this.hours.keys()) if (hour < tailHour) this.hours.delete(hour);
  }
}
