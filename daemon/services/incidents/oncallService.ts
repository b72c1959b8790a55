import { randomUUID } from 'node:crypto';
import { ErrorCode, RpcError, type ParsedParamsOf, type ResultOf } from '../../protocol';
import { SEVERITIES, type Severity } from '../../protocol/incidents';
import type {
  AddOverride,
  EscalationLevel,
  EscalationPolicy,
  GetOncallSchedule,
  Override,
  Person,
  RemoveOverride,
  Schedule,
  UpsertEscalationPolicy,
  UpsertSchedule,
  WhoIsOnCall,
} from '../../protocol/oncall';
import type { Clock } from '../shared/clock';
import type { EventStore } from '../../store/types';
import { OncallEvent, type OncallProjection } from './oncallProjection';
import { finalSchedule, onCallAt } from './oncallRotation';

const DAY_MS = 86_400_000;
const SEV1_CHANNELS = ['pagerduty', 'sms', 'phone_call', 'slack'] as const;

/**
 * Escalation policies in force until the user replaces one. SEV1 and SEV2 are the seed's; the seed's
 * "Level 1 (5 min)" is read as level 1's time to acknowledge, so level 2 pages 5 min after creation
 * and level 3 (whose seed figure 15 min is the time since creation) at 15 min.
 */
export const DEFAULT_ESCALATION_POLICIES: Readonly<Record<Severity, readonly EscalationLevel[]>> = {
  SEV1: [
    { delayMinutes: 0, targets: [{ role: 'primary' }], channels: [...SEV1_CHANNELS] },
    { delayMinutes: 5, targets: [{ role: 'secondary' }, { role: 'incident_commander' }], channels: [...SEV1_CHANNELS] },
    { delayMinutes: 15, targets: [{ role: 'escalation' }, { role: 'technical_lead' }], channels: [...SEV1_CHANNELS] },
  ],
  SEV2: [
    { delayMinutes: 0, targets: [{ role: 'primary' }], channels: ['pagerduty', 'slack'] },
    { delayMinutes: 10, targets: [{ role: 'secondary' }], channels: ['pagerduty', 'slack'] },
  ],
  SEV3: [
    { delayMinutes: 0, targets: [{ role: 'primary' }], channels: ['slack'] },
    { delayMinutes: 30, targets: [{ role: 'secondary' }], channels: ['slack'] },
  ],
  SEV4: [
    { delayMinutes: 0, targets: [{ role: 'primary' }], channels: ['email', 'webhook'] },
    { delayMinutes: 240, targets: [{ role: 'secondary' }], channels: ['email', 'webhook'] },
  ],
};

function invalid(path: string, message: string): RpcError {
  return new RpcError(ErrorCode.InvalidParams, `${path}: ${message}`, { issues: [{ path, message }] });
}

