import type { AuditFinding, CategoryResult, ComplianceReport, DocumentReport, FindingSeverity, OwaspCategory, SeverityCounts } from '../../../protocol';
import { CATEGORY_COVERAGE, OWASP_CATEGORIES, OWASP_TITLES } from './categories';
import type { DocumentAudit } from './engine';

/** Penalty points per finding, by severity. */
export const SEVERITY_WEIGHTS: Record<FindingSeverity, number> = { error: 10, warn: 4, info: 1, hint: 0.25 };

/** Penalty points at which a document scores 50. */
export const SCORE_HALF_POINT = 100;

export const SCORE_FORMULA =
  `Per document: penalty P = ${SEVERITY_WEIGHTS.error} × errors + ${SEVERITY_WEIGHTS.warn} × warnings + ${SEVERITY_WEIGHTS.info} × infos + ${SEVERITY_WEIGHTS.hint} × hints; ` +
  `score = 100 × ${SCORE_HALF_POINT} / (${SCORE_HALF_POINT} + P), one decimal, at most 99.9 when P > 0 (100 only with no finding; one error gives 90.9, it never reaches 0). ` +
  'Overall: the mean of the document scores.';

const round1 = (n: number) => Math.round(n * 10) / 10;

export function emptyCounts(): SeverityCounts {
  return { error: 0, warn: 0, info: 0, hint: 0 };
}

export function countBySeverity(findings: readonly AuditFinding[]): SeverityCounts {
  const counts = emptyCounts();
  for (const f of findings) counts[f.severity]++;
  return counts;
}

/** The documented score of one document's findings. */
export function documentScore(counts: SeverityCounts): number {
  const penalty = (Object.keys(SEVERITY_WEIGHTS) as FindingSeverity[]).reduce((sum, s) => sum + SEVERITY_WEIGHTS[s] * counts[s], 0);
  if (penalty === 0) return 100;
  return Math.min(99.9, round1((100 * SCORE_HALF_POINT) / (SCORE_HALF_POINT + penalty)));
}

/** Mean of the document scores; 100 when there is no document. */
export function overallScore(scores: readonly number[]): number {
  if (scores.length === 0) return 100;
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  return scores.every((s) => s === 100) ? 100 : Math.min(99.9, round1(mean));
}

function categoryResults(findings: readonly AuditFinding[]): CategoryResult[] {
  return OWASP_CATEGORIES.map((category) => {
    const counts = countBySeverity(findings.filter((f) => f.category === category));
    return {
      category,
      title: OWASP_TITLES[category],
      status: counts.error + counts.warn > 0 ? 'fail' : 'pass',
      coverage: CATEGORY_COVERAGE[category].coverage,
      findings: counts,
    };
  });
}

export function documentReport(audit: DocumentAudit): DocumentReport {
  const bySeverity = countBySeverity(audit.findings);
  return {
    file: audit.file,
    format: audit.format,
    score: documentScore(bySeverity),
    categories: categoryResults(audit.findings),
    bySeverity,
    findingCount: audit.findings.length,
    structureFindings: audit.findings.filter((f) => f.category === 'structure').length,
  };
}

const SEVERITY_ORDER: Record<FindingSeverity, number> = { error: 0, warn: 1, info: 2, hint: 3 };

/** Most severe first, then by file and position. */
export function compareFindings(a: AuditFinding, b: AuditFinding): number {
  return (
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    a.file.localeCompare(b.file) ||
    a.range.start.line - b.range.start.line ||
    a.range.start.character - b.range.start.character ||
    a.rule.localeCompare(b.rule)
  );
}

export interface ReportMeta {
  auditId: string;
  auditedAt: string;
  root?: string;
  skipped?: { file: string; reason: string }[];
}

/** The compliance report of one audit run; `findingsCap` bounds the findings listed (counts stay exact). */
export function buildReport(audits: readonly DocumentAudit[], meta: ReportMeta, findingsCap: number): ComplianceReport {
  const documents = audits.map(documentReport);
  const all = audits.flatMap((a) => a.findings).sort(compareFindings);
  const categories = categoryResults(all).map((c) => ({
    ...c,
    status: documents.some((d) => d.categories.find((x) => x.category === c.category)?.status === 'fail') ? ('fail' as const) : ('pass' as const),
  }));
  return {
    auditId: meta.auditId,
    auditedAt: meta.auditedAt,
    ...(meta.root !== undefined ? { root: meta.root } : {}),
    score: overallScore(documents.map((d) => d.score)),
    scoreFormula: SCORE_FORMULA,
    documents,
    skipped: meta.skipped ?? [],
    categories,
    bySeverity: countBySeverity(all),
    findingCount: all.length,
    findings: all.slice(0, findingsCap),
    findingsCap,
    findingsTruncated: all.length > findingsCap,
  };
}

/** The same report with its findings cut to `cap` (for the event log). */
export function capFindings(report: ComplianceReport, cap: number): ComplianceReport {
  if (report.findings.length <= cap) return { ...report, findingsCap: Math.min(report.findingsCap, cap) };
  return { ...report, findings: report.findings.slice(0, cap), findingsCap: cap, findingsTruncated: true };
}

export function failingCategories(report: ComplianceReport): OwaspCategory[] {
  return report.categories.filter((c) => c.status === 'fail').map((c) => c.category);
}
