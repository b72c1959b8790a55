import {
  AlertFiredPayload,
  AlertResolvedPayload,
  BatchRecordedPayload,
  BudgetNoticedPayload,
  BudgetRearmedPayload,
  SamplesAggregatedPayload,
  SloCreatedPayload,
  SloDeletedPayload,
  SloEventType,
  SloUpdatedPayload,
  UsageAggregatedPayload,
  UsageRowPayload,
  type SloAlert,
  isoTimeMs,
  type SloDefinition,
} from '../../protocol/slo';
import type { EventRecord, Projection } from '../../store/types';
import { HistogramRing, countOf, goodAtThreshold, type SparseHistogram } from './latencyHistogram';
import { MinuteCounters } from './minuteCounters';
import { RouteUsageTable, type UsageSnapshotRow } from './routeUsage';
import { minuteOf } from './sloMath';

/** Counters hold the window plus this many days, so late samples and series just past the window still land. */
export const RETAINED_EXTRA_DAYS = 3;
type AggregateRowPayload = { sloId: string; minute: string; good: number; total: number; latency?: SparseHistogram | undefined; histogram?: number[] | undefined };

const isCount = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** What `SamplesAggregatedPayload` accepts, for the payloads this feature writes (anything else goes to zod). */
function isAggregateRow(x: unknown): x is AggregateRowPayload {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  if (typeof r.sloId !== 'string' || typeof r.minute !== 'string' || Number.isNaN(isoTimeMs(r.minute)) || !isCount(r.good, 0) || !isCount(r.total, 1)) return false;
  if (r.histogram !== undefined) {
    if (!Array.isArray(r.histogram) || r.histogram.length % 2 !== 0) return false;
    for (let i = 0; i < r.histogram.length; i++) if (!isCount(r.histogram[i], 0)) return false;
  }
  if (r.latency === undefined) return true;
  if (!Array.isArray(r.latency)) return false;
  for (const pair of r.latency as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || !isCount(pair[0], 0) || !isCount(pair[1], 1)) return false;
  }
  return true;
}

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** What `UsageRowPayload` accepts, for the rows this feature writes (anything else goes to zod). */
function isUsageRow(x: unknown): x is UsageRowPayload {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return (
    typeof r.day === 'string' &&
    r.day.length === 10 &&
    !Number.isNaN(isoTimeMs(`${r.day}T00:00:00.000Z`)) &&
    isName(r.service) &&
    isName(r.method) &&
    isName(r.route) &&
    (r.client === null || isName(r.client)) &&
    isCount(r.requests, 1) &&
    typeof r.lastSeen === 'string' &&
    !Number.isNaN(isoTimeMs(r.lastSeen))
  );
}

/** A flat [bucket, count, bucket, count...] histogram as pairs, zero counts dropped. */
function pairsOf(flat: number[]): SparseHistogram {
  const out: SparseHistogram = [];
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i + 1]! > 0) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** Resolved alerts kept for `slo/alerts`. */
const MAX_RESOLVED = 200;

const capacityOf = (windowDays: number): number => (windowDays + RETAINED_EXTRA_DAYS) * 1440;

interface Snapshot {
  seeded: boolean;
  slos: SloDefinition[];
  /** sloId → [minute, good, total][]. */
  counters: Record<string, [number, number, number][]>;
  active: SloAlert[];
  resolved: SloAlert[];
  /** sloId → [minute, sparse histogram][]. */
  histograms?: Record<string, [number, SparseHistogram][]>;
  /** sloId → minute index of its newest sample. */
  lastSample?: Record<string, number>;
  /** sloId → budget-notice thresholds already sent in this window. */
  noticed?: Record<string, number[]>;
  /** Route usage rows (absent in snapshots older than route usage). */
  usage?: UsageSnapshotRow[];
}

