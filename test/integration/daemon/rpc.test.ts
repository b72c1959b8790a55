import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, MAX_BATCH, requests } from '../../../daemon/protocol';
import { RpcResponseError, removeTempDirs, spawnDaemon, type DaemonProcess, type RpcClient } from '../helpers/daemonProcess';

let d: DaemonProcess;
let c: RpcClient;

beforeAll(async () => {
  d = await spawnDaemon();
  c = await d.connect();
});

afterAll(async () => {
  await c?.close();
  await d?.stop();
  removeTempDirs();
});

type Answer = { jsonrpc: string; id: unknown; result?: unknown; error?: { code: number; message: string; data?: Record<string, unknown> } };

const lastSeq = async () => (await c.request<{ eventLog: { lastSeq: number } }>('daemon/status', {})).eventLog.lastSeq;

/** The connection still answers and the log did not grow. */
async function stillFine(client: RpcClient, seqBefore: number): Promise<void> {
  await expect(client.request('daemon/ping', {})).resolves.toHaveProperty('time');
  expect(await lastSeq()).toBe(seqBefore);
}

describe('bad input on a live connection', () => {
  it('answers an unparseable frame with ParseError and id null', async () => {
    const before = await lastSeq();
    const a = (await c.exchange('{"jsonrpc":"2.0","id":1,"method":"events/publish",')) as Answer;
    expect(a.id).toBeNull();
    expect(a.error?.code).toBe(ErrorCode.ParseError);
    expect(a.error?.message).toMatch(/Parse error/);
    const bytes = (await c.exchange(Buffer.from([0xff, 0x00, 0x13, 0x37]))) as Answer;
    expect(bytes.error?.code).toBe(ErrorCode.ParseError);
    await stillFine(c, before);
  });

  it('answers wrong types with InvalidParams listing each issue', async () => {
    const before = await lastSeq();
    const a = await c.call('events/publish', { type: 42, priority: 'urgent' });
    const error = a.error as Answer['error'];
    expect(error?.code).toBe(ErrorCode.InvalidParams);
    const issues = (error?.data?.issues as { path: string; message: string }[]).map((i) => i.path).sort();
    expect(issues).toEqual(['priority', 'type']);
    expect(error?.message).toContain('events/publish');
    const positional = await c.call('events/query', [1, 2]);
    expect((positional.error as Answer['error'])?.code).toBe(ErrorCode.InvalidParams);
    await stillFine(c, before);
  });

  it('names an unknown method', async () => {
    const before = await lastSeq();
    const a = await c.call('slo/frobnicate', {});
    expect(a.error).toEqual({ code: ErrorCode.MethodNotFound, message: 'Method not found: slo/frobnicate', data: { method: 'slo/frobnicate' } });
    await stillFine(c, before);
  });

  it('answers a malformed request with InvalidRequest', async () => {
    const before = await lastSeq();
    const a = (await c.exchange(JSON.stringify({ jsonrpc: '1.0', id: 9, method: 'daemon/ping' }))) as Answer;
    expect(a).toMatchObject({ id: 9, error: { code: ErrorCode.InvalidRequest } });
    const b = (await c.exchange(JSON.stringify({ jsonrpc: '2.0', id: 10, method: 5 }))) as Answer;
    expect(b).toMatchObject({ id: 10, error: { code: ErrorCode.InvalidRequest } });
    await stillFine(c, before);
  });

  it('refuses calls before daemon/initialize, a second initialize and another major version', async () => {
    const before = await lastSeq();
    const fresh = await d.connect({ initialize: false });
    const early = await fresh.call('events/publish', { type: 'api.request' });
    expect(early.error).toMatchObject({ code: ErrorCode.NotInitialized, message: expect.stringContaining('daemon/initialize') });
    const v2 = await fresh.call('daemon/initialize', { protocolVersion: '2.0' });
    expect(v2.error).toMatchObject({ code: ErrorCode.UnsupportedProtocolVersion, data: { supported: ['1.0'] } });
    const init = await fresh.request<{ actor: string; scope: string; capabilities: { methods: string[]; maxBatch: number } }>('daemon/initialize', {
      protocolVersion: '1.3',
    });
    expect(init).toMatchObject({ actor: 'owner', scope: 'admin', capabilities: { maxBatch: MAX_BATCH } });
    // Every method of the protocol table is served, and nothing else.
    expect(init.capabilities.methods).toEqual(requests.map((r) => r.method).sort());
    const twice = await fresh.call('daemon/initialize', { protocolVersion: '1.0' });
    expect(twice.error).toMatchObject({ code: ErrorCode.AlreadyInitialized });
    await stillFine(fresh, before);
    await fresh.close();
  });
});

