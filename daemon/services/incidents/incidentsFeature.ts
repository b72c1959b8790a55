import {
  AddIncidentNote,
  AssignIncident,
  CreateIncident,
  DidChangeIncident,
  DraftReview,
  GetIncident,
  GetIncidentSloImpact,
  GetIncidentMetrics,
  GetReview,
  IncidentStatus,
  ListIncidents,
  SetIncidentSeverity,
  SubmitReview,
  TransitionIncident,
} from '../../protocol/incidents';
import type { DaemonFeature } from '../../server/feature';
import { IncidentEvent, IncidentProjection } from './incidentProjection';
import { IncidentService, type IncidentServiceOptions } from './incidentService';
import { OncallProjection } from './oncallProjection';
import { draftReview } from './reviewDraft';
import { registerOncall, type OncallOptions } from './oncallFeature';
import { incidentSloImpact, type SloBudgetLookup } from './sloImpact';

export interface IncidentsFeatureOptions extends IncidentServiceOptions, OncallOptions {
  /** The SLO feature's budget query, for `incidents/sloImpact`; absent, that method answers FailedPrecondition. */
  sloBudget?: SloBudgetLookup;
}

const CHANGE_BY_TYPE: Record<string, 'created' | 'transitioned' | 'assigned' | 'noted' | 'severityChanged' | 'reviewSubmitted'> = {
  [IncidentEvent.created]: 'created',
  [IncidentEvent.transitioned]: 'transitioned',
  [IncidentEvent.assigned]: 'assigned',
  [IncidentEvent.noted]: 'noted',
  [IncidentEvent.severityChanged]: 'severityChanged',
  [IncidentEvent.reviewSubmitted]: 'reviewSubmitted',
};

const SHARED_TYPES = /^(incident|review|escalation|oncall)\./;

/** Incidents and post-incident reviews (`incidents/*`, `reviews/*`, `GET|POST /api/incidents`). */
export function incidentsFeature(options: IncidentsFeatureOptions = {}): DaemonFeature {
  const projection = new IncidentProjection();
  const oncallProjection = new OncallProjection();
  return {
    name: 'incidents',
    projections: [projection, oncallProjection],
    reservedEventTypes: ['incident.**', 'review.**', 'oncall.**'],
    // Team mode: incidents, reviews, escalation records and on-call (people, schedules, policies) are shared.
    team: { streams: ['incident_events'], accepts: (e) => SHARED_TYPES.test(e.type) },
    register(featureContext) {
      const { router, rest, store, clock, server, log } = featureContext;
      const incidents = new IncidentService(store, projection, clock, options);
      const escalation = registerOncall(featureContext, projection, oncallProjection, options);
      router
        .on(CreateIncident, async (p, ctx) => {
          const created = await incidents.create(p, ctx.actor);
          await escalation.afterCreate(created, ctx.actor);
          return created;
        })
        .on(TransitionIncident, async (p, ctx) => {
          const moved = await incidents.transition(p, ctx.actor);
          // The move this call made (read from the timeline: another call may have moved it since).
          const step = moved.timeline.findLast((e) => e.kind === 'transition');
          const from = IncidentStatus.safeParse(step?.from);
          const to = IncidentStatus.safeParse(step?.to);
          if (from.success && to.success) await escalation.afterTransition(moved.id, from.data, to.data, ctx.actor);
          return incidents.get(moved.id);
        })
        .on(AssignIncident, (p, ctx) => incidents.assign(p, ctx.actor))
        .on(AddIncidentNote, (p, ctx) => incidents.note(p, ctx.actor))
        .on(SetIncidentSeverity, (p, ctx) => incidents.setSeverity(p, ctx.actor))
        .on(ListIncidents, (p) => incidents.list(p))
        .on(GetIncident, ({ id }) => incidents.get(id))
        .on(GetIncidentMetrics, (p) => incidents.metrics(p))
        .on(SubmitReview, (p, ctx) => incidents.submitReview(p, ctx.actor))
        .on(GetReview, ({ incidentId }) => incidents.review(incidentId))
        .on(DraftReview, ({ incidentId }) => draftReview(store, projection, clock, incidentId))
        .on(GetIncidentSloImpact, ({ id }) => incidentSloImpact(incidents.get(id), clock.now(), options.sloBudget));
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
          if (e.origin && e.type === IncidentEvent.transitioned) {
            const id = (e.payload as { id?: unknown }).id;
            const teammate = e.origin.daemon;
            if (typeof id === 'string') {
              escalation.afterTeammateTransition(id, teammate).catch((err: unknown) => log.error(`incidents: could not stop the escalation of ${id} after ${teammate}'s change: ${err instanceof Error ? err.message : String(err)}`));
            }
          }
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
