import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../daemon/protocol';
import { removeTempDirs, spawnDaemon, type DaemonProcess, type RpcClient, rpcError } from '../helpers/daemonProcess';

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

type Check = { allowed: boolean; reason?: string; addresses: string[] };
const lastSeq = async () => (await c.request<{ eventLog: { lastSeq: number } }>('daemon/status', {})).eventLog.lastSeq;

describe('governance/checkUrl against the real daemon (resolution only, no connections)', () => {
  it.each([
    'http://[::1]/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://[::ffff:7f00:1]/',
    'http://localhost./',
    'http://localhost:8080/admin',
    'http://169.254.169.254/latest/meta-data/',
    'http://metadata.google.internal/',
    'http://[fd00::1]/',
    'file:///etc/passwd',
  ])('refuses %s', async (url) => {
    const r = await c.request<Check>('governance/checkUrl', { url });
    expect(r.allowed).toBe(false);
    expect(r.reason).toBeTruthy();
  });

  it('allows a public IP literal without any lookup', async () => {
    expect(await c.request<Check>('governance/checkUrl', { url: 'https://1.1.1.1/dns-query' })).toEqual({
      allowed: true,
      host: '1.1.1.1',
      addresses: ['1.1.1.1'],
    });
  });

  it('names the field of bad params', async () => {
    const e = await rpcError(c.request('governance/checkUrl', { url: 42 }));
    expect(e.code).toBe(ErrorCode.InvalidParams);
    expect(JSON.stringify(e.data)).toContain('url');
  });
});

describe('governance/checkPassword', () => {
  it('scores weak and strong passwords and never writes them anywhere', async () => {
    const before = await lastSeq();
    const weak = await c.request<{ score: number; acceptable: boolean }>('governance/checkPassword', { password: 'P@ssw0rd' });
    expect(weak).toMatchObject({ score: 0, acceptable: false });
    const secret = 'Qm7!vR2#zL9$wK4^';
    const strong = await c.request<{ score: number; acceptable: boolean }>('governance/checkPassword', { password: secret, userInputs: ['alice'] });
    expect(strong).toMatchObject({ score: 4, acceptable: true });
    expect(await lastSeq()).toBe(before);
    expect(d.stderr()).not.toContain(secret);
  });
});

describe('rate-limit policies', () => {
  it('serves the seeded policies and answers checks with headers', async () => {
    const { policies } = await c.request<{ policies: { id: string }[] }>('governance/policies', {});
    expect(policies.map((p) => p.id)).toEqual(['pol_anon_001', 'pol_auth_001', 'pol_prem_001']);
    const premium = await c.request<{ policies: { id: string }[] }>('governance/policies', { clientType: 'premium' });
    expect(premium.policies.map((p) => p.id)).toEqual(['pol_prem_001']);

    let last: Record<string, unknown> = {};
    for (let i = 0; i < 21; i++) last = await c.request('governance/checkRateLimit', { clientId: 'ip:203.0.113.9', clientType: 'anonymous', endpoint: '/api/users' });
    expect(last).toMatchObject({ allowed: false, exceeded: true, enforcement: 'hard', policyId: 'pol_anon_001' });
    const headers = last.headers as Record<string, string>;
    expect(headers['RateLimit-Policy']).toContain('"pol_anon_001:minute";q=10;w=60');
    expect(headers.RateLimit).toMatch(/"pol_anon_001:minute";r=0;t=\d+/);
    expect(Number(headers['Retry-After'])).toBeGreaterThan(0);
  });

  it('creates, updates and deletes a policy; bad input changes nothing', async () => {
    const created = await c.request<{ id: string }>('governance/createPolicy', {
      id: 'pol_orders',
      name: 'Orders',
      clientType: 'authenticated',
      endpointPattern: '/api/orders/*',
      perMinute: 1,
      perHour: 10,
      perDay: 100,
      burst: 1,
      enforcement: 'hard',
    });
    expect(created.id).toBe('pol_orders');
    const check = () => c.request<{ allowed: boolean; policyId: string }>('governance/checkRateLimit', { clientId: 'u1', clientType: 'authenticated', endpoint: '/api/orders/7' });
    expect(await check()).toMatchObject({ allowed: true, policyId: 'pol_orders' });
    expect((await check()).allowed).toBe(false);
    const updated = await c.request<{ burst: number; enforcement: string }>('governance/updatePolicy', { id: 'pol_orders', enforcement: 'soft', burst: 3 });
    expect(updated).toMatchObject({ burst: 3, enforcement: 'soft' });

    const before = await lastSeq();
    const bad = await rpcError(c.request('governance/createPolicy', { name: 'x', clientType: 'Anonymous!', endpointPattern: '*', perMinute: -1, perHour: 1, perDay: 1, burst: 1, enforcement: 'maybe' }));
    expect(bad.code).toBe(ErrorCode.InvalidParams);
    const paths = ((bad.data as { issues: { path: string }[] }).issues ?? []).map((i) => i.path).sort();
    expect(paths).toEqual(['clientType', 'enforcement', 'perMinute']);
    expect((await rpcError(c.request('governance/updatePolicy', { id: 'pol_missing', burst: 2 }))).code).toBe(ErrorCode.NotFound);
    expect(await lastSeq()).toBe(before);

    await c.request('governance/createPolicy', { id: 'pol_tmp', name: 'Tmp', clientType: 'robot', endpointPattern: '*', perMinute: 1, perHour: 1, perDay: 1, burst: 1, enforcement: 'hard' });
    expect(await c.request('governance/deletePolicy', { id: 'pol_tmp' })).toEqual({ ok: true });
    expect((await rpcError(c.request('governance/deletePolicy', { id: 'pol_tmp' }))).code).toBe(ErrorCode.NotFound);
  });
});

