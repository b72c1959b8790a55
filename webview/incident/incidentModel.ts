import type { Incident, IncidentSloImpact, Review } from '../../daemon/protocol/incidents';
import type { IncidentCommand } from '../protocol/incident';
import { formatDuration } from '../protocol/format';

export type Tone = 'ok' | 'warning' | 'error' | 'pending';

export interface TimelineRow {
  /** ISO-8601. */
  readonly at: string;
  /** `4m ago`. */
  readonly ago: string;
  readonly actor: string;
  readonly kind: string;
  readonly text: string;
}

export interface ReviewView {
  readonly meta: string;
  readonly sections: readonly { readonly title: string; readonly text: string }[];
  readonly actionItems: readonly { readonly done: boolean; readonly owner: string; readonly due: string; readonly description: string }[];
}

/** Everything the panel shows, decided here so it is tested without a DOM. */
export interface IncidentView {
  readonly heading: string;
  readonly severity: string;
  readonly severityTone: Tone;
  readonly status: string;
  readonly statusTone: Tone;
  readonly fields: readonly (readonly [string, string])[];
  /** Time to acknowledge and to resolve, formatted; `—` until reached. */
  readonly timeToAcknowledge: string;
  readonly timeToResolve: string;
  readonly description: string;
  readonly rootCause: string;
  readonly resolution: string;
  readonly timeline: readonly TimelineRow[];
  readonly review: ReviewView | undefined;
  /** Shown when the incident cannot be closed until a review exists. */
  readonly reviewNeeded: boolean;
  /** Buttons, in order: only what the incident's state allows. */
  readonly actions: readonly IncidentCommand[];
  /** One row per linked SLO: the budget the incident cost it; empty when none is linked. */
  readonly sloImpact: readonly SloImpactRow[];
}

export interface SloImpactRow {
  readonly sloId: string;
  /** `30 of 200 events bad`, or why it is unknown. */
  readonly events: string;
  /** `1,500% of the current budget`, or `—`. */
  readonly budget: string;
  readonly tone: Tone;
}

/** How much budget each linked SLO lost; a share ≥ 100 % of the current budget reads as an error. */
export function sloImpactRows(impact: readonly IncidentSloImpact[] | undefined): SloImpactRow[] {
  return (impact ?? []).map(({ sloId, impact: i, note }) => {
    if (!i) return { sloId, events: note ?? 'unknown', budget: '—', tone: 'pending' };
    const share = i.consumedRatio;
    const budget = share === null ? 'no budget left to measure against' : `${(share * 100).toLocaleString('en-US', { maximumFractionDigits: 1 })}% of the current budget`;
    const tone: Tone = share === null || share >= 1 ? 'error' : share >= 0.1 ? 'warning' : 'ok';
    return { sloId, events: `${i.badEvents.toLocaleString('en-US')} of ${i.totalEvents.toLocaleString('en-US')} events bad`, budget, tone: i.badEvents === 0 ? 'ok' : tone };
  });
}

const SEVERITY_NAMES: Readonly<Record<string, string>> = { SEV1: 'Critical', SEV2: 'Major', SEV3: 'Minor', SEV4: 'Low' };
const OPEN = new Set(['detected', 'acknowledged', 'investigating', 'identified', 'resolving']);

function since(fromIso: string, toIso: string | undefined): string {
  if (toIso === undefined) return '—';
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  return Number.isNaN(ms) ? '—' : formatDuration(Math.max(0, ms));
}

/** The actions the incident's state allows, in the order the panel shows them. */
export function actionsFor(status: string): IncidentCommand[] {
  const actions: IncidentCommand[] = [];
  if (status === 'detected') actions.push('acknowledge');
  if (OPEN.has(status)) actions.push('resolve');
  if (status !== 'closed') actions.push('changeStatus', 'changeSeverity', 'assign', 'addNote');
  actions.push('writeReview');
  return actions;
}

export function incidentView(inc: Incident, review: Review | null | undefined, nowMs: number, sloImpact?: readonly IncidentSloImpact[]): IncidentView {
  const open = OPEN.has(inc.status);
  const roles = inc.roles;
  const fields: [string, string][] = [
    ['Detected by', `${inc.detectedBy.name} (${inc.detectedBy.kind})`],
    ['Assignee', inc.assignee ?? 'unassigned'],
    ['Incident commander', roles.incidentCommander ?? '—'],
    ['Communications lead', roles.communicationsLead ?? '—'],
    ['Technical lead', roles.technicalLead ?? '—'],
    ['Services', inc.services.length > 0 ? inc.services.join(', ') : '—'],
    ['Linked SLOs', inc.linkedSlos.length > 0 ? inc.linkedSlos.join(', ') : '—'],
    ['Detected', inc.detectedAt],
    ['Acknowledged', inc.acknowledgedAt ?? '—'],
    ['Mitigated', inc.mitigatedAt ?? '—'],
    ['Resolved', inc.resolvedAt ?? '—'],
    ['Closed', inc.closedAt ?? '—'],
  ];
  const timeline = inc.timeline.map((e) => {
    const at = Date.parse(e.at);
    return { at: e.at, ago: Number.isNaN(at) ? '' : `${formatDuration(Math.max(0, nowMs - at))} ago`, actor: e.actor, kind: e.kind, text: e.text };
  });
  const urgent = inc.severity === 'SEV1' || inc.severity === 'SEV2';
  return {
    heading: `${inc.number} ${inc.title}`,
    severity: `${inc.severity} · ${SEVERITY_NAMES[inc.severity] ?? ''}`,
    severityTone: urgent ? 'error' : inc.severity === 'SEV3' ? 'warning' : 'pending',
    status: inc.status,
    statusTone: open ? (inc.status === 'detected' ? 'error' : 'warning') : 'ok',
    fields,
    timeToAcknowledge: since(inc.detectedAt, inc.acknowledgedAt),
    timeToResolve: since(inc.detectedAt, inc.resolvedAt),
    description: inc.description.trim() || 'No description.',
    rootCause: inc.rootCause?.trim() || 'Not recorded yet.',
    resolution: inc.resolution?.trim() || 'Not recorded yet.',
    timeline,
    review: review
      ? {
          meta: `Version ${review.version}, submitted ${review.submittedAt} by ${review.submittedBy}`,
          sections: [
            { title: 'What happened', text: review.whatHappened },
            { title: 'Impact', text: review.impact },
            { title: 'What went well', text: review.wentWell || '—' },
            { title: 'What could improve', text: review.couldImprove || '—' },
            { title: 'Lessons learned', text: review.lessons || '—' },
          ],
          actionItems: review.actionItems.map((a) => ({ done: a.done, owner: a.owner, due: a.due, description: a.description })),
        }
      : undefined,
    reviewNeeded: !review && urgent && inc.status !== 'closed',
    actions: actionsFor(inc.status),
    sloImpact: sloImpactRows(sloImpact),
  };
}
