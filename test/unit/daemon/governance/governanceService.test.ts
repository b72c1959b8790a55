import { describe, expect, it } from 'vitest';
import { ErrorCode, RpcError } from '../../../../daemon/protocol';
import { GovernanceService } from '../../../../daemon/services/governance/governanceService';
import { GovernanceProjection } from '../../../../daemon/services/governance/projection';
import { headersForVersion } from '../../../../daemon/services/governance/versionHeaders';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

const NOW = Date.parse('2026-11-27T12:00:00Z');

async function open(log = new MemoryEventLog(), clock = new ManualClock(NOW)) {
  const projection = new GovernanceProjection();
  const store = log.open({ clock, projections: [projection] });
  const service = new GovernanceService(store, projection, clock);
  await service.seedDefaults();
  return { log, clock, projection, service };
}

async function rpcError(p: Promise<unknown>): Promise<RpcError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(RpcError);
  return e as RpcError;
}

const newPolicy = {
  name: 'Orders for anonymous',
  clientType: 'anonymous',
  endpointPattern: '/api/orders/*',
  perMinute: 5,
  perHour: 50,
  perDay: 500,
  burst: 5,
  enforcement: 'hard' as const,
};

describe('seeding', () => {
  it('seeds the three policies and two versions once, as events', async () => {
    const { log, service } = await open();
    expect(service.policies().map((p) => [p.id, p.clientType, p.perMinute, p.perHour, p.perDay, p.burst, p.enforcement, p.endpointPattern])).toEqual([
      ['pol_anon_001', 'anonymous', 10, 100, 1000, 20, 'hard', '*'],
      ['pol_auth_001', 'authenticated', 100, 5000, 50_000, 150, 'hard', '*'],
      ['pol_prem_001', 'premium', 1000, 50_000, 500_000, 1500, 'soft', '*'],
    ]);
    expect(service.versions().map((v) => [v.version, v.status])).toEqual([
      ['v1', 'deprecated'],
      ['v2', 'active'],
    ]);
    expect(log.records.every((r) => r.stream === 'governance_events' && r.actor === 'daemon')).toBe(true);
    const count = log.records.length;
    const again = await open(log);
    expect(log.records.length).toBe(count);
    expect(again.service.policies()).toHaveLength(3);
  });

  it('does not bring back a deleted seed policy on restart', async () => {
    const { log, service } = await open();
    await service.deletePolicy('pol_anon_001', 'owner');
    const again = await open(log);
    expect(again.service.policies().map((p) => p.id)).toEqual(['pol_auth_001', 'pol_prem_001']);
  });
});

describe('policies', () => {
  it('creates, updates and deletes, each surviving a restart', async () => {
    const { log, service, clock } = await open();
    const created = await service.createPolicy({ ...newPolicy, id: 'pol_orders' }, 'owner');
    expect(created).toMatchObject({ id: 'pol_orders', createdAt: '2026-11-27T12:00:00.000Z' });
    clock.advance(1000);
    const updated = await service.updatePolicy({ id: 'pol_orders', perMinute: 7, burst: 9 }, 'owner');
    expect(updated).toMatchObject({ perMinute: 7, burst: 9, perHour: 50, updatedAt: '2026-11-27T12:00:01.000Z' });
    expect((await open(log)).service.policies().find((p) => p.id === 'pol_orders')).toEqual(updated);
    await service.deletePolicy('pol_orders', 'owner');
    expect((await open(log)).service.policies().map((p) => p.id)).not.toContain('pol_orders');
    expect(log.ofType('governance.policyCreated', 'governance.policyUpdated', 'governance.policyDeleted').at(-1)?.actor).toBe('owner');
  });

  it('generates an id when none is given', async () => {
    const { service } = await open();
    expect((await service.createPolicy(newPolicy, 'owner')).id).toMatch(/^pol_[0-9a-f]{8}$/);
  });

  it('refuses duplicates, unknown ids and inconsistent limits, changing nothing', async () => {
    const { log, service } = await open();
    const before = log.records.length;
    expect((await rpcError(service.createPolicy({ ...newPolicy, id: 'pol_anon_001' }, 'o'))).code).toBe(ErrorCode.Duplicate);
    const twin = await rpcError(service.createPolicy({ ...newPolicy, endpointPattern: '*' }, 'o'));
    expect(twin.code).toBe(ErrorCode.Duplicate);
    expect(twin.message).toContain('pol_anon_001');
    expect((await rpcError(service.updatePolicy({ id: 'nope', burst: 1 }, 'o'))).code).toBe(ErrorCode.NotFound);
    expect((await rpcError(service.deletePolicy('nope', 'o'))).code).toBe(ErrorCode.NotFound);
    const limits = await rpcError(service.createPolicy({ ...newPolicy, perHour: 2 }, 'o'));
    expect(limits.code).toBe(ErrorCode.InvalidParams);
    expect(limits.message).toMatch(/^perHour:/);
    expect((await rpcError(service.updatePolicy({ id: 'pol_anon_001', perDay: 10 }, 'o'))).message).toMatch(/^perDay:/);
    expect(log.records.length).toBe(before);
  });

  it('answers rate-limit checks from the matching policy and resets buckets on update', async () => {
    const { service } = await open();
    await service.createPolicy({ ...newPolicy, id: 'pol_orders' }, 'o');
    const check = () => service.checkRateLimit({ clientId: 'ip:1', clientType: 'anonymous', endpoint: '/api/orders/1' });
    for (let i = 0; i < 5; i++) expect(check().allowed).toBe(true);
    expect(check()).toMatchObject({ allowed: false, policyId: 'pol_orders' });
    expect(service.checkRateLimit({ clientId: 'ip:1', clientType: 'anonymous', endpoint: '/api/users' })).toMatchObject({ allowed: true, policyId: 'pol_anon_001' });
    await service.updatePolicy({ id: 'pol_orders', burst: 6 }, 'o');
    expect(check().allowed).toBe(true);
    expect(service.dashboard().counts).toMatchObject({ rateLimitChecks: 8, rateLimitDenied: 1 });
  });
});