describe('batches', () => {
  it('answers an empty batch with a single InvalidRequest', async () => {
    const a = (await c.exchange('[]')) as Answer;
    expect(Array.isArray(a)).toBe(false);
    expect(a).toMatchObject({ id: null, error: { code: ErrorCode.InvalidRequest } });
  });

  it('answers every element of a mixed batch and skips notifications', async () => {
    const before = await lastSeq();
    const frame = JSON.stringify([
      { jsonrpc: '2.0', id: 'a', method: 'daemon/ping', params: {} },
      { jsonrpc: '2.0', method: 'daemon/ping', params: {} },
      { jsonrpc: '2.0', id: 'b', method: 'no/such' },
      1,
      { jsonrpc: '2.0', id: 'c', method: 'events/query', params: { limit: 0 } },
    ]);
    const answers = (await c.exchange(frame)) as Answer[];
    expect(answers).toHaveLength(4);
    const byId = new Map(answers.map((x) => [x.id, x]));
    expect(byId.get('a')?.result).toHaveProperty('time');
    expect(byId.get('b')?.error?.code).toBe(ErrorCode.MethodNotFound);
    expect(byId.get(null)?.error?.code).toBe(ErrorCode.InvalidRequest);
    expect(byId.get('c')?.error?.code).toBe(ErrorCode.InvalidParams);
    await stillFine(c, before);
  });

  it('sends nothing back for a batch of notifications', async () => {
    c.sendRaw(JSON.stringify([{ jsonrpc: '2.0', method: 'daemon/ping' }, { jsonrpc: '2.0', method: 'daemon/ping' }]));
    // The next unmatched answer is the one for this marker, not something for the notifications.
    const marker = (await c.exchange(JSON.stringify({ jsonrpc: '2.0', id: 'marker', method: 'daemon/ping' }))) as Answer;
    expect(marker.id).toBe('marker');
  });

  it('refuses a batch over the maximum as a whole', async () => {
    const before = await lastSeq();
    const call = { jsonrpc: '2.0', id: 1, method: 'events/publish', params: { type: 'api.request' } };
    const a = (await c.exchange(JSON.stringify(new Array(MAX_BATCH + 1).fill(call)))) as Answer;
    expect(a).toMatchObject({ id: null, error: { code: ErrorCode.InvalidRequest, data: { maxBatch: MAX_BATCH } } });
    await stillFine(c, before);
  });

  it('runs a batch of publishes and answers each with its seq', async () => {
    const before = await lastSeq();
    const frame = JSON.stringify(
      Array.from({ length: 20 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'events/publish', params: { type: 'api.request', payload: { i } } })),
    );
    const answers = (await c.exchange(frame)) as Answer[];
    const seqs = answers.map((a) => (a.result as { seq: number }).seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => before + 1 + i));
  });
});

