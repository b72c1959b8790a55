import { ErrorCode, RpcError } from '../../protocol/errors';
import {
  BURN_WINDOW_MINUTES,
  SloDefinition,
  SloEventType,
  SloSpec,
  type BurnWindow,
  type ParsedParamsOf,
  type RecordSampleBatch,
  type ResultOf,
  type SloAlert,
  type SloSample,
  type SloSeries,
  type SloStatus,
  type UpdateSlo,
} from '../../protocol';
import type { EventStore, NewEvent } from '../../store/types';
import type { Clock, TimerHandle } from '../shared/clock';
import { classify } from './sli';
import { SEED_SLOS } from './seed';
import type { SloProjection } from './sloProjection';
import {
  BURN_WINDOWS,
  MINUTE_MS,
  activeSeverities,
  budgetStatus,
  burnLevel,
  burnRate,
  errorBudget,
  minuteOf,
  projectedExhaustion,
  type WindowTotals,
} from './sloMath';

/** How far in the future a sample's timestamp may be (clock skew between hosts), ms. */
export const FUTURE_SKEW_MS = 5_000;
/** Single `slo/record` calls are aggregated and flushed at most this long after they arrive, ms. */
export const FLUSH_DELAY_MS = 50;
/** Alerts are re-evaluated this often even without traffic (burn rates fall as time passes), ms. */
export const EVALUATE_EVERY_MS = 30_000;
/** Most buckets one `slo/series` answer may hold. */
export const MAX_SERIES_BUCKETS = 10_000;

/** Where the service reports changes (the feature forwards them as notifications). */
export interface SloNotifier {
  changed(sloId: string, change: 'created' | 'updated' | 'deleted' | 'samples'): void;
  alerted(state: 'fired' | 'resolved', alert: SloAlert): void;
}

interface AggregateRow {
  sloId: string;
  /** Minute index. */
  minute: number;
  good: number;
  total: number;
  /** Who sent the samples (buffered single records); the call's actor otherwise. */
  actor?: string;
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

const invalid = (path: string, message: string): RpcError =>
  new RpcError(ErrorCode.InvalidParams, `${path}: ${message}`, { issues: [{ path, message }] });

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * SLO definitions, sample ingestion (aggregated per SLO and minute before it reaches the log) and
 * evaluation: budgets, burn rates and multi-window burn-rate alerts.
 */
export class SloService {
  private pending = new Map<string, AggregateRow & { actor: string }>();
  private waiters: Waiter[] = [];
  private flushTimer: TimerHandle | undefined;
  private evalTimer: TimerHandle | undefined;
  private evaluating: Promise<void> = Promise.resolve();
  private closed = false;
  private evaluationQueued = false;

