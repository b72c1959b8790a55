import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../daemon/protocol';
import { RpcClient, UpgradeRefused, sleep, useDaemons } from '../helpers/daemonProcess';

const spawn = useDaemons();
const start = (args: string[] = []) => spawn({ args });

async function refusal(promise: Promise<unknown>): Promise<UpgradeRefused> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(UpgradeRefused);
    return e as UpgradeRefused;
  }
  throw new Error('expected the upgrade to be refused');
}

const lastSeqOf = async (c: RpcClient) => (await c.request<{ eventLog: { lastSeq: number } }>('daemon/status', {})).eventLog.lastSeq;

describe('authentication', () => {
  it('answers 401 before upgrading without a token or with a wrong one, 403 for a browser Origin', async () => {
    const d = await start();
    const first = await d.connect();
    // Services seed their defaults on first start: compare with the log as it was, not with 0.
    const before = await lastSeqOf(first);
    await first.close();
    const none = await refusal(RpcClient.connect(d.wsUrl, { token: null }));
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({ error: { code: ErrorCode.Unauthorized, message: expect.stringContaining('Authorization') } });
    const wrong = await refusal(RpcClient.connect(d.wsUrl, { token: 'x'.repeat(43) }));
    expect(wrong.status).toBe(401);
    const browser = await refusal(RpcClient.connect(d.wsUrl, { token: d.token, headers: { Origin: 'https://evil.example' } }));
    expect(browser.status).toBe(403);
    const elsewhere = await refusal(RpcClient.connect(`ws://127.0.0.1:${d.port}/other`, { token: d.token }));
    expect(elsewhere.status).toBe(404);
    // The daemon is unaffected.
    const c = await d.connect();
    expect(await lastSeqOf(c)).toBe(before);
    await c.close();
  });

  it('protects REST and /metrics the same way', async () => {
    const d = await start();
    const first = await d.connect();
    const before = await lastSeqOf(first);
    await first.close();
    for (const path of ['/api/daemon/status', '/api/events', '/metrics']) {
      const none = await d.http(path, { token: null });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toContain('Bearer');
      expect(await none.json()).toMatchObject({ error: { code: ErrorCode.Unauthorized } });
      expect((await d.http(path, { token: 'wrong' })).status).toBe(401);
      expect((await d.http(path, { headers: { Origin: 'http://localhost:3000' } })).status).toBe(403);
    }
    const post = await d.http('/api/events', { method: 'POST', token: null, body: JSON.stringify({ type: 'api.request' }) });
    expect(post.status).toBe(401);
    expect((await d.http('/healthz', { headers: { Origin: 'http://x' }, token: null })).status).toBe(403);
    const c = await d.connect();
    expect(await lastSeqOf(c)).toBe(before);
    await c.close();
  });

  it('scopes named tokens, records them as actor and cuts a revoked token', async () => {
    const d = await start();
    const owner = await d.connect();
    const reader = await owner.request<{ token: string; name: string; scope: string }>('auth/createToken', { name: 'dashboard', scope: 'read' });
    const writer = await owner.request<{ token: string }>('auth/createToken', { name: 'ci-bot', scope: 'write' });
    expect(reader).toMatchObject({ name: 'dashboard', scope: 'read', createdBy: 'owner' });
    await expect(owner.request('auth/createToken', { name: 'dashboard', scope: 'admin' })).rejects.toMatchObject({ code: ErrorCode.Duplicate });
    await expect(owner.request('auth/createToken', { name: 'owner', scope: 'admin' })).rejects.toMatchObject({ code: ErrorCode.InvalidParams });

    const r = await d.connect({ token: reader.token });
    const before = await lastSeqOf(r);
    await expect(r.request('events/publish', { type: 'api.request' })).rejects.toMatchObject({ code: ErrorCode.Forbidden });
    await expect(r.request('auth/listTokens', {})).rejects.toMatchObject({ code: ErrorCode.Forbidden });
    expect(await lastSeqOf(r)).toBe(before);
    await expect(r.request('events/query', {})).resolves.toHaveProperty('events');
    const restRead = await d.http('/api/events', { method: 'POST', token: reader.token, body: JSON.stringify({ type: 'api.request' }) });
    expect(restRead.status).toBe(403);

    const w = await d.connect({ token: writer.token });
    const published = await w.request<{ seq: number }>('events/publish', { type: 'api.request' });
    const { events } = await w.request<{ events: { actor: string }[] }>('events/query', { afterSeq: published.seq - 1 });
    expect(events[0].actor).toBe('ci-bot');
    await expect(w.request('auth/createToken', { name: 'escalate', scope: 'admin' })).rejects.toMatchObject({ code: ErrorCode.Forbidden });

    const { tokens } = await owner.request<{ tokens: Record<string, unknown>[] }>('auth/listTokens', {});
    expect(tokens.map((t) => t.name)).toEqual(['ci-bot', 'dashboard']);
    expect(JSON.stringify(tokens)).not.toContain(reader.token);
    const log = await owner.request<{ events: unknown[] }>('events/query', { types: ['auth.**'] });
    expect(JSON.stringify(log.events)).not.toContain(reader.token);
    expect(JSON.stringify(log.events)).not.toContain(writer.token);

    await owner.request('auth/revokeToken', { name: 'dashboard' });
    const closed = await r.closed;
    expect(closed).toEqual({ code: 1008, reason: 'token "dashboard" was revoked' });
    expect((await refusal(RpcClient.connect(d.wsUrl, { token: reader.token }))).status).toBe(401);
    expect((await d.http('/api/daemon/status', { token: reader.token })).status).toBe(401);
    // The writer is untouched.
    await expect(w.request('daemon/ping', {})).resolves.toHaveProperty('time');
    await Promise.all([owner.close(), w.close()]);
  });

  it('keeps named tokens across a restart (only their hashes are stored)', async () => {
    const d = await start();
    const owner = await d.connect();
    const t = await owner.request<{ token: string }>('auth/createToken', { name: 'svc', scope: 'write' });
    await owner.close();
    await d.stop();
    const again = await spawn({ dataDir: d.dataDir });
    const c = await again.connect({ token: t.token });
    expect(await c.request('daemon/ping', {})).toHaveProperty('time');
    await c.close();
  });
});

