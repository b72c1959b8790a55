import type { IncidentSummary, ResultOf, WhoIsOnCall, GetOncallSchedule } from '../../../daemon/protocol';
import { OPEN_STATUSES } from '../../../daemon/protocol';
import { formatDuration } from '../../../webview/protocol/format';
import type { IncidentDetailNode, NodeIcon } from './incidentsTreeModel';

export type OncallNow = ResultOf<typeof WhoIsOnCall>['oncall'][number];
export type OncallSchedule = ResultOf<typeof GetOncallSchedule>;

/** The "On call now" row at the top of the Incidents & On-call view. */
export interface OncallGroupNode {
  readonly kind: 'oncall';
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
  readonly children: readonly OncallRoleNode[];
}

/** One role: who holds it now and until when; its children are the final schedule for the next days. */
export interface OncallRoleNode {
  readonly kind: 'oncallRole';
  readonly id: string;
  readonly role: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
  readonly children: readonly IncidentDetailNode[];
}

/** Days of final schedule shown under each role. */
export const SCHEDULE_DAYS = 7;

/** `Mon 30 Nov, 09:00` in the given time zone (the editor's own when undefined). */
export function formatWhen(iso: string, timeZone?: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '—';
  return new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hour12: false, ...(timeZone ? { timeZone } : {}) }).format(at);
}

const who = (person: string | null, me: string | undefined): string => (person === null ? 'nobody' : person === me ? `${person} (you)` : person);

function untilText(entry: OncallNow, nowMs: number, timeZone?: string): string {
  const left = Date.parse(entry.to) - nowMs;
  return `until ${formatWhen(entry.to, timeZone)}${left > 0 ? ` (${formatDuration(left)})` : ''}`;
}

function segmentNode(role: string, seg: OncallSchedule['segments'][number], i: number, me: string | undefined, timeZone?: string): IncidentDetailNode {
  const span = `${formatWhen(seg.from, timeZone)} → ${formatWhen(seg.to, timeZone)}`;
  return {
    kind: 'detail',
    id: `oncall:${role}:segment:${i}`,
    label: seg.person === null ? 'nobody (gap)' : who(seg.person, me),
    description: span,
    tooltip: `${role}: ${seg.person ?? 'nobody on call (a gap in the schedule)'}\n${seg.from} → ${seg.to}`,
    icon: seg.person === null ? { id: 'warning', color: 'list.warningForeground' } : { id: seg.person === me ? 'account' : 'person' },
  };
}

/**
 * The on-call row: one child per role with a schedule (who now and until when), each with the final
 * schedule of the next days (gaps included) as its children. `me` is the user's own handle, if set.
 */
export function buildOncallNode(
  now: readonly OncallNow[],
  schedules: ReadonlyMap<string, OncallSchedule>,
  nowMs: number,
  me?: string,
  timeZone?: string,
): OncallGroupNode {
  const roles = [...now].sort((a, b) => a.role.localeCompare(b.role));
  const children = roles.map((entry): OncallRoleNode => {
    const schedule = schedules.get(entry.role);
    const gaps = schedule?.gaps.length ?? 0;
    const lines = [
      `${entry.role}: ${entry.person ?? 'nobody on call'} ${untilText(entry, nowMs, timeZone)}`,
      ...(gaps > 0 ? [`${gaps} gap${gaps === 1 ? '' : 's'} with nobody on call in the next ${SCHEDULE_DAYS} days`] : []),
    ];
    return {
      kind: 'oncallRole',
      id: `oncall:${entry.role}`,
      role: entry.role,
      label: entry.role,
      description: `${who(entry.person, me)} ${untilText(entry, nowMs, timeZone)}${gaps > 0 ? ` · ${gaps} gap${gaps === 1 ? '' : 's'}` : ''}`,
      tooltip: lines.join('\n'),
      icon:
        entry.person === null
          ? { id: 'warning', color: 'list.warningForeground' }
          : entry.person === me
            ? { id: 'account', color: 'charts.green' }
            : { id: 'person' },
      children: (schedule?.segments ?? []).map((seg, i) => segmentNode(entry.role, seg, i, me, timeZone)),
    };
  });
  const uncovered = roles.filter((r) => r.person === null).map((r) => r.role);
  const mine = me ? roles.filter((r) => r.person === me).map((r) => r.role) : [];
  const description =
    roles.length === 0
      ? 'no on-call schedules'
      : [mine.length > 0 ? `you: ${mine.join(', ')}` : undefined, uncovered.length > 0 ? `nobody for ${uncovered.join(', ')}` : `${roles.length} role${roles.length === 1 ? '' : 's'} covered`]
          .filter((p) => p !== undefined)
          .join(' · ');
  return {
    kind: 'oncall',
    id: 'oncall',
    label: 'On call now',
    description,
    tooltip:
      roles.length === 0
        ? 'No on-call schedule yet: add people and rotations with oncall/upsertPerson and oncall/upsertSchedule.'
        : roles.map((r) => `${r.role}: ${r.person ?? 'nobody'} ${untilText(r, nowMs, timeZone)}`).join('\n'),
    icon: { id: 'organization', color: uncovered.length > 0 ? 'list.warningForeground' : undefined },
    children,
  };
}

/** The status bar item: shown when the user is on call or a SEV1/SEV2 incident is open. */
export interface OncallStatusBar {
  readonly visible: boolean;
  readonly text: string;
  readonly tooltip: string;
  /** `warning` while SEV1/SEV2 incidents are open. */
  readonly tone: 'none' | 'warning';
}

export function oncallStatusBar(now: readonly OncallNow[], incidents: readonly IncidentSummary[], nowMs: number, me?: string, timeZone?: string): OncallStatusBar {
  const urgent = new Set(incidents.filter((i) => OPEN_STATUSES.includes(i.status) && (i.severity === 'SEV1' || i.severity === 'SEV2')).map((i) => i.id)).size;
  const mine = me ? now.filter((r) => r.person === me) : [];
  const parts: string[] = [];
  if (mine.length > 0) parts.push(`$(bell) on call: ${mine.map((r) => r.role).join(', ')}`);
  if (urgent > 0) parts.push(`$(flame) ${urgent} SEV1/SEV2`);
  const lines = [
    ...(me ? [mine.length > 0 ? `You (${me}) are on call: ${mine.map((r) => `${r.role} ${untilText(r, nowMs, timeZone)}`).join('; ')}` : `You (${me}) are not on call now.`] : ['Set cogniforge.oncall.handle to see when you are on call.']),
    `${urgent} open SEV1/SEV2 incident${urgent === 1 ? '' : 's'}`,
    '',
    'On call now:',
    ...(now.length > 0 ? [...now].sort((a, b) => a.role.localeCompare(b.role)).map((r) => `  ${r.role}: ${r.person ?? 'nobody'} ${untilText(r, nowMs, timeZone)}`) : ['  no on-call schedules']),
  ];
  return { visible: parts.length > 0, text: parts.join('  '), tooltip: lines.join('\n'), tone: urgent > 0 ? 'warning' : 'none' };
}

/** True when a role's current turn has ended (a handoff happened since the last query). */
export function handoffPassed(now: readonly OncallNow[], nowMs: number): boolean {
  return now.some((r) => Date.parse(r.to) <= nowMs);
}
