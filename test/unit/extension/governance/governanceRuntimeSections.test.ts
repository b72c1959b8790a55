import { describe, expect, it } from 'vitest';
import type { ApiVersion, RateLimitPolicy } from '../../../../daemon/protocol';
import { Commands } from '../../../../extension/ids';
import {
  AUDIT_WORKSPACE_COMMAND,
  buildGovernanceNodes,
  buildRuntimeSections,
  nextVersionStatus,
  type GovernanceNode,
  type RuntimeGovernance,
} from '../../../../extension/features/governance/governanceTreeModel';

const v1: ApiVersion = {
  version: 'v1',
  status: 'deprecated',
  releasedAt: '2024-10-12T00:00:00.000Z',
  deprecatedAt: '2025-10-12T00:00:00.000Z',
  sunsetAt: '2026-04-12T00:00:00.000Z',
  supportedUntil: '2026-10-12T00:00:00.000Z',
  replacement: 'v2',
};
const v2: ApiVersion = { version: 'v2', status: 'active', releasedAt: '2025-10-12T00:00:00.000Z', supportedUntil: '2027-10-12T00:00:00.000Z' };
const v0: ApiVersion = { version: 'v0', status: 'retired', retiredAt: '2024-01-01T00:00:00.000Z' };

const policy = (id: string, clientType: string, perMinute: number, enforcement: 'hard' | 'soft'): RateLimitPolicy => ({
  id,
  name: `${clientType} default`,
  clientType,
  endpointPattern: '*',
  perMinute,
  perHour: perMinute * 50,
  perDay: perMinute * 500,
  burst: perMinute + perMinute / 2,
  enforcement,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-02T00:00:00.000Z',
});

const runtime: RuntimeGovernance = {
  versions: [v1, v0, v2],
  headers: new Map<string, Record<string, string>>([
    ['v1', { Deprecation: '@1760227200', Sunset: 'Sun, 12 Apr 2026 00:00:00 GMT', Link: '<https://example.com/v2>; rel="successor-version"' }],
    ['v2', {}],
  ]),
  policies: [policy('pol_prem_001', 'premium', 1000, 'soft'), policy('pol_anon_001', 'anonymous', 10, 'hard')],
};

const section = (nodes: GovernanceNode[], label: string): Extract<GovernanceNode, { kind: 'section' }> => {
  const found = nodes.find((n) => n.kind === 'section' && n.label === label);
  if (found?.kind !== 'section') throw new Error(`no section ${label}`);
  return found;
};

describe('nextVersionStatus', () => {
  it('moves one step along active → deprecated → sunset → retired and stops there', () => {
    expect(nextVersionStatus('active')).toBe('deprecated');
    expect(nextVersionStatus('deprecated')).toBe('sunset');
    expect(nextVersionStatus('sunset')).toBe('retired');
    expect(nextVersionStatus('retired')).toBeUndefined();
  });
});

describe('API Versions section', () => {
  const versions = section(buildRuntimeSections(runtime), 'API Versions');

  it('counts versions by state and lists the newest first', () => {
    expect(versions.description).toBe('1 active · 1 deprecated · 1 retired');
    expect(versions.children.map((n) => n.label)).toEqual(['v2', 'v1', 'v0']);
  });

  it('gives each version its state, an icon per state and the one state it may move to', () => {
    const rows = versions.children.map((n) => (n.kind === 'version' ? [n.version, n.status, n.icon, n.next] : []));
    expect(rows).toEqual([
      ['v2', 'active', 'pass', 'deprecated'],
      ['v1', 'deprecated', 'warning', 'sunset'],
      ['v0', 'retired', 'circle-slash', undefined],
    ]);
  });

  it('shows the dates and the lifecycle headers in the tooltip', () => {
    const deprecated = versions.children.find((n) => n.label === 'v1');
    expect(deprecated?.kind === 'version' && deprecated.description).toBe('deprecated · since 2025-10-12 · sunset 2026-04-12');
    const tooltip = deprecated?.kind === 'version' ? deprecated.tooltip : '';
    expect(tooltip).toContain('released 2024-10-12');
    expect(tooltip).toContain('sunset 2026-04-12');
    expect(tooltip).toContain('supported until 2026-10-12');
    expect(tooltip).toContain('replaced by v2');
    expect(tooltip).toContain('Deprecation: @1760227200');
    expect(tooltip).toContain('Sunset: Sun, 12 Apr 2026 00:00:00 GMT');
    expect(tooltip).toContain('Next lifecycle state: sunset');
  });

  it('shows, per state, the dates that come next', () => {
    const descriptions = versions.children.map((n) => n.description);
    expect(descriptions).toEqual(['active · released 2025-10-12 · supported until 2027-10-12', 'deprecated · since 2025-10-12 · sunset 2026-04-12', 'retired · since 2024-01-01']);
  });

  it('says an active version sends no lifecycle headers, and a retired one has no next state', () => {
    const active = versions.children.find((n) => n.label === 'v2');
    expect(active?.kind === 'version' && active.tooltip).toContain('(none: clients get no lifecycle headers)');
    const retired = versions.children.find((n) => n.label === 'v0');
    expect(retired?.kind === 'version' && retired.tooltip).not.toContain('Next lifecycle state');
  });
});

describe('Rate-Limit Policies section', () => {
  const policies = section(buildRuntimeSections(runtime), 'Rate-Limit Policies');

  it('lists policies by client type, tightest first, with limits, burst and enforcement', () => {
    expect(policies.description).toBe('2 policies');
    expect(policies.children.map((n) => [n.label, n.description, n.icon])).toEqual([
      ['anonymous', '10/min · 500/h · 5,000/day · burst 15 · hard', 'lock'],
      ['premium', '1,000/min · 50,000/h · 500,000/day · burst 1,500 · soft', 'unlock'],
    ]);
    const soft = policies.children[1];
    expect(soft?.kind === 'policy' && soft.tooltip).toContain('Soft enforcement: requests past the limit pass but are flagged as exceeded.');
    expect(soft?.kind === 'policy' && soft.policyId).toBe('pol_prem_001');
  });

  it('says so when there is no policy or version', () => {
    const empty = buildRuntimeSections({ versions: [], headers: new Map(), policies: [] });
    expect(empty.map((n) => [n.label, n.description])).toEqual([
      ['API Versions', 'none registered'],
      ['Rate-Limit Policies', 'none'],
    ]);
  });
});

describe('buildGovernanceNodes with versions and policies', () => {
  it('puts the two sections after the audit part, and shows them before any audit', () => {
    expect(buildGovernanceNodes(undefined, runtime).map((n) => n.label)).toEqual(['No API contracts audited yet', 'API Versions', 'Rate-Limit Policies']);
    expect(buildGovernanceNodes(undefined)).toEqual([]);
  });
});

describe('Governance view before the first audit', () => {
  it('says nothing was audited and offers the workspace audit on click, only while connected', () => {
    const connected = buildGovernanceNodes(undefined, { versions: [], headers: new Map(), policies: [] });
    expect(connected[0]).toMatchObject({ kind: 'summary', id: 'summary:notAudited', label: 'No API contracts audited yet', command: AUDIT_WORKSPACE_COMMAND });
    expect(AUDIT_WORKSPACE_COMMAND).toBe(Commands.auditContracts);
    expect(buildGovernanceNodes(undefined, undefined)).toEqual([]);
  });
});
