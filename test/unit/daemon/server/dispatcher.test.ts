import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ErrorCode, Initialize, MAX_BATCH, RpcError, defineRequest } from '../../../../daemon/protocol';
import { Dispatcher, type Session } from '../../../../daemon/server/dispatcher';
import { silentLogger, type Logger } from '../../../../daemon/server/logger';
import { MetricsRegistry, ServerMetrics } from '../../../../daemon/server/metrics';
import { TokenBucket } from '../../../../daemon/server/rateLimit';
import { Router } from '../../../../daemon/server/router';
import { ManualClock } from '../../../../daemon/services/shared/clock';

const Echo = defineRequest('test/echo', z.object({ text: z.string() }), z.object({ text: z.string() }), { kind: 'query', doc: 'echo' });
const Write = defineRequest('test/write', z.object({}), z.object({ ok: z.literal(true) }), { kind: 'command', doc: 'write' });
const Admin = defineRequest('test/admin', z.object({}), z.object({ ok: z.literal(true) }), { kind: 'command', scope: 'admin', doc: 'admin' });
const Boom = defineRequest('test/boom', z.object({}), z.object({}), { kind: 'query', doc: 'throws' });
const Refuse = defineRequest('test/refuse', z.object({}), z.object({}), { kind: 'query', doc: 'RpcError' });
const Liar = defineRequest('test/liar', z.object({}), z.object({ n: z.number() }), { kind: 'query', doc: 'bad result' });

interface Harness {
  dispatcher: Dispatcher;
  metrics: ServerMetrics;
  clock: ManualClock;
  errors: string[];
  writes: number;
  session(opts?: Partial<Pick<Session, 'scope' | 'state'>> & { rate?: number; burst?: number }): Session;
  /** Send a frame, answer the parsed reply (undefined when none). */
  frame(session: Session, text: string): Promise<unknown>;
  shuttingDown: boolean;
}

function harness(validateResults = true): Harness {
  const clock = new ManualClock();
  const metrics = new ServerMetrics(new MetricsRegistry());
  const errors: string[] = [];
  const log: Logger = { ...silentLogger, error: (m) => errors.push(m) };
  const h: Harness = {
    dispatcher: undefined as unknown as Dispatcher,
    metrics,
    clock,
    errors,
    writes: 0,
    shuttingDown: false,
    session: (opts = {}) => ({
      actor: 'tester',
      scope: opts.scope ?? 'admin',
      connectionId: 'ws:1',
      state: opts.state ?? 'ready',
      limiter: new TokenBucket(opts.rate ?? 0, opts.burst ?? 1, clock),
    }),
    async frame(session, text) {
      const sent: string[] = [];
      await h.dispatcher.handleFrame(text, session, (f) => sent.push(f));
      expect(sent.length).toBeLessThanOrEqual(1);
      return sent.length === 0 ? undefined : JSON.parse(sent[0]);
    },
  };
  const router = new Router()
    .on(Initialize, ({ protocolVersion }) => {
      if (!protocolVersion.startsWith('1.')) throw new RpcError(ErrorCode.UnsupportedProtocolVersion, 'no', { supported: ['1.0'] });
      return {
        protocolVersion: '1.0',
        daemonVersion: 't',
        actor: 'tester',
        scope: 'admin' as const,
        capabilities: { methods: [], notifications: [], maxMessageBytes: 1024, maxBatch: MAX_BATCH },
        serverTime: new Date(0).toISOString(),
      };
    })
    .on(Echo, ({ text }) => ({ text }))
    .on(Write, () => {
      h.writes++;
      return { ok: true as const };
    })
    .on(Admin, () => ({ ok: true as const }))
    .on(Boom, () => {
      throw new Error('secret detail');
    })
    .on(Refuse, () => {
      throw new RpcError(ErrorCode.Conflict, 'changed under you', { expected: 1 });
    })
    .on(Liar, () => ({ n: 'one' }) as unknown as { n: number });
  h.dispatcher = new Dispatcher({
    router,
    metrics,
    log,
    validateResults,
    maxBatch: MAX_BATCH,
    rateLimitPerSecond: 5,
    isShuttingDown: () => h.shuttingDown,
  });
  return h;
}

const req = (id: number | string, method: string, params?: unknown) => JSON.stringify({ jsonrpc: '2.0', id, method, params });

