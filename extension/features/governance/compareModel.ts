import type { ChangeSeverity, ComparisonReport, ContractChange, SourceRange } from '../../../daemon/protocol';

/** A branch or tag the user can compare the contract with. */
export interface GitRef {
  name: string;
  kind: 'branch' | 'tag';
}

/** `git for-each-ref --format=%(refname)` output → branches and tags (remote branches included), current order kept. */
export function parseGitRefs(output: string): GitRef[] {
  const refs: GitRef[] = [];
  for (const line of output.split('\n').map((l) => l.trim())) {
    if (line.startsWith('refs/heads/')) refs.push({ name: line.slice('refs/heads/'.length), kind: 'branch' });
    else if (line.startsWith('refs/tags/')) refs.push({ name: line.slice('refs/tags/'.length), kind: 'tag' });
    else if (line.startsWith('refs/remotes/') && !line.endsWith('/HEAD')) refs.push({ name: line.slice('refs/remotes/'.length), kind: 'branch' });
  }
  return refs;
}

/** What the Compare QuickPick offers: each ref, then another file. */
/** `action` rather than `kind`: QuickPickItem's `kind` marks separators. */
export type ComparePick = { action: 'revision'; label: string; description: string; revision: string } | { action: 'file'; label: string; description: string };

export function buildComparePicks(refs: readonly GitRef[]): ComparePick[] {
  return [
    ...refs.map((r): ComparePick => ({ action: 'revision', label: r.name, description: `$(${r.kind === 'tag' ? 'tag' : 'git-branch'}) ${r.kind}`, revision: r.name })),
    { action: 'file', label: 'Another file…', description: '$(file) compare with another OpenAPI/Swagger file' },
  ];
}

/** Nodes of the API Contract Changes view; the provider only turns them into TreeItems. */
export type CompareNode =
  | { kind: 'summary'; id: string; label: string; description: string; tooltip: string; icon: string }
  | { kind: 'group'; id: string; label: string; description: string; icon: string; severity: ChangeSeverity; children: CompareNode[] }
  | { kind: 'change'; id: string; label: string; description: string; tooltip: string; icon: string; file: string | undefined; range: SourceRange | undefined };

const GROUPS: { severity: ChangeSeverity; label: string; icon: string }[] = [
  { severity: 'breaking', label: 'Breaking', icon: 'error' },
  { severity: 'warning', label: 'Warnings', icon: 'warning' },
  { severity: 'info', label: 'Info', icon: 'info' },
];

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

function changeNode(c: ContractChange, index: number): CompareNode {
  const op = c.method && c.path ? `${c.method.toUpperCase()} ${c.path}` : '';
  const at = c.location?.range ? `${baseName(c.location.file)}:${c.location.range.start.line + 1}` : '';
  const clients = c.clients && c.clients.length > 0 ? `\nCalled recently by: ${c.clients.map((u) => `${u.client} (${u.requests})`).join(', ')}` : '';
  return {
    kind: 'change',
    id: `change:${index}:${c.rule}`,
    label: c.message,
    description: [c.rule, at].filter((s) => s !== '').join(' · '),
    tooltip: `${c.severity}: ${c.message}\n${c.rule}${op ? ` · ${op}` : ''}${c.allowedBy ? `\nAllowed by ${c.allowedBy}` : ''}${clients}`,
    icon: GROUPS.find((g) => g.severity === c.severity)!.icon,
    file: c.location?.file,
    range: c.location?.range,
  };
}

/** A summary line, then the changes grouped by severity (empty groups left out). */
export function buildCompareNodes(report: ComparisonReport | undefined): CompareNode[] {
  if (!report) return [];
  const s = report.summary;
  const clients = report.impact.clients.map((c) => c.client);
  const summary: CompareNode = {
    kind: 'summary',
    id: 'summary',
    label: report.changeCount === 0 ? `No changes against ${report.base.name}` : `${report.breaking ? 'Breaking changes' : 'No breaking changes'} against ${report.base.name}`,
    description: `${s.breaking} breaking · ${s.warning} warnings · ${s.info} info`,
    tooltip: `${report.head.name}\ncompared with ${report.base.name} at ${report.comparedAt}${clients.length > 0 ? `\nClients affected (last ${report.impact.sinceDays} days): ${clients.join(', ')}` : ''}${report.changesTruncated ? `\nShowing ${report.changes.length} of ${report.changeCount} changes` : ''}`,
    icon: report.breaking ? 'error' : 'pass',
  };
  const groups = GROUPS.map(({ severity, label, icon }): CompareNode => {
    const children = report.changes.map((c, i) => ({ c, i })).filter(({ c }) => c.severity === severity).map(({ c, i }) => changeNode(c, i));
    return { kind: 'group', id: `group:${severity}`, label, description: String(children.length), icon, severity, children };
  }).filter((g) => g.kind === 'group' && g.children.length > 0);
  return [summary, ...groups];
}

/** Problems-panel entries for the changes that need attention (breaking and warnings), per file. */
export function compareDiagnostics(report: ComparisonReport): Map<string, { range: SourceRange; message: string; severity: 'breaking' | 'warning'; code: string }[]> {
  const out = new Map<string, { range: SourceRange; message: string; severity: 'breaking' | 'warning'; code: string }[]>();
  for (const c of report.changes) {
    if (c.severity === 'info' || !c.location?.range) continue;
    const list = out.get(c.location.file) ?? [];
    list.push({ range: c.location.range, message: `${c.message} (compared with ${report.base.name})`, severity: c.severity, code: c.rule });
    out.set(c.location.file, list);
  }
  return out;
}