describe('limits', () => {
  it('closes an oversize message with 1009 and the reason; the daemon keeps working and nothing is stored', async () => {
    const d = await start(['--max-message-bytes', '64KiB']);
    const c = await d.connect();
    const before = await lastSeqOf(c);
    c.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'events/publish', params: { type: 'api.request', payload: 'x'.repeat(70_000) } }));
    const closed = await c.closed;
    expect(closed.code).toBe(1009);
    expect(closed.reason).toContain('65536 bytes');
    const c2 = await d.connect();
    expect(await lastSeqOf(c2)).toBe(before);
    // Just under the limit is fine.
    await expect(c2.request('events/publish', { type: 'api.request', payload: 'x'.repeat(60_000) })).resolves.toHaveProperty('seq');
    const big = await d.http('/api/events', { method: 'POST', body: JSON.stringify({ type: 'api.request', payload: 'y'.repeat(70_000) }) });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { code: ErrorCode.MessageTooLarge } });
    expect(await lastSeqOf(c2)).toBe(before + 1);
    await c2.close();
  });

  it('rate-limits a connection with RateLimited and retryAfterMs, then lets it go on', async () => {
    const d = await start(['--rate-limit', '5', '--rate-burst', '5']);
    const c = await d.connect();
    const answers = await Promise.all(Array.from({ length: 10 }, () => c.call('daemon/ping', {})));
    const limited = answers.filter((a) => (a.error as { code?: number } | undefined)?.code === ErrorCode.RateLimited);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    const error = limited[0].error as { message: string; data: { retryAfterMs: number } };
    expect(error.data.retryAfterMs).toBeGreaterThan(0);
    expect(error.message).toContain('retry after');
    // Other connections have their own bucket.
    const other = await d.connect();
    await expect(other.request('daemon/ping', {})).resolves.toHaveProperty('time');
    await sleep(error.data.retryAfterMs + 50);
    await expect(c.request('daemon/ping', {})).resolves.toHaveProperty('time');
    // REST calls have a bucket per token: 429 with Retry-After.
    const statuses = await Promise.all(Array.from({ length: 10 }, () => d.http('/api/daemon/status')));
    const tooMany = statuses.filter((r) => r.status === 429);
    expect(tooMany.length).toBeGreaterThanOrEqual(1);
    expect(Number(tooMany[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await tooMany[0].json()).toMatchObject({ error: { code: ErrorCode.RateLimited, data: { retryAfterMs: expect.any(Number) } } });
    const metrics = await (await d.http('/metrics')).text();
    expect(metrics).toMatch(/cogniforge_rate_limited_total [1-9]/);
    await Promise.all([c.close(), other.close()]);
  });

  it('terminates a peer that stops answering pings, and keeps a live one', async () => {
    const d = await start(['--heartbeat-ms', '200']);
    const deaf = new WebSocket(d.wsUrl, { headers: { Authorization: `Bearer ${d.token}` }, autoPong: false });
    const deafClosed = new Promise<number>((resolve) => deaf.once('close', (code) => resolve(code)));
    await new Promise((resolve) => deaf.once('open', resolve));
    const live = await d.connect();
    expect(await deafClosed).toBe(1006);
    await sleep(500);
    await expect(live.request('daemon/ping', {})).resolves.toHaveProperty('time');
    await live.close();
  });

  it('cuts a slow subscriber off without disturbing other clients', async () => {
    const d = await start(['--max-send-buffer-bytes', '256KiB']);
    const slow = await d.connect();
    await slow.request('events/subscribe', { types: ['bulk.*'] });
    const fine = await d.connect();
    await fine.request('events/subscribe', { types: ['bulk.*'] });
    // Stop reading: the daemon's send buffer for `slow` can only grow.
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const writer = await d.connect();
    const payload = 'z'.repeat(32 * 1024);
    let published = 0;
    for (let round = 0; round < 20 && !d.stderr().includes('slow consumer'); round++) {
      await Promise.all(Array.from({ length: 25 }, () => writer.request('events/publish', { type: 'bulk.data', payload })));
      published += 25;
    }
    expect(d.stderr()).toMatch(/closing slow consumer: send buffer over the limit connection=ws:\d+ actor=owner/);
    await fine.waitForNotifications(published, () => true, 30_000);
    await expect(fine.request('daemon/ping', {})).resolves.toHaveProperty('time');
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await slow.closed).toMatchObject({ code: 1008, reason: expect.stringContaining('slow consumer') });
    const metrics = await (await d.http('/metrics')).text();
    expect(metrics).toMatch(/cogniforge_slow_consumer_disconnects_total 1/);
    await Promise.all([fine.close(), writer.close()]);
  });
});