describe('events', () => {
  it('round-trips publish and query with the caller as actor', async () => {
    const p = await c.request<{ id: string; seq: number; stream: string; duplicate: boolean }>('events/publish', {
      type: 'security.auth',
      payload: { user: 'u1' },
      priority: 'high',
      source: 'login-svc',
      correlationId: 'corr-1',
    });
    expect(p).toMatchObject({ stream: 'security_events', duplicate: false });
    const { events } = await c.request<{ events: Record<string, unknown>[] }>('events/query', { types: ['security.*'], afterSeq: p.seq - 1 });
    expect(events).toEqual([
      expect.objectContaining({ id: p.id, seq: p.seq, type: 'security.auth', actor: 'owner', priority: 'high', source: 'login-svc', correlationId: 'corr-1', payload: { user: 'u1' } }),
    ]);
  });

  it('stores an event once per client-supplied id', async () => {
    const id = '0b0e8f52-3d2a-4a47-b0a4-7a7f3c4e9a10';
    const a = await c.request<{ seq: number; duplicate: boolean }>('events/publish', { type: 'api.request', id });
    const b = await c.request<{ seq: number; duplicate: boolean }>('events/publish', { type: 'api.request', id });
    expect(a.duplicate).toBe(false);
    expect(b).toEqual({ ...a, duplicate: true });
    const { events } = await c.request<{ events: { id: string }[] }>('events/query', { afterSeq: a.seq - 1, limit: 1000 });
    expect(events.filter((e) => e.id === id)).toHaveLength(1);
  });

  it('pages through query results with the cursor', async () => {
    const first = await lastSeq();
    for (let i = 0; i < 5; i++) await c.request('events/publish', { type: 'paging.test', payload: { i } });
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page: { events: { seq: number }[]; nextCursor?: string } = await c.request('events/query', { types: ['paging.test'], limit: 2, cursor });
      seen.push(...page.events.map((e) => e.seq));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([first + 1, first + 2, first + 3, first + 4, first + 5]);
  });

  it('refuses to publish reserved domain types', async () => {
    const before = await lastSeq();
    await expect(c.request('events/publish', { type: 'auth.tokenCreated', payload: { name: 'x', scope: 'admin' } })).rejects.toMatchObject({
      code: ErrorCode.Forbidden,
    });
    await stillFine(c, before);
  });

  it('lists streams', async () => {
    const { streams } = await c.request<{ streams: { name: string; retentionDays: number | null }[] }>('events/streams', {});
    expect(streams).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'api_events', retentionDays: 7 })]));
  });

  it('subscribes with a filter and catch-up: stored then live, in order, no gap or duplicate', async () => {
    const start = await lastSeq();
    for (let i = 0; i < 3; i++) await c.request('events/publish', { type: 'sub.test', payload: { i } });
    await c.request('events/publish', { type: 'other.test' });
    const sub = await d.connect();
    const { subscriptionId, headSeq } = await sub.request<{ subscriptionId: string; headSeq: number }>('events/subscribe', {
      types: ['sub.*'],
      afterSeq: start,
    });
    expect(headSeq).toBe(start + 4);
    // Live events published concurrently with the catch-up.
    await Promise.all(Array.from({ length: 10 }, (_, i) => c.request('events/publish', { type: 'sub.test', payload: { live: i } })));
    await c.request('events/publish', { type: 'sub.test', priority: 'low' });
    const got = await sub.waitForNotifications(14, (n) => n.method === 'events/didAppend');
    const seqs = got.map((n) => (n.params as { subscriptionId: string; event: { seq: number; type: string } }).event.seq);
    expect(new Set(got.map((n) => (n.params as { subscriptionId: string }).subscriptionId))).toEqual(new Set([subscriptionId]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.slice(0, 3)).toEqual([start + 1, start + 2, start + 3]);
    expect(seqs).not.toContain(start + 4);
    await sub.request('events/unsubscribe', { subscriptionId });
    await c.request('events/publish', { type: 'sub.test' });
    await sub.request('daemon/ping', {});
    expect(sub.notifications.filter((n) => n.method === 'events/didAppend')).toHaveLength(14);
    await expect(sub.request('events/unsubscribe', { subscriptionId })).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await sub.close();
  });

  it('filters subscriptions by stream and minimum priority', async () => {
    const sub = await d.connect();
    await sub.request('events/subscribe', { streams: ['system_events'], minPriority: 'high' });
    await c.request('events/publish', { type: 'system.health', priority: 'normal' });
    await c.request('events/publish', { type: 'api.error', priority: 'critical' });
    const wanted = await c.request<{ seq: number }>('events/publish', { type: 'system.alert', priority: 'critical' });
    const [n] = await sub.waitForNotifications(1);
    expect((n.params as { event: { seq: number } }).event.seq).toBe(wanted.seq);
    await sub.request('daemon/ping', {});
    expect(sub.notifications).toHaveLength(1);
    await sub.close();
  });
});

