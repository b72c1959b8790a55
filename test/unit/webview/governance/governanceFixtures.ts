import type { AuditFinding, ComparisonReport, ComplianceReport } from '../../../../daemon/protocol';
import { buildReport } from '../../../../daemon/services/governance/audit/report';

export const finding = (file: string, category: AuditFinding['category'], severity: AuditFinding['severity'], line = 3): AuditFinding => ({
  rule: `rule-${category}-${severity}`,
  category,
  severity,
  message: `${category} ${severity} at ${line}`,
  file,
  range: { start: { line, character: 2 }, end: { line, character: 12 } },
  pointer: `/paths/${line}`,
  suggestedFix: 'Fix it.',
});

/** Two documents: orders fails API4 and is partly on API8 (info only); users is clean. */
export function complianceReport(): ComplianceReport {
  return buildReport(
    [
      { file: '/ws/api/orders.yaml', format: 'openapi-3.0', findings: [finding('/ws/api/orders.yaml', 'API4', 'error', 10), finding('/ws/api/orders.yaml', 'API4', 'warn', 12), finding('/ws/api/orders.yaml', 'API8', 'info', 3)] },
      { file: '/ws/api/users.yaml', format: 'openapi-3.1', findings: [] },
    ],
    { auditId: 'aud_2', auditedAt: '2026-11-28T10:30:00.000Z' },
    2000,
  );
}

export function comparisonReport(): ComparisonReport {
  return {
    reportId: 'cmp_1',
    comparedAt: '2026-11-28T11:00:00.000Z',
    document: '/ws/api/orders.yaml',
    base: { name: 'v1.0.0:api/orders.yaml', format: 'openapi-3.0', revision: 'v1.0.0' },
    head: { name: 'api/orders.yaml', format: 'openapi-3.0', file: '/ws/api/orders.yaml' },
    breaking: true,
    summary: { breaking: 1, warning: 1, info: 0 },
    changes: [
      { rule: 'operation-removed', severity: 'breaking', message: 'DELETE /orders/{id} was removed', path: '/orders/{id}', method: 'delete', clients: [{ client: 'mobile', requests: 12, lastSeen: '2026-11-27T10:00:00.000Z' }] },
      { rule: 'optional-to-required', severity: 'warning', message: 'limit became required' },
    ],
    changeCount: 2,
    changesCap: 500,
    changesTruncated: false,
    impact: { sinceDays: 30, clients: [{ client: 'mobile', requests: 12, operations: 1 }] },
  };
}