describe('API versions', () => {
  it('serves the seed, headers per state, and refuses invalid transitions', async () => {
    const { versions } = await c.request<{ versions: { version: string; status: string }[] }>('governance/versions', {});
    expect(versions.map((v) => `${v.version}:${v.status}`)).toEqual(['v1:deprecated', 'v2:active']);
    expect(await c.request('governance/headersFor', { version: 'v1' })).toEqual({
      version: 'v1',
      status: 'deprecated',
      headers: { Deprecation: '@1760227200', Sunset: 'Sun, 12 Apr 2026 00:00:00 GMT' },
    });

    await c.request('governance/createVersion', { version: 'v3', releasedAt: '2026-11-01T00:00:00Z' });
    const e = await rpcError(c.request('governance/transitionVersion', { version: 'v3', to: 'sunset' }));
    expect(e.code).toBe(ErrorCode.InvalidTransition);
    expect(e.data).toMatchObject({ allowed: ['deprecated'] });
    await c.request('governance/transitionVersion', {
      version: 'v3',
      to: 'deprecated',
      at: '2026-12-01T00:00:00Z',
      sunsetAt: '2027-06-01T00:00:00Z',
      deprecationLink: 'https://api.example.com/v3-deprecation',
      sunsetLink: 'https://api.example.com/sunset-policy',
    });
    expect(await c.request('governance/headersFor', { version: 'v3' })).toEqual({
      version: 'v3',
      status: 'deprecated',
      headers: {
        Deprecation: '@1796083200',
        Sunset: 'Tue, 01 Jun 2027 00:00:00 GMT',
        Link: '<https://api.example.com/v3-deprecation>; rel="deprecation"; type="text/html", <https://api.example.com/sunset-policy>; rel="sunset"; type="text/html"',
      },
    });
    const { versions: deprecated } = await c.request<{ versions: { version: string }[] }>('governance/versions', { status: 'deprecated' });
    expect(deprecated.map((v) => v.version)).toEqual(['v1', 'v3']);
  });
});

describe('GET /api/governance/dashboard and restart', () => {
  it('answers the dashboard over REST, and keeps every change after a restart', async () => {
    const res = await d.http('/api/governance/dashboard');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { versions: unknown[]; policies: { id: string }[]; counts: Record<string, unknown>; owasp: { status: string; score: null } };
    expect(body.owasp).toMatchObject({ status: 'notAudited', score: null });
    expect(body.policies.map((p) => p.id)).toEqual(['pol_anon_001', 'pol_auth_001', 'pol_orders', 'pol_prem_001']);
    expect(body.counts).toMatchObject({ policies: 4, versions: { active: 1, deprecated: 2, sunset: 0, retired: 0 } });
    expect((await d.http('/api/governance/dashboard', { token: null })).status).toBe(401);

    await c.close();
    await d.stop();
    d = await spawnDaemon({ dataDir: d.dataDir });
    c = await d.connect();
    const after = (await (await d.http('/api/governance/dashboard')).json()) as typeof body;
    expect(after.policies.map((p) => p.id)).toEqual(body.policies.map((p) => p.id));
    expect(after.versions).toEqual(body.versions);
    expect(await c.request('governance/headersFor', { version: 'v3' })).toMatchObject({ status: 'deprecated' });
    const { policies } = await c.request<{ policies: { id: string; enforcement: string }[] }>('governance/policies', { clientType: 'authenticated' });
    expect(policies.find((p) => p.id === 'pol_orders')?.enforcement).toBe('soft');
  });
});