  constructor(
    private readonly store: EventStore,
    private readonly projection: SloProjection,
    private readonly clock: Clock,
    private readonly notifier: SloNotifier = { changed: () => undefined, alerted: () => undefined },
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /** Seed the default SLOs once: only on an empty projection that never saw the seeding. */
  async seedDefaults(): Promise<void> {
    if (this.projection.size > 0 || this.projection.hasSeeded) return;
    const now = iso(this.clock.now());
    await this.store.append(
      SEED_SLOS.map(({ eventId, aliases, spec }) => ({
        id: eventId,
        type: SloEventType.Created,
        actor: 'daemon',
        payload: { slo: { ...SloSpec.parse(spec), aliases, createdAt: now, updatedAt: now }, seeded: true },
      })),
    );
  }

  /** Start the periodic alert evaluation. */
  start(): void {
    const tick = () => {
      if (this.closed) return;
      // A failure is logged by evaluateAlerts; the next tick tries again.
      void this.evaluateAlerts()
        .catch(() => undefined)
        .finally(() => {
          if (!this.closed) this.evalTimer = this.clock.setTimer(EVALUATE_EVERY_MS, tick);
        });
    };
    this.evalTimer = this.clock.setTimer(EVALUATE_EVERY_MS, tick);
  }

  /** Stop timers and flush buffered samples (their callers are waiting for durability). */
  async close(): Promise<void> {
    this.closed = true;
    this.evalTimer?.cancel();
    await this.flush();
    await this.evaluating;
  }

  list(): SloStatus[] {
    const now = this.clock.now();
    return this.projection.all().map((slo) => this.statusOf(slo, now));
  }

  get(idOrAlias: string): SloStatus {
    return this.statusOf(this.mustGet(idOrAlias), this.clock.now());
  }

  async create(spec: SloSpec, actor: string): Promise<SloDefinition> {
    if (this.projection.isTaken(spec.id)) throw new RpcError(ErrorCode.Duplicate, `An SLO with id or alias "${spec.id}" exists.`, { kind: 'slo', id: spec.id });
    const now = iso(this.clock.now());
    const slo = SloDefinition.parse({ ...spec, aliases: [], createdAt: now, updatedAt: now });
    await this.store.append([{ type: SloEventType.Created, actor, payload: { slo } }]);
    this.notifier.changed(slo.id, 'created');
    return slo;
  }

  async update(params: ParsedParamsOf<typeof UpdateSlo>, actor: string): Promise<SloDefinition> {
    const current = this.mustGet(params.id);
    const { id: _id, ...changes } = params;
    const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    const slo = SloDefinition.parse({ ...current, ...defined, updatedAt: iso(this.clock.now()) });
    // Counters were counted with the old SLI and filter: they do not describe the new definition.
    const resetCounters = JSON.stringify([slo.sli, slo.filter]) !== JSON.stringify([current.sli, current.filter]);
    await this.store.append([{ type: SloEventType.Updated, actor, payload: { slo, resetCounters } }]);
    this.notifier.changed(slo.id, 'updated');
    return slo;
  }

  async delete(idOrAlias: string, actor: string): Promise<{ ok: true }> {
    const slo = this.mustGet(idOrAlias);
    await this.store.append([{ type: SloEventType.Deleted, actor, payload: { id: slo.id } }]);
    this.notifier.changed(slo.id, 'deleted');
    return { ok: true };
  }

  /** Buffer one sample; resolves once the flush that carries it is durable. */
  record(sample: SloSample, actor: string): Promise<{ ok: true; matchedSlos: number }> {
    const now = this.clock.now();
    const time = this.sampleTime(sample, now, 'timestamp');
    const rows = this.aggregate([{ sample, time }]);
    if (rows.size === 0) return Promise.resolve({ ok: true, matchedSlos: 0 });
    if (this.closed) throw new RpcError(ErrorCode.ShuttingDown, 'The SLO service is stopping.');
    for (const [rowKey, row] of rows) {
      // Keyed by actor too: each aggregate event names who sent its samples.
      const key = `${actor}\u0000${rowKey}`;
      const p = this.pending.get(key);
      if (p) {
        p.good += row.good;
        p.total += row.total;
      } else this.pending.set(key, { ...row, actor });
    }
    this.flushTimer ??= this.clock.setTimer(FLUSH_DELAY_MS, () => void this.flush());
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject })).then(() => ({ ok: true as const, matchedSlos: rows.size }));
  }

  /** Validate every sample, then append one aggregate per SLO and minute, all or nothing. */
  async recordBatch(samples: ParsedParamsOf<typeof RecordSampleBatch>['samples'], actor: string): Promise<ResultOf<typeof RecordSampleBatch>> {
    const now = this.clock.now();
    const timed = samples.map((sample, i) => ({ sample, time: this.sampleTime(sample, now, `samples.${i}.timestamp`) }));
    const rows = this.aggregate(timed);
    if (rows.size > 0) {
      await this.store.append(this.aggregateEvents(rows, actor));
      this.afterSamples(rows.values());
    }
    return { accepted: samples.length, aggregates: rows.size };
  }

  series(params: ParsedParamsOf<typeof SloSeries>): ResultOf<typeof SloSeries> {
    const slo = this.mustGet(params.id);
    const now = this.clock.now();
    const windowStart = now - slo.windowDays * 86_400_000;
    const from = params.from === undefined ? windowStart : Date.parse(params.from);
    // By default up to the end of the current minute, so its samples so far are included.
    const to = params.to === undefined ? (minuteOf(now) + 1) * MINUTE_MS : Date.parse(params.to);
    if (from < windowStart - MINUTE_MS) throw invalid('from', `must be inside the ${slo.windowDays}-day window (not before ${iso(windowStart)})`);
    if (params.to !== undefined && to > now + FUTURE_SKEW_MS) throw invalid('to', 'must not be in the future');
    if (to <= from) throw invalid('to', 'must be after from');
    const res = params.resolutionMinutes;
    const firstMinute = minuteOf(from);
    const endMinute = Math.ceil(to / MINUTE_MS);
    const count = Math.ceil((endMinute - firstMinute) / res);
    if (count > MAX_SERIES_BUCKETS) throw invalid('resolutionMinutes', `the range needs ${count} buckets; at most ${MAX_SERIES_BUCKETS}: choose a coarser resolution`);
    const counters = this.projection.countersOf(slo.id)!;
    const buckets = [];
    for (let i = 0; i < count; i++) {
      const start = firstMinute + i * res;
      const s = counters.sum(start, Math.min(start + res, endMinute) - 1);
      buckets.push({ start: iso(start * MINUTE_MS), good: s.good, bad: s.total - s.good });
    }
    return { sloId: slo.id, resolutionMinutes: res, buckets };
  }

  alerts(idOrAlias: string | undefined, includeResolved: boolean): SloAlert[] {
    const id = idOrAlias === undefined ? undefined : this.mustGet(idOrAlias).id;
    const active = this.projection.activeAlerts(id);
    return includeResolved ? [...active, ...this.projection.resolvedAlerts(id)] : active;
  }

  /** Compare every SLO's alert rules with its active alerts and append the transitions. Serialised. */
  evaluateAlerts(): Promise<void> {
    const run = this.evaluating.then(() => {
      this.evaluationQueued = false;
      return this.evaluateOnce();
    });
    this.evaluating = run.catch((e: unknown) => this.log(`SLO alert evaluation failed: ${(e as Error).message}`));
    return run;
  }

  /** Flush buffered single samples now (also runs on the 50 ms timer). */
  async flush(): Promise<void> {
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    const rows = this.pending;
    const waiters = this.waiters;
    this.pending = new Map();
    this.waiters = [];
    if (rows.size === 0) {
      for (const w of waiters) w.resolve();
      return;
    }
    try {
      await this.store.append(this.aggregateEvents(rows, 'daemon'));
    } catch (e) {
      for (const w of waiters) w.reject(e);
      return;
    }
    for (const w of waiters) w.resolve();
    this.afterSamples(rows.values());
  }

  private afterSamples(rows: Iterable<{ sloId: string }>): void {
    for (const id of new Set([...rows].map((r) => r.sloId))) this.notifier.changed(id, 'samples');
    // One queued evaluation covers every flush that lands before it starts.
    if (this.closed || this.evaluationQueued) return;
    this.evaluationQueued = true;
    void this.evaluateAlerts().catch(() => undefined);
  }

  private async evaluateOnce(): Promise<void> {
    const now = this.clock.now();
    const events: NewEvent[] = [];
    const notices: { state: 'fired' | 'resolved'; alert: SloAlert }[] = [];
    for (const slo of this.projection.all()) {
      const totals = this.windowTotals(slo, minuteOf(now));
      const verdicts = activeSeverities(totals, slo.objective, slo.windowDays, slo.alerting);
      for (const severity of ['page', 'ticket'] as const) {
        const alertId = `${slo.id}:${severity}`;
        const active = this.projection.activeAlert(alertId);
        const verdict = verdicts.get(severity);
        if (verdict && !active) {
          const alert: SloAlert = {
            alertId,
            sloId: slo.id,
            severity,
            rule: { longWindow: verdict.longWindow, shortWindow: verdict.shortWindow, threshold: verdict.threshold },
            longBurnRate: verdict.longBurnRate,
            shortBurnRate: verdict.shortBurnRate,
            firedAt: iso(now),
          };
          events.push({ type: SloEventType.AlertFired, actor: 'daemon', priority: severity === 'page' ? 'critical' : 'high', payload: alert });
          notices.push({ state: 'fired', alert });
        } else if (!verdict && active) {
          events.push({ type: SloEventType.AlertResolved, actor: 'daemon', payload: { alertId, sloId: slo.id, resolvedAt: iso(now) } });
          notices.push({ state: 'resolved', alert: { ...active, resolvedAt: iso(now) } });
        }
      }
    }
    if (events.length === 0) return;
    await this.store.append(events);
    for (const n of notices) this.notifier.alerted(n.state, n.alert);
  }

  private statusOf(slo: SloDefinition, now: number): SloStatus {
    const nowMinute = minuteOf(now);
    const counters = this.projection.countersOf(slo.id)!;
    const w = counters.sum(nowMinute - slo.windowDays * 1440 + 1, nowMinute);
    const budget = errorBudget(w.good, w.total, slo.objective);
    const totals = this.windowTotals(slo, nowMinute);
    const burnRates = BURN_WINDOWS.map((window) => {
      const t = totals[window];
      return { window, burnRate: burnRate(t.total - t.good, t.total, slo.objective), totalEvents: t.total, badEvents: t.total - t.good };
    });
    const oneHour = burnRates.find((b) => b.window === '1h')!.burnRate;
    const exhaustion = projectedExhaustion(budget.remainingRatio, oneHour, slo.windowDays, now);
    return {
      slo,
      status: budgetStatus(budget.remainingRatio, slo.alerting.statusThresholds),
      burnLevel: burnLevel(oneHour, slo.alerting.burnLevels),
      budget,
      burnRates,
      projectedExhaustionAt: exhaustion === null ? null : iso(exhaustion),
      activeAlerts: this.projection.activeAlerts(slo.id),
      evaluatedAt: iso(now),
    };
  }

  private windowTotals(slo: SloDefinition, nowMinute: number): Record<BurnWindow, WindowTotals> {
    const counters = this.projection.countersOf(slo.id)!;
    const out = {} as Record<BurnWindow, WindowTotals>;
    for (const window of BURN_WINDOWS) out[window] = counters.sum(nowMinute - BURN_WINDOW_MINUTES[window] + 1, nowMinute);
    return out;
  }

  private mustGet(idOrAlias: string): SloDefinition {
    const slo = this.projection.resolve(idOrAlias);
    if (!slo) throw new RpcError(ErrorCode.NotFound, `No SLO with id or alias "${idOrAlias}".`, { kind: 'slo', id: idOrAlias });
    return slo;
  }

  /** Epoch ms of a sample; rejects times in the future or older than the longest SLO window (30 days without SLOs). */
  private sampleTime(sample: SloSample, now: number, path: string): number {
    if (sample.timestamp === undefined) return now;
    const time = Date.parse(sample.timestamp);
    if (time > now + FUTURE_SKEW_MS) throw invalid(path, `is in the future (${sample.timestamp}; now is ${iso(now)})`);
    const slos = this.projection.all();
    const windowDays = slos.length === 0 ? 30 : Math.max(...slos.map((s) => s.windowDays));
    if (time < now - windowDays * 86_400_000) throw invalid(path, `is older than the ${windowDays}-day window (${sample.timestamp})`);
    return time;
  }

  private aggregate(samples: { sample: SloSample; time: number }[]): Map<string, AggregateRow> {
    const rows = new Map<string, AggregateRow>();
    const slos = this.projection.all();
    for (const { sample, time } of samples) {
      const minute = minuteOf(time);
      for (const slo of slos) {
        const verdict = classify(slo, sample);
        if (verdict === 'ignored') continue;
        const key = `${slo.id}\u0000${minute}`;
        let row = rows.get(key);
        if (!row) rows.set(key, (row = { sloId: slo.id, minute, good: 0, total: 0 }));
        row.total++;
        if (verdict === 'good') row.good++;
      }
    }
    return rows;
  }

  private aggregateEvents(rows: Map<string, AggregateRow>, actor: string): NewEvent[] {
    return [...rows.values()].map((r) => ({
      type: SloEventType.SamplesAggregated,
      actor: r.actor ?? actor,
      payload: { sloId: r.sloId, minute: iso(r.minute * MINUTE_MS), good: r.good, total: r.total },
    }));
  }
}