/** SLO definitions, their per-minute counters and their alerts, from the `slo.*` events. */
export class SloProjection implements Projection {
  readonly name = 'slo';
  private readonly slos = new Map<string, SloDefinition>();
  /** `all()`'s answer until the next change. */
  private sorted: SloDefinition[] | undefined;
  private readonly aliases = new Map<string, string>();
  private readonly counters = new Map<string, MinuteCounters>();
  private readonly histograms = new Map<string, HistogramRing>();
  private readonly lastSample = new Map<string, number>();
  private readonly noticed = new Map<string, Set<number>>();
  private readonly active = new Map<string, SloAlert>();
  private resolved: SloAlert[] = [];
  private seeded = false;
  /** Requests per service, method, route, client and day, from every sample (SLO or not). */
  readonly usage = new RouteUsageTable();

  apply(event: EventRecord): void {
    switch (event.type) {
      case SloEventType.Created: {
        const p = SloCreatedPayload.safeParse(event.payload);
        if (!p.success) return;
        if (p.data.seeded) this.seeded = true;
        this.put(p.data.slo, true);
        return;
      }
      case SloEventType.Updated: {
        const p = SloUpdatedPayload.safeParse(event.payload);
        if (!p.success || !this.slos.has(p.data.slo.id)) return;
        this.put(p.data.slo, p.data.resetCounters && !p.data.recomputeFromHistograms);
        if (p.data.recomputeFromHistograms) this.recompute(p.data.slo);
        return;
      }
      case SloEventType.Deleted: {
        const p = SloDeletedPayload.safeParse(event.payload);
        if (p.success) this.remove(p.data.id);
        return;
      }
      case SloEventType.SamplesAggregated: {
        // The hand check: these events come by the thousand, zod would be most of their cost.
        if (isAggregateRow(event.payload)) this.addRow(event.payload);
        else if (SamplesAggregatedPayload.safeParse(event.payload).success) this.addRow(event.payload as AggregateRowPayload);
        return;
      }
      case SloEventType.BatchRecorded: {
        const p = event.payload as { rows?: unknown; usage?: unknown };
        if (Array.isArray(p?.rows) && p.rows.every(isAggregateRow)) {
          for (const row of p.rows) this.addRow(row);
          if (p.usage !== undefined) this.addUsage(p.usage);
        } else {
          const parsed = BatchRecordedPayload.safeParse(event.payload);
          if (parsed.success) for (const row of parsed.data.rows) this.addRow(row);
          if (parsed.success && parsed.data.usage) this.addUsage(parsed.data.usage);
        }
        return;
      }
      case SloEventType.UsageAggregated: {
        const rows = (event.payload as { rows?: unknown } | null)?.rows;
        if (Array.isArray(rows) && rows.length > 0 && rows.every(isUsageRow)) for (const row of rows) this.usage.add(row);
        else {
          const p = UsageAggregatedPayload.safeParse(event.payload);
          if (p.success) for (const row of p.data.rows) this.usage.add(row);
        }
        return;
      }
      case SloEventType.AlertFired: {
        const p = AlertFiredPayload.safeParse(event.payload);
        if (p.success && this.slos.has(p.data.sloId)) this.active.set(p.data.alertId, p.data);
        return;
      }
      case SloEventType.AlertResolved: {
        const p = AlertResolvedPayload.safeParse(event.payload);
        const alert = p.success ? this.active.get(p.data.alertId) : undefined;
        if (!p.success || !alert) return;
        this.active.delete(p.data.alertId);
        this.resolved.unshift({ ...alert, resolvedAt: p.data.resolvedAt });
        if (this.resolved.length > MAX_RESOLVED) this.resolved.length = MAX_RESOLVED;
        return;
      }
      case SloEventType.BudgetNoticed: {
        const p = BudgetNoticedPayload.safeParse(event.payload);
        if (p.success && this.slos.has(p.data.sloId)) this.noticedOf(p.data.sloId).add(p.data.threshold);
        return;
      }
      case SloEventType.BudgetRearmed: {
        const p = BudgetRearmedPayload.safeParse(event.payload);
        if (p.success) this.noticed.get(p.data.sloId)?.delete(p.data.threshold);
        return;
      }
    }
  }

