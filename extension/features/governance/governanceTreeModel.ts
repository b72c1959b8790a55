import type {
  ApiVersion,
  AuditFinding,
  ComplianceReport,
  FindingCategory,
  FindingSeverity,
  RateLimitPolicy,
  SourceRange,
  VersionStatus,
} from '../../../daemon/protocol';

/** Nodes of the Governance view; the provider only turns them into TreeItems. */
export type GovernanceNode =
  | { kind: 'summary'; id: string; label: string; description: string; tooltip: string; icon: string; /** Run on click. */ command?: string }
  | { kind: 'section'; id: string; label: string; description: string; icon: string; children: GovernanceNode[] }
  | {
      kind: 'version';
      id: string;
      label: string;
      description: string;
      tooltip: string;
      icon: string;
      version: string;
      status: VersionStatus;
      /** The one lifecycle state it may move to; absent once retired. */
      next: VersionStatus | undefined;
    }
  | { kind: 'policy'; id: string; label: string; description: string; tooltip: string; icon: string; policyId: string }
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
/** `cogniforge.auditContracts` (kept here as a string: the model does not import the extension's ids). */
export const AUDIT_WORKSPACE_COMMAND = 'cogniforge.auditContracts';

export function buildGovernanceNodes(report: ComplianceReport | undefined, runtime?: RuntimeGovernance): GovernanceNode[] {
  const sections = runtime ? buildRuntimeSections(runtime) : [];
  // Connected but nothing audited: the versions and policies fill the view, so the welcome text no
  // longer shows; this row says what is missing and runs the audit when clicked.
  const notAudited: GovernanceNode[] =
    !report && runtime
      ? [
          {
            kind: 'summary',
            id: 'summary:notAudited',
            label: 'No API contracts audited yet',
            description: 'click to audit the workspace',
            tooltip: 'OpenAPI 3.x and Swagger 2.0 files in the workspace (cogniforge.governance.specGlob) are audited against the OWASP API Security Top 10; findings go to the Problems panel with quick fixes.',
            icon: 'shield',
            command: AUDIT_WORKSPACE_COMMAND,
          },
        ]
      : [];
  return [...notAudited, ...buildReportNodes(report), ...sections];
}

