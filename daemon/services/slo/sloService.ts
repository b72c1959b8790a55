import { ErrorCode, RpcError } from '../../protocol/errors';
import {
  BURN_WINDOW_MINUTES,
  BatchRecordedPayload,
  SloDefinition,
  SloEventType,
  SloSpec,
  type BudgetConsumedResult,
  type BurnWindow,
  type GateResult,
  type LatencyPercentiles,
  type ParsedParamsOf,
  type RecordSampleBatch,
  type ResultOf,
  type RouteUsageParams,
  type RouteUsageRow,
  type SloAlert,
  type SloBudgetNotice,
  type SloSample,
  type SloSeries,
  type SloStatus,
  type UpdateSlo,
  MAX_USAGE_DAYS,
  batchEventId,
  isoTimeMs,
  validatedSampleTimes,
} from '../../protocol';
import type { EventStore, NewEvent } from '../../store/types';
import type { Clock, TimerHandle } from '../shared/clock';
import { newDense, percentiles } from './latencyHistogram';
import { OpenSloError, exportOpenSlo, parseOpenSlo, type ImportedSlo } from './openSlo';
import { DAY_MS, UsageAggregate, normaliseRoute, usageRows } from './routeUsage';
import { Classifiers, SampleAggregate } from './sampleAggregator';
import { SEED_SLOS } from './seed';
import { RETAINED_EXTRA_DAYS, type SloProjection } from './sloProjection';
import {
  BURN_WINDOWS,
  MINUTE_MS,
  activeSeverities,
  budgetStatus,
  burnLevel,
  absentSince,
  burnRate,
  consumedRatio,
  errorBudget,
  isAbsent,
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
/**
 * `slo/didChange` with change `samples` goes out at most once per SLO per this many ms: the first
 * right away, later ones folded into one sent when the interval ends (a client refreshing on every
 * 5,000-sample batch would otherwise redraw hundreds of times a second).
 */
export const SAMPLES_NOTIFY_MS = 1_000;

/** Where the service reports changes (the feature forwards them as notifications). */
export interface SloNotifier {
  changed(sloId: string, change: 'created' | 'updated' | 'deleted' | 'samples'): void;
  alerted(state: 'fired' | 'resolved', alert: SloAlert): void;
  /** A budget-consumption threshold was crossed. */
  noticed?(notice: SloBudgetNotice): void;
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

const invalid = (path: string, message: string): RpcError =>
  new RpcError(ErrorCode.InvalidParams, `${path}: ${message}`, { issues: [{ path, message }] });

const iso = (ms: number): string => new Date(ms).toISOString();

/** `slo.updated` for a new definition of `current`, saying what becomes of its counters. */
function updatedEvent(current: SloDefinition, slo: SloDefinition, actor: string): NewEvent {
  // Counters were counted with the old SLI and filter: they do not describe the new definition.
  const resetCounters = JSON.stringify([slo.sli, slo.filter]) !== JSON.stringify([current.sli, current.filter]);
  // A latency SLI over the same requests can be recounted from the histograms (customRatio
  // counted only samples that said good or bad, so its histograms miss the others).
  const recomputeFromHistograms =
    resetCounters && slo.sli.kind === 'latency' && current.sli.kind !== 'customRatio' && JSON.stringify(slo.filter) === JSON.stringify(current.filter);
  return { type: SloEventType.Updated, actor, payload: { slo, resetCounters, recomputeFromHistograms } };
}

/** The `slo.usageAggregated` event of an aggregate (none when it is empty). */
const usageEvents = (usage: UsageAggregate, actor: string): NewEvent[] =>
  usage.isEmpty ? [] : [{ type: SloEventType.UsageAggregated, actor, payload: { rows: usage.payloads() } }];
const round2 = (n: number): number => Math.round(n * 100) / 100;
const percent = (ratio: number): string => `${round2(ratio * 100)} %`;

/**
 * SLO definitions, sample ingestion (aggregated per SLO and minute before it reaches the log) and
 * evaluation: budgets, burn rates and multi-window burn-rate alerts.
 */
export class SloService {
  /** Buffered single samples by who sent them: each aggregate event names its actor. */
  private pending = new Map<string, { slo: SampleAggregate; usage: UsageAggregate }>();
  private waiters: Waiter[] = [];
  private readonly classifiers = new Classifiers();
  /** Per SLO: when its last `samples` notice went out, and the timer of the one folded behind it. */
  private readonly sampleNotices = new Map<string, { sentAt: number; timer?: TimerHandle }>();
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
    for (const n of this.sampleNotices.values()) n.timer?.cancel();
    this.sampleNotices.clear();
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
    await this.store.append([updatedEvent(current, slo, actor)]);
    this.notifier.changed(slo.id, 'updated');
    return slo;
  }

  async delete(idOrAlias: string, actor: string): Promise<{ ok: true }> {
    const slo = this.mustGet(idOrAlias);
    await this.store.append([{ type: SloEventType.Deleted, actor, payload: { id: slo.id } }]);
    this.sampleNotices.get(slo.id)?.timer?.cancel();
    this.sampleNotices.delete(slo.id);
    this.notifier.changed(slo.id, 'deleted');
    return { ok: true };
  }

  /** Buffer one sample; resolves once the flush that carries it is durable. */
  record(sample: SloSample, actor: string): Promise<{ ok: true; matchedSlos: number }> {
    const now = this.clock.now();
    const time = this.sampleTime(sample.timestamp, now, this.oldestAllowed(now), 'timestamp');
    const slos = this.projection.all();
    const classifiers = slos.map((slo) => this.classifiers.of(slo));
    const one = new SampleAggregate();
    const matched = one.add(slos, classifiers, sample, time);
    if (this.closed) throw new RpcError(ErrorCode.ShuttingDown, 'The SLO service is stopping.');
    let mine = this.pending.get(actor);
    if (!mine) this.pending.set(actor, (mine = { slo: new SampleAggregate(), usage: new UsageAggregate() }));
    mine.slo.merge(one);
    // Every sample counts for route usage, SLOs or not.
    mine.usage.add(sample, time);
    this.flushTimer ??= this.clock.setTimer(FLUSH_DELAY_MS, () => void this.flush());
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject })).then(() => ({ ok: true as const, matchedSlos: matched }));
  }

  /**
   * Validate every sample, then append one aggregate per SLO and minute, all or nothing. With a
   * batchId the aggregates go into one `slo.batchRecorded` event whose id carries the key, so the
   * store's duplicate-id check makes a repeat a no-op (durably: the id set is rebuilt from the log).
   */
  async recordBatch(samples: ParsedParamsOf<typeof RecordSampleBatch>['samples'], actor: string, batchId?: string): Promise<ResultOf<typeof RecordSampleBatch>> {
    const now = this.clock.now();
    const slos = this.projection.all();
    const oldest = this.oldestAllowed(now, slos);
    const classifiers = slos.map((slo) => this.classifiers.of(slo));
    const aggregate = new SampleAggregate();
    const usage = new UsageAggregate();
    const parsed = validatedSampleTimes(samples);
    // Not `samples.length` after an await: that would keep the whole parsed batch alive until the append is durable.
    const accepted = samples.length;
    for (let i = 0; i < accepted; i++) {
      const sample = samples[i]!;
      const time = sample.timestamp === undefined ? now : this.sampleTime(sample.timestamp, now, oldest, i, parsed?.[i]);
      aggregate.add(slos, classifiers, sample, time);
      usage.add(sample, time);
    }
    if (batchId !== undefined) {
      const payload: BatchRecordedPayload = { batchId, accepted, rows: aggregate.payloads(), usage: usage.payloads() };
      const [stored] = await this.store.append([{ id: batchEventId(actor, batchId), type: SloEventType.BatchRecorded, actor, payload }]);
      if (stored!.duplicate) {
        const first = BatchRecordedPayload.safeParse(stored!.event.payload);
        if (!first.success) throw new RpcError(ErrorCode.Conflict, `batchId: "${batchId}" names an event that is not an SLO batch.`, { path: 'batchId' });
        return { accepted: first.data.accepted, aggregates: first.data.rows.length, duplicate: true };
      }
      this.afterSamples(aggregate.sloIds());
      return { accepted, aggregates: aggregate.size, duplicate: false };
    }
    await this.store.append([...aggregate.events(actor), ...usageEvents(usage, actor)]);
    if (aggregate.size > 0) this.afterSamples(aggregate.sloIds());
    return { accepted, aggregates: aggregate.size, duplicate: false };
  }

  /**
   * Requests per service, method, route and client over the last `sinceDays` UTC days (today
   * included). `route` matches templates with `{id}` and `:id` parameters as equal.
   */
  routeUsage(params: RouteUsageParams): RouteUsageRow[] {
    const today = Math.floor(this.clock.now() / DAY_MS);
    const method = params.method?.toUpperCase();
    const route = params.route === undefined ? undefined : normaliseRoute(params.route);
    const totals = this.projection.usage
      .totals(today - params.sinceDays + 1, today)
      .filter((t) => (params.service === undefined || t.service === params.service) && (method === undefined || t.method === method) && (route === undefined || normaliseRoute(t.route) === route));
    return usageRows(totals);
  }

  /**
   * Usage of API operations (say, from an OpenAPI document) over the last `sinceDays` days: per
   * operation and client, requests summed over every service that recorded the route. An operation
   * nobody called has no row.
   */
  operationUsage(ops: readonly { method: string; path: string }[], sinceDays: number): { method: string; path: string; client: string | null; requests: number; lastSeen: string }[] {
    if (!Number.isInteger(sinceDays) || sinceDays < 1 || sinceDays > MAX_USAGE_DAYS) throw invalid('sinceDays', `must be a whole number of days from 1 to ${MAX_USAGE_DAYS}`);
    const today = Math.floor(this.clock.now() / DAY_MS);
    const byOp = new Map<string, number[]>();
    ops.forEach((op, i) => {
      const key = `${op.method.toUpperCase()} ${normaliseRoute(op.path)}`;
      byOp.set(key, [...(byOp.get(key) ?? []), i]);
    });
    const found = new Map<number, Map<string | null, { requests: number; lastSeen: number }>>();
    for (const t of this.projection.usage.totals(today - sinceDays + 1, today)) {
      for (const i of byOp.get(`${t.method} ${normaliseRoute(t.route)}`) ?? []) {
        let clients = found.get(i);
        if (!clients) found.set(i, (clients = new Map()));
        const c = clients.get(t.client);
        if (c) {
          c.requests += t.requests;
          c.lastSeen = Math.max(c.lastSeen, t.lastSeen);
        } else clients.set(t.client, { requests: t.requests, lastSeen: t.lastSeen });
      }
    }
    return ops.flatMap((op, i) =>
      [...(found.get(i) ?? [])]
        .sort(([ca, a], [cb, b]) => b.requests - a.requests || (ca ?? '').localeCompare(cb ?? ''))
        .map(([client, c]) => ({ method: op.method, path: op.path, client, requests: c.requests, lastSeen: iso(c.lastSeen) })),
    );
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
    const ring = this.projection.histogramsOf(slo.id)!;
    const whole = newDense();
    const buckets = [];
    for (let i = 0; i < count; i++) {
      const start = firstMinute + i * res;
      const last = Math.min(start + res, endMinute) - 1;
      const s = counters.sum(start, last);
      const dist = newDense();
      ring.mergeInto(dist, start, last);
      for (let b = 0; b < dist.length; b++) whole[b]! += dist[b]!;
      buckets.push({ start: iso(start * MINUTE_MS), good: s.good, bad: s.total - s.good, latency: percentiles(dist) });
    }
    return { sloId: slo.id, resolutionMinutes: res, buckets, latency: percentiles(whole) };
  }

  /**
   * Bad events per SLO in [from, to) (whole minutes: from its minute's start to the end of to's
   * minute) and the share of each SLO's current budget they consumed. For the incidents feature: the
   * error budget an incident consumed. The range must lie inside what the counters hold (window + 3 days).
   */
  budgetConsumed(params: { sloIds?: string[]; from: string; to: string }): BudgetConsumedResult {
    const now = this.clock.now();
    const from = Date.parse(params.from);
    const to = Date.parse(params.to);
    if (!Number.isFinite(from)) throw invalid('from', 'must be an ISO-8601 time');
    if (!Number.isFinite(to)) throw invalid('to', 'must be an ISO-8601 time');
    if (to <= from) throw invalid('to', 'must be after from');
    if (from > now + FUTURE_SKEW_MS) throw invalid('from', 'must not be in the future');
    const slos = this.resolveMany(params.sloIds, 'sloIds');
    const nowMinute = minuteOf(now);
    const firstMinute = minuteOf(from);
    const lastMinute = Math.ceil(to / MINUTE_MS) - 1;
    for (const slo of slos) {
      const oldest = nowMinute - (slo.windowDays + RETAINED_EXTRA_DAYS) * 1440 + 1;
      if (firstMinute < oldest) throw invalid('from', `is older than SLO ${slo.id} keeps (${slo.windowDays} + ${RETAINED_EXTRA_DAYS} days: not before ${iso(oldest * MINUTE_MS)})`);
    }
    return {
      from: iso(firstMinute * MINUTE_MS),
      to: iso((lastMinute + 1) * MINUTE_MS),
      slos: slos.map((slo) => {
        const counters = this.projection.countersOf(slo.id)!;
        const range = counters.sum(firstMinute, lastMinute);
        const window = counters.sum(nowMinute - slo.windowDays * 1440 + 1, nowMinute);
        const bad = range.total - range.good;
        const budgetEvents = errorBudget(window.good, window.total, slo.objective).budgetEvents;
        const ratio = consumedRatio(bad, window.total, slo.objective);
        return { sloId: slo.id, totalEvents: range.total, badEvents: bad, budgetEvents, consumedRatio: Number.isFinite(ratio) ? ratio : null };
      }),
    };
  }

  /** The deploy gate: deny when a chosen SLO's remaining budget is below the minimum or (by default) a page alert is active. */
  gate(params: { sloIds?: string[]; minRemainingBudget?: number; denyOnPage?: boolean }): GateResult {
    const now = this.clock.now();
    const slos = this.resolveMany(params.sloIds, 'sloIds');
    const reasons: GateResult['reasons'] = [];
    const evaluated: GateResult['slos'] = [];
    for (const slo of slos) {
      const status = this.statusOf(slo, now);
      const min = params.minRemainingBudget ?? slo.alerting.gateMinRemainingBudget;
      const remaining = status.budget.remainingRatio;
      evaluated.push({ sloId: slo.id, remainingRatio: remaining, minRemainingBudget: min, status: status.status });
      // A tolerance so 1 − 8 ÷ 10 (0.19999999999999996) meets a minimum of 0.2.
      if (remaining < min - 1e-9) {
        reasons.push({
          sloId: slo.id,
          code: 'lowBudget',
          message: `${slo.name}: ${percent(remaining)} of the error budget remains; the gate needs at least ${percent(min)}.`,
        });
      }
      const page = status.activeAlerts.find((a) => a.severity === 'page');
      if ((params.denyOnPage ?? true) && page) {
        reasons.push({
          sloId: slo.id,
          code: 'pageAlert',
          message: `${slo.name}: page alert active since ${page.firedAt} (burn rate ${round2(page.longBurnRate)} over ${page.rule.longWindow}, ${round2(page.shortBurnRate)} over ${page.rule.shortWindow}).`,
        });
      }
    }
    return { decision: reasons.length === 0 ? 'allow' : 'deny', reasons, slos: evaluated, evaluatedAt: iso(now) };
  }

  /**
   * Create SLOs from OpenSLO v1 YAML in one append, all or nothing; `dryRun` writes nothing. With
   * mode `replace`, a document whose id names an existing SLO redefines it (creation time kept,
   * aliases merged) instead of being a Duplicate.
   */
  async importOpenSlo(yaml: string, dryRun: boolean, actor: string, mode: 'create' | 'replace' = 'create'): Promise<{ slos: SloDefinition[]; replaced: string[] }> {
    let imported: ImportedSlo[];
    try {
      imported = parseOpenSlo(yaml);
    } catch (e) {
      if (!(e instanceof OpenSloError)) throw e;
      throw new RpcError(ErrorCode.InvalidParams, `yaml: ${e.message}`, { issues: [{ path: 'yaml', document: e.document, field: e.path, message: e.problem }] });
    }
    const now = iso(this.clock.now());
    const seen = new Map<string, number>();
    const events: NewEvent[] = [];
    const replaced: string[] = [];
    const slos = imported.map(({ spec, aliases }, i) => {
      // Replace mode: the SLO this document redefines (by its id, never by an alias).
      const current = mode === 'replace' ? this.projection.resolve(spec.id) : undefined;
      const target = current?.id === spec.id ? current : undefined;
      for (const name of [spec.id, ...aliases]) {
        const field = name === spec.id ? 'metadata.name' : 'metadata.annotations.cogniforge.dev/aliases';
        const owner = this.projection.resolve(name);
        if (owner && owner !== target) throw new RpcError(ErrorCode.Duplicate, `yaml: document ${i + 1}: ${field}: an SLO with id or alias "${name}" exists.`, { kind: 'slo', id: name, document: i });
        if (seen.has(name)) throw new RpcError(ErrorCode.Duplicate, `yaml: document ${i + 1}: ${field}: "${name}" is also used by document ${seen.get(name)! + 1}.`, { kind: 'slo', id: name, document: i });
        seen.set(name, i);
      }
      if (target) {
        const slo = SloDefinition.parse({ ...spec, aliases: [...new Set([...target.aliases, ...aliases])], createdAt: target.createdAt, updatedAt: now });
        events.push(updatedEvent(target, slo, actor));
        replaced.push(slo.id);
        return slo;
      }
      const slo = SloDefinition.parse({ ...spec, aliases, createdAt: now, updatedAt: now });
      events.push({ type: SloEventType.Created, actor, payload: { slo } });
      return slo;
    });
    if (dryRun) return { slos, replaced };
    await this.store.append(events);
    for (const slo of slos) this.notifier.changed(slo.id, replaced.includes(slo.id) ? 'updated' : 'created');
    return { slos, replaced };
  }

  /** The chosen SLOs (default all) as OpenSLO v1 YAML. */
  exportOpenSlo(idsOrAliases: string[] | undefined): string {
    return exportOpenSlo(this.resolveMany(idsOrAliases, 'ids'));
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
    const pending = this.pending;
    const waiters = this.waiters;
    this.pending = new Map();
    this.waiters = [];
    if (pending.size === 0) {
      for (const w of waiters) w.resolve();
      return;
    }
    try {
      await this.store.append([...pending].flatMap(([actor, { slo, usage }]) => [...slo.events(actor), ...usageEvents(usage, actor)]));
    } catch (e) {
      for (const w of waiters) w.reject(e);
      return;
    }
    for (const w of waiters) w.resolve();
    const sloIds = new Set([...pending.values()].flatMap((a) => [...a.slo.sloIds()]));
    if (sloIds.size > 0) this.afterSamples(sloIds);
  }

  /** Send `slo/didChange` samples for an SLO now, or once its throttle interval ends (SAMPLES_NOTIFY_MS). */
  private noticeSamples(sloId: string): void {
    const now = this.clock.now();
    const last = this.sampleNotices.get(sloId);
    if (last?.timer) return;
    if (!last || now - last.sentAt >= SAMPLES_NOTIFY_MS) {
      this.sampleNotices.set(sloId, { sentAt: now });
      this.notifier.changed(sloId, 'samples');
      return;
    }
    last.timer = this.clock.setTimer(last.sentAt + SAMPLES_NOTIFY_MS - now, () => {
      if (this.closed || !this.projection.resolve(sloId)) return;
      this.sampleNotices.set(sloId, { sentAt: this.clock.now() });
      this.notifier.changed(sloId, 'samples');
    });
  }

  private afterSamples(sloIds: Iterable<string>): void {
    for (const id of sloIds) this.noticeSamples(id);
    // One queued evaluation covers every flush that lands before it starts.
    if (this.closed || this.evaluationQueued) return;
    this.evaluationQueued = true;
    void this.evaluateAlerts().catch(() => undefined);
  }

  private async evaluateOnce(): Promise<void> {
    const now = this.clock.now();
    const nowMinute = minuteOf(now);
    const events: NewEvent[] = [];
    const alerts: { state: 'fired' | 'resolved'; alert: SloAlert }[] = [];
    const notices: SloBudgetNotice[] = [];
    const transition = (alertId: string, wanted: SloAlert | undefined, priority: 'critical' | 'high' | 'normal') => {
      const active = this.projection.activeAlert(alertId);
      if (wanted && !active) {
        events.push({ type: SloEventType.AlertFired, actor: 'daemon', priority, payload: wanted });
        alerts.push({ state: 'fired', alert: wanted });
      } else if (!wanted && active) {
        events.push({ type: SloEventType.AlertResolved, actor: 'daemon', payload: { alertId, sloId: active.sloId, resolvedAt: iso(now) } });
        alerts.push({ state: 'resolved', alert: { ...active, resolvedAt: iso(now) } });
      }
    };
    for (const slo of this.projection.all()) {
      const totals = this.windowTotals(slo, nowMinute);
      const verdicts = activeSeverities(totals, slo.objective, slo.windowDays, slo.alerting);
      for (const severity of ['page', 'ticket'] as const) {
        const verdict = verdicts.get(severity);
        const alertId = `${slo.id}:${severity}`;
        transition(
          alertId,
          verdict && {
            alertId,
            sloId: slo.id,
            kind: 'burnRate',
            severity,
            rule: { longWindow: verdict.longWindow, shortWindow: verdict.shortWindow, threshold: verdict.threshold },
            longBurnRate: verdict.longBurnRate,
            shortBurnRate: verdict.shortBurnRate,
            firedAt: iso(now),
          },
          severity === 'page' ? 'critical' : 'high',
        );
      }
      transition(`${slo.id}:sliAbsent`, this.absentAlert(slo, now), 'normal');
      this.budgetNotices(slo, now, events, notices);
    }
    if (events.length === 0) return;
    await this.store.append(events);
    for (const a of alerts) this.notifier.alerted(a.state, a.alert);
    for (const n of notices) this.notifier.noticed?.(n);
  }

  /** The SLI-absent alert the SLO should have now, if any. */
  private absentAlert(slo: SloDefinition, now: number): SloAlert | undefined {
    const after = slo.alerting.absentAfterMinutes;
    const last = this.projection.lastSampleMinute(slo.id);
    const since = absentSince(last, Date.parse(slo.createdAt));
    if (!slo.alerting.enabled || !isAbsent(since, after, now)) return undefined;
    const quiet = (now - since) / MINUTE_MS;
    const silentWindows = BURN_WINDOWS.filter((w) => BURN_WINDOW_MINUTES[w] <= quiet);
    return {
      alertId: `${slo.id}:sliAbsent`,
      sloId: slo.id,
      kind: 'sliAbsent',
      severity: 'ticket',
      rule: { longWindow: silentWindows.at(-1) ?? '5m', shortWindow: '5m', threshold: 0 },
      longBurnRate: 0,
      shortBurnRate: 0,
      firedAt: iso(now),
      absence: { lastSampleAt: last === undefined ? null : iso((last + 1) * MINUTE_MS), absentAfterMinutes: after },
    };
  }

  /** Notices for thresholds newly crossed, re-arm events for those consumption fell back below. */
  private budgetNotices(slo: SloDefinition, now: number, events: NewEvent[], notices: SloBudgetNotice[]): void {
    const nowMinute = minuteOf(now);
    const w = this.projection.countersOf(slo.id)!.sum(nowMinute - slo.windowDays * 1440 + 1, nowMinute);
    const consumed = consumedRatio(w.total - w.good, w.total, slo.objective);
    const noticed = this.projection.noticedThresholds(slo.id);
    for (const threshold of noticed) {
      if (consumed < threshold) events.push({ type: SloEventType.BudgetRearmed, actor: 'daemon', payload: { sloId: slo.id, threshold, at: iso(now) } });
    }
    // The minimum-traffic guard applies here too: 1 bad request out of 3 is not a spent budget.
    if (!slo.alerting.enabled || w.total < slo.alerting.minEvents) return;
    for (const threshold of [...slo.alerting.budgetNotices].sort((a, b) => a - b)) {
      if (consumed < threshold || noticed.has(threshold)) continue;
      const notice: SloBudgetNotice = { sloId: slo.id, kind: 'budgetConsumed', threshold, consumedRatio: consumed, at: iso(now) };
      events.push({ type: SloEventType.BudgetNoticed, actor: 'daemon', priority: threshold >= 1 ? 'high' : 'normal', payload: notice });
      notices.push(notice);
    }
  }

  private statusOf(slo: SloDefinition, now: number): SloStatus {
    const nowMinute = minuteOf(now);
    const counters = this.projection.countersOf(slo.id)!;
    const w = counters.sum(nowMinute - slo.windowDays * 1440 + 1, nowMinute);
    const budget = errorBudget(w.good, w.total, slo.objective);
    const totals = this.windowTotals(slo, nowMinute);
    const latency = this.windowLatencies(slo.id, nowMinute);
    const burnRates = BURN_WINDOWS.map((window) => {
      const t = totals[window];
      return {
        window,
        burnRate: burnRate(t.total - t.good, t.total, slo.objective),
        totalEvents: t.total,
        badEvents: t.total - t.good,
        latency: latency[window],
      };
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

  /** Percentiles per burn window; the windows nest (all end now), so each merges only what the previous one lacks. */
  private windowLatencies(sloId: string, nowMinute: number): Record<BurnWindow, LatencyPercentiles> {
    const ring = this.projection.histogramsOf(sloId)!;
    const acc = newDense();
    const out = {} as Record<BurnWindow, LatencyPercentiles>;
    let covered = 0;
    for (const window of [...BURN_WINDOWS].sort((a, b) => BURN_WINDOW_MINUTES[a] - BURN_WINDOW_MINUTES[b])) {
      const minutes = BURN_WINDOW_MINUTES[window];
      ring.mergeInto(acc, nowMinute - minutes + 1, nowMinute - covered);
      covered = minutes;
      out[window] = percentiles(acc);
    }
    return out;
  }

  /** Ids or aliases to definitions (every SLO when absent); an unknown one is NotFound naming its index. */
  private resolveMany(idsOrAliases: string[] | undefined, path: string): SloDefinition[] {
    if (idsOrAliases === undefined) return this.projection.all();
    const out = new Map<string, SloDefinition>();
    idsOrAliases.forEach((name, i) => {
      const slo = this.projection.resolve(name);
      if (!slo) throw new RpcError(ErrorCode.NotFound, `${path}.${i}: no SLO with id or alias "${name}".`, { kind: 'slo', id: name, path: `${path}.${i}` });
      out.set(slo.id, slo);
    });
    return [...out.values()];
  }

  private mustGet(idOrAlias: string): SloDefinition {
    const slo = this.projection.resolve(idOrAlias);
    if (!slo) throw new RpcError(ErrorCode.NotFound, `No SLO with id or alias "${idOrAlias}".`, { kind: 'slo', id: idOrAlias });
    return slo;
  }

  /** The longest SLO window in days (30 without SLOs): samples older than that are rejected. */
  private oldestAllowed(now: number, slos = this.projection.all()): { days: number; time: number } {
    let days = 0;
    for (const slo of slos) days = Math.max(days, slo.windowDays);
    if (days === 0) days = 30;
    return { days, time: now - days * 86_400_000 };
  }

  /**
   * Epoch ms of a sample's timestamp (now when absent); rejects times in the future or older than
   * `oldest`. `at` is the error path, or a batch index for `samples.<at>.timestamp` (built only on error).
   */
  private sampleTime(timestamp: string | undefined, now: number, oldest: { days: number; time: number }, at: string | number, parsed?: number): number {
    if (timestamp === undefined) return now;
    const time = parsed ?? isoTimeMs(timestamp);
    if (time <= now + FUTURE_SKEW_MS && time >= oldest.time) return time;
    const path = typeof at === 'number' ? `samples.${at}.timestamp` : at;
    if (time > now + FUTURE_SKEW_MS) throw invalid(path, `is in the future (${timestamp}; now is ${iso(now)})`);
    throw invalid(path, `is older than the ${oldest.days}-day window (${timestamp})`);
  }
}
