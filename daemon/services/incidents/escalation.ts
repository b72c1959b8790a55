import * as z from 'zod';
import type { NotificationParamsOf } from '../../protocol';
import type { Incident, IncidentStatus } from '../../protocol/incidents';
import { Channel, EscalationTarget, MAX_ESCALATION_LEVELS, type DidEscalateIncident } from '../../protocol/oncall';
import type { Scheduler, TimerFiring } from '../scheduler/scheduler';
import type { Clock } from '../shared/clock';
import type { EventStore, NewEvent } from '../../store/types';
import type { DeliveryResult, PageAction, PageMessage, PageSender } from './channels';
import type { IncidentProjection } from './incidentProjection';
import { EscalationEvent, type EscalatedPayload, type OncallProjection, type PagedPayload } from './oncallProjection';
import type { OncallService } from './oncallService';

/** Timer kinds on the durable scheduler. */
export const ESCALATION_TIMER = 'incidents.escalate';
export const FOLLOWUP_TIMER = 'incidents.pagerdutyFollowup';

const LevelTimerPayload = z.object({
  incidentId: z.string(),
  level: z.number().int().positive(),
  targets: z.array(EscalationTarget),
  channels: z.array(Channel),
});
const FollowupTimerPayload = z.object({ incidentId: z.string(), action: z.enum(['acknowledge', 'resolve']) });

/** Incident roles a policy may target by their on-call role name: the incident's own holder is paged first. */
const INCIDENT_ROLE: Record<string, keyof Incident['roles']> = {
  incident_commander: 'incidentCommander',
  communications_lead: 'communicationsLead',
  technical_lead: 'technicalLead',
};

const SYSTEM_ACTOR = 'system';

export interface EscalationDeps {
  store: EventStore;
  clock: Clock;
  scheduler: Scheduler;
  incidents: IncidentProjection;
  oncall: OncallService;
  projection: OncallProjection;
  channels: PageSender;
  /** Tell clients a level was paged. */
  notify?: (params: NotificationParamsOf<typeof DidEscalateIncident>) => void;
}

/** Timer key of one escalation level of one incident. */
export const levelKey = (incidentId: string, level: number) => `escalate:${incidentId}:${level}`;

/**
 * Runs escalation policies on the durable scheduler. Creating an incident records one timer per
 * level of its severity's policy (level 1 due at once, level n at detection + its delay); a level
 * that fires while the incident is still `detected` resolves its targets to whoever is on call at
 * that moment and pages them on each of their contact methods for the level's channels. Leaving
 * `detected` (acknowledging, or moving past it) cancels the pending levels. Every level and every
 * delivery is an incident event, so it is on the timeline and in the log.
 */
export class EscalationEngine {
  constructor(private readonly deps: EscalationDeps) {}

  /** Register the timer handlers (in the feature's `register`, before the scheduler starts). */
  register(): void {
    this.deps.scheduler.register(ESCALATION_TIMER, (f) => this.fireLevel(f));
    this.deps.scheduler.register(FOLLOWUP_TIMER, (f) => this.fireFollowup(f));
  }

  /** After `incidents/create`: one durable timer per level, with the levels the policy had at that moment. */
  async afterCreate(incident: Incident, actor: string): Promise<void> {
    const policy = this.deps.oncall.policy(incident.severity);
    const detected = Date.parse(incident.detectedAt);
    for (const [i, level] of policy.levels.entries()) {
      await this.deps.scheduler.schedule({
        kind: ESCALATION_TIMER,
        key: levelKey(incident.id, i + 1),
        due: detected + level.delayMinutes * 60_000,
        payload: { incidentId: incident.id, level: i + 1, targets: level.targets, channels: level.channels },
        actor,
      });
    }
  }

  /** After a transition: stop pending levels when leaving `detected`; tell PagerDuty about acknowledge and resolve. */
  async afterTransition(incidentId: string, from: IncidentStatus, to: IncidentStatus, actor: string): Promise<void> {
    if (from === 'detected') await this.stopLevels(incidentId, `moved to ${to}`, actor);
    const action = to === 'resolved' ? 'resolve' : from === 'detected' ? 'acknowledge' : undefined;
    if (action && this.deps.projection.pagerdutyPaged(incidentId).length > 0) {
      await this.deps.scheduler.schedule({
        kind: FOLLOWUP_TIMER,
        key: `pagerduty:${incidentId}:${action}`,
        due: this.deps.clock.now(),
        payload: { incidentId, action },
        actor,
      });
    }
  }

  /**
   * Team mode: a teammate's change to an incident this daemon escalates was applied. Once it is past
   * `detected` (acknowledged elsewhere), this daemon's pending levels go; the teammate that moved it
   * sends the PagerDuty follow-up, so nobody is told twice.
   */
  async afterTeammateTransition(incidentId: string, teammate: string): Promise<void> {
    const incident = this.deps.incidents.get(incidentId);
    if (incident && incident.status !== 'detected') await this.stopLevels(incidentId, `moved to ${incident.status} on ${teammate}`, 'team');
  }

