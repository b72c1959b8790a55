import { OPEN_STATUSES, SEVERITIES, type Incident, type IncidentStatus, type IncidentSummary, type Severity } from '../../../daemon/protocol';
import { formatDuration } from '../../../webview/protocol/format';

/** A node of the Incidents tree; the provider turns it into a TreeItem. */
export type IncidentsNode = IncidentGroupNode | IncidentNode | IncidentDetailNode;

/** A theme icon id and the theme colour id it is drawn in (undefined: the default foreground). */
export interface NodeIcon {
  readonly id: string;
  readonly color?: string;
}

export interface IncidentGroupNode {
  readonly kind: 'group';
  /** Stable across refreshes, so VS Code keeps expansion. */
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly expanded: boolean;
  readonly icon: NodeIcon;
  readonly children: readonly IncidentNode[];
}

export interface IncidentNode {
  readonly kind: 'incident';
  readonly id: string;
  /** The incident's UUIDv7. */
  readonly incidentId: string;
  /** `INC-42`. */
  readonly number: string;
  readonly status: IncidentStatus;
  readonly severity: Severity;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  /** Space-separated words the `view/item/context` menus match with `viewItem =~ /\bword\b/`. */
  readonly contextValue: string;
  readonly icon: NodeIcon;
}

export interface IncidentDetailNode {
  readonly kind: 'detail';
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
}

/** How many resolved or closed incidents the "Recently resolved" group shows. */
export const RECENTLY_RESOLVED_LIMIT = 20;

export const SEVERITY_NAMES: Readonly<Record<Severity, string>> = {
  SEV1: 'Critical',
  SEV2: 'Major',
  SEV3: 'Minor',
  SEV4: 'Low',
};

/** Theme colour per severity: the chart palette reads well in light, dark and high-contrast themes. */
export const SEVERITY_COLORS: Readonly<Record<Severity, string>> = {
  SEV1: 'charts.red',
  SEV2: 'charts.orange',
  SEV3: 'charts.yellow',
  SEV4: 'charts.blue',
};

/** One codicon per status, so the row says where the incident stands before its text is read. */
export const STATUS_ICONS: Readonly<Record<IncidentStatus, string>> = {
  detected: 'bell',
  acknowledged: 'eye',
  investigating: 'search',
  identified: 'target',
  resolving: 'tools',
  resolved: 'pass',
  closed: 'archive',
};

const isOpen = (status: IncidentStatus): boolean => OPEN_STATUSES.includes(status);

/** `93_000` → `1m 33s`; a time in the future (clock skew) reads as 0s. */
function age(fromIso: string | undefined, nowMs: number): string | undefined {
  if (fromIso === undefined) return undefined;
  const at = Date.parse(fromIso);
  return Number.isNaN(at) ? undefined : formatDuration(Math.max(0, nowMs - at));
}

function tooltipOf(inc: IncidentSummary, nowMs: number): string {
  const lines = [`${inc.number} ${inc.title}`, `${inc.severity} (${SEVERITY_NAMES[inc.severity]}) · ${inc.status}`];
  lines.push(`Assignee: ${inc.assignee ?? 'unassigned'}`);
  lines.push(`Services: ${inc.services.length > 0 ? inc.services.join(', ') : 'none named'}`);
  const times: [string, string | undefined][] = [
    ['Detected', inc.detectedAt],
    ['Acknowledged', inc.acknowledgedAt],
    ['Mitigated', inc.mitigatedAt],
    ['Resolved', inc.resolvedAt],
    ['Closed', inc.closedAt],
  ];
  for (const [what, at] of times) if (at !== undefined) lines.push(`${what}: ${at} (${age(at, nowMs) ?? '?'} ago)`);
  return lines.join('\n');
}

/** The words menus match on: the status, open/done, and the actions that make sense now. */
export function contextValueOf(inc: Pick<IncidentSummary, 'status'>): string {
  const words = ['incident', `status-${inc.status}`, isOpen(inc.status) ? 'open' : 'done'];
  if (inc.status === 'detected') words.push('canAcknowledge');
  if (isOpen(inc.status)) words.push('canResolve');
  if (inc.status !== 'closed') words.push('canChange');
  return words.join(' ');
}

export function buildIncidentNode(inc: IncidentSummary, nowMs: number): IncidentNode {
  const open = isOpen(inc.status);
  const since = open ? age(inc.detectedAt, nowMs) : age(inc.resolvedAt ?? inc.closedAt, nowMs);
  const description = open ? `${inc.status} · ${since ?? '?'}` : `${inc.status} ${since ?? '?'} ago · ${inc.severity}`;
  return {
    kind: 'incident',
    id: `incident:${inc.id}`,
    incidentId: inc.id,
    number: inc.number,
    status: inc.status,
    severity: inc.severity,
    label: `${inc.number} ${inc.title}`,
    description,
    tooltip: tooltipOf(inc, nowMs),
    contextValue: contextValueOf(inc),
    icon: { id: STATUS_ICONS[inc.status], color: open ? SEVERITY_COLORS[inc.severity] : undefined },
  };
}

const newestFirst = (a: string | undefined, b: string | undefined): number => Date.parse(b ?? '') - Date.parse(a ?? '') || 0;

