import { ErrorCode, RpcError, type ResultOf } from '../../protocol';
import type { DraftReview, Incident } from '../../protocol/incidents';
import type { Clock } from '../shared/clock';
import type { EventRecord, EventStore } from '../../store/types';
import type { IncidentProjection } from './incidentProjection';
import { EscalationEvent, PagedPayload } from './oncallProjection';

/** Most events of the window that are read for the draft. */
export const DRAFT_EVENT_LIMIT = 10_000;
const MAX_ALERTS = 50;
/** The incident's own bookkeeping, already on its timeline: not "other" events. */
const OWN_TYPES = /^(incident|review|oncall|scheduler)\./;
const ALERT_TYPES = /(^|\.)(alert|alerted|breach|breached|violation)[A-Za-z]*$|\.alert/i;

/** `1 h 5 min`, `40 s`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

function summarise(e: EventRecord): string {
  const p = e.payload as Record<string, unknown> | null;
  for (const k of ['summary', 'message', 'title', 'name', 'sloId', 'id']) {
    const v = p?.[k];
    if (typeof v === 'string' && v !== '') return `${k === 'sloId' || k === 'id' ? `${k} ` : ''}${v}`.slice(0, 200);
  }
  return JSON.stringify(e.payload ?? null).slice(0, 200);
}

/** Pure: the draft from an incident and the events of its window. */
export function buildReviewDraft(incident: Incident, windowEvents: readonly EventRecord[], nowMs: number, truncated: boolean): ResultOf<typeof DraftReview> {
  const detected = Date.parse(incident.detectedAt);
  const end = incident.resolvedAt ?? incident.closedAt;
  const to = end !== undefined ? Date.parse(end) : nowMs;
  const since = (t: string | undefined) => (t === undefined ? undefined : Date.parse(t) - detected);
  const tta = since(incident.acknowledgedAt);
  const ttm = since(incident.mitigatedAt);
  const ttr = since(incident.resolvedAt);

  const eventsByType: Record<string, number> = {};
  const alerts: { at: string; type: string; summary: string }[] = [];
  let delivered = 0;
  let failed = 0;
  for (const e of windowEvents) {
    if (e.type === EscalationEvent.paged) {
      const p = PagedPayload.safeParse(e.payload);
      if (p.success && p.data.incidentId === incident.id) {
        if (p.data.outcome === 'delivered') delivered++;
        else failed++;
      }
    }
    if (OWN_TYPES.test(e.type)) continue;
    eventsByType[e.type] = (eventsByType[e.type] ?? 0) + 1;
    if (alerts.length < MAX_ALERTS && ALERT_TYPES.test(e.type)) alerts.push({ at: e.time, type: e.type, summary: summarise(e) });
  }

  const lines = incident.timeline.map((t) => `- ${t.at} ${t.kind}: ${t.text} (${t.actor})`);
  const whatHappened = [
    `${incident.number} "${incident.title}" (${incident.severity}), detected by ${incident.detectedBy.kind} ${incident.detectedBy.name} at ${incident.detectedAt}.`,
    ...(incident.description !== '' ? ['', incident.description] : []),
    '',
    'Timeline:',
    ...lines,
    ...(incident.rootCause ? ['', `Root cause: ${incident.rootCause}`] : []),
    ...(incident.resolution ? ['', `Resolution: ${incident.resolution}`] : []),
  ].join('\n');

  const services = incident.services.length > 0 ? incident.services.join(', ') : 'no services named';
  const impactEnd = incident.mitigatedAt ?? incident.resolvedAt;
  const impact = [
    `${incident.severity} incident affecting ${services}.`,
    impactEnd !== undefined ? `Impact lasted ${formatDuration(Date.parse(impactEnd) - detected)} (detection to ${incident.mitigatedAt ? 'mitigation' : 'resolution'}).` : `Still open after ${formatDuration(nowMs - detected)}.`,
    tta !== undefined ? `Acknowledged after ${formatDuration(tta)}.` : 'Never acknowledged.',
    ...(ttr !== undefined ? [`Resolved after ${formatDuration(ttr)}.`] : []),
    ...(incident.linkedSlos.length > 0 ? [`Linked SLOs: ${incident.linkedSlos.join(', ')}.`] : []),
    ...(delivered + failed > 0 ? [`Pages: ${delivered} delivered, ${failed} failed.`] : []),
    ...(alerts.length > 0 ? [`${alerts.length} alert(s) recorded during the incident window.`] : []),
  ].join(' ');

  return {
    incidentId: incident.id,
    incidentNumber: incident.number,
    draft: { whatHappened, impact, wentWell: '', couldImprove: '', actionItems: [], lessons: '' },
    facts: {
      from: incident.detectedAt,
      to: new Date(to).toISOString(),
      ...(tta !== undefined ? { timeToAcknowledgeMs: tta } : {}),
      ...(ttm !== undefined ? { timeToMitigateMs: ttm } : {}),
      ...(ttr !== undefined ? { timeToResolveMs: ttr } : {}),
      pages: { delivered, failed },
      eventsByType,
      alerts,
      truncated,
    },
  };
}

/** `reviews/draft`: reads the incident and the log of its window (a bounded query, not a scan of the log). */
export async function draftReview(store: EventStore, incidents: IncidentProjection, clock: Clock, ref: string): Promise<ResultOf<typeof DraftReview>> {
  const incident = incidents.get(ref);
  if (!incident) throw new RpcError(ErrorCode.NotFound, `no incident ${ref}`, { kind: 'incident', id: ref });
  const now = clock.now();
  const end = incident.resolvedAt ?? incident.closedAt;
  const to = end !== undefined ? Date.parse(end) + 1 : now + 1;
  const events = await store.query({ fromTime: Date.parse(incident.detectedAt), toTime: to }, { limit: DRAFT_EVENT_LIMIT, order: 'asc' });
  return buildReviewDraft(incident, events, now, events.length >= DRAFT_EVENT_LIMIT);
}
