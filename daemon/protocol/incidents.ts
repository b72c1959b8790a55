import * as z from 'zod';
import { IsoTime } from './common';
import { defineNotification, defineRequest } from './define';
import { BudgetConsumedEntry } from './slo';

export const Severity = z.enum(['SEV1', 'SEV2', 'SEV3', 'SEV4']);
export type Severity = z.infer<typeof Severity>;
export const SEVERITIES: readonly Severity[] = Severity.options;

export const IncidentStatus = z.enum(['detected', 'acknowledged', 'investigating', 'identified', 'resolving', 'resolved', 'closed']);
export type IncidentStatus = z.infer<typeof IncidentStatus>;
export const INCIDENT_STATUSES: readonly IncidentStatus[] = IncidentStatus.options;

/** Statuses in which an incident still has impact: counted as open, listed first. */
export const OPEN_STATUSES: readonly IncidentStatus[] = ['detected', 'acknowledged', 'investigating', 'identified', 'resolving'];

/**
 * The incident lifecycle as data: status → the statuses it may move to. Forward moves may skip
 * states; `closed` only from `resolved`; the one backward move reopens `resolved` → `investigating`.
 */
export const INCIDENT_TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = Object.freeze({
  detected: ['acknowledged', 'investigating', 'identified', 'resolving', 'resolved'],
  acknowledged: ['investigating', 'identified', 'resolving', 'resolved'],
  investigating: ['identified', 'resolving', 'resolved'],
  identified: ['resolving', 'resolved'],
  resolving: ['resolved'],
  resolved: ['closed', 'investigating'],
  closed: [],
});

/** `INC-42`. */
export const IncidentNumber = z.string().regex(/^INC-[1-9]\d{0,9}$/, 'incident number looks like INC-42');
/** A UUIDv7 (lower-case hex, dashed). */
export const IncidentUuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'incident id is a UUIDv7');
/** Either form names an incident in params. */
export const IncidentRef = z.union([IncidentUuid, IncidentNumber]);

const Name = z.string().trim().min(1).max(200);
const Text = z.string().max(20_000);
const ServiceName = z.string().trim().min(1).max(200);

export const DetectedBy = z.object({
  kind: z.enum(['person', 'monitor', 'slo']),
  /** Who or what noticed it: a person's handle, a monitor's name, an SLO id. */
  name: Name,
});

/** Incident roles; each holds a person's handle. */
export const IncidentRoles = z.object({
  incidentCommander: Name.optional(),
  communicationsLead: Name.optional(),
  technicalLead: Name.optional(),
});
/** A role change: a handle sets it, `null` clears it, absent leaves it. */
export const IncidentRolesPatch = z.object({
  incidentCommander: Name.nullable().optional(),
  communicationsLead: Name.nullable().optional(),
  technicalLead: Name.nullable().optional(),
});

export const TimelineEntry = z.object({
  /** ISO-8601, when the event was appended. */
  at: IsoTime,
  /** Token name that made the change. */
  actor: z.string(),
  kind: z.enum(['created', 'transition', 'severity', 'assignment', 'note', 'review', 'escalation', 'page']),
  /** One human line: `detected → acknowledged`, `SEV3 → SEV1`, the note text. */
  text: z.string(),
  from: z.string().optional(),
  to: z.string().optional(),
});
export type TimelineEntry = z.infer<typeof TimelineEntry>;

/** One row of `incidents/list`: the incident without its timeline. */
export const IncidentSummary = z.object({
  /** UUIDv7, globally unique (daemons sharing a log never collide). */
  id: z.string(),
  /** `INC-<n>`, n increasing in log order. */
  number: z.string(),
  title: z.string(),
  severity: Severity,
  status: IncidentStatus,
  services: z.array(z.string()),
  assignee: z.string().optional(),
  /** ISO-8601 times; absent until the incident gets there. */
  detectedAt: IsoTime,
  acknowledgedAt: IsoTime.optional(),
  /** First move to `resolving` (or straight to `resolved`): impact stopped. */
  mitigatedAt: IsoTime.optional(),
  /** Latest resolution (a reopen clears it). */
  resolvedAt: IsoTime.optional(),
  closedAt: IsoTime.optional(),
});
export type IncidentSummary = z.infer<typeof IncidentSummary>;

