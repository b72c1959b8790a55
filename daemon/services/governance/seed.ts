import type { ApiVersion, RateLimitPolicy } from '../../protocol';

/** The seed's per-client-type rate-limit policies (SEED_FACTS.md), endpoint pattern `*`. */
export function seedPolicies(nowIso: string): RateLimitPolicy[] {
  const base = { endpointPattern: '*', createdAt: nowIso, updatedAt: nowIso };
  return [
    { ...base, id: 'pol_anon_001', name: 'Anonymous', clientType: 'anonymous', perMinute: 10, perHour: 100, perDay: 1000, burst: 20, enforcement: 'hard' },
    { ...base, id: 'pol_auth_001', name: 'Authenticated', clientType: 'authenticated', perMinute: 100, perHour: 5000, perDay: 50_000, burst: 150, enforcement: 'hard' },
    { ...base, id: 'pol_prem_001', name: 'Premium', clientType: 'premium', perMinute: 1000, perHour: 50_000, perDay: 500_000, burst: 1500, enforcement: 'soft' },
  ];
}

/** The seed's API versions: v1 deprecated, v2 active. */
export const SEED_VERSIONS: readonly ApiVersion[] = [
  {
    version: 'v1',
    status: 'deprecated',
    deprecatedAt: '2025-10-12T00:00:00.000Z',
    sunsetAt: '2026-04-12T00:00:00.000Z',
    supportedUntil: '2026-10-12T00:00:00.000Z',
    replacement: 'v2',
  },
  { version: 'v2', status: 'active', releasedAt: '2025-10-12T00:00:00.000Z', supportedUntil: '2027-10-12T00:00:00.000Z' },
];
