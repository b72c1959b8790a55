import * as z from 'zod';
import {
  DetectedBy,
  INCIDENT_TRANSITIONS,
  IncidentRoles,
  IncidentRolesPatch,
  IncidentStatus,
  OPEN_STATUSES,
  ReviewContent,
  SEVERITIES,
  Severity,
  type Incident,
  type IncidentSummary,
  type Review,
  type TimelineEntry,
} from '../../protocol/incidents';
import { eventTime } from '../../protocol/events';
import type { EventRecord, Projection } from '../../store/types';
import { escalationTimelineLine } from './escalationTimeline';
import { DurationAggregate, dayOf, type Contribution } from './durationAggregate';
import { IncidentIndex, type ListPosition } from './incidentIndex';

/** Event types of the incidents domain; only this feature appends them (they are reserved). */
export const IncidentEvent = {
  created: 'incident.created',
  transitioned: 'incident.transitioned',
  assigned: 'incident.assigned',
  noted: 'incident.noted',
  severityChanged: 'incident.severityChanged',
  reviewSubmitted: 'review.submitted',
} as const;

export const IncidentCreatedPayload = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  severity: Severity,
  detectedBy: DetectedBy,
  services: z.array(z.string()),
  assignee: z.string().optional(),
  roles: IncidentRoles,
  linkedSlos: z.array(z.string()),
});
export const IncidentTransitionedPayload = z.object({
  id: z.string(),
  from: IncidentStatus,
  to: IncidentStatus,
  /**
   * Stamp (ISO-8601) of the status change this one followed: this change is ordered after it on
   * every daemon. Absent in events written before team mode.
   */
  afterAt: z.string().optional(),
  note: z.string().optional(),
  rootCause: z.string().optional(),
  resolution: z.string().optional(),
});
export const IncidentAssignedPayload = z.object({
  id: z.string(),
  assignee: z.string().nullable().optional(),
  roles: IncidentRolesPatch.optional(),
});
export const IncidentNotedPayload = z.object({ id: z.string(), text: z.string() });
export const IncidentSeverityChangedPayload = z.object({ id: z.string(), from: Severity, to: Severity, reason: z.string().optional() });
export const ReviewSubmittedPayload = z.object({ incidentId: z.string(), review: ReviewContent });

/** An incident as the projection keeps it: the protocol shape plus what metrics need to undo. */
interface IncidentState extends Omit<Incident, 'hasReview'> {
  n: number;
  /** Stamp (see `stampOf`) of the change that set the status: time and event id. */
  statusAt?: string;
  statusEventId?: string;
  /** Stamp of the acknowledgement that named the escalation owner. */
  ownerAt?: string;
  ownerEventId?: string;
  ackContribution?: Contribution;
  resolveContribution?: Contribution;
  review?: Review;
}

/** Snapshot format 1: every incident as the projection keeps it. Still read. */
interface SnapshotV1 {
  lastNumber: number;
  incidents: IncidentState[];
}

/**
 * A timeline entry in the snapshot: `[at, actor, kind, text]`, then `from` and `to` when present
 * (`from` is `null` when only `to` is).
 */
type CompactEntry = [string, string, TimelineEntry['kind'], string, (string | null)?, string?];

/**
 * An incident in snapshot format 2: no derivable fields (`number` comes from `n`, the MTTA/MTTR
 * contributions from the acknowledge/resolve times), empty fields left out, timeline as tuples.
 * About 40 % smaller than format 1.
 */
type CompactIncident = Omit<IncidentState, 'number' | 'timeline' | 'ackContribution' | 'resolveContribution' | 'description' | 'roles' | 'linkedSlos'> & {
  description?: string;
  roles?: IncidentState['roles'];
  linkedSlos?: string[];
  timeline: CompactEntry[];
  /** Severity the acknowledgement was counted under, when it is not the current one. */
  ackSeverity?: Severity;
  /** Severity the resolution was counted under, when it is not the current one. */
  resolveSeverity?: Severity;
};

interface SnapshotV2 {
  format: 2;
  lastNumber: number;
  incidents: CompactIncident[];
}

const isOpen = (s: IncidentStatus) => OPEN_STATUSES.includes(s);
const ROLE_LABEL = { incidentCommander: 'incident commander', communicationsLead: 'communications lead', technicalLead: 'technical lead' } as const;