  histogramsOf(id: string): HistogramRing | undefined {
    return this.histograms.get(id);
  }

  /** Minute index of the SLO's newest sample; undefined when none came. */
  lastSampleMinute(id: string): number | undefined {
    return this.lastSample.get(id);
  }

  /** Budget-notice thresholds already sent for the SLO in the current window. */
  noticedThresholds(id: string): ReadonlySet<number> {
    return this.noticed.get(id) ?? new Set();
  }

  /** True once the default SLOs were seeded (even if they were deleted since). */
  get hasSeeded(): boolean {
    return this.seeded;
  }

  get size(): number {
    return this.slos.size;
  }

  /** By id or alias. */
  resolve(idOrAlias: string): SloDefinition | undefined {
    return this.slos.get(idOrAlias) ?? this.slos.get(this.aliases.get(idOrAlias) ?? '');
  }

  /** True when the name is taken as an id or alias. */
  isTaken(name: string): boolean {
    return this.slos.has(name) || this.aliases.has(name);
  }

  all(): SloDefinition[] {
    // Sorted once per change: every recorded batch asks.
    this.sorted ??= [...this.slos.values()].sort((a, b) => a.id.localeCompare(b.id));
    return [...this.sorted];
  }

  countersOf(id: string): MinuteCounters | undefined {
    return this.counters.get(id);
  }

  activeAlert(alertId: string): SloAlert | undefined {
    return this.active.get(alertId);
  }

  activeAlerts(sloId?: string): SloAlert[] {
    return [...this.active.values()].filter((a) => sloId === undefined || a.sloId === sloId).sort((a, b) => b.firedAt.localeCompare(a.firedAt));
  }

  resolvedAlerts(sloId?: string): SloAlert[] {
    return this.resolved.filter((a) => sloId === undefined || a.sloId === sloId);
  }

  snapshot(): Snapshot {
    const counters: Snapshot['counters'] = {};
    for (const [id, c] of this.counters) counters[id] = c.entries().map((e) => [e.minute, e.good, e.total]);
    const histograms: NonNullable<Snapshot['histograms']> = {};
    for (const [id, h] of this.histograms) histograms[id] = h.entries().map((e) => [e.minute, e.histogram]);
    return {
      seeded: this.seeded,
      slos: this.all(),
      counters,
      active: [...this.active.values()],
      resolved: this.resolved,
      histograms,
      lastSample: Object.fromEntries(this.lastSample),
      noticed: Object.fromEntries([...this.noticed].map(([id, set]) => [id, [...set]])),
      usage: this.usage.snapshot(),
    };
  }

  restore(state: unknown): void {
    this.reset();
    const s = state as Partial<Snapshot> | null;
    if (!s || typeof s !== 'object') return;
    this.seeded = s.seeded === true;
    for (const slo of s.slos ?? []) this.put(slo, true);
    for (const [id, rows] of Object.entries(s.counters ?? {})) {
      const c = this.counters.get(id);
      if (c) for (const [minute, good, total] of rows) c.add(minute, good, total);
    }
    for (const [id, rows] of Object.entries(s.histograms ?? {})) {
      const h = this.histograms.get(id);
      if (h) for (const [minute, histogram] of rows) h.add(minute, histogram);
    }
    for (const [id, minute] of Object.entries(s.lastSample ?? {})) if (this.slos.has(id)) this.lastSample.set(id, minute);
    for (const [id, thresholds] of Object.entries(s.noticed ?? {})) if (this.slos.has(id)) this.noticed.set(id, new Set(thresholds));
    // Snapshots written before alert kinds existed hold burn-rate alerts only.
    for (const a of s.active ?? []) this.active.set(a.alertId, { ...a, kind: a.kind ?? 'burnRate' });
    this.resolved = (s.resolved ?? []).map((a) => ({ ...a, kind: a.kind ?? 'burnRate' }));
    this.usage.restore(s.usage ?? []);
  }

