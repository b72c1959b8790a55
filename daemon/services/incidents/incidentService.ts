import {
  ErrorCode,
  RpcError,
  type ParsedParamsOf,
  type Priority,
  type ResultOf,
} from '../../protocol';
import {
  INCIDENT_TRANSITIONS,
  type AddIncidentNote,
  type AssignIncident,
  type CreateIncident,
  type GetIncidentMetrics,
  type Incident,
  type ListIncidents,
  type Review,
  type SetIncidentSeverity,
  type Severity,
  type SubmitReview,
  type TransitionIncident,
} from '../../protocol/incidents';
import type { Clock } from '../shared/clock';
import type { EventStore, NewEvent } from '../../store/types';
import { dayOf, dayStart } from './durationAggregate';
import type { ListPosition } from './incidentIndex';
import { IncidentEvent, type IncidentProjection } from './incidentProjection';
import { UuidV7Generator } from './uuidv7';

export interface IncidentServiceOptions {
  /** Severities whose incidents need a post-incident review before they can be closed (default SEV1, SEV2). */
  reviewRequiredFor?: readonly Severity[];
}

/** Event priority of an incident's events, so subscribers filtering on `minPriority` see SEV1 first. */
const PRIORITY: Record<Severity, Priority> = { SEV1: 'critical', SEV2: 'high', SEV3: 'normal', SEV4: 'low' };

const CURSOR = /^([01])\.([1-9]\d{0,9})$/;

/**
 * Incident commands and queries. Commands run one at a time (a small queue), so the state a
 * command validated against is still the state when its event is applied; queries read the projection.
 */