/**
 * Incidents and their reviews, with the list index and MTTA/MTTR aggregates maintained as each
 * event is applied (never by scanning). Numbers (`INC-n`) are given in log order, so every daemon
 * reading the same log gives the same numbers. Events that do not fit the current state (a
 * transition from a status the incident is no longer in) are ignored, keeping apply deterministic.
 */
export class IncidentProjection implements Projection {
  readonly name = 'incidents';
  private lastNumber = 0;
  private readonly byNumber = new Map<number, IncidentState>();
  private readonly numberById = new Map<string, number>();
  private readonly index = new IncidentIndex();
  readonly mtta = new DurationAggregate();
  readonly mttr = new DurationAggregate();
  private readonly open = new Map<Severity, number>();

  apply(event: EventRecord): void {
    switch (event.type) {
      case IncidentEvent.created: {
        const p = IncidentCreatedPayload.safeParse(event.payload);
        if (p.success && !this.numberById.has(p.data.id)) this.create(p.data, event);
        return;
      }
      case IncidentEvent.transitioned: {
        const p = IncidentTransitionedPayload.safeParse(event.payload);
        const inc = p.success ? this.byId(p.data.id) : undefined;
        if (!p.success || !inc || !INCIDENT_TRANSITIONS[p.data.from].includes(p.data.to)) return;
        const stamp = stampOf(event, p.data.afterAt);
        // Team mode: whoever acknowledged it last runs its escalation, named alike on every daemon
        // (the latest acknowledgement by stamp), whether or not this change's status won.
        if ((p.data.from === 'detected' || p.data.to === 'acknowledged') && later(stamp, { at: inc.ownerAt ?? inc.detectedAt, id: inc.ownerEventId ?? '' })) {
          inc.ownerAt = stamp.at;
          inc.ownerEventId = stamp.id;
          if (event.origin) inc.escalationOwner = event.origin.daemon;
          else delete inc.escalationOwner;
        }
        if (p.data.afterAt === undefined) {
          // Written before changes carried what they followed: the log order decides.
          if (inc.status === p.data.from) this.transition(inc, p.data, event, stamp);
          return;
        }
        // The status is a last-writer-wins register over stamps. A change is stamped after the change it
        // followed, so on one daemon each change wins over the one before it; changes made on two daemons
        // at once are decided by the later stamp on every daemon, whatever order they arrive in.
        if (later(stamp, { at: inc.statusAt ?? inc.detectedAt, id: inc.statusEventId ?? '' })) this.transition(inc, p.data, event, stamp);
        else inc.timeline.push(entry(event, 'note', `${p.data.from} → ${p.data.to} made on ${event.origin?.daemon ?? 'this daemon'} crossed a later change, which stands`));
        return;
      }
      case IncidentEvent.assigned: {
        const p = IncidentAssignedPayload.safeParse(event.payload);
        const inc = p.success ? this.byId(p.data.id) : undefined;
        if (p.success && inc) this.assign(inc, p.data, event);
        return;
      }
      case IncidentEvent.noted: {
        const p = IncidentNotedPayload.safeParse(event.payload);
        const inc = p.success ? this.byId(p.data.id) : undefined;
        if (p.success && inc) inc.timeline.push(entry(event, 'note', p.data.text));
        return;
      }
      case IncidentEvent.severityChanged: {
        const p = IncidentSeverityChangedPayload.safeParse(event.payload);
        const inc = p.success ? this.byId(p.data.id) : undefined;
        if (p.success && inc && inc.severity === p.data.from) this.changeSeverity(inc, p.data, event);
        return;
      }
      case IncidentEvent.reviewSubmitted: {
        const p = ReviewSubmittedPayload.safeParse(event.payload);
        const inc = p.success ? this.byId(p.data.incidentId) : undefined;
        if (p.success && inc) {
          const version = (inc.review?.version ?? 0) + 1;
          inc.review = { ...p.data.review, incidentId: inc.id, incidentNumber: inc.number, submittedAt: eventTime(event), submittedBy: event.actor, version };
          inc.timeline.push(entry(event, 'review', version === 1 ? 'post-incident review submitted' : `post-incident review revised (v${version})`));
        }
        return;
      }
      default: {
        const line = escalationTimelineLine(event);
        const inc = line ? this.byId(line.incidentId) : undefined;
        if (line && inc) inc.timeline.push(entry(event, line.kind, line.text));
        return;
      }
    }
  }

