import { describe, expect, it } from 'vitest';
import {
  BUCKET_COUNT,
  BUCKET_UPPER_BOUNDS,
  HistogramRing,
  MAX_RELATIVE_ERROR,
  bucketOf,
  goodAtThreshold,
  newDense,
  percentiles,
  type SparseHistogram,
} from '../../../../daemon/services/slo/latencyHistogram';

/** Sparse histogram of these durations. */
function hist(durations: number[]): SparseHistogram {
  const m = new Map<number, number>();
  for (const d of durations) m.set(bucketOf(d), (m.get(bucketOf(d)) ?? 0) + 1);
  return [...m].sort((a, b) => a[0] - b[0]);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('latency buckets', () => {
  it('are 32 per decade from 0.1 ms to 10^8 ms, rising, neighbours at most 12.5 % apart', () => {
    expect(BUCKET_COUNT).toBe(9 * 32 + 1);
    expect(BUCKET_UPPER_BOUNDS[0]).toBe(0.1);
    expect(BUCKET_UPPER_BOUNDS.at(-1)).toBe(1e8);
    for (let i = 1; i < BUCKET_COUNT; i++) {
      expect(BUCKET_UPPER_BOUNDS[i]!).toBeGreaterThan(BUCKET_UPPER_BOUNDS[i - 1]!);
      expect(BUCKET_UPPER_BOUNDS[i]! / BUCKET_UPPER_BOUNDS[i - 1]!).toBeLessThanOrEqual(1 + MAX_RELATIVE_ERROR + 1e-12);
    }
  });

  it('put a duration in the first bucket whose upper bound is ≥ it; common thresholds are exact bounds', () => {
    expect(BUCKET_UPPER_BOUNDS[bucketOf(0)]).toBe(0.1);
    expect(BUCKET_UPPER_BOUNDS[bucketOf(0.1)]).toBe(0.1);
    expect(BUCKET_UPPER_BOUNDS[bucketOf(0.105)]).toBe(0.11);
    expect(BUCKET_UPPER_BOUNDS[bucketOf(500)]).toBe(500);
    expect(BUCKET_UPPER_BOUNDS[bucketOf(500.01)]).toBe(550);
    expect(BUCKET_UPPER_BOUNDS[bucketOf(86_400_000)]).toBe(9e7);
    for (const t of [100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 2500, 5000]) expect(BUCKET_UPPER_BOUNDS).toContain(t);
  });
});

describe('percentiles', () => {
  it('are nearest-rank, reported as the bucket upper bound', () => {
    const d = newDense();
    for (const [b, c] of hist(range(1, 100))) d[b] = c;
    // Ranks 50, 95 and 99 hold 50, 95 and 99 ms; 50 and 95 are bounds, 99 lies in (95, 100].
    expect(percentiles(d)).toEqual({ p50: 50, p95: 95, p99: 100, samples: 100 });
  });

  it('of a skewed distribution: 990 fast requests and 10 slow ones', () => {
    const d = newDense();
    for (const [b, c] of hist([...Array<number>(990).fill(12), ...Array<number>(10).fill(2300)])) d[b] = c;
    // Rank 990 (p99) is the last fast one: 12 ms lies in (11, 12]. p95 too.
    expect(percentiles(d)).toEqual({ p50: 12, p95: 12, p99: 12, samples: 1000 });
    d[bucketOf(2300)]! += 1;
    // 1,001 samples: rank ⌈990.99⌉ = 991 is the first slow one, in (2250, 2500].
    expect(percentiles(d)).toMatchObject({ p99: 2500, samples: 1001 });
  });

  it('are null without samples', () => {
    expect(percentiles(newDense())).toEqual({ p50: null, p95: null, p99: null, samples: 0 });
  });
});

describe('goodAtThreshold', () => {
  it('counts buckets whose upper bound is ≤ the threshold: exact on a bound, conservative between bounds', () => {
    const h = hist([100, 260, 280, 300, 450]);
    expect(goodAtThreshold(h, 300)).toBe(4);
    // 290 is not a bound: 280 ms lies in (275, 300], whose bound 300 > 290, so it counts as bad.
    expect(goodAtThreshold(h, 290)).toBe(2);
    expect(goodAtThreshold(h, 50)).toBe(0);
    expect(goodAtThreshold(h, 1000)).toBe(5);
  });
});

describe('HistogramRing', () => {
  it('merges any range through hour sums and minutes alike', () => {
    const ring = new HistogramRing(3 * 1440);
    const base = 28_000_000; // a minute index on an hour boundary (divisible by 60)
    for (let m = 0; m < 180; m++) ring.add(base + m, hist([m % 7 === 0 ? 900 : 20]));
    const whole = newDense();
    ring.mergeInto(whole, base + 30, base + 149);
    const byMinute = newDense();
    for (let m = 30; m <= 149; m++) ring.mergeInto(byMinute, base + m, base + m);
    expect([...whole]).toEqual([...byMinute]);
    // Minutes 30..149: 120 samples, of which the multiples of 7 (35, 42, ..., 147) are slow: 17.
    expect(whole[bucketOf(900)]).toBe(17);
    expect(whole[bucketOf(20)]).toBe(103);
  });

  it('keeps every minute exact through arena compactions and slot reuse', () => {
    const ring = new HistogramRing(1000);
    // 3,000 minutes through a 1,000-minute ring, each written twice (the second merges): many compactions.
    for (let m = 0; m < 3000; m++) {
      ring.add(m, hist([m % 50, 1000]));
      ring.add(m, hist([m % 50]));
    }
    const entries = ring.entries();
    expect(entries.map((e) => e.minute)).toEqual(range(2000, 2999));
    for (const { minute, histogram } of entries) {
      expect(histogram).toEqual([
        [bucketOf(minute % 50), 2],
        [bucketOf(1000), 1],
      ]);
    }
    const all = newDense();
    ring.mergeInto(all, 0, 5000);
    expect(percentiles(all).samples).toBe(3000);
    expect(all[bucketOf(1000)]).toBe(1000);
  });

  it('drops minutes older than the ring and refuses late ones', () => {
    const ring = new HistogramRing(120);
    ring.add(600, hist([5]));
    ring.add(600, hist([5, 7]));
    expect(ring.entries()).toEqual([{ minute: 600, histogram: [[bucketOf(5), 2], [bucketOf(7), 1]] }]);
    ring.add(900, hist([8]));
    expect(ring.add(700, hist([1]))).toBe(false);
    expect(ring.entries().map((e) => e.minute)).toEqual([900]);
    const all = newDense();
    ring.mergeInto(all, 0, 1000);
    expect(percentiles(all).samples).toBe(1);
  });
});