  reset(): void {
    this.slos.clear();
    this.sorted = undefined;
    this.aliases.clear();
    this.counters.clear();
    this.histograms.clear();
    this.lastSample.clear();
    this.noticed.clear();
    this.active.clear();
    this.resolved = [];
    this.seeded = false;
    this.usage.clear();
  }

  private put(slo: SloDefinition, resetCounters: boolean): void {
    const previous = this.slos.get(slo.id);
    for (const alias of previous?.aliases ?? []) this.aliases.delete(alias);
    this.slos.set(slo.id, slo);
    this.sorted = undefined;
    for (const alias of slo.aliases) this.aliases.set(alias, slo.id);
    const old = this.counters.get(slo.id);
    if (resetCounters || !old) {
      this.counters.set(slo.id, new MinuteCounters(capacityOf(slo.windowDays)));
      this.histograms.set(slo.id, new HistogramRing(capacityOf(slo.windowDays)));
    } else if (old.capacity !== capacityOf(slo.windowDays)) {
      const resized = new MinuteCounters(capacityOf(slo.windowDays));
      for (const e of old.entries()) resized.add(e.minute, e.good, e.total);
      this.counters.set(slo.id, resized);
      const hist = new HistogramRing(capacityOf(slo.windowDays));
      for (const e of this.histograms.get(slo.id)?.entries() ?? []) hist.add(e.minute, e.histogram);
      this.histograms.set(slo.id, hist);
    }
  }

  /**
   * Rebuild a latency SLO's counters from its histograms: per minute, total = the histogram's
   * samples and good = those in buckets whose upper bound is ≤ the threshold. Minutes recorded
   * before histograms existed have none and drop out.
   */
  private recompute(slo: SloDefinition): void {
    if (slo.sli.kind !== 'latency') return;
    const counters = new MinuteCounters(capacityOf(slo.windowDays));
    for (const { minute, histogram } of this.histograms.get(slo.id)?.entries() ?? []) {
      counters.add(minute, goodAtThreshold(histogram, slo.sli.thresholdMs), countOf(histogram));
    }
    this.counters.set(slo.id, counters);
  }

  private addRow(row: AggregateRowPayload): void {
    if (!this.slos.has(row.sloId)) return;
    const minute = minuteOf(isoTimeMs(row.minute));
    this.counters.get(row.sloId)?.add(minute, row.good, row.total);
    if (row.histogram) this.histograms.get(row.sloId)?.add(minute, pairsOf(row.histogram));
    else if (row.latency) this.histograms.get(row.sloId)?.add(minute, row.latency);
    this.lastSample.set(row.sloId, Math.max(minute, this.lastSample.get(row.sloId) ?? -Infinity));
  }

  /** A batch's usage rows, all or none (as the rest of the event). */
  private addUsage(rows: unknown): void {
    if (Array.isArray(rows) && rows.every(isUsageRow)) {
      for (const row of rows) this.usage.add(row);
      return;
    }
    const parsed = UsageRowPayload.array().safeParse(rows);
    if (parsed.success) for (const row of parsed.data) this.usage.add(row);
  }

  private noticedOf(id: string): Set<number> {
    let set = this.noticed.get(id);
    if (!set) this.noticed.set(id, (set = new Set()));
    return set;
  }

  private remove(id: string): void {
    const slo = this.slos.get(id);
    if (!slo) return;
    for (const alias of slo.aliases) this.aliases.delete(alias);
    this.slos.delete(id);
    this.sorted = undefined;
    this.counters.delete(id);
    this.histograms.delete(id);
    this.lastSample.delete(id);
    this.noticed.delete(id);
    for (const [alertId, a] of this.active) if (a.sloId === id) this.active.delete(alertId);
    this.resolved = this.resolved.filter((a) => a.sloId !== id);
  }
}
