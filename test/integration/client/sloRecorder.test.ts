import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { SloRecorder, connect, sloMiddleware, type DaemonClient, type RouteAwareRequest } from '../../../daemon/client';
import { GetSlo, ListSlos, CreateSlo } from '../../../daemon/protocol';
import { useDaemons } from '../helpers/daemonProcess';

const start = useDaemons();
const clients: DaemonClient[] = [];
const servers: Server[] = [];

afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await Promise.all(clients.map((c) => c.close()));
});

async function client(dataDir: string): Promise<DaemonClient> {
  const c = await connect({ dataDir, clientName: 'slo-recorder-it', reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
  clients.push(c);
  return c;
}

/**
 * A plain `http` server with an Express-like mini router in front of the handlers: `/api/orders/:id`
 * sets `req.baseUrl` and `req.route` as Express does, everything else is unrouted.
 */
async function serve(recorder: SloRecorder): Promise<string> {
  const mw = sloMiddleware(recorder, { service: 'shop', ignore: (r) => r.url === '/healthz' });
  const server = createServer((req: RouteAwareRequest, res) => {
    mw(req, res, () => {
      const url = req.url ?? '/';
      const order = /^\/api\/orders\/(\d+)$/.exec(url);
      if (order) {
        req.baseUrl = '/api/orders';
        req.route = { path: '/:id' };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: order[1] }));
      } else if (url === '/boom') res.writeHead(500).end('broken');
      else if (url === '/slow') setTimeout(() => res.writeHead(200).end('late'), 600);
      else if (url === '/hang') {
        // Never answers: the client gives up.
      } else res.writeHead(url === '/healthz' ? 200 : 404).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('SLO client library against a real daemon and a real http server', () => {
  it('records every request through the middleware; slo/get shows the counts', async () => {
    const d = await start();
    const c = await client(d.dataDir);
    await c.request(CreateSlo, {
      id: 'slo_orders',
      name: 'Orders availability',
      sli: { kind: 'availability' },
      objective: 0.99,
      filter: { service: 'shop', routePattern: '/api/orders/*' },
    });
    const recorder = SloRecorder.fromClient(c, { flushIntervalMs: 50 });
    const base = await serve(recorder);

    for (let i = 1; i <= 20; i++) expect((await fetch(`${base}/api/orders/${i}`)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/boom`)).status).toBe(500);
    expect((await fetch(`${base}/slow`)).status).toBe(200);
    expect((await fetch(`${base}/missing`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await expect(fetch(`${base}/hang`, { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    // 20 orders + 3 errors + slow + missing + the abandoned one; the health check is ignored.
    await expect.poll(() => recorder.stats().recorded, { timeout: 5000 }).toBe(26);
    await recorder.flush();
    expect(recorder.stats()).toEqual({ recorded: 26, sent: 26, dropped: 0, lost: 0, rejected: 0, invalid: 0, pending: 0 });

    const budget = async (id: string) => (await c.request(GetSlo, { id })).budget;
    // Availability: the 500s and the abandoned request (a timeout) are bad.
    expect(await budget('slo_avail_30d')).toMatchObject({ totalEvents: 26, badEvents: 4 });
    // Error rate: the 500s, the 404 and the abandoned request (recorded as 503).
    expect(await budget('slo_err_30d')).toMatchObject({ totalEvents: 26, badEvents: 5 });
    // Latency ≤ 500 ms: only /slow is over.
    expect(await budget('slo_lat_30d')).toMatchObject({ totalEvents: 26, badEvents: 1 });
    // The route template reached the daemon: only the 20 routed orders match `/api/orders/*`.
    expect(await budget('slo_orders')).toMatchObject({ totalEvents: 20, badEvents: 0 });
    await recorder.close();
  });

  it('keeps samples recorded while the daemon is down and sends them once it is back', async () => {
    const d = await start();
    const c = await client(d.dataDir);
    const recorder = SloRecorder.fromClient(c, { flushIntervalMs: 50, service: 'api' });
    await d.stop();
    await expect.poll(() => c.state, { timeout: 5000 }).toBe('reconnecting');
    for (let i = 0; i < 7; i++) recorder.recordRequest({ method: 'GET', route: `/items/${i}`, status: 200, durationMs: 5 });
    await recorder.flush();
    expect(recorder.stats()).toMatchObject({ recorded: 7, sent: 0, pending: 7, lost: 0 });

    await start({ dataDir: d.dataDir });
    await c.ready();
    await expect.poll(() => recorder.stats().sent, { timeout: 10_000 }).toBe(7);
    const { slos } = await c.request(ListSlos, {});
    expect(slos.find((s) => s.slo.id === 'slo_avail_30d')!.budget.totalEvents).toBe(7);
    await recorder.close();
    expect(recorder.stats()).toMatchObject({ sent: 7, lost: 0, dropped: 0, pending: 0 });
  });
});
