import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ClientError,
  DaemonClient,
  batchCall,
  connect,
  type ClientState,
  type DaemonClientOptions,
} from '../../../../daemon/client';
import {
  DidAppend,
  DidShutdown,
  ErrorCode,
  GetStatus,
  Initialize,
  PROTOCOL_VERSION,
  Ping,
  PublishEvent,
  QueryEvents,
  RpcError,
  type EventEnvelope,
} from '../../../../daemon/protocol';
import { FakeDaemon, FakeStore } from './fakeDaemon';

const fast = { initialDelayMs: 5, maxDelayMs: 40 };

let dataDir: string;
let daemons: FakeDaemon[];
let clients: DaemonClient[];
let logs: string[];

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'cf-client-'));
  daemons = [];
  clients = [];
  logs = [];
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(daemons.map((d) => d.kill()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function startDaemon(options: Parameters<typeof FakeDaemon.start>[0] = {}): Promise<FakeDaemon> {
  const d = await FakeDaemon.start({ dataDir, ...options });
  daemons.push(d);
  return d;
}

function makeClient(options: Partial<DaemonClientOptions> = {}): DaemonClient {
  const c = new DaemonClient({
    dataDir,
    clientName: 'client-test',
    clientVersion: '9.9.9',
    reconnect: fast,
    log: (level, msg) => logs.push(`${level}: ${msg}`),
    ...options,
  });
  clients.push(c);
  return c;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the promise to reject');
}

describe('DaemonClient: connecting', () => {
  it('finds the daemon through the runtime file and initializes before anything else', async () => {
    const d = await startDaemon();
    const client = makeClient();
    const early = client.request(Ping, {});
    client.start();
    client.start();
    const init = await client.ready();
    expect(init.daemonVersion).toBe('0.0.0-fake');
    expect((await early).time).toMatch(/Z$/);
    expect(d.frames[0]).toEqual({
      method: 'daemon/initialize',
      params: { protocolVersion: PROTOCOL_VERSION, client: { name: 'client-test', version: '9.9.9' } },
    });
    expect(d.frames[1]!.method).toBe('daemon/ping');
    expect(d.connectionsAccepted).toBe(1);
    expect(client.state).toBe('connected');
    expect(client.initializeResult?.actor).toBe('owner');
  });

  it('sends calls queued while connecting in call order', async () => {
    const d = await startDaemon();
    const client = makeClient();
    const results = Promise.all([
      client.request(PublishEvent, { type: 'a.one' }),
      client.request(PublishEvent, { type: 'a.two' }),
      client.request(PublishEvent, { type: 'a.three' }),
    ]);
    client.start();
    const [r1, r2, r3] = await results;
    expect([r1.seq, r2.seq, r3.seq]).toEqual([1, 2, 3]);
    expect(d.store.events.map((e) => e.type)).toEqual(['a.one', 'a.two', 'a.three']);
  });

  it('explains a call that timed out because the client was never started', async () => {
    const client = makeClient();
    const err = await rejection(client.request(Ping, {}, { timeoutMs: 20 }));
    expect(err).toMatchObject({ code: ErrorCode.Timeout });
    expect(err.message).toBe('daemon/ping timed out after 20 ms; it was never sent: the client is idle; call start() first');
  });

  it('refuses a hand-made daemon/initialize: the client sends it itself', async () => {
    const client = makeClient();
    await expect(client.request(Initialize, { protocolVersion: '1.0' })).rejects.toThrow(/sent by the client on every connect/);
  });

  it('connects to an explicit url with a token', async () => {
    const d = await FakeDaemon.start();
    daemons.push(d);
    const client = await connect({ url: d.url, token: d.token, clientName: 'script' });
    clients.push(client);
    expect((await client.request(Ping, {})).time).toBeTruthy();
  });

  it('says the daemon is not running, naming the data dir, when there is no runtime file', async () => {
    const err = await rejection(connect({ dataDir, clientName: 'script' }));
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).kind).toBe('daemonNotRunning');
    expect(err.message).toContain(dataDir);
    expect(err.message).toContain('cogniforged --data-dir');
  });

  it('says the daemon is not running when the runtime file names a port nobody listens on', async () => {
    const d = await startDaemon();
    await d.kill();
    const err = await rejection(connect({ dataDir, clientName: 'script' }));
    expect((err as ClientError).kind).toBe('daemonNotRunning');
    expect(err.message).toContain(`nothing listens on ws://127.0.0.1:${d.port}/rpc`);
    expect(err.message).toContain(dataDir);
  });

  it('calls an unparseable runtime file out as such', async () => {
    writeFileSync(join(dataDir, 'daemon.json'), '{"pid": 1, "po');
    const err = await rejection(connect({ dataDir, clientName: 'script' }));
    expect(err.message).toMatch(/unreadable or not a runtime file/);
  });

  it('reports a refused token with the HTTP status', async () => {
    const d = await FakeDaemon.start();
    daemons.push(d);
    const err = await rejection(connect({ url: d.url, token: 'wrong-token', clientName: 'script' }));
    expect((err as ClientError).kind).toBe('unauthorized');
    expect(err.message).toMatch(/refused the token \(HTTP 401\): bad token bro/);
    expect(d.upgradesRefused).toBe(1);
  });

  it('stops, rather than retrying forever, when a fixed token is refused', async () => {
    const d = await FakeDaemon.start();
    daemons.push(d);
    const client = makeClient({ dataDir: undefined, url: d.url, token: 'revoked-token' });
    client.start();
    await expect(client.ready()).rejects.toMatchObject({ kind: 'unauthorized' });
    expect(client.state).toBe('stopped');
    expect(d.upgradesRefused).toBe(1);
  });

  it('drops a connection whose daemon stops answering pings, and reconnects', async () => {
    const d = await startDaemon({ autoPong: false });
    const client = makeClient({ heartbeatIntervalMs: 20 });
    client.start();
    await client.ready();
    await until(() => d.connectionsAccepted >= 2, 'a second connection');
    expect(logs.some((l) => /no answer from ws:\/\/127\.0\.0\.1:\d+\/rpc for 20 ms/.test(l))).toBe(true);
  });

  it('waits for a daemon that starts later when asked to', async () => {
    const pending = connect({ dataDir, clientName: 'script', waitForDaemon: true, reconnect: fast });
    await new Promise((r) => setTimeout(r, 30));
    await startDaemon();
    const client = await pending;
    clients.push(client);
    expect(client.state).toBe('connected');
  });

  it('stops for good when the daemon refuses the protocol version', async () => {
    await startDaemon({ initializeError: { code: ErrorCode.UnsupportedProtocolVersion, message: 'speaks 2.x only' } });
    const client = makeClient();
    const call = client.request(Ping, {});
    client.start();
    const err = await rejection(client.ready());
    expect(err.message).toMatch(/daemon\/initialize refused .*speaks 2.x only/);
    expect(client.state).toBe('stopped');
    expect((await rejection(call)).message).toMatch(/before daemon\/ping was sent/);
  });

  it('gives up after reconnect.maxAttempts and rejects ready()', async () => {
    const client = makeClient({ reconnect: { ...fast, maxAttempts: 3 } });
    const attempts: number[] = [];
    client.onConnectError((_e, n) => attempts.push(n));
    client.start();
    const err = await rejection(client.ready());
    expect(attempts).toEqual([1, 2, 3]);
    expect((err as ClientError).kind).toBe('closed');
    expect(err.message).toMatch(/gave up connecting after 3 attempts: CogniForge daemon is not running/);
  });

  it('goes idle → connecting → connected → reconnecting → connected → stopped', async () => {
    const d = await startDaemon();
    const client = makeClient();
    const states: ClientState[] = [client.state];
    client.onStateChange((s) => states.push(s));
    client.start();
    await client.ready();
    d.dropConnections();
    await until(() => states.at(-1) === 'connected' && states.length > 3, 'reconnect');
    await client.close();
    await client.close();
    expect(states).toEqual(['idle', 'connecting', 'connected', 'reconnecting', 'connected', 'stopped']);
  });
});

