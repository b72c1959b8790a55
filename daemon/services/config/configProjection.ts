import * as z from 'zod';
import { ConfigEnvironmentName, ConfigKey } from '../../protocol/config';
import type { EventRecord, Projection } from '../../store/types';

/** Event types of the configuration domain; only this feature appends them (`config.**` is reserved). */
export const ConfigEvent = {
  EnvironmentCreated: 'config.environmentCreated',
  EntrySet: 'config.entrySet',
  EntryDeleted: 'config.entryDeleted',
  DefaultsSeeded: 'config.defaultsSeeded',
} as const;

export const EnvironmentCreatedPayload = z.object({ name: ConfigEnvironmentName, description: z.string().optional() });

/**
 * The whole new version, so replay needs no logic beyond "append it". A sensitive version carries no
 * value: that lives in the sensitive value store (see sensitiveValues.ts), keyed by the version.
 */
export const EntrySetPayload = z
  .object({
    environment: ConfigEnvironmentName,
    key: ConfigKey,
    version: z.number().int().positive(),
    value: z.json().optional(),
    sensitive: z.boolean(),
    description: z.string().optional(),
    rolledBackFrom: z.number().int().positive().optional(),
    promotedFrom: z.object({ environment: z.string(), version: z.number().int().positive() }).optional(),
  })
  .refine((p) => p.sensitive === (p.value === undefined), { message: 'a value in the event exactly when the entry is not sensitive' });
export type EntrySetPayload = z.infer<typeof EntrySetPayload>;

export const EntryDeletedPayload = z.object({
  environment: ConfigEnvironmentName,
  key: ConfigKey,
  version: z.number().int().positive(),
  /** The flag of the deleted entry, so a didChange for it says whether it was sensitive. */
  sensitive: z.boolean(),
  promotedFrom: z.object({ environment: z.string(), version: z.number().int().positive() }).optional(),
});
export type EntryDeletedPayload = z.infer<typeof EntryDeletedPayload>;

/** One stored version of a key: a value or a tombstone, with who, when and where in the log. */
export interface StoredVersion {
  version: number;
  op: 'set' | 'delete';
  /** Absent for a tombstone, and for a sensitive version (its value is in the sensitive value store). */
  value?: unknown;
  sensitive: boolean;
  description?: string;
  /** ISO time of the event. */
  at: string;
  by: string;
  seq: number;
  rolledBackFrom?: number;
  promotedFrom?: { environment: string; version: number };
}

export interface StoredEnvironment {
  name: string;
  description?: string;
  createdAt: string;
  createdBy: string;
  createdSeq: number;
  updatedAt: string;
  /** Key → versions in ascending order. */
  keys: Record<string, StoredVersion[]>;
}

interface Snapshot {
  seeded: boolean;
  environments: StoredEnvironment[];
}

/** Environments and every version of every key, from `config.*` events. */
export class ConfigProjection implements Projection {
  readonly name = 'config';
  private seededFlag = false;
  private readonly envs = new Map<string, StoredEnvironment>();

  apply(event: EventRecord): void {
    switch (event.type) {
      case ConfigEvent.DefaultsSeeded:
        this.seededFlag = true;
        return;
      case ConfigEvent.EnvironmentCreated: {
        const p = EnvironmentCreatedPayload.safeParse(event.payload);
        if (!p.success || this.envs.has(p.data.name)) return;
        this.envs.set(p.data.name, {
          name: p.data.name,
          ...(p.data.description !== undefined ? { description: p.data.description } : {}),
          createdAt: event.time,
          createdBy: event.actor,
          createdSeq: event.seq,
          updatedAt: event.time,
          keys: {},
        });
        return;
      }
      case ConfigEvent.EntrySet: {
        const p = EntrySetPayload.safeParse(event.payload);
        if (!p.success) return;
        const { environment, key, ...rest } = p.data;
        this.push(environment, key, event, { ...rest, op: 'set' });
        return;
      }
      case ConfigEvent.EntryDeleted: {
        const p = EntryDeletedPayload.safeParse(event.payload);
        if (!p.success) return;
        const { environment, key, ...rest } = p.data;
        this.push(environment, key, event, { ...rest, op: 'delete' });
        return;
      }
      default:
    }
  }

  get seeded(): boolean {
    return this.seededFlag;
  }

  environment(name: string): StoredEnvironment | undefined {
    return this.envs.get(name);
  }

  environments(): StoredEnvironment[] {
    return [...this.envs.values()].sort((a, b) => a.createdSeq - b.createdSeq || a.name.localeCompare(b.name));
  }

  versions(environment: string, key: string): readonly StoredVersion[] {
    return this.envs.get(environment)?.keys[key] ?? [];
  }

  /** The newest version of a key, tombstones included. */
  latest(environment: string, key: string): StoredVersion | undefined {
    return this.versions(environment, key).at(-1);
  }

  /** Live entries of an environment as of `seq` (inclusive; default the latest), by key. */
  stateAt(environment: string, seq = Number.MAX_SAFE_INTEGER): Map<string, StoredVersion> {
    const out = new Map<string, StoredVersion>();
    const env = this.envs.get(environment);
    if (!env) return out;
    for (const [key, versions] of Object.entries(env.keys)) {
      let found: StoredVersion | undefined;
      for (const v of versions) {
        if (v.seq > seq) break;
        found = v;
      }
      if (found?.op === 'set') out.set(key, found);
    }
    return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  snapshot(): Snapshot {
    return { seeded: this.seededFlag, environments: this.environments() };
  }

  restore(state: unknown): void {
    this.reset();
    const s = state as Partial<Snapshot> | null;
    if (!s || typeof s !== 'object') return;
    this.seededFlag = s.seeded === true;
    for (const env of s.environments ?? []) this.envs.set(env.name, env);
  }

  reset(): void {
    this.seededFlag = false;
    this.envs.clear();
  }

  private push(environment: string, key: string, event: EventRecord, version: Omit<StoredVersion, 'at' | 'by' | 'seq'>): void {
    const env = this.envs.get(environment);
    if (!env) return;
    const versions = (env.keys[key] ??= []);
    // Versions are decided under the service's lock; a stale one (never written by it) is ignored.
    if (version.version <= (versions.at(-1)?.version ?? 0)) return;
    const stored: StoredVersion = { ...version, at: event.time, by: event.actor, seq: event.seq };
    if (stored.description === undefined) delete stored.description;
    if (stored.value === undefined) delete stored.value;
    versions.push(stored);
    env.updatedAt = event.time;
  }
}