describe('Dispatcher: single calls', () => {
  it('answers a request with its id and result', async () => {
    const h = harness();
    expect(await h.frame(h.session(), req(7, 'test/echo', { text: 'hi' }))).toEqual({ jsonrpc: '2.0', id: 7, result: { text: 'hi' } });
    expect(h.metrics.requests.get({ method: 'test/echo', outcome: 'ok' })).toBe(1);
    expect(h.metrics.latency.count({ method: 'test/echo' })).toBe(1);
  });

  it('runs notifications without answering', async () => {
    const h = harness();
    expect(await h.frame(h.session(), JSON.stringify({ jsonrpc: '2.0', method: 'test/write' }))).toBeUndefined();
    expect(h.writes).toBe(1);
    expect(await h.frame(h.session(), JSON.stringify({ jsonrpc: '2.0', method: 'nope/nope' }))).toBeUndefined();
  });

  it('answers a parse error with id null', async () => {
    const h = harness();
    const r = (await h.frame(h.session(), '{"jsonrpc": "2.0", "method"')) as { id: null; error: { code: number; message: string } };
    expect(r.id).toBeNull();
    expect(r.error.code).toBe(ErrorCode.ParseError);
    expect(r.error.message).toMatch(/^Parse error: /);
  });

  it.each([
    ['a number', '1', null],
    ['a string', '"x"', null],
    ['null', 'null', null],
    ['no jsonrpc', JSON.stringify({ id: 1, method: 'test/echo' }), 1],
    ['wrong jsonrpc', JSON.stringify({ jsonrpc: '1.0', id: 1, method: 'test/echo' }), 1],
    ['method not a string', JSON.stringify({ jsonrpc: '2.0', id: 2, method: 5 }), 2],
    ['empty method', JSON.stringify({ jsonrpc: '2.0', id: 2, method: '' }), 2],
    ['params a string', JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'test/echo', params: 'x' }), 3],
    ['params null', JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'test/echo', params: null }), 3],
    ['id an object', JSON.stringify({ jsonrpc: '2.0', id: { a: 1 }, method: 'test/echo' }), null],
    ['id null', JSON.stringify({ jsonrpc: '2.0', id: null, method: 'test/echo' }), null],
    ['id a fraction', JSON.stringify({ jsonrpc: '2.0', id: 1.5, method: 'test/echo' }), null],
    ['id beyond safe integers', '{"jsonrpc":"2.0","id":-9007199254740992,"method":"test/echo"}', null],
  ])('answers InvalidRequest for %s', async (_name, text, id) => {
    const h = harness();
    const r = (await h.frame(h.session(), text)) as { id: unknown; error: { code: number; message: string } };
    expect(r.error.code).toBe(ErrorCode.InvalidRequest);
    expect(r.error.message).toMatch(/^Invalid request: /);
    expect(r.id).toBe(id);
  });

  it('names an unknown method', async () => {
    const h = harness();
    const r = (await h.frame(h.session(), req(1, 'slo/nope'))) as { error: { code: number; message: string; data: unknown } };
    expect(r.error).toEqual({ code: ErrorCode.MethodNotFound, message: 'Method not found: slo/nope', data: { method: 'slo/nope' } });
    expect(h.metrics.requests.get({ method: '(unknown)', outcome: 'MethodNotFound' })).toBe(1);
  });

  it('lists zod issues for invalid params, and refuses positional params', async () => {
    const h = harness();
    const r = (await h.frame(h.session(), req(1, 'test/echo', { text: 5 }))) as { error: { code: number; data: { issues: { path: string }[] } } };
    expect(r.error.code).toBe(ErrorCode.InvalidParams);
    expect(r.error.data.issues[0].path).toBe('text');
    const positional = (await h.frame(h.session(), req(2, 'test/echo', ['hi']))) as { error: { code: number } };
    expect(positional.error.code).toBe(ErrorCode.InvalidParams);
  });

  it('hides handler exceptions behind InternalError naming the method, detail to the log', async () => {
    const h = harness();
    const r = (await h.frame(h.session(), req(1, 'test/boom'))) as { error: { code: number; message: string; data: unknown } };
    expect(r.error.code).toBe(ErrorCode.InternalError);
    expect(r.error.data).toEqual({ method: 'test/boom' });
    expect(JSON.stringify(r)).not.toContain('secret detail');
    expect(h.errors.join('\n')).toContain('secret detail');
  });

  it('passes RpcErrors from handlers through', async () => {
    const h = harness();
    const r = (await h.frame(h.session(), req(1, 'test/refuse'))) as { error: unknown };
    expect(r.error).toEqual({ code: ErrorCode.Conflict, message: 'changed under you', data: { expected: 1 } });
  });

  it('turns a result of the wrong shape into InternalError when validating', async () => {
    const h = harness(true);
    const r = (await h.frame(h.session(), req(1, 'test/liar'))) as { error: { code: number } };
    expect(r.error.code).toBe(ErrorCode.InternalError);
    const lax = harness(false);
    expect(await lax.frame(lax.session(), req(1, 'test/liar'))).toEqual({ jsonrpc: '2.0', id: 1, result: { n: 'one' } });
  });

  it('checks the token scope', async () => {
    const h = harness();
    const r = (await h.frame(h.session({ scope: 'read' }), req(1, 'test/write'))) as { error: { code: number; data: unknown } };
    expect(r.error.code).toBe(ErrorCode.Forbidden);
    expect(h.writes).toBe(0);
    const w = (await h.frame(h.session({ scope: 'write' }), req(2, 'test/admin'))) as { error: { code: number } };
    expect(w.error.code).toBe(ErrorCode.Forbidden);
  });

  it('refuses commands while shutting down but still answers queries', async () => {
    const h = harness();
    h.shuttingDown = true;
    const r = (await h.frame(h.session(), req(1, 'test/write'))) as { error: { code: number } };
    expect(r.error.code).toBe(ErrorCode.ShuttingDown);
    expect(h.writes).toBe(0);
    expect(await h.frame(h.session(), req(2, 'test/echo', { text: 'x' }))).toMatchObject({ result: { text: 'x' } });
  });
});