  /** What a new status change of this incident follows: the stamp of its current status (`afterAt`). */
  statusStamp(ref: string): { afterAt: string } | undefined {
    const inc = this.find(ref);
    return inc && { afterAt: inc.statusAt ?? inc.detectedAt };
  }

  /** By UUID or `INC-<n>`. */
  find(ref: string): IncidentState | undefined {
    const m = /^INC-(\d+)$/.exec(ref);
    return m ? this.byNumber.get(Number(m[1])) : this.byId(ref);
  }

  get(ref: string): Incident | undefined {
    const inc = this.find(ref);
    return inc && toIncident(inc);
  }

  summary(ref: string): IncidentSummary | undefined {
    const inc = this.find(ref);
    return inc && toSummary(inc);
  }

  review(ref: string): Review | undefined {
    return this.find(ref)?.review;
  }

  get size(): number {
    return this.byNumber.size;
  }

  list(filter: {
    statuses?: IncidentStatus[];
    severities?: Severity[];
    service?: string;
    limit: number;
    from?: ListPosition;
  }): { incidents: IncidentSummary[]; next?: ListPosition } {
    const service = filter.service;
    const accept = service === undefined ? () => true : (n: number) => this.byNumber.get(n)!.services.includes(service);
    const { numbers, next } = this.index.page(filter.statuses, filter.severities, filter.limit, filter.from, accept);
    return { incidents: numbers.map((n) => toSummary(this.byNumber.get(n)!)), next };
  }

  openBySeverity(): Record<Severity, number> {
    return Object.fromEntries(SEVERITIES.map((s) => [s, this.open.get(s) ?? 0])) as Record<Severity, number>;
  }

  snapshot(): SnapshotV2 {
    return { format: 2, lastNumber: this.lastNumber, incidents: [...this.byNumber.values()].map(compact) };
  }

  restore(state: unknown): void {
    this.reset();
    const s = state as Partial<SnapshotV1 | SnapshotV2> | null;
    if (!s || !Array.isArray(s.incidents)) return;
    this.lastNumber = s.lastNumber ?? 0;
    const incidents = 'format' in s && s.format === 2 ? s.incidents.map(expand) : (s.incidents as IncidentState[]);
    for (const inc of incidents) {
      this.byNumber.set(inc.n, inc);
      this.numberById.set(inc.id, inc.n);
      this.index.add(inc.status, inc.severity, inc.n);
      if (inc.ackContribution) this.mtta.add(inc.ackContribution);
      if (inc.resolveContribution) this.mttr.add(inc.resolveContribution);
      if (isOpen(inc.status)) this.countOpen(inc.severity, 1);
    }
  }

  reset(): void {
    this.lastNumber = 0;
    this.byNumber.clear();
    this.numberById.clear();
    this.index.clear();
    this.mtta.clear();
    this.mttr.clear();
    this.open.clear();
  }

  private byId(id: string): IncidentState | undefined {
    const n = this.numberById.get(id);
    return n === undefined ? undefined : this.byNumber.get(n);
  }

  private countOpen(severity: Severity, delta: 1 | -1): void {
    this.open.set(severity, (this.open.get(severity) ?? 0) + delta);
  }

  private create(p: z.infer<typeof IncidentCreatedPayload>, event: EventRecord): void {
    const n = ++this.lastNumber;
    const inc: IncidentState = {
      n,
      id: p.id,
      number: `INC-${n}`,
      title: p.title,
      description: p.description,
      severity: p.severity,
      status: 'detected',
      detectedBy: p.detectedBy,
      services: p.services,
      ...(p.assignee !== undefined ? { assignee: p.assignee } : {}),
      roles: p.roles,
      linkedSlos: p.linkedSlos,
      detectedAt: eventTime(event),
      ...(event.origin ? { createdOn: event.origin.daemon, escalationOwner: event.origin.daemon } : {}),
      timeline: [entry(event, 'created', `${p.severity} detected by ${p.detectedBy.kind} ${p.detectedBy.name}`, undefined, 'detected')],
    };
    this.byNumber.set(n, inc);
    this.numberById.set(inc.id, n);
    this.index.add(inc.status, inc.severity, n);
    this.countOpen(inc.severity, 1);
  }