describe('DaemonClient: calls', () => {
  let d: FakeDaemon;
  let client: DaemonClient;
  beforeEach(async () => {
    d = await startDaemon();
    client = makeClient();
    client.start();
    await client.ready();
  });

  it('maps a JSON-RPC error to RpcError with code, message and data', async () => {
    d.handlers.set('daemon/status', () => ({ error: { code: ErrorCode.NotFound, message: 'no such thing', data: { kind: 'slo', id: 'x' } } }));
    const err = await rejection(client.request(GetStatus, {}));
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ code: ErrorCode.NotFound, message: 'no such thing', data: { kind: 'slo', id: 'x' } });
  });

  it('rejects a result that does not match the schema, naming method and path', async () => {
    d.misbehave.set('events/publish', { result: { id: 'e', seq: -3, stream: 'default', time: 'yesterday', duplicate: false } });
    const err = await rejection(client.request(PublishEvent, { type: 'x.y' }));
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).kind).toBe('invalidResult');
    expect(err.message).toMatch(/^Invalid result from events\/publish: seq: .*; time: /);
    expect((await client.request(Ping, {})).time).toBeTruthy();
  });

  it('times a silent call out with RpcError(Timeout), and the connection stays usable', async () => {
    d.misbehave.set('events/query', { silent: true, times: 1 });
    const err = await rejection(client.request(QueryEvents, {}, { timeoutMs: 50 }));
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ code: ErrorCode.Timeout, data: { method: 'events/query', timeoutMs: 50 } });
    expect(err.message).toBe('events/query timed out after 50 ms');
    expect((await client.request(QueryEvents, {})).events).toEqual([]);
  });

  it('says a timed-out command may still complete', async () => {
    d.misbehave.set('events/publish', { silent: true, times: 1 });
    const err = await rejection(client.request(PublishEvent, { type: 'x.y' }, { timeoutMs: 30 }));
    expect(err.message).toMatch(/may still complete/);
  });

  it('rejects an aborted call with kind aborted', async () => {
    d.misbehave.set('events/query', { silent: true, times: 1 });
    const ac = new AbortController();
    const p = client.request(QueryEvents, {}, { signal: ac.signal });
    ac.abort();
    expect(await rejection(p)).toMatchObject({ kind: 'aborted', method: 'events/query' });
    expect(await rejection(client.request(Ping, {}, { signal: ac.signal }))).toMatchObject({ kind: 'aborted' });
  });

  it('sends a batch as one frame and resolves each call on its own', async () => {
    d.handlers.set('daemon/status', () => ({ error: { code: ErrorCode.InternalError, message: 'boom' } }));
    const framesBefore = d.rawFrames.length;
    const [ping, published, status] = await client.batch([
      batchCall(Ping, {}),
      batchCall(PublishEvent, { type: 'batch.one' }),
      batchCall(GetStatus, {}),
    ]);
    expect(d.rawFrames.length - framesBefore).toBe(1);
    expect(JSON.parse(d.rawFrames.at(-1)!)).toHaveLength(3);
    expect(ping.ok && ping.result.time).toBeTruthy();
    expect(published.ok && published.result.seq).toBe(1);
    expect(status.ok).toBe(false);
    expect(!status.ok && status.error).toMatchObject({ code: ErrorCode.InternalError, message: 'boom' });
    expect(await client.batch([])).toEqual([]);
  });

  it('fails every call of a batch over the daemon limit without sending it', async () => {
    const framesBefore = d.rawFrames.length;
    const outcomes = await client.batch(Array.from({ length: 101 }, () => batchCall(Ping, {})));
    expect(outcomes.every((o) => !o.ok && o.error instanceof RpcError && o.error.code === ErrorCode.InvalidRequest)).toBe(true);
    expect(d.rawFrames.length).toBe(framesBefore);
  });

  it('refuses a message over the daemon size limit without sending it', async () => {
    const framesBefore = d.rawFrames.length;
    const err = await rejection(client.request(PublishEvent, { type: 'big.one', payload: 'x'.repeat(5 << 20) }));
    expect(err).toMatchObject({ code: ErrorCode.MessageTooLarge });
    expect(err.message).toMatch(/over the daemon's limit of 4194304/);
    expect(d.rawFrames.length).toBe(framesBefore);
  });

  it('delivers valid notifications and logs and drops invalid ones', async () => {
    const reasons: string[] = [];
    const sub = client.onNotification(DidShutdown, (p) => reasons.push(p.reason));
    d.broadcast({ jsonrpc: '2.0', method: 'daemon/didShutdown', params: { reason: 42 } });
    d.broadcast({ jsonrpc: '2.0', method: 'daemon/didShutdown', params: { reason: 'maintenance' } });
    await until(() => reasons.length === 1, 'notification');
    expect(reasons).toEqual(['maintenance']);
    expect(logs.some((l) => l.startsWith('warn: dropped an invalid daemon/didShutdown notification: reason'))).toBe(true);
    sub.dispose();
    d.broadcast({ jsonrpc: '2.0', method: 'daemon/didShutdown', params: { reason: 'again' } });
    await client.request(Ping, {});
    expect(reasons).toEqual(['maintenance']);
  });

  it('rejects pending calls on close with a clear error, and refuses calls after it', async () => {
    d.misbehave.set('events/publish', { silent: true });
    d.misbehave.set('events/query', { silent: true });
    const command = rejection(client.request(PublishEvent, { type: 'x.y' }));
    const query = rejection(client.request(QueryEvents, {}));
    await until(() => d.frames.filter((f) => f.method === 'events/query').length === 1, 'calls sent');
    await client.close();
    const cErr = await command;
    expect(cErr).toMatchObject({ kind: 'closed' });
    expect(cErr.message).toBe('DaemonClient was closed while events/publish was in flight: its outcome is unknown');
    expect((await query).message).toBe('DaemonClient was closed while events/query was in flight');
    expect((await rejection(client.request(Ping, {}))).message).toBe('daemon/ping not sent: DaemonClient was closed');
    await expect(client.ready()).rejects.toMatchObject({ kind: 'closed' });
  });
});

