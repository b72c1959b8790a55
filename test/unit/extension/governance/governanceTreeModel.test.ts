import { describe, expect, it } from 'vitest';
import type { AuditFinding, CategoryResult, ComplianceReport } from '../../../../daemon/protocol';
import { buildGovernanceNodes, type GovernanceNode } from '../../../../extension/features/governance/governanceTreeModel';

const counts = { error: 0, warn: 0, info: 0, hint: 0 };
const range = (line: number) => ({ start: { line, character: 2 }, end: { line, character: 9 } });
const cat = (category: CategoryResult['category'], status: 'pass' | 'fail'): CategoryResult => ({ category, title: `title ${category}`, status, coverage: 'partial', findings: counts });
const finding = (file: string, category: AuditFinding['category'], severity: AuditFinding['severity'], line: number): AuditFinding => ({
  rule: `rule-${category}-${line}`,
  category,
  severity,
  message: `message ${line}`,
  file,
  range: range(line),
  pointer: '/servers/0/url',
  suggestedFix: 'fix it',
});

const report: ComplianceReport = {
  auditId: 'a1',
  auditedAt: '2026-11-27T22:00:00.000Z',
  score: 61.4,
  scoreFormula: 'formula',
  documents: [
    { file: '/w/api.yaml', format: 'openapi-3.0', score: 42.6, categories: [cat('API4', 'fail'), cat('API8', 'fail')], bySeverity: counts, findingCount: 3, structureFindings: 0 },
    { file: '/w/clean.json', format: 'openapi-3.1', score: 100, categories: [cat('API4', 'pass')], bySeverity: counts, findingCount: 0, structureFindings: 0 },
  ],
  skipped: [],
  categories: [cat('API4', 'fail'), cat('API8', 'fail')],
  bySeverity: counts,
  findingCount: 4,
  findings: [finding('/w/api.yaml', 'API8', 'error', 5), finding('/w/api.yaml', 'API4', 'warn', 30), finding('/w/api.yaml', 'API4', 'info', 31), finding('/w/shared.yaml', 'API3', 'hint', 1)],
  findingsCap: 500,
  findingsTruncated: false,
};

const children = (n: GovernanceNode | undefined): GovernanceNode[] => (n && (n.kind === 'document' || n.kind === 'category') ? n.children : []);

describe('buildGovernanceNodes', () => {
  it('shows nothing before an audit, so the welcome appears', () => {
    expect(buildGovernanceNodes(undefined)).toEqual([]);
  });

  it('summarises the overall score and failing categories, then one node per file', () => {
    const nodes = buildGovernanceNodes(report);
    expect(nodes.map((n) => n.label)).toEqual(['OWASP score 61/100', 'api.yaml', 'clean.json', 'shared.yaml']);
    expect(nodes[0]!.description).toBe('2 documents · 4 findings · failing API4, API8');
    expect(nodes[1]!.description).toBe('score 43 · 3 findings · failing API4, API8');
    expect(nodes[2]!.icon).toBe('pass');
    expect(nodes[3]!.description).toBe('referenced file · 1 finding');
  });

  it('groups findings by category in OWASP order, each opening its file at its range', () => {
    const [api4, api8] = children(buildGovernanceNodes(report)[1]);
    expect(api4!.label).toBe('API4 title API4');
    expect(api4!.description).toBe('2 findings');
    expect(api8!.icon).toBe('error');
    const [first] = children(api4);
    expect(first).toMatchObject({ kind: 'finding', file: '/w/api.yaml', range: range(30), icon: 'warning', description: 'rule-API4-30 · line 31' });
  });

  it('marks a category holding only info or hint findings as passing', () => {
    const [api3] = children(buildGovernanceNodes(report)[3]);
    expect(api3!.icon).toBe('pass');
  });
});
