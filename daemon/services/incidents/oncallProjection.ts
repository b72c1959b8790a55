import * as z from 'zod';
import {
  EscalationPolicy,
  Handle,
  OncallRole,
  Override,
  Person,
  RotationLayer,
  type Schedule,
} from '../../protocol/oncall';
import { SEVERITIES, type Severity } from '../../protocol/incidents';
import { SchedulerEventType } from '../../protocol/scheduler';
import type { EventRecord, Projection } from '../../store/types';

/** Event types of on-call configuration (reserved to the incidents feature). */
export const OncallEvent = {
  personUpserted: 'oncall.personUpserted',
  personDeleted: 'oncall.personDeleted',
  scheduleUpserted: 'oncall.scheduleUpserted',
  scheduleDeleted: 'oncall.scheduleDeleted',
  overrideAdded: 'oncall.overrideAdded',
  overrideRemoved: 'oncall.overrideRemoved',
  policyUpserted: 'oncall.policyUpserted',
} as const;

/** Event types of escalation runs; they are incident events, so they go on the incident timeline too. */
export const EscalationEvent = {
  /** A level fired: who it resolved to. */
  escalated: 'incident.escalated',
  /** One delivery attempt (person × channel) and its outcome. */
  paged: 'incident.paged',
  /** Pending levels were cancelled (acknowledged, or moved past acknowledged). */
  escalationStopped: 'incident.escalationStopped',
} as const;

export const PersonUpsertedPayload = z.object({ person: Person });
export const PersonDeletedPayload = z.object({ handle: Handle });
export const ScheduleUpsertedPayload = z.object({ role: OncallRole, layers: z.array(RotationLayer) });
export const ScheduleDeletedPayload = z.object({ role: OncallRole });
export const OverrideAddedPayload = z.object({ role: OncallRole, override: Override });
export const OverrideRemovedPayload = z.object({ role: OncallRole, id: z.string() });
export const PolicyUpsertedPayload = z.object({ policy: EscalationPolicy.omit({ isDefault: true }) });

export const EscalatedPayload = z.object({
  incidentId: z.string(),
  level: z.number().int().positive(),
  /** `<timerId>@<due>` of the timer occurrence: a redelivered occurrence is not paged twice. */
  occurrenceId: z.string(),
  /** Per target (`role:primary`, `person:alice`), the handle it resolved to (null: nobody on call). */
  resolved: z.array(z.object({ target: z.string(), person: Handle.nullable() })),
  late: z.boolean(),
});
export type EscalatedPayload = z.infer<typeof EscalatedPayload>;

export const PagedPayload = z.object({
  incidentId: z.string(),
  /** 0 for the PagerDuty acknowledge/resolve follow-ups. */
  level: z.number().int().min(0),
  person: Handle,
  channel: z.string(),
  action: z.enum(['trigger', 'acknowledge', 'resolve']),
  outcome: z.enum(['delivered', 'failed']),
  /** Host contacted (never the path: webhook URLs carry secrets). */
  host: z.string().optional(),
  status: z.number().int().optional(),
  error: z.string().optional(),
});
export type PagedPayload = z.infer<typeof PagedPayload>;

export const EscalationStoppedPayload = z.object({ incidentId: z.string(), reason: z.string(), cancelledLevels: z.array(z.number().int()) });

const pageKey = (incidentId: string, level: number, person: string, channel: string) => `${incidentId}|${level}|${person}|${channel}`;

interface Snapshot {
  people: Person[];
  schedules: Schedule[];
  policies: z.infer<typeof PolicyUpsertedPayload>['policy'][];
  /** Occurrence ids whose level fired and whose timer has not finished, with whom it resolved to. */
  fired: [string, EscalatedPayload['resolved']][];
  /** `incidentId|level|person|channel` of every trigger attempt recorded. */
  paged: string[];
  /** Per incident: handles that got a PagerDuty trigger delivered. */
  pagerduty: [string, string[]][];
}

/** People, schedules, overrides, escalation policies, and which escalation occurrences already paged. */
export class OncallProjection implements Projection {
  readonly name = 'oncall';
  readonly people = new Map<string, Person>();
  readonly schedules = new Map<string, Schedule>();
  readonly policies = new Map<Severity, z.infer<typeof PolicyUpsertedPayload>['policy']>();
  private readonly fired = new Map<string, EscalatedPayload['resolved']>();
  private readonly paged = new Set<string>();
  private readonly pagerduty = new Map<string, Set<string>>();

