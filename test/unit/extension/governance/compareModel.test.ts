import { describe, expect, it } from 'vitest';
import type { ComparisonReport } from '../../../../daemon/protocol';
import { buildCompareNodes, buildComparePicks, compareDiagnostics, parseGitRefs } from '../../../../extension/features/governance/compareModel';

const range = (line: number) => ({ start: { line, character: 2 }, end: { line, character: 9 } });

const report: ComparisonReport = {
  reportId: 'cmp_1',
  comparedAt: '2026-11-27T12:00:00.000Z',
  document: '/ws/api/shop.yaml',
  base: { name: 'v1.0.0:api/shop.yaml', format: 'openapi-3.0', revision: 'v1.0.0', file: '/ws/api/shop.yaml' },
  head: { name: '/ws/api/shop.yaml', format: 'openapi-3.0', file: '/ws/api/shop.yaml' },
  breaking: true,
  summary: { breaking: 1, warning: 1, info: 1 },
  changes: [
    {
      rule: 'response-property-removed',
      severity: 'breaking',
      message: 'GET /pets: response 200 property "name" was removed.',
      method: 'get',
      path: '/pets',
      location: { file: '/ws/api/shop.yaml', pointer: '/paths/~1pets/get', range: range(11) },
      clients: [{ client: 'mobile-app', requests: 42, lastSeen: '2026-11-26T10:00:00.000Z' }],
    },
    { rule: 'response-enum-value-added', severity: 'warning', message: 'GET /pets: status may now return "pending".', method: 'get', path: '/pets', location: { file: '/ws/api/pet.yaml', pointer: '/properties/status', range: range(4) } },
    { rule: 'operation-added', severity: 'info', message: 'POST /pets was added.', method: 'post', path: '/pets', location: { file: '/ws/api/shop.yaml', pointer: '/paths/~1pets/post' } },
  ],
  changeCount: 3,
  changesCap: 2000,
  changesTruncated: false,
  impact: { sinceDays: 30, clients: [{ client: 'mobile-app', requests: 42, operations: 1 }] },
};

describe('compare model', () => {
  it('reads branches, tags and remote branches from git for-each-ref, skipping remote HEAD', () => {
    const refs = parseGitRefs('refs/tags/v1.0.0\nrefs/heads/main\nrefs/heads/feature/x\nrefs/remotes/origin/HEAD\nrefs/remotes/origin/main\nrefs/stash\n');
    expect(refs).toEqual([
      { name: 'v1.0.0', kind: 'tag' },
      { name: 'main', kind: 'branch' },
      { name: 'feature/x', kind: 'branch' },
      { name: 'origin/main', kind: 'branch' },
    ]);
    const picks = buildComparePicks(refs.slice(0, 2));
    expect(picks.map((p) => [p.action, p.label, p.description])).toEqual([
      ['revision', 'v1.0.0', '$(tag) tag'],
      ['revision', 'main', '$(git-branch) branch'],
      ['file', 'Another file…', '$(file) compare with another OpenAPI/Swagger file'],
    ]);
  });

  it('shows a summary and the changes grouped by severity, each opening its line', () => {
    const nodes = buildCompareNodes(report);
    expect(nodes.map((n) => [n.kind, n.label, n.description])).toEqual([
      ['summary', 'Breaking changes against v1.0.0:api/shop.yaml', '1 breaking · 1 warnings · 1 info'],
      ['group', 'Breaking', '1'],
      ['group', 'Warnings', '1'],
      ['group', 'Info', '1'],
    ]);
    const breaking = nodes[1]!.kind === 'group' ? nodes[1]!.children[0]! : undefined;
    expect(breaking).toMatchObject({ kind: 'change', file: '/ws/api/shop.yaml', range: range(11), description: 'response-property-removed · shop.yaml:12', icon: 'error' });
    expect(breaking?.kind === 'change' ? breaking.tooltip : '').toContain('mobile-app (42)');
    expect(nodes[0]!.kind === 'summary' ? nodes[0]!.tooltip : '').toContain('Clients affected (last 30 days): mobile-app');
    expect(buildCompareNodes(undefined)).toEqual([]);
  });

  it('leaves out empty groups and says when nothing changed', () => {
    const clean = { ...report, breaking: false, summary: { breaking: 0, warning: 0, info: 0 }, changes: [], changeCount: 0 };
    expect(buildCompareNodes(clean).map((n) => n.label)).toEqual(['No changes against v1.0.0:api/shop.yaml']);
  });

  it('turns breaking changes and warnings with a position into diagnostics per file', () => {
    const d = compareDiagnostics(report);
    expect([...d.keys()]).toEqual(['/ws/api/shop.yaml', '/ws/api/pet.yaml']);
    expect(d.get('/ws/api/shop.yaml')).toEqual([
      { range: range(11), severity: 'breaking', code: 'response-property-removed', message: 'GET /pets: response 200 property "name" was removed. (compared with v1.0.0:api/shop.yaml)' },
    ]);
  });
});