describe('DaemonClient: connection drops', () => {
  it('rejects a command in flight with outcome unknown and does not re-send it', async () => {
    const d = await startDaemon();
    const client = makeClient();
    client.start();
    await client.ready();
    d.misbehave.set('events/publish', { drop: 'afterApply', times: 1 });
    const err = await rejection(client.request(PublishEvent, { type: 'order.placed' }));
    expect(err).toMatchObject({ kind: 'outcomeUnknown', method: 'events/publish' });
    expect(err.message).toMatch(/outcome is unknown/);
    await client.ready();
    await client.request(Ping, {});
    expect(d.frames.filter((f) => f.method === 'events/publish')).toHaveLength(1);
    expect(d.store.events).toHaveLength(1);
  });

  it('re-sends a publish carrying an id after the reconnect; it is stored once', async () => {
    const d = await startDaemon();
    const client = makeClient();
    client.start();
    await client.ready();
    d.misbehave.set('events/publish', { drop: 'afterApply', times: 1 });
    const id = randomUUID();
    const result = await client.request(PublishEvent, { type: 'order.placed', id });
    expect(result).toMatchObject({ id, seq: 1, duplicate: true });
    expect(d.frames.filter((f) => f.method === 'events/publish')).toHaveLength(2);
    expect(d.store.events.map((e) => e.id)).toEqual([id]);
    expect(d.connectionsAccepted).toBe(2);
  });

  it('re-sends a query in flight transparently', async () => {
    const d = await startDaemon();
    const client = makeClient();
    client.start();
    await client.ready();
    d.publish('seen.before');
    d.misbehave.set('events/query', { drop: 'beforeApply', times: 1 });
    const { events } = await client.request(QueryEvents, {});
    expect(events.map((e) => e.type)).toEqual(['seen.before']);
    expect(d.frames.filter((f) => f.method === 'events/query')).toHaveLength(2);
  });

  it('re-sends the retry-safe calls of a dropped batch as one batch, and fails the unsafe ones', async () => {
    const d = await startDaemon();
    const client = makeClient();
    client.start();
    await client.ready();
    d.misbehave.set('events/query', { drop: 'beforeApply', times: 1 });
    const [ping, publish, query] = await client.batch([
      batchCall(Ping, {}),
      batchCall(PublishEvent, { type: 'no.key' }),
      batchCall(QueryEvents, {}),
    ]);
    expect(ping.ok).toBe(true);
    expect(!publish.ok && publish.error).toMatchObject({ kind: 'outcomeUnknown' });
    expect(query.ok && query.result.events.map((e) => e.type)).toEqual(['no.key']);
    const resent = JSON.parse(d.rawFrames.at(-1)!) as { method: string }[];
    expect(resent.map((r) => r.method)).toEqual(['daemon/ping', 'events/query']);
  });

  it('re-initializes on the new connection before re-sending', async () => {
    const d = await startDaemon();
    const client = makeClient();
    client.start();
    await client.ready();
    d.misbehave.set('events/query', { drop: 'beforeApply', times: 1 });
    await client.request(QueryEvents, {});
    expect(d.frames.map((f) => f.method)).toEqual(['daemon/initialize', 'events/query', 'daemon/initialize', 'events/query']);
  });

  it('finds a restarted daemon on its new port with its new token, and keeps the subscription gap-free', async () => {
    const store = new FakeStore();
    const first = await startDaemon({ store });
    const client = makeClient();
    client.start();
    await client.ready();
    const seen: EventEnvelope[] = [];
    const sub = await client.subscribe({ types: ['tick'] }, (e) => seen.push(e));
    for (let i = 0; i < 3; i++) first.publish('tick', i);
    first.publish('other', 'ignored');
    await until(() => seen.length === 3, 'live events');
    await first.kill();
    // Written while the daemon is down; the restarted one serves them as catch-up.
    store.append('tick', 3);
    store.append('tick', 4);
    const second = await startDaemon({ store });
    expect(second.port).not.toBe(first.port);
    expect(second.token).not.toBe(first.token);
    await until(() => seen.length === 5, 'catch-up after reconnect');
    second.publish('tick', 5);
    await until(() => seen.length === 6, 'live after reconnect');
    expect(seen.map((e) => e.payload)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(second.frames.find((f) => f.method === 'events/subscribe')?.params).toEqual({ types: ['tick'], afterSeq: 3 });
    expect(sub.lastSeq).toBe(7);
    expect(sub.subscriptionId).toBeDefined();
  });

  it('resumes a subscription with no duplicate when the daemon replays what was already delivered', async () => {
    const d = await startDaemon({ catchUpBeforeAnswer: true });
    const client = makeClient();
    client.start();
    await client.ready();
    const seen: number[] = [];
    await client.subscribe({ afterSeq: 0 }, (e) => seen.push(e.seq));
    d.publish('a');
    d.publish('b');
    await until(() => seen.length === 2, 'live events');
    // A daemon that ignores afterSeq on resubscribe: the client must still not deliver twice.
    d.handlers.set('events/subscribe', (_p, conn) => {
      const subscriptionId = 'replayed';
      for (const event of d.store.events) conn.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'events/didAppend', params: { subscriptionId, event } }));
      conn.subs.set(subscriptionId, {});
      return { result: { subscriptionId, headSeq: d.store.events.length } };
    });
    d.dropConnections();
    await until(() => d.openConnections === 1 && d.frames.filter((f) => f.method === 'events/subscribe').length === 2, 'resubscribe');
    d.publish('c');
    await until(() => seen.length === 3, 'live after resume');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('delivers catch-up events pushed before the subscribe answer', async () => {
    const d = await startDaemon({ catchUpBeforeAnswer: true });
    d.publish('old', 1);
    d.publish('old', 2);
    const client = makeClient();
    client.start();
    const seen: unknown[] = [];
    const sub = await client.subscribe({ afterSeq: 0 }, (e) => seen.push(e.payload));
    expect(seen).toEqual([1, 2]);
    expect(sub.lastSeq).toBe(2);
  });

  it('stops delivering after dispose and unsubscribes on the daemon', async () => {
    const d = await startDaemon();
    const client = makeClient();
    client.start();
    const seen: number[] = [];
    const appends: number[] = [];
    client.onNotification(DidAppend, (p) => appends.push(p.event.seq));
    const sub = await client.subscribe({}, (e) => seen.push(e.seq));
    d.publish('a');
    await until(() => seen.length === 1, 'event');
    await sub.dispose();
    await sub.dispose();
    expect(d.frames.filter((f) => f.method === 'events/unsubscribe')).toHaveLength(1);
    d.publish('b');
    await client.request(Ping, {});
    expect(seen).toEqual([1]);
    expect(appends).toEqual([1]);
  });
});
