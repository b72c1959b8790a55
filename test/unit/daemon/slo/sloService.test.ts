import { describe, expect, it } from 'vitest';
import { ErrorCode, RpcError } from '../../../../daemon/protocol';
import { SloSpec, type SloAlert, type SloSample } from '../../../../daemon/protocol/slo';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { SloProjection } from '../../../../daemon/services/slo/sloProjection';
import { EVALUATE_EVERY_MS, FLUSH_DELAY_MS, SloService } from '../../../../daemon/services/slo/sloService';
import { MemoryEventLog } from '../support/memoryStore';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function setup(log = new MemoryEventLog(), clock = new ManualClock(Date.parse('2026-03-01T12:00:00Z'))) {
  const projection = new SloProjection();
  const store = log.open({ clock, projections: [projection] });
  const changes: string[] = [];
  const alerts: { state: 'fired' | 'resolved'; alert: SloAlert }[] = [];
  const service = new SloService(store, projection, clock, {
    changed: (id, change) => changes.push(`${id}:${change}`),
    alerted: (state, alert) => alerts.push({ state, alert }),
  });
  return { log, clock, projection, store, service, changes, alerts };
}

type Env = ReturnType<typeof setup>;

const spec = (id: string, extra: Record<string, unknown> = {}) =>
  SloSpec.parse({ id, name: id, sli: { kind: 'availability' }, objective: 0.999, filter: { service: id }, ...extra });

/** `perMinute` requests in each of the `minutes` minutes ending with the current one, `badPerMinute` of them 500s. */
function traffic(env: Env, service: string, minutes: number, perMinute: number, badPerMinute: number): SloSample[] {
  const now = env.clock.now();
  const out: SloSample[] = [];
  for (let m = minutes - 1; m >= 0; m--) {
    const minuteStart = Math.floor(now / MIN) * MIN - m * MIN;
    for (let i = 0; i < perMinute; i++) {
      const at = Math.min(now, minuteStart + Math.floor((i * MIN) / perMinute));
      out.push({ service, method: 'GET', route: '/x', status: i < badPerMinute ? 500 : 200, durationMs: 10, timestamp: new Date(at).toISOString() });
    }
  }
  return out;
}

async function send(env: Env, samples: SloSample[]): Promise<void> {
  for (let i = 0; i < samples.length; i += 10_000) await env.service.recordBatch(samples.slice(i, i + 10_000), 'tester');
}

/** Advance one minute at a time, sending traffic for each new minute and evaluating alerts. */
async function run(env: Env, service: string, minutes: number, perMinute: number, badPerMinute: number): Promise<void> {
  for (let i = 0; i < minutes; i++) {
    env.clock.advance(MIN);
    await send(env, traffic(env, service, 1, perMinute, badPerMinute));
    await env.service.evaluateAlerts();
  }
}

const burn = (env: Env, id: string, window: string) => env.service.get(id).burnRates.find((b) => b.window === window)!.burnRate;
const pages = (env: Env, state: 'fired' | 'resolved') => env.alerts.filter((a) => a.state === state && a.alert.severity === 'page');