/** People, schedules, overrides and escalation policies: commands append `oncall.*` events, queries read the projection. */
export class OncallService {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: EventStore,
    private readonly projection: OncallProjection,
    private readonly clock: Clock,
  ) {}

  listPeople(): Person[] {
    return [...this.projection.people.values()].sort((a, b) => a.handle.localeCompare(b.handle));
  }

  upsertPerson(person: Person, actor: string): Promise<Person> {
    return this.serial(async () => {
      await this.append(actor, OncallEvent.personUpserted, { person });
      return this.projection.people.get(person.handle)!;
    });
  }

  deletePerson(handle: string, actor: string): Promise<{ ok: true }> {
    return this.serial(async () => {
      if (!this.projection.people.has(handle)) throw new RpcError(ErrorCode.NotFound, `no person ${handle}`, { kind: 'person', id: handle });
      const usedBy = this.usesOf(handle);
      if (usedBy.length > 0) {
        throw new RpcError(ErrorCode.FailedPrecondition, `${handle} is still used by ${usedBy.join(', ')}; remove them there first`, { handle, usedBy });
      }
      await this.append(actor, OncallEvent.personDeleted, { handle });
      return { ok: true as const };
    });
  }

  listSchedules(): Schedule[] {
    return [...this.projection.schedules.values()].sort((a, b) => a.role.localeCompare(b.role));
  }

  upsertSchedule(p: ParsedParamsOf<typeof UpsertSchedule>, actor: string): Promise<Schedule> {
    return this.serial(async () => {
      const names = new Set<string>();
      p.layers.forEach((layer, i) => {
        if (names.has(layer.name)) throw invalid(`layers.${i}.name`, `two layers are named "${layer.name}"`);
        names.add(layer.name);
        layer.members.forEach((m, j) => this.mustBePerson(m, `layers.${i}.members.${j}`));
      });
      await this.append(actor, OncallEvent.scheduleUpserted, { role: p.role, layers: p.layers });
      return this.projection.schedules.get(p.role)!;
    });
  }

  deleteSchedule(role: string, actor: string): Promise<{ ok: true }> {
    return this.serial(async () => {
      this.mustGetSchedule(role);
      await this.append(actor, OncallEvent.scheduleDeleted, { role });
      return { ok: true as const };
    });
  }

  addOverride(p: ParsedParamsOf<typeof AddOverride>, actor: string): Promise<Override> {
    return this.serial(async () => {
      const schedule = this.mustGetSchedule(p.role);
      this.mustBePerson(p.person, 'person');
      const from = Date.parse(p.from);
      const to = Date.parse(p.to);
      const clash = schedule.overrides.find((o) => Date.parse(o.from) < to && from < Date.parse(o.to));
      if (clash) {
        throw new RpcError(ErrorCode.Conflict, `overlaps override ${clash.id} (${clash.person}, ${clash.from} to ${clash.to}); remove it first`, {
          role: p.role,
          conflictsWith: clash.id,
        });
      }
      const override: Override = { id: `ovr_${randomUUID()}`, person: p.person, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
      await this.append(actor, OncallEvent.overrideAdded, { role: p.role, override });
      return override;
    });
  }

  removeOverride(p: ParsedParamsOf<typeof RemoveOverride>, actor: string): Promise<{ ok: true }> {
    return this.serial(async () => {
      const schedule = this.mustGetSchedule(p.role);
      if (!schedule.overrides.some((o) => o.id === p.id)) throw new RpcError(ErrorCode.NotFound, `no override ${p.id} on ${p.role}`, { kind: 'override', id: p.id });
      await this.append(actor, OncallEvent.overrideRemoved, { role: p.role, id: p.id });
      return { ok: true as const };
    });
  }

  whoIsOnCall(p: ParsedParamsOf<typeof WhoIsOnCall>): ResultOf<typeof WhoIsOnCall> {
    const at = p.at !== undefined ? Date.parse(p.at) : this.clock.now();
    const roles = p.role !== undefined ? [this.mustGetSchedule(p.role)] : this.listSchedules();
    return {
      at: new Date(at).toISOString(),
      oncall: roles.map((s) => {
        const seg = onCallAt(s, at);
        return { role: s.role, person: seg.person, from: new Date(seg.from).toISOString(), to: new Date(seg.to).toISOString() };
      }),
    };
  }

  /** Whoever is on call for `role` at `at`; undefined when the role has no schedule or nobody covers it. */
  personOnCall(role: string, at: number): string | undefined {
    const s = this.projection.schedules.get(role);
    return s ? (onCallAt(s, at).person ?? undefined) : undefined;
  }

  schedule(p: ParsedParamsOf<typeof GetOncallSchedule>): ResultOf<typeof GetOncallSchedule> {
    const s = this.mustGetSchedule(p.role);
    const from = p.from !== undefined ? Date.parse(p.from) : this.clock.now();
    const to = from + p.days * DAY_MS;
    const segments = finalSchedule(s, from, to).map((seg) => ({ from: new Date(seg.from).toISOString(), to: new Date(seg.to).toISOString(), person: seg.person }));
    return {
      role: s.role,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      segments,
      gaps: segments.filter((seg) => seg.person === null).map(({ from: f, to: t }) => ({ from: f, to: t })),
    };
  }

  policy(severity: Severity): EscalationPolicy {
    const stored = this.projection.policies.get(severity);
    return stored ? structuredClone(stored) : { severity, levels: structuredClone([...DEFAULT_ESCALATION_POLICIES[severity]]), isDefault: true };
  }

  listPolicies(): EscalationPolicy[] {
    return SEVERITIES.map((s) => this.policy(s));
  }

  upsertPolicy(p: ParsedParamsOf<typeof UpsertEscalationPolicy>, actor: string): Promise<EscalationPolicy> {
    return this.serial(async () => {
      p.levels.forEach((level, i) =>
        level.targets.forEach((t, j) => {
          if ('person' in t) this.mustBePerson(t.person, `levels.${i}.targets.${j}.person`);
        }),
      );
      await this.append(actor, OncallEvent.policyUpserted, { policy: { severity: p.severity, levels: p.levels } });
      return this.policy(p.severity);
    });
  }

  private usesOf(handle: string): string[] {
    const uses: string[] = [];
    for (const s of this.projection.schedules.values()) {
      if (s.layers.some((l) => l.members.includes(handle))) uses.push(`schedule ${s.role}`);
      if (s.overrides.some((o) => o.person === handle)) uses.push(`an override on ${s.role}`);
    }
    for (const p of this.projection.policies.values()) {
      if (p.levels.some((l) => l.targets.some((t) => 'person' in t && t.person === handle))) uses.push(`the ${p.severity} escalation policy`);
    }
    return uses;
  }

  private mustBePerson(handle: string, path: string): void {
    if (!this.projection.people.has(handle)) {
      throw new RpcError(ErrorCode.NotFound, `${path}: no person ${handle} (add them with oncall/upsertPerson)`, {
        kind: 'person',
        id: handle,
        issues: [{ path, message: `no person ${handle}` }],
      });
    }
  }

  private mustGetSchedule(role: string): Schedule {
    const s = this.projection.schedules.get(role);
    if (!s) throw new RpcError(ErrorCode.NotFound, `no on-call schedule for role ${role}`, { kind: 'schedule', id: role });
    return s;
  }

  private async append(actor: string, type: string, payload: unknown): Promise<void> {
    await this.store.append([{ type, actor, payload, source: 'oncall' }]);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