  private transition(inc: IncidentState, p: z.infer<typeof IncidentTransitionedPayload>, event: EventRecord, stamp: Stamp): void {
    const time = eventTime(event);
    const contribution = (): Contribution => contributionAt(inc, time, inc.severity);
    // The status it really leaves: differs from `p.from` only when a teammate's later change wins.
    const from = inc.status;
    this.index.remove(inc.status, inc.severity, inc.n);
    const wasOpen = isOpen(inc.status);
    inc.statusAt = stamp.at;
    inc.statusEventId = stamp.id;
    if (from === 'resolved' && p.to === 'investigating') {
      // A reopen: the earlier resolution no longer counts towards MTTR.
      if (inc.resolveContribution) this.mttr.remove(inc.resolveContribution);
      delete inc.resolveContribution;
      delete inc.resolvedAt;
    }
    // Any move past `detected` is an acknowledgement, so MTTA is defined for every incident that moved.
    if (!inc.acknowledgedAt && p.to !== 'detected') {
      inc.acknowledgedAt = time;
      inc.ackContribution = contribution();
      this.mtta.add(inc.ackContribution);
    }
    if (!inc.mitigatedAt && (p.to === 'resolving' || p.to === 'resolved')) inc.mitigatedAt = time;
    if (p.to === 'resolved') {
      inc.resolvedAt = time;
      inc.resolveContribution = contribution();
      this.mttr.add(inc.resolveContribution);
    }
    if (p.to === 'closed') inc.closedAt = time;
    if (p.rootCause !== undefined) inc.rootCause = p.rootCause;
    if (p.resolution !== undefined) inc.resolution = p.resolution;
    inc.status = p.to;
    if (wasOpen && !isOpen(p.to)) this.countOpen(inc.severity, -1);
    if (!wasOpen && isOpen(p.to)) this.countOpen(inc.severity, 1);
    this.index.add(inc.status, inc.severity, inc.n);
    const details = [p.note, p.rootCause !== undefined ? `root cause: ${p.rootCause}` : undefined, p.resolution !== undefined ? `resolution: ${p.resolution}` : undefined]
      .filter((d) => d !== undefined && d !== '')
      .join('; ');
    inc.timeline.push(entry(event, 'transition', `${from} → ${p.to}${details ? `: ${details}` : ''}`, from, p.to));
  }

  private assign(inc: IncidentState, p: z.infer<typeof IncidentAssignedPayload>, event: EventRecord): void {
    const changes: string[] = [];
    if (p.assignee !== undefined) {
      if (p.assignee === null) delete inc.assignee;
      else inc.assignee = p.assignee;
      changes.push(p.assignee === null ? 'assignee cleared' : `assigned to ${p.assignee}`);
    }
    for (const role of ['incidentCommander', 'communicationsLead', 'technicalLead'] as const) {
      const value = p.roles?.[role];
      if (value === undefined) continue;
      const roles = { ...inc.roles };
      if (value === null) delete roles[role];
      else roles[role] = value;
      inc.roles = roles;
      changes.push(value === null ? `${ROLE_LABEL[role]} cleared` : `${ROLE_LABEL[role]}: ${value}`);
    }
    inc.timeline.push(entry(event, 'assignment', changes.join('; ')));
  }

  private changeSeverity(inc: IncidentState, p: z.infer<typeof IncidentSeverityChangedPayload>, event: EventRecord): void {
    this.index.remove(inc.status, inc.severity, inc.n);
    if (isOpen(inc.status)) {
      this.countOpen(p.from, -1);
      this.countOpen(p.to, 1);
    }
    inc.severity = p.to;
    this.index.add(inc.status, inc.severity, inc.n);
    inc.timeline.push(entry(event, 'severity', `${p.from} → ${p.to}${p.reason ? `: ${p.reason}` : ''}`, p.from, p.to));
  }
}

/** Orders status changes: when (ISO-8601), then event id (the same on every daemon). */
interface Stamp {
  at: string;
  id: string;
}

/**
 * A change's stamp: when it was made where it was made, but at least 1 ms after the change it
 * followed (`afterAt`), so a clock behind a teammate's cannot put a change before what it answered.
 */
