import type { TimelineEntry } from '../../protocol/incidents';
import type { EventRecord } from '../../store/types';
import { EscalatedPayload, EscalationEvent, EscalationStoppedPayload, PagedPayload } from './oncallProjection';

/** A timeline line for an escalation event (the incident projection adds it to the incident's timeline). */
export function escalationTimelineLine(event: EventRecord): { incidentId: string; kind: TimelineEntry['kind']; text: string } | undefined {
  switch (event.type) {
    case EscalationEvent.escalated: {
      const p = EscalatedPayload.safeParse(event.payload);
      if (!p.success) return undefined;
      const who = p.data.resolved.map((r) => `${r.target} → ${r.person ?? 'nobody on call'}`).join(', ');
      const late = p.data.late ? ' (late: it came due while the daemon was not running)' : '';
      return { incidentId: p.data.incidentId, kind: 'escalation', text: `escalation level ${p.data.level}: ${who}${late}` };
    }
    case EscalationEvent.paged: {
      const p = PagedPayload.safeParse(event.payload);
      if (!p.success) return undefined;
      const d = p.data;
      const via = `${d.channel}${d.host ? ` (${d.host})` : ''}`;
      const what = d.action === 'trigger' ? `page to ${d.person} via ${via}` : `PagerDuty ${d.action} for ${d.person} via ${via}`;
      return { incidentId: d.incidentId, kind: 'page', text: d.outcome === 'delivered' ? `${what}: delivered` : `${what} failed: ${d.error ?? 'unknown error'}` };
    }
    case EscalationEvent.escalationStopped: {
      const p = EscalationStoppedPayload.safeParse(event.payload);
      if (!p.success) return undefined;
      return { incidentId: p.data.incidentId, kind: 'escalation', text: `escalation stopped (${p.data.reason}); level ${p.data.cancelledLevels.join(', ')} cancelled` };
    }
    default:
      return undefined;
  }
}
