import {
  AlertFiredPayload,
  AlertResolvedPayload,
  SamplesAggregatedPayload,
  SloCreatedPayload,
  SloDeletedPayload,
  SloEventType,
  SloUpdatedPayload,
  type SloAlert,
  type SloDefinition,
} from '../../protocol/slo';
import type { EventRecord, Projection } from '../../store/types';
import { MinuteCounters } from './minuteCounters';
import { minuteOf } from './sloMath';

/** Counters hold the window plus this many days, so late samples and series just past the window still land. */
export const RETAINED_EXTRA_DAYS = 3;
/** Resolved alerts kept for `slo/alerts`. */
const MAX_RESOLVED = 200;

const capacityOf = (windowDays: number): number => (windowDays + RETAINED_EXTRA_DAYS) * 1440;

interface Snapshot {
  seeded: boolean;
  slos: SloDefinition[];
  /** sloId → [minute, good, total][]. */
  counters: Record<string, [number, number, number][]>;
  active: SloAlert[];
  resolved: SloAlert[];
}

/** SLO definitions, their per-minute counters and their alerts, from the `slo.*` events. */
export class SloProjection implements Projection {
  readonly name = 'slo';
  private readonly slos = new Map<string, SloDefinition>();
  private readonly aliases = new Map<string, string>();
  private readonly counters = new Map<string, MinuteCounters>();
  private readonly active = new Map<string, SloAlert>();
  private resolved: SloAlert[] = [];
  private seeded = false;

  apply(event: EventRecord): void {
    switch (event.type) {
      case SloEventType.Created: {
        const p = SloCreatedPayload.safeParse(event.payload);
        if (!p.success) return;
        if (p.data.seeded) this.seeded = true;
        this.put(p.data.slo, true);
        return;
      }
      case SloEventType.Updated: {
        const p = SloUpdatedPayload.safeParse(event.payload);
        if (p.success && this.slos.has(p.data.slo.id)) this.put(p.data.slo, p.data.resetCounters);
        return;
      }
      case SloEventType.Deleted: {
        const p = SloDeletedPayload.safeParse(event.payload);
        if (p.success) this.remove(p.data.id);
        return;
      }
      case SloEventType.SamplesAggregated: {
        const p = SamplesAggregatedPayload.safeParse(event.payload);
        if (p.success) this.counters.get(p.data.sloId)?.add(minuteOf(Date.parse(p.data.minute)), p.data.good, p.data.total);
        return;
      }
      case SloEventType.AlertFired: {
        const p = AlertFiredPayload.safeParse(event.payload);
        if (p.success && this.slos.has(p.data.sloId)) this.active.set(p.data.alertId, p.data);
        return;
      }
      case SloEventType.AlertResolved: {
        const p = AlertResolvedPayload.safeParse(event.payload);
        const alert = p.success ? this.active.get(p.data.alertId) : undefined;
        if (!p.success || !alert) return;
        this.active.delete(p.data.alertId);
        this.resolved.unshift({ ...alert, resolvedAt: p.data.resolvedAt });
        if (this.resolved.length > MAX_RESOLVED) this.resolved.length = MAX_RESOLVED;
        return;
      }
    }
  }

  /** True once the default SLOs were seeded (even if they were deleted since). */
  get hasSeeded(): boolean {
    return this.seeded;
  }

  get size(): number {
    return this.slos.size;
  }

  /** By id or alias. */
  resolve(idOrAlias: string): SloDefinition | undefined {
    return this.slos.get(idOrAlias) ?? this.slos.get(this.aliases.get(idOrAlias) ?? '');
  }

  /** True when the name is taken as an id or alias. */
  isTaken(name: string): boolean {
    return this.slos.has(name) || this.aliases.has(name);
  }

  all(): SloDefinition[] {
    return [...this.slos.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  countersOf(id: string): MinuteCounters | undefined {
    return this.counters.get(id);
  }

  activeAlert(alertId: string): SloAlert | undefined {
    return this.active.get(alertId);
  }

  activeAlerts(sloId?: string): SloAlert[] {
    return [...this.active.values()].filter((a) => sloId === undefined || a.sloId === sloId).sort((a, b) => b.firedAt.localeCompare(a.firedAt));
  }

  resolvedAlerts(sloId?: string): SloAlert[] {
    return this.resolved.filter((a) => sloId === undefined || a.sloId === sloId);
  }

  snapshot(): Snapshot {
    const counters: Snapshot['counters'] = {};
    for (const [id, c] of this.counters) counters[id] = c.entries().map((e) => [e.minute, e.good, e.total]);
    return { seeded: this.seeded, slos: this.all(), counters, active: [...this.active.values()], resolved: this.resolved };
  }

  restore(state: unknown): void {
    this.reset();
    const s = state as Partial<Snapshot> | null;
    if (!s || typeof s !== 'object') return;
    this.seeded = s.seeded === true;
    for (const slo of s.slos ?? []) this.put(slo, true);
    for (const [id, rows] of Object.entries(s.counters ?? {})) {
      const c = this.counters.get(id);
      if (c) for (const [minute, good, total] of rows) c.add(minute, good, total);
    }
    for (const a of s.active ?? []) this.active.set(a.alertId, a);
    this.resolved = [...(s.resolved ?? [])];
  }

  reset(): void {
    this.slos.clear();
    this.aliases.clear();
    this.counters.clear();
    this.active.clear();
    this.resolved = [];
    this.seeded = false;
  }

  private put(slo: SloDefinition, resetCounters: boolean): void {
    const previous = this.slos.get(slo.id);
    for (const alias of previous?.aliases ?? []) this.aliases.delete(alias);
    this.slos.set(slo.id, slo);
    for (const alias of slo.aliases) this.aliases.set(alias, slo.id);
    const old = this.counters.get(slo.id);
    if (resetCounters || !old) {
      this.counters.set(slo.id, new MinuteCounters(capacityOf(slo.windowDays)));
    } else if (old.capacity !== capacityOf(slo.windowDays)) {
      const resized = new MinuteCounters(capacityOf(slo.windowDays));
      for (const e of old.entries()) resized.add(e.minute, e.good, e.total);
      this.counters.set(slo.id, resized);
    }
  }

  private remove(id: string): void {
    const slo = this.slos.get(id);
    if (!slo) return;
    for (const alias of slo.aliases) this.aliases.delete(alias);
    this.slos.delete(id);
    this.counters.delete(id);
    for (const [alertId, a] of this.active) if (a.sloId === id) this.active.delete(alertId);
    this.resolved = this.resolved.filter((a) => a.sloId !== id);
  }
}
