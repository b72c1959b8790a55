import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../daemon/protocol';
import { useDaemons, rpcError } from '../helpers/daemonProcess';

const start = useDaemons();

interface Status {
  slo: { id: string; aliases: string[]; objective: number };
  status: string;
  budget: { totalEvents: number; badEvents: number; remainingRatio: number };
  burnRates: { window: string; burnRate: number; totalEvents: number }[];
  activeAlerts: { severity: string }[];
}

const sample = (status: number, durationMs = 20) => ({ service: 'api', method: 'GET', route: '/api/orders/1', status, durationMs });

describe('slo feature over RPC and REST', () => {
  it('seeds, records, evaluates, alerts, answers REST and keeps everything across restarts', async () => {
    const d = await start();
    const c = await d.connect();

    // Seeded defaults, reachable by id and alias.
    const list = await c.request<{ slos: Status[] }>('slo/list', {});
    expect(list.slos.map((s) => s.slo.id)).toEqual(['slo_avail_30d', 'slo_err_30d', 'slo_lat_30d']);
    expect((await c.request<Status>('slo/get', { id: 'availability_30d' })).slo.id).toBe('slo_avail_30d');

    // A batch: 1,000 requests, 2 of them 503s and 5 slow ones.
    const batch = Array.from({ length: 1000 }, (_, i) => sample(i < 2 ? 503 : 200, i >= 990 ? 900 : 20));
    expect(await c.request('slo/recordBatch', { samples: batch })).toEqual({ accepted: 1000, aggregates: 3, duplicate: false });
    const avail = await c.request<Status>('slo/get', { id: 'slo_avail_30d' });
    // 1,000 events at 99.9 % allow 1 bad one; 2 were bad.
    expect(avail.budget).toMatchObject({ totalEvents: 1000, badEvents: 2, remainingRatio: -1 });
    expect(avail.status).toBe('breached');
    expect(avail.burnRates.find((b) => b.window === '1h')!.burnRate).toBe(2);
    expect((await c.request<Status>('slo/get', { id: 'slo_lat_30d' })).budget.badEvents).toBe(10);

    // Single records are acknowledged after the aggregation flush.
    expect(await c.request('slo/record', sample(200))).toEqual({ ok: true, matchedSlos: 3 });
    expect((await c.request<Status>('slo/get', { id: 'slo_err_30d' })).budget.totalEvents).toBe(1001);

    // Bad input: named field, nothing recorded.
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const bad = await rpcError(c.request('slo/recordBatch', { samples: [sample(200), { ...sample(200), timestamp: future }] }));
    expect(bad.code).toBe(ErrorCode.InvalidParams);
    expect(JSON.stringify(bad.data)).toContain('samples.1.timestamp');
    expect((await rpcError(c.request('slo/record', { ...sample(200), durationMs: -1 }))).code).toBe(ErrorCode.InvalidParams);
    expect((await rpcError(c.request('slo/create', { id: 'x_slo', name: 'X', sli: { kind: 'availability' }, objective: 1 }))).message).toContain('objective');
    expect((await c.request<Status>('slo/get', { id: 'slo_err_30d' })).budget.totalEvents).toBe(1001);

    // CRUD and an alert: a checkout SLO with a low traffic guard pages on an outage.
    const created = await c.request<{ id: string }>('slo/create', {
      id: 'slo_checkout',
      name: 'Checkout availability',
      sli: { kind: 'availability' },
      objective: 0.99,
      windowDays: 7,
      filter: { service: 'checkout', routePattern: '/pay/**' },
      alerting: { minEvents: 10 },
    });
    expect(created.id).toBe('slo_checkout');
    expect((await rpcError(c.request('slo/create', { id: 'slo_checkout', name: 'X', sli: { kind: 'availability' }, objective: 0.9 }))).code).toBe(
      ErrorCode.Duplicate,
    );
    await c.request('slo/update', { id: 'slo_checkout', labels: { team: 'payments' } });
    const outage = Array.from({ length: 50 }, () => ({ service: 'checkout', method: 'POST', route: '/pay/card', status: 500, durationMs: 5 }));
    await c.request('slo/recordBatch', { samples: outage });
    const isCheckoutPage = (n: { method: string; params: unknown }) =>
      n.method === 'slo/didAlert' && JSON.stringify(n.params).includes('"alertId":"slo_checkout:page"');
    const [fired] = await c.waitForNotifications(1, isCheckoutPage);
    expect(fired!.params).toMatchObject({ state: 'fired', alert: { sloId: 'slo_checkout', severity: 'page' } });
    expect(c.notifications.some((n) => n.method === 'slo/didChange')).toBe(true);
    const alerts = await c.request<{ alerts: { severity: string; sloId: string }[] }>('slo/alerts', { id: 'slo_checkout' });
    expect(alerts.alerts.map((a) => a.severity).sort()).toEqual(['page', 'ticket']);
    const series = await c.request<{ buckets: { good: number; bad: number }[] }>('slo/series', { id: 'slo_checkout', resolutionMinutes: 1440 });
    expect(series.buckets.reduce((n, b) => n + b.bad, 0)).toBe(50);

    // REST with the bearer token.
    const dash = await d.http('/api/slo/dashboard');
    expect(dash.status).toBe(200);
    expect(((await dash.json()) as { slos: Status[] }).slos).toHaveLength(4);
    const burn = await d.http('/api/slo/burn-rate/availability_30d');
    expect(burn.status).toBe(200);
    expect(((await burn.json()) as Status).slo.id).toBe('slo_avail_30d');
    expect((await d.http('/api/slo/burn-rate/nope')).status).toBe(404);
    expect((await d.http('/api/slo/dashboard', { token: null })).status).toBe(401);
    const posted = await d.http('/api/slo/samples', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ samples: [sample(200), sample(200)] }),
    });
    expect(posted.status).toBe(200);
    expect(await posted.json()).toEqual({ accepted: 2, aggregates: 3, duplicate: false });
    const rejected = await d.http('/api/slo/samples', { method: 'POST', body: JSON.stringify({ samples: [] }) });
    expect(rejected.status).toBe(400);

    // Acknowledged samples survive kill -9.
    expect(await c.request('slo/record', sample(503))).toEqual({ ok: true, matchedSlos: 3 });
    const before = await c.request<Status>('slo/get', { id: 'slo_avail_30d' });
    // The seeded SLOs have no filter: the 50 checkout requests count for them too.
    expect(before.budget).toMatchObject({ totalEvents: 1054, badEvents: 53 });
    await d.stop('SIGKILL');

    const d2 = await start({ dataDir: d.dataDir });
    const c2 = await d2.connect();
    const after = await c2.request<Status>('slo/get', { id: 'slo_avail_30d' });
    expect(after.budget).toEqual(before.budget);
    const checkout = await c2.request<Status & { slo: { labels: Record<string, string> } }>('slo/get', { id: 'slo_checkout' });
    expect(checkout.slo.labels).toEqual({ team: 'payments' });
    expect(checkout.activeAlerts.map((a) => a.severity).sort()).toEqual(['page', 'ticket']);

    // Delete, then a graceful restart does not re-seed what was deleted.
    expect(await c2.request('slo/delete', { id: 'latency_p99_30d' })).toEqual({ ok: true });
    expect((await rpcError(c2.request('slo/get', { id: 'slo_lat_30d' }))).code).toBe(ErrorCode.NotFound);
    await d2.stop();
    const d3 = await start({ dataDir: d.dataDir });
    const c3 = await d3.connect();
    expect((await c3.request<{ slos: Status[] }>('slo/list', {})).slos.map((s) => s.slo.id)).toEqual(['slo_avail_30d', 'slo_checkout', 'slo_err_30d']);
  }, 60_000);
});