describe('Dispatcher: initialize handshake', () => {
  it('refuses calls before daemon/initialize, then serves them', async () => {
    const h = harness();
    const s = h.session({ state: 'new' });
    const before = (await h.frame(s, req(1, 'test/echo', { text: 'x' }))) as { error: { code: number; message: string } };
    expect(before.error.code).toBe(ErrorCode.NotInitialized);
    expect(before.error.message).toContain('daemon/initialize');
    expect(await h.frame(s, req(2, 'daemon/initialize', { protocolVersion: '1.0' }))).toMatchObject({ result: { protocolVersion: '1.0' } });
    expect(await h.frame(s, req(3, 'test/echo', { text: 'x' }))).toMatchObject({ result: { text: 'x' } });
    const again = (await h.frame(s, req(4, 'daemon/initialize', { protocolVersion: '1.0' }))) as { error: { code: number } };
    expect(again.error.code).toBe(ErrorCode.AlreadyInitialized);
  });

  it('leaves the connection uninitialized after a refused initialize', async () => {
    const h = harness();
    const s = h.session({ state: 'new' });
    const r = (await h.frame(s, req(1, 'daemon/initialize', { protocolVersion: '2.0' }))) as { error: { code: number; data: unknown } };
    expect(r.error).toMatchObject({ code: ErrorCode.UnsupportedProtocolVersion, data: { supported: ['1.0'] } });
    expect(s.state).toBe('new');
    expect(await h.frame(s, req(2, 'daemon/initialize', { protocolVersion: '1.1' }))).toMatchObject({ result: {} });
  });

  it('treats initialize as a barrier inside a batch', async () => {
    const h = harness();
    const s = h.session({ state: 'new' });
    const r = (await h.frame(s, `[${req(1, 'daemon/initialize', { protocolVersion: '1.0' })},${req(2, 'test/echo', { text: 'a' })}]`)) as {
      id: number;
      result?: unknown;
    }[];
    expect(r.map((x) => x.id).sort()).toEqual([1, 2]);
    expect(r.every((x) => x.result !== undefined)).toBe(true);
  });
});