  apply(event: EventRecord): void {
    switch (event.type) {
      case OncallEvent.personUpserted: {
        const p = PersonUpsertedPayload.safeParse(event.payload);
        if (p.success) this.people.set(p.data.person.handle, p.data.person);
        return;
      }
      case OncallEvent.personDeleted: {
        const p = PersonDeletedPayload.safeParse(event.payload);
        if (p.success) this.people.delete(p.data.handle);
        return;
      }
      case OncallEvent.scheduleUpserted: {
        const p = ScheduleUpsertedPayload.safeParse(event.payload);
        if (p.success) this.schedules.set(p.data.role, { role: p.data.role, layers: p.data.layers, overrides: this.schedules.get(p.data.role)?.overrides ?? [] });
        return;
      }
      case OncallEvent.scheduleDeleted: {
        const p = ScheduleDeletedPayload.safeParse(event.payload);
        if (p.success) this.schedules.delete(p.data.role);
        return;
      }
      case OncallEvent.overrideAdded: {
        const p = OverrideAddedPayload.safeParse(event.payload);
        const s = p.success ? this.schedules.get(p.data.role) : undefined;
        if (p.success && s && !s.overrides.some((o) => o.id === p.data.override.id)) s.overrides.push(p.data.override);
        return;
      }
      case OncallEvent.overrideRemoved: {
        const p = OverrideRemovedPayload.safeParse(event.payload);
        const s = p.success ? this.schedules.get(p.data.role) : undefined;
        if (p.success && s) s.overrides = s.overrides.filter((o) => o.id !== p.data.id);
        return;
      }
      case OncallEvent.policyUpserted: {
        const p = PolicyUpsertedPayload.safeParse(event.payload);
        if (p.success) this.policies.set(p.data.policy.severity, p.data.policy);
        return;
      }
      case EscalationEvent.escalated: {
        const p = EscalatedPayload.safeParse(event.payload);
        if (p.success && !this.fired.has(p.data.occurrenceId)) this.fired.set(p.data.occurrenceId, p.data.resolved);
        return;
      }
      case EscalationEvent.paged: {
        const p = PagedPayload.safeParse(event.payload);
        if (p.success && p.data.action === 'trigger') this.paged.add(pageKey(p.data.incidentId, p.data.level, p.data.person, p.data.channel));
        if (p.success && p.data.channel === 'pagerduty' && p.data.action === 'trigger' && p.data.outcome === 'delivered') {
          let set = this.pagerduty.get(p.data.incidentId);
          if (!set) this.pagerduty.set(p.data.incidentId, (set = new Set()));
          set.add(p.data.person);
        }
        return;
      }
      case SchedulerEventType.TimerDone:
      case SchedulerEventType.TimerFailed: {
        // A finished occurrence is never redelivered: forget whom it resolved to, so this map holds
        // only levels in flight instead of one entry per level ever paged.
        const p = event.payload as { timerId?: unknown; due?: unknown } | null;
        if (typeof p?.timerId === 'string' && typeof p.due === 'string') this.fired.delete(`${p.timerId}@${p.due}`);
        return;
      }
      case SchedulerEventType.TimerCancelled: {
        const p = event.payload as { timerId?: unknown } | null;
        if (typeof p?.timerId !== 'string' || this.fired.size === 0) return;
        for (const id of this.fired.keys()) if (id.startsWith(`${p.timerId}@`)) this.fired.delete(id);
        return;
      }
      default:
        return;
    }
  }

  snapshot(): Snapshot {
    return {
      people: [...this.people.values()],
      schedules: [...this.schedules.values()],
      policies: SEVERITIES.flatMap((s) => (this.policies.has(s) ? [this.policies.get(s)!] : [])),
      fired: [...this.fired],
      paged: [...this.paged],
      pagerduty: [...this.pagerduty].map(([id, set]) => [id, [...set]]),
    };
  }

  reset(): void {
    this.people.clear();
    this.schedules.clear();
    this.policies.clear();
    this.fired.clear();
    this.paged.clear();
    this.pagerduty.clear();
  }

  restore(state: unknown): void {
    const s = state as Snapshot;
    this.reset();
    for (const p of s.people) this.people.set(p.handle, p);
    for (const sc of s.schedules) this.schedules.set(sc.role, sc);
    for (const p of s.policies) this.policies.set(p.severity, p);
    for (const [id, resolved] of s.fired) this.fired.set(id, resolved);
    for (const k of s.paged) this.paged.add(k);
    for (const [id, handles] of s.pagerduty) this.pagerduty.set(id, new Set(handles));
  }

  /** How a level occurrence resolved, when it already fired (a redelivery continues with the same people). */
  firedResolution(occurrenceId: string): EscalatedPayload['resolved'] | undefined {
    return this.fired.get(occurrenceId);
  }

  /** Whether a trigger attempt of this level to this person on this channel is recorded. */
  wasPaged(incidentId: string, level: number, person: string, channel: string): boolean {
    return this.paged.has(pageKey(incidentId, level, person, channel));
  }

  /** Handles that got a PagerDuty trigger for this incident (they get its acknowledge/resolve). */
  pagerdutyPaged(incidentId: string): string[] {
    return [...(this.pagerduty.get(incidentId) ?? [])].sort();
  }
}
