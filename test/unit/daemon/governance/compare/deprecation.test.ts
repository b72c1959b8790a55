import { describe, expect, it } from 'vitest';
import type { ApiVersion, DeprecationPolicy } from '../../../../../daemon/protocol';
import { policiesFor, removalPolicy } from '../../../../../daemon/services/governance/compare/deprecation';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const policy = (id: string, pattern: string, extra: Partial<DeprecationPolicy> = {}): DeprecationPolicy => ({
  id,
  pattern,
  migrationSteps: [],
  deprecatedAt: '2026-01-01T00:00:00.000Z',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});
const removed = (path: string, extra: { deprecated?: boolean; sunset?: string; basePaths?: string[]; method?: string } = {}) => ({
  method: extra.method ?? 'get',
  path,
  deprecated: extra.deprecated ?? false,
  sunset: extra.sunset,
  basePaths: extra.basePaths ?? [],
});

describe('removal policy', () => {
  const versions: ApiVersion[] = [
    { version: 'v1', status: 'deprecated', deprecatedAt: '2025-10-12T00:00:00.000Z', sunsetAt: '2027-04-12T00:00:00.000Z' },
    { version: 'v0', status: 'retired', retiredAt: '2025-01-01T00:00:00.000Z' },
    { version: 'v2', status: 'active' },
  ];
  const decide = removalPolicy({ now: NOW, versions, policies: [policy('old-search', '/search*', { sunsetAt: '2026-10-01T00:00:00.000Z' }), policy('future', '/reports*', { sunsetAt: '2027-01-01T00:00:00.000Z' })] });

  it('allows the removal once a policy, a version or x-sunset says the sunset passed', () => {
    expect(decide(removed('/search/items'))).toMatchObject({ allowed: true, by: 'policy:old-search' });
    expect(decide(removed('/orders', { basePaths: ['/api/v0'] }))).toMatchObject({ allowed: true, by: 'version:v0' });
    expect(decide(removed('/pets', { deprecated: true, sunset: 'Sat, 01 Nov 2026 00:00:00 GMT' }))).toMatchObject({ allowed: true, by: 'x-sunset' });
  });

  it('keeps it breaking, saying why, while the sunset is ahead or was never announced', () => {
    expect(decide(removed('/reports/daily'))).toEqual({ allowed: false, note: 'Deprecation policy future sets its sunset for 2027-01-01, which has not passed.' });
    expect(decide(removed('/v1/pets'))).toEqual({ allowed: false, note: 'API version v1 is deprecated until its sunset on 2027-04-12.' });
    expect(decide(removed('/v2/pets'))).toEqual({ allowed: false });
    expect(decide(removed('/pets', { deprecated: true }))).toMatchObject({ allowed: false, note: expect.stringContaining('no sunset date was announced') });
    expect(decide(removed('/pets', { deprecated: true, sunset: '2027-03-01' }))).toMatchObject({ allowed: false, note: expect.stringContaining('x-sunset 2027-03-01 has not passed') });
    // x-sunset without the deprecated flag announces nothing to clients.
    expect(decide(removed('/pets', { sunset: '2026-01-01' }))).toEqual({ allowed: false });
  });

  it('matches patterns most specific first, methods when the policy names them', () => {
    const all = [policy('a', '/orders*'), policy('b', '/orders/*/items', { methods: ['delete'] })];
    expect(policiesFor(all, '/orders/{id}/items', 'delete').map((p) => p.id)).toEqual(['b', 'a']);
    expect(policiesFor(all, '/orders/{id}/items', 'get').map((p) => p.id)).toEqual(['a']);
    expect(policiesFor(all, '/orders/').map((p) => p.id)).toEqual(['a']);
    expect(policiesFor(all, '/customers')).toEqual([]);
  });
});
