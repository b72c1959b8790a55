import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SloRecorder, sloMiddleware, type RouteAwareRequest, type SloRequestSample } from '../../../../daemon/client';
import { RouteUsageParams, SloEventType, SloSpec, type SloSample } from '../../../../daemon/protocol/slo';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MAX_CLIENTS_PER_ROUTE, MAX_USAGE_CELLS, MAX_USAGE_ROUTES, RouteUsageTable, UsageAggregate, normaliseRoute } from '../../../../daemon/services/slo/routeUsage';
import { SloProjection } from '../../../../daemon/services/slo/sloProjection';
import { SloService } from '../../../../daemon/services/slo/sloService';
import { MemoryEventLog } from '../support/memoryStore';

const T0 = Date.parse('2026-03-10T12:00:00Z');
const DAY = 86_400_000;

function setup(log = new MemoryEventLog(), clock = new ManualClock(T0)) {
  const projection = new SloProjection();
  const store = log.open({ clock, projections: [projection] });
  const service = new SloService(store, projection, clock);
  return { log, clock, projection, store, service };
}

const req = (route: string, client?: string, extra: Partial<SloSample> = {}): SloSample => ({
  service: 'orders',
  method: 'GET',
  route,
  status: 200,
  durationMs: 5,
  ...(client === undefined ? {} : { client }),
  ...extra,
});
const at = (ms: number) => new Date(ms).toISOString();

describe('normaliseRoute', () => {
  it('spells OpenAPI and Express parameters alike, whatever their names, and drops trailing slashes and queries', () => {
    expect(normaliseRoute('/orders/{orderId}/items/{itemId}')).toBe('/orders/{}/items/{}');
    expect(normaliseRoute('/orders/:id/items/:item?')).toBe('/orders/{}/items/{}');
    expect(normaliseRoute('/orders/:id(\\d+)/')).toBe('/orders/{}');
    expect(normaliseRoute('orders//list?x=1')).toBe('/orders/list');
    expect(normaliseRoute('/')).toBe('/');
    // A literal segment is not a parameter.
    expect(normaliseRoute('/orders/id')).not.toBe(normaliseRoute('/orders/:id'));
  });
});