export const Incident = IncidentSummary.extend({
  description: z.string(),
  detectedBy: DetectedBy,
  roles: IncidentRoles,
  rootCause: z.string().optional(),
  resolution: z.string().optional(),
  /** SLO ids this incident burns budget of. */
  linkedSlos: z.array(z.string()),
  /** Team mode: the daemon this incident was created on, when not this one. */
  createdOn: z.string().optional(),
  /**
   * Team mode: the daemon that runs this incident's escalation (its creator, then whoever
   * acknowledged it last), when not this one. Absent: this daemon.
   */
  escalationOwner: z.string().optional(),
  hasReview: z.boolean(),
  /** Every change, oldest first. */
  timeline: z.array(TimelineEntry),
});
export type Incident = z.infer<typeof Incident>;

export const CreateIncident = defineRequest(
  'incidents/create',
  z.object({
    title: Name,
    description: Text.default(''),
    severity: Severity,
    detectedBy: DetectedBy,
    services: z.array(ServiceName).max(100).default([]),
    assignee: Name.optional(),
    roles: IncidentRoles.default({}),
    linkedSlos: z.array(Name).max(100).default([]),
  }),
  Incident,
  { kind: 'command', doc: 'Open an incident (status `detected`); answers it with its UUIDv7 id and `INC-<n>` number.' },
);

export const TransitionIncident = defineRequest(
  'incidents/transition',
  z.object({
    id: IncidentRef,
    to: IncidentStatus,
    note: Text.optional(),
    /** Recorded with the move (typically on `identified`). */
    rootCause: Text.optional(),
    /** Recorded with the move (typically on `resolved`). */
    resolution: Text.optional(),
  }),
  Incident,
  { kind: 'command', doc: 'Move an incident along its lifecycle; an invalid move is InvalidTransition with `data.allowed`.' },
);

export const AssignIncident = defineRequest(
  'incidents/assign',
  z
    .object({ id: IncidentRef, assignee: Name.nullable().optional(), roles: IncidentRolesPatch.optional() })
    .refine((p) => p.assignee !== undefined || p.roles !== undefined, { message: 'give assignee or roles', path: ['assignee'] }),
  Incident,
  { kind: 'command', doc: 'Set or clear the assignee and incident roles (`null` clears).' },
);

export const AddIncidentNote = defineRequest(
  'incidents/note',
  z.object({ id: IncidentRef, text: z.string().trim().min(1).max(20_000) }),
  Incident,
  { kind: 'command', doc: 'Add a note to the incident timeline.' },
);

export const SetIncidentSeverity = defineRequest(
  'incidents/setSeverity',
  z.object({ id: IncidentRef, severity: Severity, reason: Text.optional() }),
  Incident,
  { kind: 'command', doc: 'Change the severity of an incident that is not closed; the change goes on the timeline.' },
);

export const ListIncidents = defineRequest(
  'incidents/list',
  z.object({
    statuses: z.array(IncidentStatus).max(7).optional(),
    severities: z.array(Severity).max(4).optional(),
    service: ServiceName.optional(),
    limit: z.number().int().min(1).max(500).default(50),
    /** Opaque, from the previous page's `nextCursor`. */
    cursor: z.string().max(100).optional(),
  }),
  z.object({ incidents: z.array(IncidentSummary), nextCursor: z.string().optional() }),
  { kind: 'query', doc: 'Incidents filtered by status, severity and service: open first, then newest; paged by cursor.' },
);

export const GetIncident = defineRequest('incidents/get', z.object({ id: IncidentRef }), Incident, {
  kind: 'query',
  doc: 'One incident with its timeline, by UUID or `INC-<n>`.',
});

export const IncidentSloImpact = z.object({
  sloId: z.string(),
  /** Null when this SLO could not be evaluated for the incident's window; `note` says why. */
  impact: BudgetConsumedEntry.nullable(),
  note: z.string().optional(),
});
export type IncidentSloImpact = z.infer<typeof IncidentSloImpact>;

export const GetIncidentSloImpact = defineRequest(
  'incidents/sloImpact',
  z.object({ id: IncidentRef }).strict(),
  z.object({
    incidentId: IncidentUuid,
    number: IncidentNumber,
    /** The incident window: detection to resolution, or to now while it is open (whole minutes). */
    from: IsoTime,
    to: IsoTime,
    ongoing: z.boolean(),
    slos: z.array(IncidentSloImpact),
  }),
  {
    kind: 'query',
    doc: 'Error budget each linked SLO lost during the incident (detection to resolution, or to now while open): bad events and the share of the current budget.',
  },
);

