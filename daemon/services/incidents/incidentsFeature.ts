import {
  AddIncidentNote,
  AssignIncident,
  CreateIncident,
  DidChangeIncident,
  GetIncident,
  GetIncidentMetrics,
  GetReview,
  ListIncidents,
  SetIncidentSeverity,
  SubmitReview,
  TransitionIncident,
} from '../../protocol/incidents';
import type { DaemonFeature } from '../../server/feature';
import { IncidentEvent, IncidentProjection } from './incidentProjection';
import { IncidentService, type IncidentServiceOptions } from './incidentService';

const CHANGE_BY_TYPE: Record<string, 'created' | 'transitioned' | 'assigned' | 'noted' | 'severityChanged' | 'reviewSubmitted'> = {
  [IncidentEvent.created]: 'created',
  [IncidentEvent.transitioned]: 'transitioned',
  [IncidentEvent.assigned]: 'assigned',
  [IncidentEvent.noted]: 'noted',
  [IncidentEvent.severityChanged]: 'severityChanged',
  [IncidentEvent.reviewSubmitted]: 'reviewSubmitted',
};

/** Incidents and post-incident reviews (`incidents/*`, `reviews/*`, `GET|POST /api/incidents`). */
export function incidentsFeature(options: IncidentServiceOptions = {}): DaemonFeature {
  const projection = new IncidentProjection();
  return {
    name: 'incidents',
    projections: [projection],
    reservedEventTypes: ['incident.**', 'review.**'],
    register({ router, rest, store, clock, server }) {
      const incidents = new IncidentService(store, projection, clock, options);
      router
        .on(CreateIncident, (p, ctx) => incidents.create(p, ctx.actor))
        .on(TransitionIncident, (p, ctx) => incidents.transition(p, ctx.actor))
        .on(AssignIncident, (p, ctx) => incidents.assign(p, ctx.actor))
        .on(AddIncidentNote, (p, ctx) => incidents.note(p, ctx.actor))
        .on(SetIncidentSeverity, (p, ctx) => incidents.setSeverity(p, ctx.actor))
        .on(ListIncidents, (p) => incidents.list(p))
        .on(GetIncident, ({ id }) => incidents.get(id))
        .on(GetIncidentMetrics, (p) => incidents.metrics(p))
        .on(SubmitReview, (p, ctx) => incidents.submitReview(p, ctx.actor))
        .on(GetReview, ({ incidentId }) => incidents.review(incidentId));
      rest
        .get('/api/incidents', ListIncidents, ({ query }) => ({
          statuses: query.list('status'),
          severities: query.list('severity'),
          service: query.str('service'),
          limit: query.num('limit'),
          cursor: query.str('cursor'),
        }))
        .post('/api/incidents', CreateIncident, { status: 201 });
      // From the log, not from the handlers: changes made by another daemon sharing the log notify too.
      store.onAppend((events) => {
        for (const e of events) {
          const change = CHANGE_BY_TYPE[e.type];
          if (!change) continue;
          const ref = (e.payload as { id?: unknown; incidentId?: unknown }).id ?? (e.payload as { incidentId?: unknown }).incidentId;
          const incident = typeof ref === 'string' ? projection.summary(ref) : undefined;
          if (incident) server.notifyAll(DidChangeIncident, { change, incident });
        }
      });
    },
  };
}