describe('SloService: seeding and definitions', () => {
  it('seeds the three default SLOs once, with their old keys as aliases', async () => {
    const env = setup();
    await env.service.seedDefaults();
    await env.service.seedDefaults();
    expect(env.log.ofType('slo.created')).toHaveLength(3);
    expect(env.service.list().map((s) => [s.slo.id, s.slo.objective, s.slo.windowDays, s.status])).toEqual([
      ['slo_avail_30d', 0.999, 30, 'healthy'],
      ['slo_err_30d', 0.999, 30, 'healthy'],
      ['slo_lat_30d', 0.99, 30, 'healthy'],
    ]);
    expect(env.service.get('availability_30d').slo.id).toBe('slo_avail_30d');
    expect(env.service.get('latency_p99_30d').slo.sli).toEqual({ kind: 'latency', thresholdMs: 500 });
    expect(env.service.get('error_rate_30d').slo.id).toBe('slo_err_30d');
    for (const id of ['slo_avail_30d', 'slo_lat_30d', 'slo_err_30d']) await env.service.delete(id, 'owner');
    await env.service.seedDefaults();
    expect(env.service.list()).toEqual([]);
  });

  it('creates, updates and deletes, refusing duplicates and unknown ids without writing', async () => {
    const env = setup();
    await env.service.seedDefaults();
    await env.service.create(spec('checkout'), 'owner');
    const before = env.log.records.length;
    await expect(env.service.create(spec('checkout'), 'owner')).rejects.toMatchObject({ code: ErrorCode.Duplicate });
    await expect(env.service.create(spec('availability_30d'), 'owner')).rejects.toMatchObject({ code: ErrorCode.Duplicate });
    await expect(env.service.update({ id: 'nope', name: 'x' }, 'owner')).rejects.toMatchObject({ code: ErrorCode.NotFound });
    expect(env.log.records.length).toBe(before);
    const updated = await env.service.update({ id: 'checkout', objective: 0.99, labels: { team: 'pay' } }, 'owner');
    expect(updated).toMatchObject({ objective: 0.99, labels: { team: 'pay' }, name: 'checkout' });
    await env.service.delete('checkout', 'owner');
    expect(() => env.service.get('checkout')).toThrow(RpcError);
    expect(env.changes).toEqual(['checkout:created', 'checkout:updated', 'checkout:deleted']);
  });
});

describe('SloService: ingestion', () => {
  it('aggregates single records per SLO and minute, written once after the 50 ms flush', async () => {
    const env = setup();
    await env.service.seedDefaults();
    const sample = { service: 'api', method: 'GET', route: '/a', status: 200, durationMs: 900 };
    const acks = [env.service.record(sample, 'svc'), env.service.record(sample, 'svc'), env.service.record({ ...sample, status: 503 }, 'svc')];
    expect(env.log.ofType('slo.samplesAggregated')).toHaveLength(0);
    env.clock.advance(FLUSH_DELAY_MS);
    expect(await Promise.all(acks)).toEqual([1, 2, 3].map(() => ({ ok: true, matchedSlos: 3 })));
    const rows = env.log.ofType('slo.samplesAggregated').map((e) => e.payload as { sloId: string; good: number; total: number; minute: string });
    expect(rows.map((r) => [r.sloId, r.good, r.total])).toEqual([
      ['slo_avail_30d', 2, 3],
      ['slo_err_30d', 2, 3],
      ['slo_lat_30d', 0, 3],
    ]);
    expect(rows[0]!.minute).toBe('2026-03-01T12:00:00.000Z');
  });

  it('rejects a whole batch naming the field and index of a future or too old timestamp', async () => {
    const env = setup();
    await env.service.seedDefaults();
    const ok = { service: 'api', method: 'GET', route: '/a', status: 200, durationMs: 1 };
    const at = (ms: number) => new Date(env.clock.now() + ms).toISOString();
    const before = env.log.records.length;
    const future = env.service.recordBatch([ok, ok, { ...ok, timestamp: at(60_000) }], 'svc');
    await expect(future).rejects.toMatchObject({ code: ErrorCode.InvalidParams, data: { issues: [{ path: 'samples.2.timestamp' }] } });
    const old = env.service.recordBatch([{ ...ok, timestamp: at(-31 * DAY) }, ok], 'svc');
    await expect(old).rejects.toMatchObject({ code: ErrorCode.InvalidParams, data: { issues: [{ path: 'samples.0.timestamp' }] } });
    expect(env.log.records.length).toBe(before);
    // A little clock skew is fine.
    expect(await env.service.recordBatch([{ ...ok, timestamp: at(2_000) }], 'svc')).toEqual({ accepted: 1, aggregates: 3, duplicate: false });
  });

  it('acknowledges nothing when the log cannot make the aggregate durable', async () => {
    const env = setup();
    await env.service.seedDefaults();
    env.log.failAppends = new Error('disk full');
    const ok = { service: 'api', method: 'GET', route: '/a', status: 200, durationMs: 1 };
    await expect(env.service.recordBatch([ok], 'svc')).rejects.toThrow('disk full');
    const single = env.service.record(ok, 'svc');
    env.clock.advance(FLUSH_DELAY_MS);
    await expect(single).rejects.toThrow('disk full');
    env.log.failAppends = undefined;
    expect(env.service.get('slo_avail_30d').budget.totalEvents).toBe(0);
  });

  it('answers a good/bad series per bucket inside the window', async () => {
    const env = setup();
    await env.service.create(spec('sa'), 'owner');
    await send(env, traffic(env, 'sa', 10, 10, 2));
    const s = env.service.series({ id: 'sa', from: new Date(env.clock.now() - 10 * MIN).toISOString(), resolutionMinutes: 5 });
    expect(s.buckets.map((b) => [b.good, b.bad])).toEqual([
      [32, 8],
      [40, 10],
      [8, 2],
    ]);
    const explicit = env.service.series({ id: 'sa', from: new Date(env.clock.now() - 10 * MIN).toISOString(), to: new Date(env.clock.now()).toISOString(), resolutionMinutes: 5 });
    expect(explicit.buckets.map((b) => [b.start.slice(11, 16), b.good, b.bad])).toEqual([
      ['11:50', 32, 8],
      ['11:55', 40, 10],
    ]);
    expect(() => env.service.series({ id: 'sa', from: new Date(env.clock.now() - 40 * DAY).toISOString(), resolutionMinutes: 60 })).toThrow(/from/);
  });
});

