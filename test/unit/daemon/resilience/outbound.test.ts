import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, RpcError } from '../../../../daemon/protocol';
import {
  DependencyPolicies,
  OutboundHttp,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  signWebhook,
  verifyWebhookSignature,
  type OutboundHttpOptions,
} from '../../../../daemon/services/resilience';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver of our own on 127.0.0.1 that records every request. */
async function startReceiver(routes: Record<string, (req: IncomingMessage, res: ServerResponse, body: string) => void>) {
  const requests: Recorded[] = [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      const route = routes[path.split('?')[0]!];
      if (route) route(req, res, body);
      else res.writeHead(404).end('no route');
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    host: `127.0.0.1:${port}`,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    requests,
    hits: (path: string) => requests.filter((r) => r.path === path).length,
    connections: () => connections,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

let receiver: Receiver;
let stranger: Receiver;

beforeAll(async () => {
  receiver = await startReceiver({
    '/ok': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
    '/text': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('plain'),
    '/hang': () => undefined,
    '/500': (_req, res) => res.writeHead(500).end('boom'),
    '/404': (_req, res) => res.writeHead(404).end('gone'),
    '/echo': (_req, res) => res.writeHead(204).end(),
    '/redirect-same': (_req, res) => res.writeHead(302, { location: '/ok' }).end(),
    '/redirect-away': (_req, res) => res.writeHead(307, { location: `http://localhost:${receiver.port}/ok` }).end(),
    '/big': (_req, res) => res.writeHead(200).end('x'.repeat(4096)),
    '/big-chunked': (_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 8; i++) res.write('y'.repeat(1024));
      res.end();
    },
  });
  stranger = await startReceiver({ '/ok': (_req, res) => res.writeHead(200).end('should never be asked') });
});

afterAll(async () => {
  await receiver.close();
  await stranger.close();
});

beforeEach(() => {
  receiver.requests.length = 0;
});

function setup(overrides: Partial<OutboundHttpOptions> = {}) {
  const log = new MemoryEventLog();
  const clock = new ManualClock(Date.now());
  const policies = new DependencyPolicies({
    store: log.open({ clock }),
    clock,
    defaults: { timeoutMs: 2000, retry: { initialDelayMs: 1, maxDelayMs: 2 } },
  });
  const http = new OutboundHttp({ policies, clock, allowedHosts: [receiver.host], ...overrides });
  return { http, policies, clock, log };
}

describe('OutboundHttp', () => {
  it('sends to an allowed host and returns status, headers, text and parsed JSON', async () => {
    const { http } = setup();
    const res = await http.request({ dependency: 'health:api', url: receiver.url('/ok') });
    expect(res).toMatchObject({ status: 200, text: '{"ok":true}', json: { ok: true }, url: receiver.url('/ok') });
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.durationMs).toBeGreaterThanOrEqual(0);
    expect((await http.request({ dependency: 'health:api', url: receiver.url('/text') })).json).toBeUndefined();
  });

  it('refuses every host not on the allow-list without connecting to it', async () => {
    const { http } = setup();
    const before = stranger.connections();
    for (const url of [stranger.url('/ok'), `http://localhost:${receiver.port}/ok`, `http://127.0.0.1/ok`]) {
      const err = await http.request({ dependency: 'webhook:x', url }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RpcError);
      expect((err as RpcError).code).toBe(ErrorCode.FailedPrecondition);
      expect((err as RpcError).message).toMatch(/^host .+ is not in the allowed outbound hosts$/);
    }
    await expect(http.request({ dependency: 'webhook:x', url: `ftp://${receiver.host}/` })).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
    });
    await expect(http.request({ dependency: 'webhook:x', url: `http://user:pw@${receiver.host}/ok` })).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
    });
    await expect(http.request({ dependency: 'webhook:x', url: 'not a url' })).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
    expect(stranger.connections()).toBe(before);
    expect(receiver.requests).toHaveLength(0);

    http.setAllowedHosts([stranger.host]);
    await expect(http.request({ dependency: 'webhook:x', url: stranger.url('/ok') })).resolves.toMatchObject({ status: 200 });
  });

  it('refuses a body on GET and a body that is not JSON, before sending', async () => {
    const { http } = setup();
    await expect(http.request({ dependency: 'health:api', url: receiver.url('/ok'), method: 'GET', body: {} })).rejects.toMatchObject({
      code: ErrorCode.InvalidParams,
    });
    await expect(http.request({ dependency: 'health:api', url: receiver.url('/echo'), body: { n: 1n } })).rejects.toMatchObject({
      code: ErrorCode.InvalidParams,
    });
    expect(receiver.requests).toHaveLength(0);
  });

  it('matches allow-list entries on host and port, the scheme default when no port is given', () => {
    const { http } = setup({ allowedHosts: ['Hooks.Example.com', '127.0.0.1:8080', '[::1]:9000', 'plain.example:80'] });
    expect(http.allowedHosts()).toEqual(['hooks.example.com', '127.0.0.1:8080', '[::1]:9000', 'plain.example:80']);
    expect(http.isAllowed('https://hooks.example.com/services/T0/B0/secret')).toBe(true);
    expect(http.isAllowed('http://hooks.example.com/')).toBe(true);
    expect(http.isAllowed('https://hooks.example.com:8443/')).toBe(false);
    expect(http.isAllowed('https://evil.hooks.example.com/')).toBe(false);
    expect(http.isAllowed('http://127.0.0.1:8080/x')).toBe(true);
    expect(http.isAllowed('http://2130706433:8080/x')).toBe(true); // the same address, written as a number
    expect(http.isAllowed('http://127.0.0.1/x')).toBe(false);
    expect(http.isAllowed('http://[::1]:9000/')).toBe(true);
    expect(http.isAllowed('http://plain.example/')).toBe(true);
    expect(http.isAllowed('https://plain.example/')).toBe(false);
    expect(() => setup({ allowedHosts: ['http://x.example/path'] })).toThrow(/not a host or host:port/);
  });

  it('follows a redirect on the same host and refuses one to a host not allowed', async () => {
    const { http } = setup();
    await expect(http.request({ dependency: 'health:api', url: receiver.url('/redirect-same') })).resolves.toMatchObject({
      status: 200,
      url: receiver.url('/ok'),
    });
    receiver.requests.length = 0;
    const err = await http.request({ dependency: 'health:api', url: receiver.url('/redirect-away') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.FailedPrecondition, data: { redirectHost: `localhost:${receiver.port}` } });
    expect((err as Error).message).toContain(`host localhost:${receiver.port} is not in the allowed outbound hosts`);
    expect(receiver.requests.map((r) => r.path)).toEqual(['/redirect-away']);
  });

  it('times out a hanging receiver while other requests go through', async () => {
    const { http, policies } = setup();
    let hangSettled = false;
    const hanging = http
      .request({ dependency: 'webhook:hang', url: receiver.url('/hang'), method: 'POST', body: { a: 1 }, timeoutMs: 1000 })
      .finally(() => (hangSettled = true));
    const other = await http.request({ dependency: 'webhook:hang', url: receiver.url('/ok') });
    expect(other.status).toBe(200);
    expect(hangSettled).toBe(false);
    const err = await hanging.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.Timeout, data: { dependency: 'webhook:hang', timeoutMs: 1000 } });
    expect(policies.stats('webhook:hang')[0]).toMatchObject({ timedOut: 1, active: 0 });
  });

  it('retries 500s only when the request is idempotent', async () => {
    const { http } = setup();
    const err = await http.request({ dependency: 'webhook:a', url: receiver.url('/500'), method: 'POST', body: {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.BackendUnavailable, data: { status: 500, body: 'boom' } });
    expect((err as Error).message).toBe(`webhook:a answered 500 Internal Server Error to POST ${receiver.host}`);
    expect(receiver.hits('/500')).toBe(1);

    await expect(
      http.request({ dependency: 'webhook:b', url: receiver.url('/500'), method: 'PUT', body: {}, idempotent: true }),
    ).rejects.toMatchObject({ code: ErrorCode.BackendUnavailable });
    expect(receiver.hits('/500')).toBe(4);
  });

  it('treats 4xx as a refused request: not retried, not counted against the breaker, unless expected', async () => {
    const { http, policies } = setup();
    for (let i = 0; i < 6; i++) {
      await expect(http.request({ dependency: 'webhook:c', url: receiver.url('/404'), idempotent: true })).rejects.toMatchObject({
        code: ErrorCode.FailedPrecondition,
        data: { status: 404 },
      });
    }
    expect(receiver.hits('/404')).toBe(6);
    expect(policies.stats('webhook:c')[0]).toMatchObject({ failures: 0, breaker: { state: 'closed' } });
    await expect(http.request({ dependency: 'webhook:c', url: receiver.url('/404'), expectStatus: [404] })).resolves.toMatchObject({
      status: 404,
      text: 'gone',
    });
  });

  it('opens the breaker after 5 failed deliveries and then rejects without sending', async () => {
    const { http, policies, log } = setup();
    for (let i = 0; i < 5; i++) {
      await expect(http.request({ dependency: 'webhook:pager', url: receiver.url('/500'), body: { n: i } })).rejects.toMatchObject({
        data: { status: 500 },
      });
    }
    const err = await http.request({ dependency: 'webhook:pager', url: receiver.url('/ok') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.BackendUnavailable, data: { reason: 'circuitOpen' } });
    expect((err as Error).message).toMatch(/^circuit open for webhook:pager, retry after /);
    expect(receiver.requests.map((r) => r.path)).toEqual(['/500', '/500', '/500', '/500', '/500']);
    await policies.flush();
    expect(log.ofType('resilience.breakerStateChanged')).toHaveLength(1);
  });

  it('counts an unreachable host as a failure', async () => {
    const gone = await startReceiver({});
    const host = gone.host;
    await gone.close();
    const { http, policies } = setup({ allowedHosts: [host] });
    const err = await http.request({ dependency: 'webhook:gone', url: `http://${host}/` }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.BackendUnavailable });
    expect((err as Error).message).toBe(`webhook:gone: cannot reach ${host}: ECONNREFUSED`);
    expect(policies.stats('webhook:gone')[0]!.failures).toBe(1);
  });

  it('bounds the response body', async () => {
    const { http } = setup({ maxResponseBytes: 1024 });
    for (const path of ['/big', '/big-chunked']) {
      await expect(http.request({ dependency: 'health:api', url: receiver.url(path) })).rejects.toMatchObject({
        code: ErrorCode.FailedPrecondition,
        message: `health:api: the response from ${receiver.host} is larger than 1024 bytes`,
      });
    }
  });

  it('signs webhook bodies so the receiver can verify them and refuse tampering and replays', async () => {
    const { http, clock } = setup();
    const secret = 'whsec_test_0123456789';
    await http.request({
      dependency: 'webhook:signed',
      url: receiver.url('/echo'),
      body: { incident: 'inc_1', severity: 'SEV1' },
      headers: { 'X-Custom': 'yes' },
      sign: { secret },
    });
    const got = receiver.requests.find((r) => r.path === '/echo')!;
    expect(got.method).toBe('POST');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['x-custom']).toBe('yes');
    const timestamp = got.headers[TIMESTAMP_HEADER.toLowerCase()] as string;
    const signature = got.headers[SIGNATURE_HEADER.toLowerCase()] as string;
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(timestamp).toBe(String(Math.floor(clock.now() / 1000)));

    const input = { secret, rawBody: got.body, timestamp, signature, nowMs: clock.now() + 1000 };
    expect(verifyWebhookSignature(input)).toEqual({ valid: true });
    expect(verifyWebhookSignature({ ...input, rawBody: got.body.replace('SEV1', 'SEV4') })).toMatchObject({ valid: false });
    expect(verifyWebhookSignature({ ...input, secret: 'other' })).toMatchObject({ valid: false });
    expect(verifyWebhookSignature({ ...input, nowMs: clock.now() + 10 * 60_000 })).toMatchObject({
      valid: false,
      reason: 'timestamp outside the tolerance (replay?)',
    });
    expect(verifyWebhookSignature({ ...input, signature: undefined })).toMatchObject({ valid: false });
    // The timestamp is signed: moving it forward breaks the signature.
    const forged = { ...input, timestamp: String(Number(timestamp) + 60) };
    expect(verifyWebhookSignature(forged)).toEqual({ valid: false, reason: 'signature does not match' });
    expect(signWebhook(secret, got.body, Number(timestamp) * 1000)[SIGNATURE_HEADER]).toBe(signature);
  });
});
