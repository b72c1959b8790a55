import type { AuditFinding, ComplianceReport, FindingCategory, FindingSeverity, SourceRange } from '../../../daemon/protocol';

/** Nodes of the Governance view; the provider only turns them into TreeItems. */
export type GovernanceNode =
  | { kind: 'summary'; id: string; label: string; description: string; tooltip: string; icon: string }
  | { kind: 'document'; id: string; label: string; description: string; tooltip: string; icon: string; children: GovernanceNode[] }
  | { kind: 'category'; id: string; label: string; description: string; icon: string; children: GovernanceNode[] }
  | { kind: 'finding'; id: string; label: string; description: string; tooltip: string; icon: string; file: string; range: SourceRange };

const SEVERITY_ICON: Record<FindingSeverity, string> = { error: 'error', warn: 'warning', info: 'info', hint: 'lightbulb' };
const CATEGORY_ORDER: readonly FindingCategory[] = ['structure', 'API1', 'API2', 'API3', 'API4', 'API5', 'API6', 'API7', 'API8', 'API9', 'API10'];

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function findingNode(f: AuditFinding, index: number): GovernanceNode {
  return {
    kind: 'finding',
    id: `finding:${f.file}:${f.rule}:${f.pointer}:${index}`,
    label: f.message,
    description: `${f.rule} · line ${f.range.start.line + 1}`,
    tooltip: `${f.severity}: ${f.message}\n${f.rule} at ${f.pointer || '/'}\nFix: ${f.suggestedFix}`,
    icon: SEVERITY_ICON[f.severity],
    file: f.file,
    range: f.range,
  };
}

/**
 * The Governance view for a report: an overall line, then one node per audited file (its score and
 * failing categories) holding its findings grouped by OWASP category. Findings in files that were
 * only `$ref`'d get a node of their own, without a score (the daemon scores root documents).
 */
export function buildGovernanceNodes(report: ComplianceReport | undefined): GovernanceNode[] {
  if (!report) return [];
  const failing = report.categories.filter((c) => c.status === 'fail').map((c) => c.category);
  const nodes: GovernanceNode[] = [
    {
      kind: 'summary',
      id: 'summary',
      label: `OWASP score ${Math.round(report.score)}/100`,
      description: `${plural(report.documents.length, 'document')} · ${plural(report.findingCount, 'finding')}${failing.length ? ` · failing ${failing.join(', ')}` : ''}`,
      tooltip: `${report.scoreFormula}\nAudited ${report.auditedAt}${report.findingsTruncated ? `\nShowing the ${report.findingsCap} most severe findings.` : ''}`,
      icon: report.findingCount === 0 ? 'pass' : 'shield',
    },
  ];
  const byFile = new Map<string, { finding: AuditFinding; index: number }[]>();
  report.findings.forEach((finding, index) => {
    const list = byFile.get(finding.file) ?? [];
    list.push({ finding, index });
    byFile.set(finding.file, list);
  });
  const files = [...report.documents.map((d) => d.file), ...[...byFile.keys()].filter((f) => !report.documents.some((d) => d.file === f))];
  for (const file of files) {
    const doc = report.documents.find((d) => d.file === file);
    const findings = byFile.get(file) ?? [];
    const docFailing = doc ? doc.categories.filter((c) => c.status === 'fail').map((c) => c.category) : [];
    const children: GovernanceNode[] = [];
    for (const category of CATEGORY_ORDER) {
      const inCategory = findings.filter((f) => f.finding.category === category);
      if (inCategory.length === 0) continue;
      const title = report.categories.find((c) => c.category === category)?.title ?? 'Document structure';
      const fails = inCategory.some((f) => f.finding.severity === 'error' || f.finding.severity === 'warn');
      children.push({
        kind: 'category',
        id: `category:${file}:${category}`,
        label: `${category === 'structure' ? 'Structure' : category} ${title}`,
        description: plural(inCategory.length, 'finding'),
        icon: fails ? 'error' : 'pass',
        children: inCategory.map((f) => findingNode(f.finding, f.index)),
      });
    }
    nodes.push({
      kind: 'document',
      id: `document:${file}`,
      label: baseName(file),
      description: doc
        ? `score ${Math.round(doc.score)} · ${plural(doc.findingCount, 'finding')}${docFailing.length ? ` · failing ${docFailing.join(', ')}` : ''}`
        : `referenced file · ${plural(findings.length, 'finding')}`,
      tooltip: file,
      icon: doc && doc.findingCount === 0 ? 'pass' : 'file-code',
      children,
    });
  }
  return nodes;
}