describe('REST and metrics', () => {
  it('serves daemon status with the same body as daemon/status', async () => {
    const res = await d.http('/api/daemon/status');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(Object.keys(await c.request('daemon/status', {})).sort());
    expect(body).toMatchObject({ health: 'ok', pid: d.child.pid, protocolVersion: '1.0' });
  });

  it('publishes with POST (201) and queries with GET, same shapes as the RPC methods', async () => {
    const post = await d.http('/api/events', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'rest.test', payload: { via: 'http' } }),
    });
    expect(post.status).toBe(201);
    const published = (await post.json()) as { id: string; seq: number; duplicate: boolean };
    expect(published.duplicate).toBe(false);
    const get = await d.http(`/api/events?type=rest.*&limit=5&afterSeq=${published.seq - 1}`);
    expect(get.status).toBe(200);
    const { events } = (await get.json()) as { events: { id: string; actor: string; payload: unknown }[] };
    expect(events).toEqual([expect.objectContaining({ id: published.id, actor: 'owner', payload: { via: 'http' } })]);
  });

  it('answers REST errors as JSON with the matching status', async () => {
    const before = await lastSeq();
    const bad = await d.http('/api/events?limit=ten');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: ErrorCode.InvalidParams, data: { issues: [expect.objectContaining({ path: 'limit' })] } } });
    const badJson = await d.http('/api/events', { method: 'POST', body: '{nope' });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ error: { code: ErrorCode.ParseError } });
    const missing = await d.http('/api/nothing/here');
    expect(missing.status).toBe(404);
    const verb = await d.http('/api/daemon/status', { method: 'DELETE' });
    expect(verb.status).toBe(405);
    expect(verb.headers.get('allow')).toBe('GET');
    const reserved = await d.http('/api/events', { method: 'POST', body: JSON.stringify({ type: 'auth.tokenRevoked' }) });
    expect(reserved.status).toBe(403);
    expect(await lastSeq()).toBe(before);
  });

  it('exposes Prometheus metrics to a token holder only', async () => {
    expect((await d.http('/metrics', { token: null })).status).toBe(401);
    const res = await d.http('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    expect(text).toMatch(/cogniforge_rpc_requests_total\{method="events\/publish",outcome="ok"\} \d+/);
    expect(text).toMatch(/cogniforge_rpc_requests_total\{method="\(unknown\)",outcome="MethodNotFound"\} \d+/);
    expect(text).toMatch(/cogniforge_rpc_request_duration_seconds_bucket\{method="daemon\/ping",le="0.001"\} \d+/);
    expect(text).toMatch(/cogniforge_event_log_bytes \d+/);
    expect(text).toMatch(/cogniforge_event_log_events \d+/);
    expect(text).toMatch(/cogniforge_stream_events\{stream="api_events"\} \d+/);
    expect(text).toMatch(/cogniforge_connections [1-9]/);
    expect(text).toMatch(/cogniforge_rate_limited_total/);
  });
});

describe('errors never crash the connection', () => {
  it('keeps answering after every error above', async () => {
    await expect(c.request('daemon/ping', {})).resolves.toHaveProperty('time');
    await expect(c.request('nope/nope', {})).rejects.toBeInstanceOf(RpcResponseError);
  });
});