/**
 * Open incidents grouped by severity (SEV1 on top, newest first inside a group, only severities
 * that have some), then one collapsed "Recently resolved" group with the latest resolved or closed.
 */
export function buildIncidentTree(incidents: readonly IncidentSummary[], nowMs: number): IncidentGroupNode[] {
  const unique = new Map(incidents.map((i) => [i.id, i]));
  const all = [...unique.values()];
  const groups: IncidentGroupNode[] = [];
  for (const severity of SEVERITIES) {
    const open = all.filter((i) => i.severity === severity && isOpen(i.status)).sort((a, b) => newestFirst(a.detectedAt, b.detectedAt));
    if (open.length === 0) continue;
    groups.push({
      kind: 'group',
      id: `group:${severity}`,
      label: `${severity} · ${SEVERITY_NAMES[severity]}`,
      description: `${open.length} open`,
      tooltip: `${open.length} open ${severity} incident${open.length === 1 ? '' : 's'}`,
      expanded: true,
      icon: { id: 'flame', color: SEVERITY_COLORS[severity] },
      children: open.map((i) => buildIncidentNode(i, nowMs)),
    });
  }
  const done = all
    .filter((i) => !isOpen(i.status))
    .sort((a, b) => newestFirst(a.closedAt ?? a.resolvedAt, b.closedAt ?? b.resolvedAt))
    .slice(0, RECENTLY_RESOLVED_LIMIT);
  if (done.length > 0) {
    groups.push({
      kind: 'group',
      id: 'group:resolved',
      label: 'Recently resolved',
      description: `${done.length}`,
      tooltip: `The ${done.length} most recently resolved or closed incident${done.length === 1 ? '' : 's'}`,
      expanded: false,
      icon: { id: 'history' },
      children: done.map((i) => buildIncidentNode(i, nowMs)),
    });
  }
  return groups;
}

/** True when the tree has no open incident (the view then says so above the resolved group). */
export function hasOpenIncidents(groups: readonly IncidentGroupNode[]): boolean {
  return groups.some((g) => g.id !== 'group:resolved');
}

/** The view badge: open SEV1 and SEV2 incidents, or undefined when there are none. */
export function urgentBadge(incidents: readonly IncidentSummary[]): { value: number; tooltip: string } | undefined {
  const ids = new Set(incidents.filter((i) => isOpen(i.status) && (i.severity === 'SEV1' || i.severity === 'SEV2')).map((i) => i.id));
  if (ids.size === 0) return undefined;
  return { value: ids.size, tooltip: `${ids.size} open SEV1/SEV2 incident${ids.size === 1 ? '' : 's'}` };
}

/** Keyed by string: entry kinds the on-call work adds (escalations, pages) get an icon too, unknown ones a dot. */
const TIMELINE_ICONS: Readonly<Record<string, string>> = {
  created: 'add',
  transition: 'arrow-right',
  severity: 'flame',
  assignment: 'person',
  note: 'note',
  review: 'book',
  escalation: 'megaphone',
  page: 'bell-dot',
};

/** An incident's children: who holds it, which services, then the timeline oldest first. */
export function buildIncidentDetails(inc: Incident, nowMs: number): IncidentDetailNode[] {
  const base = `incident:${inc.id}`;
  const roles = [
    ['IC', inc.roles.incidentCommander],
    ['comms', inc.roles.communicationsLead],
    ['tech', inc.roles.technicalLead],
  ]
    .filter(([, who]) => who !== undefined)
    .map(([role, who]) => `${role} ${who}`);
  const nodes: IncidentDetailNode[] = [
    {
      kind: 'detail',
      id: `${base}:people`,
      label: 'Assignee',
      description: [inc.assignee ?? 'unassigned', ...roles].join(' · '),
      tooltip: `Assignee: ${inc.assignee ?? 'unassigned'}\nRoles: ${roles.length > 0 ? roles.join(', ') : 'none assigned'}`,
      icon: { id: 'person' },
    },
  ];
  if (inc.createdOn !== undefined || inc.escalationOwner !== undefined) {
    // Team mode: which teammate's daemon the incident came from and which one pages for it.
    const pager = inc.escalationOwner ?? 'this daemon';
    nodes.push({
      kind: 'detail',
      id: `${base}:team`,
      label: 'Team',
      description: `${inc.createdOn !== undefined ? `from ${inc.createdOn} · ` : ''}escalation on ${pager}`,
      tooltip: `Created on ${inc.createdOn ?? 'this daemon'}\nEscalation timers run on ${pager} (its creator, then whoever acknowledged it last)`,
      icon: { id: 'organization' },
    });
  }
  if (inc.services.length > 0) {
    nodes.push({ kind: 'detail', id: `${base}:services`, label: 'Services', description: inc.services.join(', '), tooltip: inc.services.join('\n'), icon: { id: 'server' } });
  }
  inc.timeline.forEach((entry, i) => {
    const ago = age(entry.at, nowMs);
    nodes.push({
      kind: 'detail',
      id: `${base}:timeline:${i}`,
      label: entry.text,
      description: `${entry.actor} · ${ago ?? '?'} ago`,
      tooltip: `${entry.at} by ${entry.actor}\n${entry.text}`,
      icon: { id: TIMELINE_ICONS[entry.kind] ?? 'circle-small' },
    });
  });
  return nodes;
}
