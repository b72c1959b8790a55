import { describe, expect, it } from 'vitest';
import { BudgetConsumed, ErrorCode, Gate } from '../../../../daemon/protocol';
import { AlertingSettings, SloSpec, UpdateSlo, type SloAlert, type SloBudgetNotice, type SloSample } from '../../../../daemon/protocol/slo';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { SloProjection } from '../../../../daemon/services/slo/sloProjection';
import { SloService } from '../../../../daemon/services/slo/sloService';
import { MemoryEventLog } from '../support/memoryStore';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-03-01T12:00:00Z');

function setup(log = new MemoryEventLog(), clock = new ManualClock(T0)) {
  const projection = new SloProjection();
  const store = log.open({ clock, projections: [projection] });
  const alerts: { state: 'fired' | 'resolved'; alert: SloAlert }[] = [];
  const notices: SloBudgetNotice[] = [];
  const service = new SloService(store, projection, clock, {
    changed: () => undefined,
    alerted: (state, alert) => alerts.push({ state, alert }),
    noticed: (n) => notices.push(n),
  });
  return { log, clock, projection, store, service, alerts, notices };
}
type Env = ReturnType<typeof setup>;

const spec = (id: string, extra: Record<string, unknown> = {}) =>
  SloSpec.parse({ id, name: id, sli: { kind: 'availability' }, objective: 0.99, filter: { service: id }, ...extra });

const sample = (service: string, status: number, durationMs: number, at?: number): SloSample => ({
  service,
  method: 'GET',
  route: '/x',
  status,
  durationMs,
  ...(at === undefined ? {} : { timestamp: new Date(at).toISOString() }),
});

const many = (n: number, make: (i: number) => SloSample): SloSample[] => Array.from({ length: n }, (_, i) => make(i));
const latencyOf = (env: Env, id: string, window: string) => env.service.get(id).burnRates.find((b) => b.window === window)!.latency;
const countsOf = (env: Env, id: string) => {
  const b = env.service.get(id).budget;
  return { total: b.totalEvents, bad: b.badEvents };
};

