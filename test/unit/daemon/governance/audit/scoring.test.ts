import { describe, expect, it } from 'vitest';
import type { AuditFinding, FindingSeverity } from '../../../../../daemon/protocol';
import { buildReport, capFindings, documentScore, overallScore } from '../../../../../daemon/services/governance/audit/report';

const counts = (error = 0, warn = 0, info = 0, hint = 0) => ({ error, warn, info, hint });

function finding(severity: FindingSeverity, category: AuditFinding['category'] = 'API4', line = 0): AuditFinding {
  return {
    rule: 'owasp:api4:2023-array-limit',
    category,
    severity,
    message: 'm',
    file: '/x/a.yaml',
    range: { start: { line, character: 0 }, end: { line, character: 1 } },
    pointer: '/paths',
    suggestedFix: 'fix',
  };
}

describe('compliance score', () => {
  it('is 100 only when nothing is found', () => {
    expect(documentScore(counts())).toBe(100);
    expect(documentScore(counts(0, 0, 0, 1))).toBeLessThan(100);
  });

  it('does not fall to 0 after one finding (the seed did)', () => {
    expect(documentScore(counts(1))).toBe(90.9);
    expect(documentScore(counts(0, 1))).toBe(96.2);
  });

  it('weighs errors above warnings above infos, and stays above 0', () => {
    expect(documentScore(counts(1))).toBeLessThan(documentScore(counts(0, 1)));
    expect(documentScore(counts(0, 1))).toBeLessThan(documentScore(counts(0, 0, 1)));
    expect(documentScore(counts(10))).toBe(50);
    expect(documentScore(counts(1000))).toBeGreaterThan(0);
  });

  it('overall is the mean of the documents, 100 only when all are', () => {
    expect(overallScore([100, 100])).toBe(100);
    expect(overallScore([100, 50])).toBe(75);
    expect(overallScore([])).toBe(100);
  });
});

describe('report', () => {
  const report = buildReport(
    [
      { file: '/x/a.yaml', format: 'openapi-3.0', findings: [finding('hint', 'API4', 9), finding('error', 'API8', 3), finding('info', 'API1')] },
      { file: '/x/b.yaml', format: 'openapi-3.1', findings: [] },
    ],
    { auditId: 'aud_1', auditedAt: '2026-11-27T12:00:00.000Z' },
    2,
  );

  it('fails a category only on error or warn findings', () => {
    const status = Object.fromEntries(report.categories.map((c) => [c.category, c.status]));
    expect(status.API8).toBe('fail');
    expect(status.API1).toBe('pass');
    expect(status.API4).toBe('pass');
    expect(report.categories.find((c) => c.category === 'API1')!.findings.info).toBe(1);
  });

  it('scores per document and overall, counts by severity, sorts most severe first and caps the list', () => {
    expect(report.documents.map((d) => d.score)).toEqual([documentScore(counts(1, 0, 1, 1)), 100]);
    expect(report.score).toBe(overallScore(report.documents.map((d) => d.score)));
    expect(report.bySeverity).toEqual(counts(1, 0, 1, 1));
    expect(report.findingCount).toBe(3);
    expect(report.findings.map((f) => f.severity)).toEqual(['error', 'info']);
    expect(report.findingsTruncated).toBe(true);
  });

  it('caps findings for the event and says so', () => {
    const capped = capFindings(report, 1);
    expect(capped.findings).toHaveLength(1);
    expect(capped.findingsCap).toBe(1);
    expect(capped.findingsTruncated).toBe(true);
    expect(capped.findingCount).toBe(3);
  });
});
