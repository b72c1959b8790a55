import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { SloRecorder, connect, sloMiddleware, type DaemonClient, type RouteAwareRequest } from '../../../daemon/client';
import { ErrorCode } from '../../../daemon/protocol';
import { rpcError, useDaemons } from '../helpers/daemonProcess';

const start = useDaemons();
const clients: DaemonClient[] = [];
const servers: Server[] = [];

afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await Promise.all(clients.map((c) => c.close()));
});

interface Row {
  service: string;
  method: string;
  route: string;
  client: string | null;
  requests: number;
  lastSeen: string;
}

/** An http server whose `/api/orders/:id` is routed the Express way; the client id comes from `x-client-id`. */
async function serve(recorder: SloRecorder): Promise<string> {
  const mw = sloMiddleware(recorder, { service: 'shop', client: 'x-client-id' });
  const server = createServer((req: RouteAwareRequest, res) => {
    mw(req, res, () => {
      if (/^\/api\/orders\/\d+$/.test(req.url ?? '')) {
        req.baseUrl = '/api/orders';
        req.route = { path: '/:id' };
        res.writeHead(200).end('{}');
      } else res.writeHead(404).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('slo/routeUsage against a real daemon', () => {
  it('counts requests per route and client from the middleware, filters, rejects bad params and survives a restart', async () => {
    const d = await start();
    const lib = await connect({ dataDir: d.dataDir, clientName: 'route-usage-it' });
    clients.push(lib);
    const recorder = SloRecorder.fromClient(lib, { flushIntervalMs: 50 });
    const base = await serve(recorder);
    const call = (path: string, client?: string) => fetch(`${base}${path}`, { headers: client ? { 'x-client-id': client } : {} }).then((r) => r.text());
    for (const [path, client] of [
      ['/api/orders/1', 'web'],
      ['/api/orders/2', 'web'],
      ['/api/orders/3', 'mobile'],
      ['/nowhere', undefined],
    ] as const) {
      await call(path, client);
    }
    await recorder.close();
    expect(recorder.stats()).toMatchObject({ sent: 4, dropped: 0 });

    const c = await d.connect();
    const all = await c.request<{ rows: Row[] }>('slo/routeUsage', { sinceDays: 7 });
    expect(all.rows.map((r) => [r.service, r.method, r.route, r.client, r.requests])).toEqual([
      ['shop', 'GET', '/api/orders/:id', 'web', 2],
      ['shop', 'GET', '/api/orders/:id', 'mobile', 1],
      ['shop', 'GET', '/nowhere', null, 1],
    ]);
    expect(Date.parse(all.rows[0]!.lastSeen)).toBeGreaterThan(Date.now() - 60_000);
    // An OpenAPI template matches the recorded Express one.
    const one = await c.request<{ rows: Row[] }>('slo/routeUsage', { sinceDays: 1, method: 'get', route: '/api/orders/{orderId}' });
    expect(one.rows.map((r) => r.client)).toEqual(['web', 'mobile']);

    // A raw batch with a client id, and one whose client id is too long (all or nothing).
    await c.request('slo/recordBatch', { samples: [{ service: 'shop', method: 'POST', route: '/api/orders', status: 201, durationMs: 3, client: 'cli' }] });
    const long = await rpcError(c.request('slo/recordBatch', { samples: [{ service: 'shop', method: 'POST', route: '/api/orders', status: 201, durationMs: 3, client: 'x'.repeat(129) }] }));
    expect(long.code).toBe(ErrorCode.InvalidParams);
    expect(JSON.stringify(long.data)).toContain('client');
    const bad = await rpcError(c.request('slo/routeUsage', { sinceDays: 0 }));
    expect(bad.code).toBe(ErrorCode.InvalidParams);
    expect(bad.message).toContain('sinceDays');

    const before = await c.request<{ rows: Row[] }>('slo/routeUsage', { sinceDays: 7 });
    expect(before.rows.find((r) => r.method === 'POST')).toMatchObject({ client: 'cli', requests: 1 });
    await c.close();
    await lib.close();
    await d.stop();
    const again = await start({ dataDir: d.dataDir });
    const c2 = await again.connect();
    expect(await c2.request('slo/routeUsage', { sinceDays: 7 })).toEqual(before);
    await c2.close();
  });
});