export class IncidentService {
  private readonly ids: UuidV7Generator;
  private readonly reviewRequiredFor: ReadonlySet<Severity>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: EventStore,
    private readonly projection: IncidentProjection,
    clock: Clock,
    options: IncidentServiceOptions = {},
  ) {
    this.ids = new UuidV7Generator(clock);
    this.reviewRequiredFor = new Set(options.reviewRequiredFor ?? ['SEV1', 'SEV2']);
  }

  create(p: ParsedParamsOf<typeof CreateIncident>, actor: string): Promise<Incident> {
    return this.serial(async () => {
      const id = this.ids.next();
      await this.append(actor, IncidentEvent.created, {
        id,
        title: p.title,
        description: p.description,
        severity: p.severity,
        detectedBy: p.detectedBy,
        services: [...new Set(p.services)],
        ...(p.assignee !== undefined ? { assignee: p.assignee } : {}),
        roles: p.roles,
        linkedSlos: [...new Set(p.linkedSlos)],
      }, p.severity);
      return this.mustGet(id);
    });
  }

  transition(p: ParsedParamsOf<typeof TransitionIncident>, actor: string): Promise<Incident> {
    return this.serial(async () => {
      const inc = this.mustGet(p.id);
      const allowed = INCIDENT_TRANSITIONS[inc.status];
      if (!allowed.includes(p.to)) {
        const list = allowed.length > 0 ? allowed.join(', ') : `none (${inc.status} is final)`;
        throw new RpcError(ErrorCode.InvalidTransition, `${inc.number} cannot move from ${inc.status} to ${p.to}; allowed: ${list}`, {
          id: inc.id,
          from: inc.status,
          to: p.to,
          allowed,
        });
      }
      if (p.to === 'closed' && this.reviewRequiredFor.has(inc.severity) && !inc.hasReview) {
        throw new RpcError(
          ErrorCode.FailedPrecondition,
          `${inc.number} is ${inc.severity}: submit its post-incident review (reviews/submit) before closing it`,
          { id: inc.id, severity: inc.severity, missing: 'review' },
        );
      }
      await this.append(actor, IncidentEvent.transitioned, {
        id: inc.id,
        from: inc.status,
        to: p.to,
        ...this.projection.statusStamp(inc.id),
        ...(p.note !== undefined ? { note: p.note } : {}),
        ...(p.rootCause !== undefined ? { rootCause: p.rootCause } : {}),
        ...(p.resolution !== undefined ? { resolution: p.resolution } : {}),
      }, inc.severity);
      return this.mustGet(inc.id);
    });
  }

  assign(p: ParsedParamsOf<typeof AssignIncident>, actor: string): Promise<Incident> {
    return this.serial(async () => {
      const inc = this.mustGet(p.id);
      this.refuseClosed(inc, 'assignment');
      await this.append(actor, IncidentEvent.assigned, {
        id: inc.id,
        ...(p.assignee !== undefined ? { assignee: p.assignee } : {}),
        ...(p.roles !== undefined ? { roles: p.roles } : {}),
      }, inc.severity);
      return this.mustGet(inc.id);
    });
  }

  note(p: ParsedParamsOf<typeof AddIncidentNote>, actor: string): Promise<Incident> {
    return this.serial(async () => {
      const inc = this.mustGet(p.id);
      await this.append(actor, IncidentEvent.noted, { id: inc.id, text: p.text }, inc.severity);
      return this.mustGet(inc.id);
    });
  }

  setSeverity(p: ParsedParamsOf<typeof SetIncidentSeverity>, actor: string): Promise<Incident> {
    return this.serial(async () => {
      const inc = this.mustGet(p.id);
      this.refuseClosed(inc, 'severity change');
      if (inc.severity === p.severity) return inc;
      await this.append(actor, IncidentEvent.severityChanged, {
        id: inc.id,
        from: inc.severity,
        to: p.severity,
        ...(p.reason !== undefined ? { reason: p.reason } : {}),
      }, p.severity);
      return this.mustGet(inc.id);
    });
  }

  submitReview(p: ParsedParamsOf<typeof SubmitReview>, actor: string): Promise<Review> {
    return this.serial(async () => {
      const inc = this.mustGet(p.incidentId);
      const { incidentId: _ref, ...review } = p;
      await this.append(actor, IncidentEvent.reviewSubmitted, { incidentId: inc.id, review }, inc.severity);
      return this.projection.review(inc.id)!;
    });
  }

  get(ref: string): Incident {
    return this.mustGet(ref);
  }

  review(ref: string): Review {
    const inc = this.mustGet(ref);
    const review = this.projection.review(inc.id);
    if (!review) throw new RpcError(ErrorCode.NotFound, `${inc.number} has no post-incident review yet`, { kind: 'review', id: inc.id });
    return review;
  }

  list(p: ParsedParamsOf<typeof ListIncidents>): ResultOf<typeof ListIncidents> {
    let from: ListPosition | undefined;
    if (p.cursor !== undefined) {
      const m = CURSOR.exec(p.cursor);
      if (!m) throw new RpcError(ErrorCode.InvalidParams, 'cursor: not a cursor from incidents/list', { issues: [{ path: 'cursor', message: 'not a cursor from incidents/list' }] });
      from = { group: m[1] === '0' ? 0 : 1, before: Number(m[2]) };
    }
    const page = this.projection.list({
      ...(p.statuses ? { statuses: p.statuses } : {}),
      ...(p.severities ? { severities: p.severities } : {}),
      ...(p.service !== undefined ? { service: p.service } : {}),
      limit: p.limit,
      ...(from ? { from } : {}),
    });
    return { incidents: page.incidents, ...(page.next ? { nextCursor: `${page.next.group}.${page.next.before}` } : {}) };
  }

  metrics(p: ParsedParamsOf<typeof GetIncidentMetrics>): ResultOf<typeof GetIncidentMetrics> {
    // Buckets are whole UTC days: the period widens to the days it touches.
    const fromDay = p.from !== undefined ? dayOf(Date.parse(p.from)) : undefined;
    const toDay = p.to !== undefined ? dayOf(Date.parse(p.to) - 1) + 1 : undefined;
    return {
      ...(fromDay !== undefined ? { from: new Date(dayStart(fromDay)).toISOString() } : {}),
      ...(toDay !== undefined ? { to: new Date(dayStart(toDay)).toISOString() } : {}),
      mtta: this.projection.mtta.stats(fromDay, toDay),
      mttr: this.projection.mttr.stats(fromDay, toDay),
      openBySeverity: this.projection.openBySeverity(),
    };
  }

  private mustGet(ref: string): Incident {
    const inc = this.projection.get(ref);
    if (!inc) throw new RpcError(ErrorCode.NotFound, `no incident ${ref}`, { kind: 'incident', id: ref });
    return inc;
  }

  private refuseClosed(inc: Incident, what: string): void {
    if (inc.status === 'closed') {
      throw new RpcError(ErrorCode.FailedPrecondition, `${inc.number} is closed: a closed incident cannot be changed (${what})`, {
        id: inc.id,
        status: inc.status,
      });
    }
  }

  private async append(actor: string, type: string, payload: unknown, severity: Severity): Promise<void> {
    const event: NewEvent = { type, actor, payload, source: 'incidents', priority: PRIORITY[severity] };
    await this.store.append([event]);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