  private async stopLevels(incidentId: string, reason: string, actor: string): Promise<void> {
    const cancelled: number[] = [];
    // By key, level by level: listing every pending timer would cost as much as there are open incidents.
    for (let level = 1; level <= MAX_ESCALATION_LEVELS; level++) {
      if (await this.deps.scheduler.cancel(levelKey(incidentId, level), actor)) cancelled.push(level);
    }
    if (cancelled.length > 0) {
      await this.append([{ type: EscalationEvent.escalationStopped, actor, payload: { incidentId, reason, cancelledLevels: cancelled } }]);
    }
  }

  private async fireLevel(f: TimerFiring): Promise<void> {
    const p = LevelTimerPayload.parse(f.payload);
    const incident = this.deps.incidents.get(p.incidentId);
    // Acknowledged (or further) before this level came due: the cancel may still be on its way.
    if (!incident || incident.status !== 'detected') return;
    // Team mode: a teammate's daemon owns the escalation now (it acknowledged the incident last).
    if (incident.escalationOwner !== undefined) return;
    // A redelivery (crash mid-page) continues with the people the level resolved to, skipping attempts already recorded.
    let resolved = this.deps.projection.firedResolution(f.occurrenceId);
    if (!resolved) {
      resolved = this.resolveTargets(incident, p.targets);
      const escalated: EscalatedPayload = { incidentId: incident.id, level: p.level, occurrenceId: f.occurrenceId, resolved, late: f.late };
      await this.append([{ type: EscalationEvent.escalated, actor: SYSTEM_ACTOR, payload: escalated }]);
    }
    const people = [...new Set(resolved.flatMap((r) => (r.person === null ? [] : [r.person])))];
    const msg = this.message(incident, p.level, 'trigger');
    const results = await Promise.all(people.map((handle) => this.page(incident.id, handle, p.level, p.channels, msg)));
    const flat = results.flat();
    this.deps.notify?.({
      incidentId: incident.id,
      number: incident.number,
      level: p.level,
      people,
      delivered: flat.filter((r) => r.outcome === 'delivered').length,
      failed: flat.filter((r) => r.outcome === 'failed').length,
    });
  }

  private resolveTargets(incident: Incident, targets: readonly EscalationTarget[]): EscalatedPayload['resolved'] {
    const now = this.deps.clock.now();
    return targets.map((t) => {
      if ('person' in t) return { target: `person:${t.person}`, person: t.person };
      const incidentRole = INCIDENT_ROLE[t.role];
      const holder = incidentRole ? incident.roles[incidentRole] : undefined;
      const person = holder !== undefined && this.deps.projection.people.has(holder) ? holder : (this.deps.oncall.personOnCall(t.role, now) ?? null);
      return { target: `role:${t.role}`, person };
    });
  }

  private async fireFollowup(f: TimerFiring): Promise<void> {
    const p = FollowupTimerPayload.parse(f.payload);
    const incident = this.deps.incidents.get(p.incidentId);
    if (!incident) return;
    const msg = this.message(incident, 0, p.action);
    await Promise.all(this.deps.projection.pagerdutyPaged(incident.id).map((handle) => this.page(incident.id, handle, 0, ['pagerduty'], msg)));
  }

  /** Page one person on each contact method of the given channels; every attempt becomes an `incident.paged` event. */
  private async page(incidentId: string, handle: string, level: number, channels: readonly Channel[], msg: PageMessage): Promise<PagedPayload[]> {
    const person = this.deps.projection.people.get(handle);
    const contacts = person ? person.contacts.filter((c) => channels.includes(c.channel)) : [];
    const pending = (channel: string) => msg.action !== 'trigger' || !this.deps.projection.wasPaged(incidentId, level, handle, channel);
    let outcomes: { channel: string; result: DeliveryResult }[];
    if (!person) outcomes = [{ channel: 'none', result: { outcome: 'failed', error: `no person ${handle}` } }];
    else if (contacts.length === 0) outcomes = [{ channel: 'none', result: { outcome: 'failed', error: `${handle} has no contact method for ${channels.join(', ')}` } }];
    else outcomes = await Promise.all(contacts.filter((c) => pending(c.channel)).map(async (c) => ({ channel: c.channel, result: await this.deps.channels.send(c, person, msg) })));
    outcomes = outcomes.filter((o) => o.channel !== 'none' || pending('none'));
    const payloads: PagedPayload[] = outcomes.map(({ channel, result }) => ({ incidentId, level, person: handle, channel, action: msg.action, ...result }));
    if (payloads.length > 0) await this.append(payloads.map((payload) => ({ type: EscalationEvent.paged, actor: SYSTEM_ACTOR, payload })));
    return payloads;
  }

  private message(incident: Incident, level: number, action: PageAction): PageMessage {
    return {
      incident: {
        id: incident.id,
        number: incident.number,
        title: incident.title,
        severity: incident.severity,
        status: incident.status,
        services: incident.services,
        detectedAt: incident.detectedAt,
      },
      level,
      action,
      sentAt: new Date(this.deps.clock.now()).toISOString(),
    };
  }

  private async append(events: NewEvent[]): Promise<void> {
    await this.deps.store.append(events.map((e) => ({ ...e, source: 'incidents' })));
  }
}
