import * as z from 'zod';
import { Incident, IncidentSloImpact, Review } from '../../daemon/protocol/incidents';

/** Messages of the incident detail panel (panel type `cogniforge.incident`). */

export const IncidentData = z.object({
  type: z.literal('incident'),
  incident: Incident,
  /** The post-incident review, null when none was submitted. */
  review: Review.nullable(),
  /** Error budget each linked SLO lost during the incident; absent when it has none or the SLO service could not say. */
  sloImpact: z.array(IncidentSloImpact).optional(),
  /** When the host fetched it, epoch ms. */
  receivedAt: z.number().int().nonnegative(),
});

export const IncidentLoadError = z.object({
  type: z.literal('error'),
  /** Why the incident could not be loaded, one sentence. */
  message: z.string().max(2000),
});

export const HostToIncident = z.discriminatedUnion('type', [IncidentData, IncidentLoadError]);
export type HostToIncident = z.infer<typeof HostToIncident>;

/** What the panel may ask the host to run on the incident it shows: a fixed list, never a command id. */
export const IncidentCommand = z.enum(['acknowledge', 'changeStatus', 'resolve', 'addNote', 'changeSeverity', 'assign', 'writeReview', 'showLog']);
export type IncidentCommand = z.infer<typeof IncidentCommand>;

export const IncidentToHost = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** A restored panel tells the host which incident it showed. */
  z.object({ type: z.literal('select'), id: z.string().min(1).max(100) }),
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('runCommand'), command: IncidentCommand }),
]);
export type IncidentToHost = z.infer<typeof IncidentToHost>;

/** What the panel keeps with `setState`: which incident, and its last data to show at once. */
export const IncidentSavedState = z.object({
  version: z.literal(1),
  incidentId: z.string().min(1).max(100),
  incident: Incident.optional(),
  review: Review.nullable().optional(),
  sloImpact: z.array(IncidentSloImpact).optional(),
});
export type IncidentSavedState = z.infer<typeof IncidentSavedState>;