describe('route usage in the SLO service', () => {
  it('counts requests per service, method, route, client and day, SLO or not, with the newest time', async () => {
    const env = setup();
    await env.service.recordBatch(
      [
        req('/orders/:id', 'web', { timestamp: at(T0 - 3000) }),
        req('/orders/:id', 'web', { timestamp: at(T0 - 1000) }),
        req('/orders/:id', 'mobile', { timestamp: at(T0 - 2000), method: 'get' }),
        req('/orders', undefined, { timestamp: at(T0 - 2 * DAY) }),
      ],
      'svc',
    );
    // No SLO matched (the seed is not run here), yet usage is recorded in one event.
    expect(env.log.ofType(SloEventType.UsageAggregated)).toHaveLength(1);
    expect(env.service.routeUsage({ sinceDays: 7 })).toEqual([
      { service: 'orders', method: 'GET', route: '/orders', client: null, requests: 1, lastSeen: at(T0 - 2 * DAY) },
      { service: 'orders', method: 'GET', route: '/orders/:id', client: 'web', requests: 2, lastSeen: at(T0 - 1000) },
      { service: 'orders', method: 'GET', route: '/orders/:id', client: 'mobile', requests: 1, lastSeen: at(T0 - 2000) },
    ]);
    // sinceDays 1 is today only; filters by method (any case) and route in either spelling.
    expect(env.service.routeUsage({ sinceDays: 1 }).map((r) => r.route)).toEqual(['/orders/:id', '/orders/:id']);
    expect(env.service.routeUsage({ sinceDays: 7, method: 'get', route: '/orders/{orderId}' }).map((r) => r.client)).toEqual(['web', 'mobile']);
    expect(env.service.routeUsage({ sinceDays: 7, service: 'billing' })).toEqual([]);
  });

  it('counts single slo/record calls after their flush, and idempotent batches once', async () => {
    const env = setup();
    await env.service.create(SloSpec.parse({ id: 'avail', name: 'A', sli: { kind: 'availability' }, objective: 0.99 }), 'owner');
    const one = env.service.record(req('/a', 'cli'), 'svc');
    expect(env.service.routeUsage({ sinceDays: 1 })).toEqual([]);
    await env.service.flush();
    await one;
    await env.service.recordBatch([req('/a', 'cli'), req('/b')], 'svc', 'k1');
    await env.service.recordBatch([req('/a', 'cli'), req('/b')], 'svc', 'k1');
    expect(env.service.routeUsage({ sinceDays: 1 }).map((r) => [r.route, r.client, r.requests])).toEqual([
      ['/a', 'cli', 2],
      ['/b', null, 1],
    ]);
    expect(env.service.get('avail').budget.totalEvents).toBe(3);
  });

  it('keeps usage across a restart from a snapshot and from the log alone', async () => {
    const env = setup();
    await env.service.recordBatch([req('/a', 'cli'), req('/a', 'cli')], 'svc');
    await env.store.snapshot();
    await env.service.recordBatch([req('/a', 'cli')], 'svc', 'b1');
    const before = env.service.routeUsage({ sinceDays: 3 });
    expect(before[0]!.requests).toBe(3);
    await env.service.close();
    const again = setup(env.log, env.clock);
    expect(again.service.routeUsage({ sinceDays: 3 })).toEqual(before);
    const fromLog = new SloProjection();
    for (const e of env.log.records) fromLog.apply(e);
    expect(fromLog.usage.snapshot()).toEqual(again.projection.usage.snapshot());
  });

  it('answers per API operation, matching path templates to recorded routes and summing services', async () => {
    const env = setup();
    await env.service.recordBatch(
      [
        req('/orders/:id', 'web'),
        req('/orders/:id', 'web', { service: 'orders-v2' }),
        req('/orders/:id', 'batch'),
        req('/orders/:id', 'web', { method: 'DELETE' }),
        req('/health'),
      ],
      'svc',
    );
    const ops = [
      { method: 'get', path: '/orders/{orderId}' },
      { method: 'POST', path: '/orders' },
      { method: 'DELETE', path: '/orders/{id}' },
    ];
    expect(env.service.operationUsage(ops, 30)).toEqual([
      { method: 'get', path: '/orders/{orderId}', client: 'web', requests: 2, lastSeen: at(T0) },
      { method: 'get', path: '/orders/{orderId}', client: 'batch', requests: 1, lastSeen: at(T0) },
      { method: 'DELETE', path: '/orders/{id}', client: 'web', requests: 1, lastSeen: at(T0) },
    ]);
    expect(() => env.service.operationUsage(ops, 0)).toThrow(/sinceDays/);
  });

  it('forgets days older than it keeps as newer days arrive', async () => {
    const env = setup();
    await env.service.recordBatch([req('/old', 'x')], 'svc');
    env.clock.advance(93 * DAY);
    await env.service.recordBatch([req('/new', 'x')], 'svc');
    expect(env.projection.usage.snapshot().map((r) => r[3])).toEqual(['/new']);
  });

  it('rejects a bad query naming the field', () => {
    expect(RouteUsageParams.safeParse({ sinceDays: 0 }).error?.issues[0]?.path).toEqual(['sinceDays']);
    expect(RouteUsageParams.safeParse({ sinceDays: 1, route: '' }).error?.issues[0]?.path).toEqual(['route']);
    expect(RouteUsageParams.safeParse({ sinceDays: 94 }).success).toBe(false);
  });
});

