import { SEVERITIES, type Severity } from '../../protocol/incidents';

const DAY_MS = 86_400_000;

/** UTC day number of an epoch-ms time (days since 1970-01-01). */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);
export const dayStart = (day: number): number => day * DAY_MS;

/** What one incident added to an aggregate, kept so it can be taken back (a reopen). */
export interface Contribution {
  /** UTC day number the duration is counted on. */
  day: number;
  severity: Severity;
  services: string[];
  /** ms. */
  durationMs: number;
}

interface SumCount {
  sum: number;
  count: number;
}

interface Totals {
  overall: SumCount;
  bySeverity: Map<Severity, SumCount>;
  byService: Map<string, SumCount>;
}

export interface DurationStats {
  overall: { count: number; meanMs: number | null };
  bySeverity: Record<Severity, { count: number; meanMs: number | null }>;
  byService: Record<string, { count: number; meanMs: number | null }>;
}

const emptyTotals = (): Totals => ({ overall: { sum: 0, count: 0 }, bySeverity: new Map(), byService: new Map() });

function bump(map: Map<string, SumCount>, key: string, durationMs: number, sign: 1 | -1): void {
  const s = map.get(key) ?? { sum: 0, count: 0 };
  s.sum += sign * durationMs;
  s.count += sign;
  if (s.count === 0) map.delete(key);
  else map.set(key, s);
}

function addInto(t: Totals, c: Contribution, sign: 1 | -1): void {
  t.overall.sum += sign * c.durationMs;
  t.overall.count += sign;
  bump(t.bySeverity as Map<string, SumCount>, c.severity, c.durationMs, sign);
  for (const s of c.services) bump(t.byService, s, c.durationMs, sign);
}

function mergeInto(target: Totals, source: Totals): void {
  target.overall.sum += source.overall.sum;
  target.overall.count += source.overall.count;
  for (const [k, v] of source.bySeverity) {
    const s = target.bySeverity.get(k) ?? { sum: 0, count: 0 };
    target.bySeverity.set(k, { sum: s.sum + v.sum, count: s.count + v.count });
  }
  for (const [k, v] of source.byService) {
    const s = target.byService.get(k) ?? { sum: 0, count: 0 };
    target.byService.set(k, { sum: s.sum + v.sum, count: s.count + v.count });
  }
}

const stat = (s: SumCount | undefined) => (s && s.count > 0 ? { count: s.count, meanMs: s.sum / s.count } : { count: 0, meanMs: null });

/**
 * Sums and counts of a duration (time to acknowledge, time to resolve), kept all-time and per UTC
 * day, updated one incident at a time. A period query adds up the day buckets it covers, so its
 * cost grows with the days of history, not with the number of incidents.
 */
export class DurationAggregate {
  private readonly total = emptyTotals();
  private readonly days = new Map<number, Totals>();

  add(c: Contribution): void {
    this.apply(c, 1);
  }

  remove(c: Contribution): void {
    this.apply(c, -1);
  }

  /** Stats over the days in [fromDay, toDay) (either end open when undefined). */
  stats(fromDay?: number, toDay?: number): DurationStats {
    let t: Totals;
    if (fromDay === undefined && toDay === undefined) {
      t = this.total;
    } else {
      t = emptyTotals();
      for (const [day, bucket] of this.days) {
        if ((fromDay === undefined || day >= fromDay) && (toDay === undefined || day < toDay)) mergeInto(t, bucket);
      }
    }
    const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, stat(t.bySeverity.get(s))])) as DurationStats['bySeverity'];
    const byService = Object.fromEntries([...t.byService.keys()].sort().map((k) => [k, stat(t.byService.get(k))]));
    return { overall: stat(t.overall), bySeverity, byService };
  }

  clear(): void {
    this.total.overall = { sum: 0, count: 0 };
    this.total.bySeverity.clear();
    this.total.byService.clear();
    this.days.clear();
  }

  private apply(c: Contribution, sign: 1 | -1): void {
    addInto(this.total, c, sign);
    let bucket = this.days.get(c.day);
    if (!bucket) this.days.set(c.day, (bucket = emptyTotals()));
    addInto(bucket, c, sign);
    if (bucket.overall.count === 0) this.days.delete(c.day);
  }
}