describe('SloService: hand-computed budgets and burn rates', () => {
  it('steady 0.1 % errors on a 99.9 % SLO burns at exactly 1 in every window', async () => {
    const env = setup();
    await env.service.create(spec('steady'), 'owner');
    await send(env, traffic(env, 'steady', 60, 1000, 1));
    const s = env.service.get('steady');
    expect(s.burnRates.map((b) => b.burnRate)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    // 60,000 events allow 60 bad ones; 60 were bad.
    expect(s.budget).toMatchObject({ totalEvents: 60_000, badEvents: 60, consumedEvents: 60, remainingRatio: 0 });
    expect(s.budget.budgetEvents).toBeCloseTo(60, 9);
    expect(s.status).toBe('breached');
    expect(s.burnLevel).toBe('normal');
  });

  it('reports status, remaining budget and projected exhaustion from the counts', async () => {
    const env = setup();
    // 10,000 events at 99 % allow 100 bad ones.
    for (const [id, bad] of [['sa', 50], ['sb', 80], ['sc', 95], ['sd', 120]] as const) {
      await env.service.create(spec(id, { objective: 0.99 }), 'owner');
      await send(env, traffic(env, id, 50, 200, 0).map((s, i) => (i < bad ? { ...s, status: 500 } : s)));
    }
    const got = env.service.list().map((s) => [s.slo.id, s.status, Number(s.budget.remainingRatio.toFixed(12))]);
    expect(got).toEqual([
      ['sa', 'healthy', 0.5],
      ['sb', 'warning', 0.2],
      ['sc', 'critical', 0.05],
      ['sd', 'breached', -0.2],
    ]);
    // a: 1 h burn = (50 / 10,000) / 0.01 = 0.5; half the budget left lasts 0.5 × 30 d / 0.5 = 30 d.
    const a = env.service.get('sa');
    expect(a.burnRates.find((b) => b.window === '1h')!.burnRate).toBe(0.5);
    expect(a.projectedExhaustionAt).toBe(new Date(env.clock.now() + 30 * DAY).toISOString());
    expect(env.service.get('sd').projectedExhaustionAt).toBe(new Date(env.clock.now()).toISOString());
  });

  it('returns the budget when bad minutes roll out of the window', async () => {
    const env = setup();
    await env.service.create(spec('roll', { objective: 0.99, windowDays: 7 }), 'owner');
    await send(env, traffic(env, 'roll', 1, 1000, 20));
    // 1,000 events allow 10 bad; 20 were bad.
    expect(env.service.get('roll').budget.remainingRatio).toBe(-1);
    env.clock.advance(6 * DAY);
    await send(env, traffic(env, 'roll', 1, 1000, 0));
    expect(env.service.get('roll').budget).toMatchObject({ totalEvents: 2000, badEvents: 20, remainingRatio: 0 });
    env.clock.advance(DAY);
    expect(env.service.get('roll').budget).toMatchObject({ totalEvents: 1000, badEvents: 0, remainingRatio: 1 });
    expect(env.service.get('roll').status).toBe('healthy');
  });
});

describe('SloService: multi-window burn-rate alerts', () => {
  it('pages once on a 60-minute outage and resolves once on recovery', async () => {
    const env = setup();
    await env.service.create(spec('api'), 'owner');
    await send(env, traffic(env, 'api', 24 * 60, 20, 0));
    await run(env, 'api', 60, 20, 20);
    expect(pages(env, 'fired')).toHaveLength(1);
    expect(pages(env, 'fired')[0]!.alert.rule).toEqual({ longWindow: '1h', shortWindow: '5m', threshold: 14.4 });
    expect(env.service.get('api').activeAlerts.map((a) => a.severity)).toContain('page');
    expect(env.service.get('api').burnLevel).toBe('critical');
    await run(env, 'api', 180, 20, 0);
    expect(pages(env, 'resolved')).toHaveLength(1);
    expect(pages(env, 'fired')).toHaveLength(1);
    expect(env.service.alerts('api', false).filter((a) => a.severity === 'page')).toEqual([]);
    expect(env.service.alerts('api', true).find((a) => a.severity === 'page')?.resolvedAt).toBeDefined();
    expect(env.log.ofType('slo.alertFired').filter((e) => (e.payload as SloAlert).severity === 'page')).toHaveLength(1);
  });

  it('does not page on a 2-minute blip, though the 5 m burn exceeds 14.4', async () => {
    const env = setup();
    await env.service.create(spec('api'), 'owner');
    await send(env, traffic(env, 'api', 24 * 60, 20, 0));
    await run(env, 'api', 2, 20, 6);
    // 5 m: 12 bad of 100 → 120; 1 h: 12 of 1,200 → 10, under 14.4.
    expect(burn(env, 'api', '5m')).toBeCloseTo(120, 9);
    expect(burn(env, 'api', '1h')).toBeCloseTo(10, 9);
    await run(env, 'api', 30, 20, 0);
    expect(env.alerts).toEqual([]);
  });

  it('holds alerts below the minimum traffic, and fires once the guard is lowered', async () => {
    const env = setup();
    await env.service.create(spec('quiet'), 'owner');
    await send(env, traffic(env, 'quiet', 1, 10, 10));
    await env.service.evaluateAlerts();
    expect(burn(env, 'quiet', '1h')).toBe(1000);
    expect(env.alerts).toEqual([]);
    const alerting = { ...env.service.get('quiet').slo.alerting, minEvents: 5 };
    await env.service.update({ id: 'quiet', alerting }, 'owner');
    await env.service.evaluateAlerts();
    await env.service.evaluateAlerts();
    expect(env.alerts.map((a) => `${a.state}:${a.alert.severity}`).sort()).toEqual(['fired:page', 'fired:ticket']);
  });

  it('re-evaluates on the 30 s timer, so alerts resolve without new traffic', async () => {
    const env = setup();
    await env.service.create(spec('tt', { alerting: { minEvents: 5 } }), 'owner');
    await send(env, traffic(env, 'tt', 1, 10, 10));
    await env.service.evaluateAlerts();
    expect(pages(env, 'fired')).toHaveLength(1);
    env.service.start();
    // Two hours of silence in 30 s steps; only the service's own timer evaluates.
    for (let i = 0; i < 2 * 60 * 2; i++) {
      env.clock.advance(EVALUATE_EVERY_MS);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(pages(env, 'resolved')).toHaveLength(1);
    await env.service.close();
  });
});

describe('SloProjection: restart', () => {
  it('restores definitions, counters and alerts from a snapshot and from a replay', async () => {
    const env = setup();
    await env.service.seedDefaults();
    await env.service.create(spec('rr', { alerting: { minEvents: 5 } }), 'owner');
    await send(env, traffic(env, 'rr', 3, 10, 10));
    await env.service.evaluateAlerts();
    const before = env.service.get('rr');
    const replayed = setup(env.log, env.clock);
    expect(replayed.service.get('rr')).toEqual(before);
    expect(replayed.service.get('availability_30d').slo.id).toBe('slo_avail_30d');
    const restored = new SloProjection();
    restored.restore(JSON.parse(JSON.stringify(env.projection.snapshot())));
    expect(restored.snapshot()).toEqual(env.projection.snapshot());
    await replayed.service.seedDefaults();
    expect(env.log.ofType('slo.created')).toHaveLength(4);
  });
});