describe('latency distributions', () => {
  it('shows p50/p95/p99 per burn window from the merged per-minute histograms', async () => {
    const env = setup();
    await env.service.create(spec('lat', { sli: { kind: 'latency', thresholdMs: 500 } }), 'owner');
    // Two hours ago: 50 requests of 1,000 ms. Now: 100 requests of 1..100 ms.
    await env.service.recordBatch(many(50, () => sample('lat', 200, 1000, T0 - 2 * HOUR)), 'svc');
    await env.service.recordBatch(many(100, (i) => sample('lat', 200, i + 1)), 'svc');
    expect(latencyOf(env, 'lat', '5m')).toEqual({ p50: 50, p95: 95, p99: 100, samples: 100 });
    expect(latencyOf(env, 'lat', '1h')).toEqual({ p50: 50, p95: 95, p99: 100, samples: 100 });
    // 6 h: 150 samples; rank 75 is 75 ms, ranks 143 and 149 are 1,000 ms ones.
    expect(latencyOf(env, 'lat', '6h')).toEqual({ p50: 75, p95: 1000, p99: 1000, samples: 150 });
    expect(latencyOf(env, 'lat', '7d')).toEqual(latencyOf(env, 'lat', '6h'));
    // Stored flat: bucket, count, bucket, count...
    const aggregated = env.log.ofType('slo.samplesAggregated').map((e) => (e.payload as { histogram: number[] }).histogram);
    expect(aggregated[0]).toHaveLength(2);
    expect(aggregated[1]!.filter((_, i) => i % 2 === 1).reduce((n, c) => n + c, 0)).toBe(100);
  });

  it('answers percentiles per series bucket and over the whole range', async () => {
    const env = setup();
    await env.service.create(spec('lat', { sli: { kind: 'latency', thresholdMs: 500 } }), 'owner');
    await env.service.recordBatch(many(10, () => sample('lat', 200, 40, T0 - 90 * MIN)), 'svc');
    await env.service.recordBatch(many(10, () => sample('lat', 200, 300, T0 - 30 * MIN)), 'svc');
    const series = env.service.series({ id: 'lat', from: new Date(T0 - 2 * HOUR).toISOString(), to: new Date(T0).toISOString(), resolutionMinutes: 60 });
    expect(series.buckets.map((b) => [b.start, b.good, b.latency.p50, b.latency.samples])).toEqual([
      ['2026-03-01T10:00:00.000Z', 10, 40, 10],
      ['2026-03-01T11:00:00.000Z', 10, 300, 10],
    ]);
    expect(series.latency).toEqual({ p50: 40, p95: 300, p99: 300, samples: 20 });
  });

  it('recomputes good/total history from the histograms when a latency threshold changes, also after a restart', async () => {
    const env = setup();
    await env.service.create(spec('lat', { sli: { kind: 'latency', thresholdMs: 500 } }), 'owner');
    // 90 at 100 ms, 5 at 280 ms, 5 at 800 ms, spread over the last two days.
    const durations = [...Array<number>(90).fill(100), ...Array<number>(5).fill(280), ...Array<number>(5).fill(800)];
    await env.service.recordBatch(durations.map((d, i) => sample('lat', 200, d, T0 - i * 30 * MIN)), 'svc');
    expect(countsOf(env, 'lat')).toEqual({ total: 100, bad: 5 });
    const update = (thresholdMs: number) => env.service.update(UpdateSlo.params.parse({ id: 'lat', sli: { kind: 'latency', thresholdMs } }), 'owner');
    await update(250);
    expect(countsOf(env, 'lat')).toEqual({ total: 100, bad: 10 });
    await update(1000);
    expect(countsOf(env, 'lat')).toEqual({ total: 100, bad: 0 });
    // 290 ms is no bucket bound: the 280 ms requests sit in (275, 300] and count as bad.
    await update(290);
    expect(countsOf(env, 'lat')).toEqual({ total: 100, bad: 10 });
    expect(env.log.ofType('slo.updated').map((e) => (e.payload as { recomputeFromHistograms: boolean }).recomputeFromHistograms)).toEqual([true, true, true]);

    const reopened = setup(env.log, env.clock);
    expect(countsOf(reopened, 'lat')).toEqual({ total: 100, bad: 10 });
    expect(reopened.service.get('lat').burnRates.find((b) => b.window === '7d')!.latency.samples).toBe(100);

    // A new filter counts other requests: history restarts.
    await reopened.service.update(UpdateSlo.params.parse({ id: 'lat', filter: { service: 'other' } }), 'owner');
    expect(countsOf(reopened, 'lat')).toEqual({ total: 0, bad: 0 });
  });

  it('recomputes an availability SLO turned into a latency SLO on the same requests', async () => {
    const env = setup();
    await env.service.create(spec('svc'), 'owner');
    await env.service.recordBatch([sample('svc', 500, 100), sample('svc', 200, 900), sample('svc', 200, 50)], 'svc');
    expect(countsOf(env, 'svc')).toEqual({ total: 3, bad: 1 });
    await env.service.update(UpdateSlo.params.parse({ id: 'svc', sli: { kind: 'latency', thresholdMs: 500 } }), 'owner');
    expect(countsOf(env, 'svc')).toEqual({ total: 3, bad: 1 });
    expect(env.service.get('svc').budget.goodEvents).toBe(2);
  });
});

describe('SLI-absent alert', () => {
  it('fires once after the configured silence from creation, resolves once when samples return, fires again after new silence', async () => {
    const env = setup();
    await env.service.create(spec('api'), 'owner');
    env.clock.advance(29 * MIN);
    await env.service.evaluateAlerts();
    expect(env.alerts).toEqual([]);
    env.clock.advance(MIN);
    await env.service.evaluateAlerts();
    await env.service.evaluateAlerts();
    expect(env.alerts.map((a) => [a.state, a.alert.kind, a.alert.alertId, a.alert.severity])).toEqual([['fired', 'sliAbsent', 'api:sliAbsent', 'ticket']]);
    expect(env.alerts[0]!.alert.absence).toEqual({ lastSampleAt: null, absentAfterMinutes: 30 });
    expect(env.service.get('api').activeAlerts.map((a) => a.kind)).toEqual(['sliAbsent']);

    await env.service.recordBatch([sample('api', 200, 5)], 'svc');
    await env.service.evaluateAlerts();
    expect(env.alerts.map((a) => a.state)).toEqual(['fired', 'resolved']);
    expect(env.service.get('api').activeAlerts).toEqual([]);

    // The sample's minute ends at T0 + 31 min: silence counts from there.
    env.clock.advance(30 * MIN);
    await env.service.evaluateAlerts();
    expect(env.alerts).toHaveLength(2);
    env.clock.advance(MIN);
    await env.service.evaluateAlerts();
    expect(env.alerts.map((a) => a.state)).toEqual(['fired', 'resolved', 'fired']);
    expect(env.alerts[2]!.alert.absence).toEqual({ lastSampleAt: '2026-03-01T12:31:00.000Z', absentAfterMinutes: 30 });
    expect(env.log.ofType('slo.alertFired')).toHaveLength(2);
    expect(env.log.ofType('slo.alertResolved')).toHaveLength(1);
  });

  it('stays quiet when turned off (0 minutes) or when alerting is disabled', async () => {
    const env = setup();
    await env.service.create(spec('off', { alerting: { absentAfterMinutes: 0 } }), 'owner');
    await env.service.create(spec('disabled', { alerting: { enabled: false } }), 'owner');
    env.clock.advance(DAY);
    await env.service.evaluateAlerts();
    expect(env.alerts).toEqual([]);
  });
});