describe('Dispatcher: batches', () => {
  it('answers an empty batch with one InvalidRequest', async () => {
    const h = harness();
    const r = (await h.frame(h.session(), '[]')) as { id: null; error: { code: number } };
    expect(Array.isArray(r)).toBe(false);
    expect(r.id).toBeNull();
    expect(r.error.code).toBe(ErrorCode.InvalidRequest);
  });

  it('answers each element, skipping notifications', async () => {
    const h = harness();
    const frame = `[${req(1, 'test/echo', { text: 'a' })},{"jsonrpc":"2.0","method":"test/write"},1,${req('x', 'nope/nope')},${req(3, 'test/echo', {})}]`;
    const r = (await h.frame(h.session(), frame)) as { id: unknown; result?: unknown; error?: { code: number } }[];
    expect(r).toHaveLength(4);
    const byId = new Map(r.map((x) => [x.id, x]));
    expect(byId.get(1)?.result).toEqual({ text: 'a' });
    expect(byId.get(null)?.error?.code).toBe(ErrorCode.InvalidRequest);
    expect(byId.get('x')?.error?.code).toBe(ErrorCode.MethodNotFound);
    expect(byId.get(3)?.error?.code).toBe(ErrorCode.InvalidParams);
    expect(h.writes).toBe(1);
  });

  it('sends nothing for an all-notification batch', async () => {
    const h = harness();
    const n = '{"jsonrpc":"2.0","method":"test/write"}';
    expect(await h.frame(h.session(), `[${n},${n}]`)).toBeUndefined();
    expect(h.writes).toBe(2);
  });

  it('refuses a batch over the maximum without running any of it', async () => {
    const h = harness();
    const n = '{"jsonrpc":"2.0","id":1,"method":"test/write"}';
    const r = (await h.frame(h.session(), `[${new Array(MAX_BATCH + 1).fill(n).join(',')}]`)) as { error: { code: number; data: unknown } };
    expect(r.error).toMatchObject({ code: ErrorCode.InvalidRequest, data: { maxBatch: MAX_BATCH } });
    expect(h.writes).toBe(0);
  });
});

describe('Dispatcher: rate limit', () => {
  it('answers RateLimited with retryAfterMs once the bucket is empty, and recovers', async () => {
    const h = harness();
    const s = h.session({ rate: 5, burst: 2 });
    const echo = (id: number) => h.frame(s, req(id, 'test/echo', { text: 'x' }));
    expect(await echo(1)).toMatchObject({ result: {} });
    expect(await echo(2)).toMatchObject({ result: {} });
    const limited = (await echo(3)) as { error: { code: number; message: string; data: { retryAfterMs: number } } };
    expect(limited.error.code).toBe(ErrorCode.RateLimited);
    expect(limited.error.data.retryAfterMs).toBe(200);
    expect(limited.error.message).toContain('retry after 200 ms');
    expect(h.metrics.rateLimited.get()).toBe(1);
    h.clock.advance(200);
    expect(await echo(4)).toMatchObject({ result: {} });
  });

  it('counts each batch element', async () => {
    const h = harness();
    const s = h.session({ rate: 1, burst: 2 });
    const r = (await h.frame(s, `[${req(1, 'test/write')},${req(2, 'test/write')},${req(3, 'test/write')}]`)) as { error?: { code: number } }[];
    expect(r.filter((x) => x.error?.code === ErrorCode.RateLimited)).toHaveLength(1);
    expect(h.writes).toBe(2);
  });
});

describe('Dispatcher: afterResponse and call()', () => {
  it('runs afterResponse callbacks after the answer was sent', async () => {
    const order: string[] = [];
    const After = defineRequest('test/after', z.object({}), z.object({}), { kind: 'query', doc: 'after' });
    const router = new Router().on(After, (_p, ctx) => {
      ctx.afterResponse?.(() => order.push('after'));
      return {};
    });
    const d = new Dispatcher({
      router,
      metrics: new ServerMetrics(new MetricsRegistry()),
      log: silentLogger,
      validateResults: true,
      maxBatch: 10,
      rateLimitPerSecond: 0,
      isShuttingDown: () => false,
    });
    const session: Session = { actor: 'a', scope: 'read', connectionId: 'ws:1', state: 'ready', limiter: new TokenBucket(0, 1, new ManualClock()) };
    await d.handleFrame(req(1, 'test/after', {}), session, () => order.push('sent'));
    expect(order).toEqual(['sent', 'after']);
    await expect(d.call('test/after', {}, session)).resolves.toEqual({});
    await expect(d.call('nope/nope', {}, session)).rejects.toMatchObject({ code: ErrorCode.MethodNotFound });
    expect(d.pending).toBe(0);
    await d.idle();
  });
});