/** A mean over `count` incidents; `meanMs` is null when count is 0. */
export const DurationStat = z.object({ count: z.number().int(), meanMs: z.number().nullable() });
const Breakdown = z.object({
  overall: DurationStat,
  bySeverity: z.record(Severity, DurationStat),
  byService: z.record(z.string(), DurationStat),
});

export const GetIncidentMetrics = defineRequest(
  'incidents/metrics',
  z
    .object({ from: IsoTime.optional(), to: IsoTime.optional() })
    .refine((p) => !p.from || !p.to || Date.parse(p.from) < Date.parse(p.to), { message: 'from must be before to', path: ['from'] }),
  z.object({
    /** The period actually summed, widened to whole UTC days; absent ends mean unbounded. */
    from: IsoTime.optional(),
    to: IsoTime.optional(),
    /** Mean time to acknowledge (detected → acknowledged), counted on the day of acknowledgement. */
    mtta: Breakdown,
    /** Mean time to resolve (detected → resolved), counted on the day of resolution. */
    mttr: Breakdown,
    /** Incidents open now (not resolved or closed), per severity. */
    openBySeverity: z.record(Severity, z.number().int()),
  }),
  { kind: 'query', doc: 'MTTA and MTTR overall, by severity and by service over a period; open incidents by severity.' },
);

export const ActionItem = z.object({
  description: z.string().trim().min(1).max(2000),
  owner: Name,
  /** Due date, `YYYY-MM-DD`. */
  due: z.iso.date(),
  done: z.boolean().default(false),
});

export const ReviewContent = z.object({
  whatHappened: Text.min(1),
  impact: Text.min(1),
  wentWell: Text.default(''),
  couldImprove: Text.default(''),
  actionItems: z.array(ActionItem).max(200).default([]),
  lessons: Text.default(''),
});

export const Review = ReviewContent.extend({
  incidentId: z.string(),
  incidentNumber: z.string(),
  /** ISO-8601 of the latest submission. */
  submittedAt: IsoTime,
  submittedBy: z.string(),
  /** 1 for the first submission, +1 per resubmission. */
  version: z.number().int().positive(),
});
export type Review = z.infer<typeof Review>;

export const SubmitReview = defineRequest('reviews/submit', ReviewContent.extend({ incidentId: IncidentRef }), Review, {
  kind: 'command',
  doc: 'Submit (or replace) the post-incident review; SEV1/SEV2 incidents need one before closing.',
});

export const GetReview = defineRequest('reviews/get', z.object({ incidentId: IncidentRef }), Review, {
  kind: 'query',
  doc: 'The post-incident review of an incident.',
});

export const DraftReview = defineRequest(
  'reviews/draft',
  z.object({ incidentId: IncidentRef }),
  z.object({
    incidentId: z.string(),
    incidentNumber: z.string(),
    /** Ready to edit and pass to `reviews/submit` (what happened and impact pre-filled, the rest empty). */
    draft: ReviewContent,
    facts: z.object({
      /** The incident window: detection to resolution (or now while open). */
      from: IsoTime,
      to: IsoTime,
      /** Detection → acknowledgement / mitigation / resolution, ms; absent when it has not happened. */
      timeToAcknowledgeMs: z.number().optional(),
      timeToMitigateMs: z.number().optional(),
      timeToResolveMs: z.number().optional(),
      pages: z.object({ delivered: z.number().int(), failed: z.number().int() }),
      /** Events of other domains recorded during the window, counted by type. */
      eventsByType: z.record(z.string(), z.number().int()),
      /** Alerts recorded during the window (`slo.alert*`, `system.alert`, `*.breach`...), oldest first, at most 50. */
      alerts: z.array(z.object({ at: IsoTime, type: z.string(), summary: z.string() })),
      /** True when the window held more events than were read (10,000). */
      truncated: z.boolean(),
    }),
  }),
  { kind: 'query', doc: 'A post-incident review pre-filled from the timeline and the events recorded during the incident window.' },
);

export const DidChangeIncident = defineNotification(
  'incidents/didChange',
  z.object({
    change: z.enum(['created', 'transitioned', 'assigned', 'noted', 'severityChanged', 'reviewSubmitted']),
    incident: IncidentSummary,
  }),
  'An incident was created or changed (by any client, or another daemon sharing the log).',
);
