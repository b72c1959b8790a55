import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, GetStatus, Initialize, MAX_BATCH, Ping } from '../../../../daemon/protocol';
import { silentLogger } from '../../../../daemon/server/logger';
import { MetricsRegistry, ServerMetrics } from '../../../../daemon/server/metrics';
import { RestRoutes } from '../../../../daemon/server/rest';
import { Router } from '../../../../daemon/server/router';
import { DaemonServer, PortInUseError } from '../../../../daemon/server/server';
import { systemClock } from '../../../../daemon/services/shared/clock';

const TOKEN = 't'.repeat(43);
const servers: DaemonServer[] = [];

function makeServer(port = 0): DaemonServer {
  const router = new Router()
    .on(Initialize, (_p, ctx) => ({
      protocolVersion: '1.0',
      daemonVersion: 'test',
      actor: ctx.actor,
      scope: ctx.scope,
      capabilities: { methods: [], notifications: [], maxMessageBytes: 1024 * 1024, maxBatch: MAX_BATCH },
      serverTime: new Date().toISOString(),
    }))
    .on(Ping, () => ({ time: new Date().toISOString() }))
    .on(GetStatus, () => {
      throw new Error('not in this test');
    });
  const server = new DaemonServer({
    host: '127.0.0.1',
    port,
    maxMessageBytes: 1024 * 1024,
    heartbeatMs: 30_000,
    maxSendBufferBytes: 1024 * 1024,
    rateLimit: { perSecond: 0, burst: 1 },
    validateResults: true,
    router,
    rest: new RestRoutes().get('/api/daemon/status', GetStatus),
    auth: { authenticate: (t) => (t === TOKEN ? { actor: 'owner', scope: 'admin' } : undefined) },
    metrics: new ServerMetrics(new MetricsRegistry()),
    log: silentLogger,
    clock: systemClock,
  });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function open(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/rpc`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('DaemonServer', () => {
  it('reports a taken port as PortInUseError', async () => {
    const first = makeServer();
    const port = await first.listen();
    await expect(makeServer(port).listen()).rejects.toBeInstanceOf(PortInUseError);
  });

  it('closes connections with 1001 and is safe to close twice', async () => {
    const server = makeServer();
    const port = await server.listen();
    const ws = await open(port);
    expect(server.connectionCount).toBe(1);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await Promise.all([server.close('bye'), server.close('bye again')]);
    await server.close();
    expect(await closed).toBe(1001);
    expect(server.connectionCount).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('turns a handler exception on a REST route into a 500 JSON error without detail', async () => {
    const server = makeServer();
    const port = await server.listen();
    const res = await fetch(`http://127.0.0.1:${port}/api/daemon/status`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(ErrorCode.InternalError);
    expect(body.error.message).not.toContain('not in this test');
  });

  it('notifies close listeners with the connection id', async () => {
    const server = makeServer();
    const port = await server.listen();
    const ids: string[] = [];
    server.onConnectionClosed((id) => ids.push(id));
    const ws = await open(port);
    expect(server.hasConnection('ws:1')).toBe(true);
    ws.close();
    await new Promise((r) => ws.once('close', r));
    await new Promise((r) => setTimeout(r, 20));
    expect(ids).toEqual(['ws:1']);
    expect(server.hasConnection('ws:1')).toBe(false);
  });
});