describe('versions', () => {
  it('walks active → deprecated → sunset → retired with dates, surviving a restart', async () => {
    const { log, service } = await open();
    const v3 = await service.createVersion({ version: 'v3', supportedUntil: '2029-01-01T00:00:00Z' }, 'o');
    expect(v3).toMatchObject({ status: 'active', releasedAt: '2026-11-27T12:00:00.000Z' });
    const dep = await service.transitionVersion(
      { version: 'v3', to: 'deprecated', sunsetAt: '2027-06-01T00:00:00Z', deprecationLink: 'https://api.example.com/deprecations/v3', replacement: 'v2' },
      'o',
    );
    expect(dep).toMatchObject({ status: 'deprecated', deprecatedAt: '2026-11-27T12:00:00.000Z', sunsetAt: '2027-06-01T00:00:00Z', replacement: 'v2' });
    const sun = await service.transitionVersion({ version: 'v3', to: 'sunset', at: '2027-06-01T00:00:00Z' }, 'o');
    expect(sun.sunsetAt).toBe('2027-06-01T00:00:00Z');
    const ret = await service.transitionVersion({ version: 'v3', to: 'retired', at: '2027-07-01T00:00:00Z' }, 'o');
    expect(ret).toMatchObject({ status: 'retired', retiredAt: '2027-07-01T00:00:00Z' });
    expect((await open(log)).service.versions().find((v) => v.version === 'v3')).toEqual(ret);
    expect(service.dashboard().counts.versions).toEqual({ active: 1, deprecated: 1, sunset: 0, retired: 1 });
  });

  it('refuses invalid transitions with the allowed ones, and bad dates, changing nothing', async () => {
    const { log, service } = await open();
    const before = log.records.length;
    const skip = await rpcError(service.transitionVersion({ version: 'v2', to: 'retired' }, 'o'));
    expect(skip.code).toBe(ErrorCode.InvalidTransition);
    expect(skip.data).toEqual({ from: 'active', to: 'retired', allowed: ['deprecated'] });
    const back = await rpcError(service.transitionVersion({ version: 'v1', to: 'active' }, 'o'));
    expect(back.data).toMatchObject({ allowed: ['sunset'] });
    const early = await rpcError(service.transitionVersion({ version: 'v2', to: 'deprecated', at: '2027-01-01T00:00:00Z', sunsetAt: '2026-12-01T00:00:00Z' }, 'o'));
    expect(early.message).toMatch(/^sunsetAt:/);
    expect((await rpcError(service.transitionVersion({ version: 'v9', to: 'deprecated' }, 'o'))).code).toBe(ErrorCode.NotFound);
    expect((await rpcError(service.transitionVersion({ version: 'v2', to: 'deprecated', replacement: 'v9' }, 'o'))).code).toBe(ErrorCode.NotFound);
    expect((await rpcError(service.createVersion({ version: 'v1' }, 'o'))).code).toBe(ErrorCode.Duplicate);
    expect((await rpcError(service.createVersion({ version: 'v5', releasedAt: '2027-01-01T00:00:00Z', supportedUntil: '2026-01-01T00:00:00Z' }, 'o'))).message).toMatch(
      /^supportedUntil:/,
    );
    expect(log.records.length).toBe(before);
  });
});

describe('headersFor', () => {
  it('gives the seeded v1 RFC 9745 Deprecation and RFC 8594 Sunset headers', async () => {
    const { service } = await open();
    expect(service.headersFor('v1')).toEqual({
      version: 'v1',
      status: 'deprecated',
      headers: {
        Deprecation: '@1760227200',
        Sunset: 'Sun, 12 Apr 2026 00:00:00 GMT',
      },
    });
    expect(service.headersFor('v2')).toEqual({ version: 'v2', status: 'active', headers: {} });
    expect((() => {
      try {
        service.headersFor('v7');
      } catch (e) {
        return (e as RpcError).code;
      }
      return undefined;
    })()).toBe(ErrorCode.NotFound);
  });

  it('adds Link rel="deprecation" and rel="sunset" when pages are configured, and 410 once retired', () => {
    const v = {
      version: 'v0',
      status: 'retired' as const,
      deprecatedAt: '2024-01-01T00:00:00.000Z',
      sunsetAt: '2024-07-01T12:30:00.000Z',
      deprecationLink: 'https://api.example.com/deprecation',
      sunsetLink: 'https://api.example.com/sunset',
    };
    expect(headersForVersion(v)).toEqual({
      headers: {
        Deprecation: '@1704067200',
        Sunset: 'Mon, 01 Jul 2024 12:30:00 GMT',
        Link: '<https://api.example.com/deprecation>; rel="deprecation"; type="text/html", <https://api.example.com/sunset>; rel="sunset"; type="text/html"',
      },
      recommendedStatus: 410,
    });
  });
});

describe('dashboard', () => {
  it('lists versions and policies and says the OWASP audit has not run, with no score', async () => {
    const d = (await open()).service.dashboard();
    expect(d.versions).toHaveLength(2);
    expect(d.policies).toHaveLength(3);
    expect(d.counts).toMatchObject({ policies: 3, versions: { active: 1, deprecated: 1, sunset: 0, retired: 0 } });
    expect(d.owasp).toMatchObject({ status: 'notAudited', score: null });
  });
});
