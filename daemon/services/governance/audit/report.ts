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

/** Per audit object: its report and its findings sorted. A reused audit (incremental run) is not reworked. */
const derived = new WeakMap<DocumentAudit, { report: DocumentReport; sorted: AuditFinding[] }>();

function derivedOf(audit: DocumentAudit): { report: DocumentReport; sorted: AuditFinding[] } {
  let d = derived.get(audit);
  if (!d) {
    d = { report: computeDocumentReport(audit), sorted: [...audit.findings].sort(compareFindings) };
    derived.set(audit, d);
  }
  return d;
}

export function documentReport(audit: DocumentAudit): DocumentReport {
  return derivedOf(audit).report;
}

function computeDocumentReport(audit: DocumentAudit): DocumentReport {
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

// The same order as String#localeCompare, without building a collator per call.
const collator = new Intl.Collator();

/** Most severe first, then by file and position. */
export function compareFindings(a: AuditFinding, b: AuditFinding): number {
  return (
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    collator.compare(a.file, b.file) ||
    a.range.start.line - b.range.start.line ||
    a.range.start.character - b.range.start.character ||
    collator.compare(a.rule, b.rule)
  );
}

/** Identity of a finding: a file that several documents `$ref` yields the same finding in each of their audits. */
export function findingKey(f: AuditFinding): string {
  const r = f.range;
  return `${f.rule}\u0000${f.file}\u0000${f.pointer}\u0000${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}\u0000${f.message}`;
}

/**
 * The first `cap` distinct findings of several sorted lists, in order: a k-way merge, so a workspace report
 * costs in proportion to what it lists, not to every finding of every document.
 */
export function mergeSorted(lists: readonly (readonly AuditFinding[])[], cap: number): AuditFinding[] {
  const heads = lists.filter((l) => l.length > 0).map((list) => ({ list, at: 0 }));
  // A binary min-heap of the lists by their current finding; ties keep list order (stable like a sort).
  const before = (x: (typeof heads)[number], y: (typeof heads)[number]) => {
    const c = compareFindings(x.list[x.at]!, y.list[y.at]!);
    return c < 0 || (c === 0 && lists.indexOf(x.list) < lists.indexOf(y.list));
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heads.length && before(heads[l]!, heads[m]!)) m = l;
      if (r < heads.length && before(heads[r]!, heads[m]!)) m = r;
      if (m === i) return;
      [heads[i], heads[m]] = [heads[m]!, heads[i]!];
      i = m;
    }
  };
  for (let i = Math.floor(heads.length / 2) - 1; i >= 0; i--) down(i);
  const out: AuditFinding[] = [];
  const seen = new Set<string>();
  while (out.length < cap && heads.length > 0) {
    const top = heads[0]!;
    const finding = top.list[top.at++]!;
    const key = findingKey(finding);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(finding);
    }
    if (top.at === top.list.length) {
      heads[0] = heads[heads.length - 1]!;
      heads.pop();
    }
    down(0);
  }
  return out;
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
  // Overall counts are of distinct findings: one in a shared schema file counts once, not once per document.
  const distinct = new Map<string, AuditFinding>();
  for (const a of audits) for (const f of a.findings) distinct.set(findingKey(f), f);
  const unique = [...distinct.values()];
  const categories = categoryResults(unique).map((c, i) => ({
    ...c,
    status: documents.some((d) => d.categories[i]!.status === 'fail') ? ('fail' as const) : ('pass' as const),
  }));
  const bySeverity = countBySeverity(unique);
  const findingCount = unique.length;
  return {
    auditId: meta.auditId,
    auditedAt: meta.auditedAt,
    ...(meta.root !== undefined ? { root: meta.root } : {}),
    score: overallScore(documents.map((d) => d.score)),
    scoreFormula: SCORE_FORMULA,
    documents,
    skipped: meta.skipped ?? [],
    categories,
    bySeverity,
    findingCount,
    findings: mergeSorted(audits.map((a) => derivedOf(a).sorted), findingsCap),
    findingsCap,
    findingsTruncated: findingCount > findingsCap,
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
