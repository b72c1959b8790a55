import { describe, expect, it } from 'vitest';
import type { AuditFinding, FindingSeverity } from '../../../../../daemon/protocol';
import { buildReport, compareFindings, mergeSorted } from '../../../../../daemon/services/governance/audit/report';

const finding = (severity: FindingSeverity, file: string, line: number, rule = 'owasp:api4:2023-string-limit'): AuditFinding => ({
  rule,
  category: 'API4',
  severity,
  message: `${rule} at ${line}`,
  file,
  range: { start: { line, character: 2 }, end: { line, character: 9 } },
  pointer: `/x/${line}`,
  suggestedFix: 'Add maxLength.',
});

describe('mergeSorted', () => {
  it('equals sorting everything and cutting at the cap, without duplicates', () => {
    const a = [finding('warn', '/w/a.yaml', 3), finding('error', '/w/a.yaml', 9), finding('hint', '/w/a.yaml', 1)].sort(compareFindings);
    const b = [finding('error', '/w/b.yaml', 2), finding('info', '/w/b.yaml', 5), finding('warn', '/w/s.yaml', 4)].sort(compareFindings);
    const c = [finding('warn', '/w/s.yaml', 4), finding('error', '/w/c.yaml', 1)].sort(compareFindings);
    const expected = [...a, ...b, ...c.filter((f) => f.file !== '/w/s.yaml')].sort(compareFindings);
    expect(mergeSorted([a, b, c], 100)).toEqual(expected);
    expect(mergeSorted([a, b, c], 4)).toEqual(expected.slice(0, 4));
    expect(mergeSorted([[], a], 2)).toEqual(a.slice(0, 2));
  });
});

describe('buildReport across documents sharing a $ref\'d file', () => {
  it('lists and counts a finding in the shared file once, while each document still scores it', () => {
    const shared = finding('error', '/w/common.yaml', 7);
    const report = buildReport(
      [
        { file: '/w/a.yaml', format: 'openapi-3.0', findings: [shared, finding('warn', '/w/a.yaml', 3)] },
        { file: '/w/b.yaml', format: 'openapi-3.0', findings: [{ ...shared }] },
      ],
      { auditId: 'aud_1', auditedAt: '2026-11-28T00:00:00.000Z' },
      10,
    );
    expect(report.findings.map((f) => f.file)).toEqual(['/w/common.yaml', '/w/a.yaml']);
    expect(report.findingCount).toBe(2);
    expect(report.bySeverity).toEqual({ error: 1, warn: 1, info: 0, hint: 0 });
    expect(report.categories.find((c) => c.category === 'API4')).toMatchObject({ status: 'fail', findings: { error: 1, warn: 1, info: 0, hint: 0 } });
    expect(report.documents.map((d) => d.findingCount)).toEqual([2, 1]);
    expect(report.documents[1]!.score).toBeLessThan(100);
  });
});