function buildReportNodes(report: ComplianceReport | undefined): GovernanceNode[] {
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

// ---------------------------------------------------------------------------------------------
// API versions and rate-limit policies

/** What the daemon holds about versions and policies, as the view shows it. */
export interface RuntimeGovernance {
  versions: readonly ApiVersion[];
  /** `governance/headersFor {version}` per version name; a version without an entry shows no headers. */
  headers: ReadonlyMap<string, Record<string, string>>;
  policies: readonly RateLimitPolicy[];
}

const LIFECYCLE: readonly VersionStatus[] = ['active', 'deprecated', 'sunset', 'retired'];
const STATUS_ICON: Record<VersionStatus, string> = { active: 'pass', deprecated: 'warning', sunset: 'clock', retired: 'circle-slash' };

/** The state after `status` (transitions go one step at a time), undefined once retired. */
export function nextVersionStatus(status: VersionStatus): VersionStatus | undefined {
  return LIFECYCLE[LIFECYCLE.indexOf(status) + 1];
}

const day = (iso: string | undefined): string | undefined => iso?.slice(0, 10);

/** The state and the dates that matter in it: what comes next for clients. */
function versionSummary(v: ApiVersion): string {
  const parts: (string | undefined)[] =
    v.status === 'active'
      ? [v.releasedAt && `released ${day(v.releasedAt)}`, v.supportedUntil && `supported until ${day(v.supportedUntil)}`]
      : v.status === 'deprecated'
        ? [v.deprecatedAt && `since ${day(v.deprecatedAt)}`, v.sunsetAt && `sunset ${day(v.sunsetAt)}`]
        : v.status === 'sunset'
          ? [v.sunsetAt && `since ${day(v.sunsetAt)}`, v.supportedUntil && `supported until ${day(v.supportedUntil)}`]
          : [v.retiredAt && `since ${day(v.retiredAt)}`];
  return [v.status, ...parts.filter((p): p is string => Boolean(p))].join(' · ');
}

function versionNode(v: ApiVersion, headers: Record<string, string> | undefined): GovernanceNode {
  const dates: [string, string | undefined][] = [
    ['released', v.releasedAt],
    ['deprecated', v.deprecatedAt],
    ['sunset', v.sunsetAt],
    ['supported until', v.supportedUntil],
    ['retired', v.retiredAt],
  ];
  const shown = dates.filter((d): d is [string, string] => d[1] !== undefined).map(([what, at]) => `${what} ${day(at)}`);
  const headerLines = headers && Object.keys(headers).length > 0 ? Object.entries(headers).map(([k, val]) => `${k}: ${val}`) : ['(none: clients get no lifecycle headers)'];
  const next = nextVersionStatus(v.status);
  return {
    kind: 'version',
    id: `version:${v.version}`,
    label: v.version,
    description: versionSummary(v),
    tooltip: [
      `${v.version}: ${v.status}`,
      ...shown,
      ...(v.replacement ? [`replaced by ${v.replacement}`] : []),
      '',
      'Response headers:',
      ...headerLines,
      ...(next ? ['', `Next lifecycle state: ${next}`] : []),
    ].join('\n'),
    icon: STATUS_ICON[v.status],
    version: v.version,
    status: v.status,
    next,
  };
}

const count = (n: number): string => n.toLocaleString('en-US');

function policyNode(p: RateLimitPolicy): GovernanceNode {
  const limits = `${count(p.perMinute)}/min · ${count(p.perHour)}/h · ${count(p.perDay)}/day`;
  return {
    kind: 'policy',
    id: `policy:${p.id}`,
    label: p.clientType,
    description: `${limits} · burst ${count(p.burst)} · ${p.enforcement}`,
    tooltip: [
      `${p.name} (${p.id})`,
      `Client type: ${p.clientType} · endpoints ${p.endpointPattern}`,
      `Per minute ${count(p.perMinute)}, per hour ${count(p.perHour)}, per day ${count(p.perDay)}; burst ${count(p.burst)}`,
      p.enforcement === 'hard' ? 'Hard enforcement: requests past the limit are denied.' : 'Soft enforcement: requests past the limit pass but are flagged as exceeded.',
      `Updated ${p.updatedAt}`,
    ].join('\n'),
    icon: p.enforcement === 'hard' ? 'lock' : 'unlock',
    policyId: p.id,
  };
}

/** The API Versions and Rate-Limit Policies sections, newest version first. */
export function buildRuntimeSections(runtime: RuntimeGovernance): GovernanceNode[] {
  const versions = [...runtime.versions].sort((a, b) => b.version.localeCompare(a.version, 'en', { numeric: true }));
  const byStatus = LIFECYCLE.map((s) => [s, versions.filter((v) => v.status === s).length] as const).filter(([, n]) => n > 0);
  return [
    {
      kind: 'section',
      id: 'section:versions',
      label: 'API Versions',
      description: versions.length === 0 ? 'none registered' : byStatus.map(([s, n]) => `${n} ${s}`).join(' · '),
      icon: 'versions',
      children: versions.map((v) => versionNode(v, runtime.headers.get(v.version))),
    },
    {
      kind: 'section',
      id: 'section:policies',
      label: 'Rate-Limit Policies',
      description: runtime.policies.length === 0 ? 'none' : `${runtime.policies.length} ${runtime.policies.length === 1 ? 'policy' : 'policies'}`,
      icon: 'dashboard',
      children: [...runtime.policies].sort((a, b) => a.perMinute - b.perMinute || a.clientType.localeCompare(b.clientType)).map(policyNode),
    },
  ];
}