describe('route usage bounds', () => {
  const day = '2026-03-10';
  const row = (route: string, client: string | null, requests = 1) => ({ day, service: 's', method: 'GET', route, client, requests, lastSeen: at(T0) });

  it(`counts clients past ${MAX_CLIENTS_PER_ROUTE} per route as "other"`, () => {
    const table = new RouteUsageTable();
    for (let i = 0; i < MAX_CLIENTS_PER_ROUTE + 5; i++) table.add(row('/r', `c${i}`, 2));
    const totals = table.totals(0, Infinity);
    expect(totals).toHaveLength(MAX_CLIENTS_PER_ROUTE + 1);
    expect(totals.find((t) => t.client === 'other')?.requests).toBe(10);
    expect(totals.reduce((n, t) => n + t.requests, 0)).toBe(2 * (MAX_CLIENTS_PER_ROUTE + 5));
  });

  it(`counts routes past ${MAX_USAGE_ROUTES} a day under route "other" and cells past ${MAX_USAGE_CELLS} under client "other"`, () => {
    const table = new RouteUsageTable();
    for (let i = 0; i < MAX_USAGE_ROUTES + 3; i++) table.add(row(`/r${i}`, null));
    expect(table.totals(0, Infinity).find((t) => t.route === 'other')?.requests).toBe(3);
    const cells = new RouteUsageTable();
    for (let r = 0; r < MAX_USAGE_CELLS / 50 + 1; r++) for (let c = 0; c < 50; c++) cells.add(row(`/r${r}`, `c${c}`));
    const overflow = cells.totals(0, Infinity).filter((t) => t.client === 'other');
    expect(overflow.reduce((n, t) => n + t.requests, 0)).toBe(50);
  });

  it('keeps one batch event small: clients past the cap fold into "other" before the event is written', () => {
    const agg = new UsageAggregate();
    for (let i = 0; i < MAX_CLIENTS_PER_ROUTE * 3; i++) agg.add({ service: 's', method: 'GET', route: '/r', client: `c${i}` }, T0);
    const rows = agg.payloads();
    expect(rows).toHaveLength(MAX_CLIENTS_PER_ROUTE + 1);
    expect(rows.reduce((n, r) => n + r.requests, 0)).toBe(MAX_CLIENTS_PER_ROUTE * 3);
  });
});

describe('client ids from the recorder and the middleware', () => {
  class FakeResponse extends EventEmitter {
    statusCode = 200;
    headersSent = false;
    writableFinished = false;
    end(): void {
      this.headersSent = true;
      this.writableFinished = true;
      this.emit('finish');
    }
  }
  const serve = (options: Parameters<typeof sloMiddleware>[1], headers: Record<string, string | string[]>) => {
    const samples: SloRequestSample[] = [];
    const res = new FakeResponse();
    sloMiddleware({ recordRequest: (s) => samples.push(s) }, options)({ method: 'GET', url: '/x', headers } as unknown as RouteAwareRequest, res as unknown as ServerResponse);
    res.end();
    return samples[0]!;
  };

  it('reads the client id from a header (case-insensitive name, first of repeats) or a function', () => {
    expect(serve({ client: 'X-Client-Id' }, { 'x-client-id': ' web ' }).client).toBe('web');
    expect(serve({ client: 'x-client-id' }, { 'x-client-id': ['a', 'b'] }).client).toBe('a');
    expect(serve({ client: 'x-client-id' }, {}).client).toBeUndefined();
    expect(serve({ client: () => 'fn' }, {}).client).toBe('fn');
    expect(
      serve(
        {
          client: () => {
            throw new Error('boom');
          },
        },
        {},
      ),
    ).toMatchObject({ route: '/x', status: 200 });
  });

  it('sends the client id in the batch, clipped to 128 characters, and drops an empty one', async () => {
    const sent: SloSample[][] = [];
    const recorder = new SloRecorder({ isReady: () => true, send: async (s) => void sent.push(s) }, { service: 'svc', now: () => T0 });
    recorder.recordRequest({ method: 'GET', route: '/a', status: 200, durationMs: 1, client: 'x'.repeat(200) });
    recorder.recordRequest({ method: 'GET', route: '/a', status: 200, durationMs: 1, client: '' });
    await recorder.close();
    expect(sent.flat().map((s) => s.client?.length)).toEqual([128, undefined]);
  });
});