describe('budget-consumption notices', () => {
  it('notices 10 % and 25 % once each, re-arms when the window rolls the bad events out, notices again', async () => {
    const env = setup();
    await env.service.create(spec('api', { windowDays: 1 }), 'owner');
    // 1,000 events, 1 bad: the budget is 10 bad events, 10 % consumed.
    await env.service.recordBatch(many(1000, (i) => sample('api', i === 0 ? 500 : 200, 5)), 'svc');
    await env.service.evaluateAlerts();
    expect(env.notices.map((n) => [n.threshold, n.consumedRatio])).toEqual([[0.1, 0.1]]);
    // 2 more bad of 1,002: 3 ÷ 10.02 ≈ 0.299 crosses 25 %.
    await env.service.recordBatch([sample('api', 500, 5), sample('api', 500, 5)], 'svc');
    await env.service.evaluateAlerts();
    await env.service.evaluateAlerts();
    expect(env.notices.map((n) => n.threshold)).toEqual([0.1, 0.25]);
    expect(env.notices[1]!.consumedRatio).toBeCloseTo(3 / 10.02, 12);
    expect(env.log.ofType('slo.budgetNoticed')).toHaveLength(2);

    // A day later the bad events left the 1-day window; good traffic keeps the guard satisfied.
    env.clock.advance(DAY);
    await env.service.recordBatch(many(200, () => sample('api', 200, 5)), 'svc');
    await env.service.evaluateAlerts();
    expect(env.log.ofType('slo.budgetRearmed').map((e) => (e.payload as { threshold: number }).threshold).sort()).toEqual([0.1, 0.25]);
    // 1 bad of 201 (budget 2.01): ≈ 49.8 % consumed, so 10 and 25 % notice once more, 50 % not yet.
    await env.service.recordBatch([sample('api', 500, 5)], 'svc');
    await env.service.evaluateAlerts();
    expect(env.notices.map((n) => n.threshold)).toEqual([0.1, 0.25, 0.1, 0.25]);
    expect(env.service.get('api').budget.remainingRatio).toBeCloseTo(1 - 1 / 2.01, 12);
  });

  it('respects configured thresholds and the minimum-traffic guard', async () => {
    const env = setup();
    await env.service.create(spec('api', { alerting: { budgetNotices: [0.5], minEvents: 100 } }), 'owner');
    await env.service.recordBatch(many(10, () => sample('api', 500, 5)), 'svc');
    await env.service.evaluateAlerts();
    expect(env.notices).toEqual([]);
    await env.service.recordBatch(many(990, () => sample('api', 200, 5)), 'svc');
    await env.service.evaluateAlerts();
    // 10 bad of 1,000 with a budget of 10: 100 % consumed, but only the 50 % threshold is configured.
    expect(env.notices.map((n) => [n.threshold, n.consumedRatio])).toEqual([[0.5, 1]]);
    expect(AlertingSettings.safeParse({ budgetNotices: [0.1, 0.1] }).error?.issues[0]?.path).toEqual(['budgetNotices']);
  });
});