function stampOf(event: EventRecord, afterAt: string | undefined): Stamp {
  const made = Date.parse(eventTime(event));
  const at = afterAt === undefined ? made : Math.max(made, Date.parse(afterAt) + 1);
  return { at: new Date(at).toISOString(), id: event.id };
}

function later(a: Stamp, b: Stamp): boolean {
  const x = Date.parse(a.at);
  const y = Date.parse(b.at);
  return x !== y ? x > y : a.id > b.id;
}

/** What an incident adds to MTTA or MTTR when acknowledged or resolved at `time`, counted under `severity`. */
function contributionAt(inc: Pick<IncidentState, 'detectedAt' | 'services'>, time: string, severity: Severity): Contribution {
  const at = Date.parse(time);
  return { day: dayOf(at), severity, services: inc.services, durationMs: Math.max(0, at - Date.parse(inc.detectedAt)) };
}

function compact(inc: IncidentState): CompactIncident {
  const { number: _number, timeline, ackContribution, resolveContribution, description, roles, linkedSlos, ...rest } = inc;
  return {
    ...rest,
    ...(description !== '' ? { description } : {}),
    ...(Object.keys(roles).length > 0 ? { roles } : {}),
    ...(linkedSlos.length > 0 ? { linkedSlos } : {}),
    ...(ackContribution && ackContribution.severity !== inc.severity ? { ackSeverity: ackContribution.severity } : {}),
    ...(resolveContribution && resolveContribution.severity !== inc.severity ? { resolveSeverity: resolveContribution.severity } : {}),
    timeline: timeline.map((e): CompactEntry => {
      if (e.to !== undefined) return [e.at, e.actor, e.kind, e.text, e.from ?? null, e.to];
      return e.from !== undefined ? [e.at, e.actor, e.kind, e.text, e.from] : [e.at, e.actor, e.kind, e.text];
    }),
  };
}

function expand(c: CompactIncident): IncidentState {
  const { timeline, ackSeverity, resolveSeverity, description, roles, linkedSlos, ...rest } = c;
  const inc: IncidentState = {
    ...rest,
    number: `INC-${c.n}`,
    description: description ?? '',
    roles: roles ?? {},
    linkedSlos: linkedSlos ?? [],
    timeline: timeline.map(([at, actor, kind, text, from, to]) => ({
      at,
      actor,
      kind,
      text,
      ...(from !== undefined && from !== null ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
    })),
  };
  // Acknowledged and resolved times are set exactly when their contributions are (a reopen clears both).
  if (inc.acknowledgedAt !== undefined) inc.ackContribution = contributionAt(inc, inc.acknowledgedAt, ackSeverity ?? inc.severity);
  if (inc.resolvedAt !== undefined) inc.resolveContribution = contributionAt(inc, inc.resolvedAt, resolveSeverity ?? inc.severity);
  return inc;
}

function entry(event: EventRecord, kind: TimelineEntry['kind'], text: string, from?: string, to?: string): TimelineEntry {
  return { at: eventTime(event), actor: event.actor, kind, text, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

function toSummary(inc: IncidentState): IncidentSummary {
  const { id, number, title, severity, status, services, assignee, detectedAt, acknowledgedAt, mitigatedAt, resolvedAt, closedAt } = inc;
  return {
    id,
    number,
    title,
    severity,
    status,
    services,
    ...(assignee !== undefined ? { assignee } : {}),
    detectedAt,
    ...(acknowledgedAt !== undefined ? { acknowledgedAt } : {}),
    ...(mitigatedAt !== undefined ? { mitigatedAt } : {}),
    ...(resolvedAt !== undefined ? { resolvedAt } : {}),
    ...(closedAt !== undefined ? { closedAt } : {}),
  };
}

function toIncident(inc: IncidentState): Incident {
  return {
    ...toSummary(inc),
    description: inc.description,
    detectedBy: inc.detectedBy,
    roles: inc.roles,
    ...(inc.rootCause !== undefined ? { rootCause: inc.rootCause } : {}),
    ...(inc.resolution !== undefined ? { resolution: inc.resolution } : {}),
    linkedSlos: inc.linkedSlos,
    ...(inc.createdOn !== undefined ? { createdOn: inc.createdOn } : {}),
    ...(inc.escalationOwner !== undefined ? { escalationOwner: inc.escalationOwner } : {}),
    hasReview: inc.review !== undefined,
    timeline: [...inc.timeline],
  };
}