describe('slo/budgetConsumed', () => {
  it('counts bad events in a range against the current budget', async () => {
    const env = setup();
    await env.service.create(spec('api'), 'owner');
    await env.service.create(spec('web', { objective: 0.999 }), 'owner');
    // api: 1,000 events over the last day, 4 bad ones inside the incident (T0 − 3 h .. T0 − 2 h), 1 outside.
    const incidentStart = T0 - 3 * HOUR;
    await env.service.recordBatch(many(995, (i) => sample('api', 200, 5, T0 - i * MIN)), 'svc');
    await env.service.recordBatch([0, 10, 20, 59].map((m) => sample('api', 503, 5, incidentStart + m * MIN + 30_000)), 'svc');
    await env.service.recordBatch([sample('api', 503, 5, T0 - 5 * HOUR)], 'svc');
    const r = env.service.budgetConsumed({ sloIds: ['api', 'web'], from: new Date(incidentStart + 20_000).toISOString(), to: new Date(T0 - 2 * HOUR).toISOString() });
    expect(r.from).toBe('2026-03-01T09:00:00.000Z');
    expect(r.to).toBe('2026-03-01T10:00:00.000Z');
    // Budget: 1 % of 1,000 = 10; the incident's 4 bad events spent 40 %; 60 requests of the 995 fell in the hour.
    expect(r.slos[0]).toEqual({ sloId: 'api', totalEvents: 64, badEvents: 4, budgetEvents: 10, consumedRatio: 0.4 });
    expect(r.slos[1]).toEqual({ sloId: 'web', totalEvents: 0, badEvents: 0, budgetEvents: 0, consumedRatio: 0 });
  });

  it('rejects bad ranges and unknown SLOs naming the field', async () => {
    const env = setup();
    await env.service.create(spec('api'), 'owner');
    const at = (ms: number) => new Date(T0 + ms).toISOString();
    expect(() => env.service.budgetConsumed({ from: at(0), to: at(-HOUR) })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidParams, data: { issues: [{ path: 'to', message: 'must be after from' }] } }));
    expect(() => env.service.budgetConsumed({ from: at(-40 * DAY), to: at(0) })).toThrow(expect.objectContaining({ data: { issues: [expect.objectContaining({ path: 'from' })] } }));
    expect(() => env.service.budgetConsumed({ sloIds: ['api', 'nope'], from: at(-HOUR), to: at(0) })).toThrow(expect.objectContaining({ code: ErrorCode.NotFound, data: expect.objectContaining({ path: 'sloIds.1' }) }));
    expect(BudgetConsumed.params.safeParse({ from: 'yesterday', to: at(0) }).error?.issues[0]?.path).toEqual(['from']);
  });
});

describe('slo/gate', () => {
  it('allows healthy SLOs, denies on low budget and on an active page, by id or alias', async () => {
    const env = setup();
    await env.service.seedDefaults();
    await env.service.create(spec('api', { alerting: { minEvents: 10 } }), 'owner');
    expect(env.service.gate({})).toMatchObject({ decision: 'allow', reasons: [], evaluatedAt: '2026-03-01T12:00:00.000Z' });
    expect(env.service.gate({}).slos.map((s) => s.minRemainingBudget)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(env.service.gate({ sloIds: ['availability_30d'] })).toMatchObject({ decision: 'allow', slos: [{ sloId: 'slo_avail_30d', remainingRatio: 1 }] });

    // 1,000 events, 8 bad: 20 % of the 10-event budget remains.
    await env.service.recordBatch(many(1000, (i) => sample('api', i < 8 ? 500 : 200, 5, T0 - (i % 1000) * 30_000)), 'svc');
    await env.service.evaluateAlerts();
    const denied = env.service.gate({ sloIds: ['api'] });
    expect(denied.decision).toBe('deny');
    expect(denied.reasons).toEqual([{ sloId: 'api', code: 'lowBudget', message: 'api: 20 % of the error budget remains; the gate needs at least 25 %.' }]);
    expect(env.service.gate({ sloIds: ['api'], minRemainingBudget: 0.2 }).decision).toBe('allow');

    // An outage: every request of the last 5 minutes fails, which pages on the 1 h / 5 m pair.
    await env.service.recordBatch(many(100, (i) => sample('api', 500, 5, T0 - (i % 5) * MIN)), 'svc');
    await env.service.evaluateAlerts();
    const paged = env.service.gate({ sloIds: ['api'], minRemainingBudget: -100 });
    expect(paged.reasons.map((r) => r.code)).toEqual(['pageAlert']);
    expect(paged.reasons[0]!.message).toMatch(/^api: page alert active since 2026-03-01T12:00:00.000Z \(burn rate [\d.]+ over 1h, [\d.]+ over 5m\)\.$/);
    expect(env.service.gate({ sloIds: ['api'], minRemainingBudget: -100, denyOnPage: false }).decision).toBe('allow');
  });

  it('names an unknown SLO and rejects out-of-range policy values', async () => {
    const env = setup();
    await env.service.seedDefaults();
    expect(() => env.service.gate({ sloIds: ['nope'] })).toThrow(expect.objectContaining({ code: ErrorCode.NotFound, data: expect.objectContaining({ path: 'sloIds.0' }) }));
    expect(Gate.params.safeParse({ minRemainingBudget: 2 }).error?.issues[0]?.path).toEqual(['minRemainingBudget']);
    expect(Gate.params.safeParse({ sloIds: [] }).error?.issues[0]?.path).toEqual(['sloIds']);
  });
});
