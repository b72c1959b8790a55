import {
  ConfigKey,
  ErrorCode,
  MAX_CONFIG_VALUE_BYTES,
  RpcError,
  utf8Length,
  type ConfigDiff,
  type ConfigEntry,
  type ConfigEnvironment,
  type ConfigHistory,
  type CreateConfigEnvironment,
  type DeleteConfig,
  type DiffConfig,
  type ExportDotenv,
  type GetConfig,
  type ImportDotenv,
  type ListConfig,
  type ParsedParamsOf,
  type PromoteConfig,
  type ResultOf,
  type RollbackConfig,
  type Scope,
  type SetConfig,
} from '../../protocol';
import type { EventStore, NewEvent } from '../../store/types';
import { changedFields, diffStates, entryView, sameValue, versionView } from './configDiff';
import { ConfigEvent, type ConfigProjection, type EntryDeletedPayload, type EntrySetPayload, type StoredEnvironment, type StoredVersion } from './configProjection';
import { dotenvString, parseDotenv, quoteDotenvValue } from './dotenvFormat';
import type { SensitiveRef, SensitiveValueStore } from './sensitiveValues';
import { SEED_ENVIRONMENTS } from './seed';

/** Who is calling, for the calls whose answer depends on the token's scope. */
export interface ConfigCaller {
  actor: string;
  scope: Scope;
}

const invalid = (field: string, message: string) =>
  new RpcError(ErrorCode.InvalidParams, `${field}: ${message}`, { issues: [{ path: field, message }] });

const needsAdmin = (field: string, what: string, caller: ConfigCaller) =>
  new RpcError(ErrorCode.Forbidden, `${field}: ${what} needs a token with scope "admin"; token "${caller.actor}" has "${caller.scope}"`, {
    field,
    required: 'admin',
    scope: caller.scope,
  });

interface SideWrite {
  ref: SensitiveRef;
  value: unknown;
}

const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Configuration per environment: every change is a version (per key and environment, never reused),
 * kept forever in the event log; rollback and promotion append new versions. Commands run one at a
 * time so a version number and a check-and-set decision cannot race. Times and actors come from the
 * events (the store stamps them with its clock). Sensitive values are written to the sensitive value
 * store before the events that refer to them, and never into an event.
 */
export class ConfigService {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: EventStore,
    private readonly projection: ConfigProjection,
    private readonly sensitiveValues: SensitiveValueStore,
  ) {}

  /** Append the seed's environments and entries once, on the first start. */
  seedDefaults(): Promise<void> {
    return this.exclusive(async () => {
      if (this.projection.seeded) return;
      const events: NewEvent[] = [];
      for (const env of SEED_ENVIRONMENTS) {
        if (!this.projection.environment(env.name)) {
          events.push({ type: ConfigEvent.EnvironmentCreated, actor: 'daemon', payload: { name: env.name, description: env.description } });
        }
        for (const [key, value] of Object.entries(env.entries)) {
          if (this.projection.latest(env.name, key)) continue;
          const payload: EntrySetPayload = { environment: env.name, key, version: 1, value, sensitive: false };
          events.push({ type: ConfigEvent.EntrySet, actor: 'daemon', payload });
        }
      }
      events.push({ type: ConfigEvent.DefaultsSeeded, actor: 'daemon', payload: {} });
      await this.store.append(events);
    });
  }

  listEnvironments(includeEntries: boolean): ConfigEnvironment[] {
    return this.projection.environments().map((env) => this.environmentView(env, includeEntries));
  }

  createEnvironment(p: ParsedParamsOf<typeof CreateConfigEnvironment>, actor: string): Promise<ConfigEnvironment> {
    return this.exclusive(async () => {
      if (this.projection.environment(p.name)) {
        throw new RpcError(ErrorCode.Duplicate, `name: environment "${p.name}" already exists.`, { kind: 'environment', id: p.name, field: 'name' });
      }
      await this.store.append([{ type: ConfigEvent.EnvironmentCreated, actor, payload: { name: p.name, description: p.description } }]);
      return this.environmentView(this.requireEnv(p.name), false);
    });
  }

  set(p: ParsedParamsOf<typeof SetConfig>, actor: string): Promise<ResultOf<typeof SetConfig>> {
    return this.exclusive(async () => {
      this.requireEnv(p.environment);
      const latest = this.latest(p.environment, p.key);
      const live = latest?.op === 'set' ? latest : undefined;
      this.checkExpected(p.expectedVersion, latest, p);
      const next: StoredVersion = {
        version: (latest?.version ?? 0) + 1,
        op: 'set',
        value: p.value,
        sensitive: p.sensitive ?? live?.sensitive ?? false,
        description: p.description ?? live?.description,
        at: '',
        by: actor,
        seq: 0,
      };
      if (live && changedFields(live, next).length === 0) return { entry: entryView(p.environment, p.key, live), changed: false };
      const side: SideWrite[] = [];
      await this.commit([this.setEvent(p.environment, p.key, next, actor, side)], side);
      return { entry: this.current(p.environment, p.key), changed: true };
    });
  }

  delete(p: ParsedParamsOf<typeof DeleteConfig>, actor: string): Promise<ResultOf<typeof DeleteConfig>> {
    return this.exclusive(async () => {
      this.requireEnv(p.environment);
      const latest = this.projection.latest(p.environment, p.key);
      if (latest?.op !== 'set') throw this.noKey(p.environment, p.key);
      this.checkExpected(p.expectedVersion, latest, p);
      const version = latest.version + 1;
      const payload: EntryDeletedPayload = { environment: p.environment, key: p.key, version, sensitive: latest.sensitive };
      await this.store.append([{ type: ConfigEvent.EntryDeleted, actor, payload }]);
      return { environment: p.environment, key: p.key, version };
    });
  }

  get(p: ParsedParamsOf<typeof GetConfig>, caller: ConfigCaller): ConfigEntry {
    this.requireEnv(p.environment);
    const versions = this.versions(p.environment, p.key);
    const found = p.version === undefined ? versions.at(-1) : versions.find((v) => v.version === p.version);
    if (p.version !== undefined && !found) {
      throw new RpcError(ErrorCode.NotFound, `version: key "${p.key}" in "${p.environment}" has no version ${p.version}.`, {
        kind: 'version',
        id: p.version,
        field: 'version',
        latest: versions.at(-1)?.version ?? 0,
      });
    }
    if (!found) throw this.noKey(p.environment, p.key);
    if (found.op === 'delete') {
      throw new RpcError(
        ErrorCode.NotFound,
        `${p.version === undefined ? 'key' : 'version'}: key "${p.key}" in "${p.environment}" was deleted at version ${found.version}; read an older version or the history.`,
        { kind: 'key', id: p.key, field: p.version === undefined ? 'key' : 'version', deletedAt: found.version },
      );
    }
    if (p.reveal && found.sensitive && caller.scope !== 'admin') throw needsAdmin('reveal', 'revealing a sensitive value', caller);
    if (p.reveal && found.sensitive && found.value === undefined) {
      throw new RpcError(
        ErrorCode.FailedPrecondition,
        `reveal: the value of version ${found.version} of "${p.key}" in "${p.environment}" is missing from config/sensitive.json in the data dir.`,
        { field: 'reveal' },
      );
    }
    return entryView(p.environment, p.key, found, p.reveal);
  }

  list(p: ParsedParamsOf<typeof ListConfig>): ResultOf<typeof ListConfig> {
    this.requireEnv(p.environment);
    const entries = [...this.projection.stateAt(p.environment)]
      .filter(([key]) => p.prefix === undefined || key.startsWith(p.prefix))
      .map(([key, v]) => entryView(p.environment, key, v));
    return { environment: p.environment, entries, seq: this.store.lastSeq };
  }

  history(p: ParsedParamsOf<typeof ConfigHistory>): ResultOf<typeof ConfigHistory> {
    const env = this.requireEnv(p.environment);
    let before = Number.MAX_SAFE_INTEGER;
    if (p.cursor !== undefined) {
      if (!/^\d+$/.test(p.cursor)) throw invalid('cursor', 'not a cursor from a previous page');
      before = Number(p.cursor);
    }
    let rows: { key: string; v: StoredVersion }[];
    if (p.key !== undefined) {
      const versions = this.projection.versions(p.environment, p.key);
      if (versions.length === 0) throw this.noKey(p.environment, p.key);
      rows = versions.map((v) => ({ key: p.key!, v }));
    } else {
      rows = Object.entries(env.keys).flatMap(([key, versions]) => versions.map((v) => ({ key, v })));
    }
    const older = rows.filter((r) => r.v.seq < before).sort((a, b) => b.v.seq - a.v.seq);
    const page = older.slice(0, p.limit);
    const more = older.length > page.length;
    return {
      versions: page.map((r) => versionView(p.environment, r.key, r.v)),
      ...(more ? { nextCursor: String(page.at(-1)!.v.seq) } : {}),
    };
  }

  diff(p: ParsedParamsOf<typeof DiffConfig>): ConfigDiff {
    return diffStates(this.pointState('from', p.from, p.key), this.pointState('to', p.to, p.key));
  }

  rollback(p: ParsedParamsOf<typeof RollbackConfig>, actor: string): Promise<ResultOf<typeof RollbackConfig>> {
    return this.exclusive(async () => {
      this.requireEnv(p.environment);
      const versions = this.versions(p.environment, p.key);
      if (versions.length === 0) throw this.noKey(p.environment, p.key);
      const target = versions.find((v) => v.version === p.version);
      if (!target) {
        throw new RpcError(ErrorCode.NotFound, `version: key "${p.key}" in "${p.environment}" has no version ${p.version}.`, {
          kind: 'version',
          id: p.version,
          field: 'version',
          latest: versions.at(-1)!.version,
        });
      }
      if (target.op === 'delete') {
        throw new RpcError(ErrorCode.FailedPrecondition, `version: version ${p.version} of "${p.key}" is a deletion; use config/delete to remove the key.`, {
          field: 'version',
        });
      }
      const latest = versions.at(-1)!;
      this.checkExpected(p.expectedVersion, latest, p);
      const next: StoredVersion = { ...target, version: latest.version + 1, rolledBackFrom: target.version, promotedFrom: undefined };
      const side: SideWrite[] = [];
      await this.commit([this.setEvent(p.environment, p.key, next, actor, side)], side);
      return { entry: this.current(p.environment, p.key) };
    });
  }

  promote(p: ParsedParamsOf<typeof PromoteConfig>, actor: string): Promise<ResultOf<typeof PromoteConfig>> {
    return this.exclusive(async () => {
      this.requireEnv(p.from, 'from');
      this.requireEnv(p.to, 'to');
      const source = this.stateAt(p.from);
      const before = this.stateAt(p.to);
      const after = new Map(before);
      if (p.key !== undefined) {
        const entry = source.get(p.key);
        if (!entry) throw this.noKey(p.from, p.key);
        for (const k of [...before.keys()]) {
          if (k === p.key) continue;
          before.delete(k);
          after.delete(k);
        }
        after.set(p.key, entry);
      } else {
        for (const [k, v] of source) after.set(k, v);
        if (p.prune) for (const k of before.keys()) if (!source.has(k)) after.delete(k);
      }
      const diff = diffStates(before, after);
      if (p.dryRun) return { diff, applied: false, versions: [] };
      const events: NewEvent[] = [];
      const side: SideWrite[] = [];
      const versions: { key: string; version: number }[] = [];
      for (const d of diff.entries) {
        const version = (this.projection.latest(p.to, d.key)?.version ?? 0) + 1;
        versions.push({ key: d.key, version });
        if (d.change === 'removed') {
          const payload: EntryDeletedPayload = { environment: p.to, key: d.key, version, sensitive: before.get(d.key)!.sensitive };
          events.push({ type: ConfigEvent.EntryDeleted, actor, payload });
        } else {
          const src = source.get(d.key)!;
          const next: StoredVersion = { ...src, version, rolledBackFrom: undefined, promotedFrom: { environment: p.from, version: src.version } };
          events.push(this.setEvent(p.to, d.key, next, actor, side));
        }
      }
      if (events.length > 0) await this.commit(events, side);
      return { diff, applied: true, versions };
    });
  }

  importDotenv(p: ParsedParamsOf<typeof ImportDotenv>, actor: string): Promise<ResultOf<typeof ImportDotenv>> {
    return this.exclusive(async () => {
      this.requireEnv(p.environment);
      const parsed = parseDotenv(p.content);
      const keys = Object.keys(parsed).sort(byKey);
      for (const key of keys) {
        const check = ConfigKey.safeParse(key);
        if (!check.success) throw invalid('content', `"${key}" is not a valid config key (${check.error.issues[0]?.message ?? 'bad key'})`);
        if (utf8Length(JSON.stringify(parsed[key])) > MAX_CONFIG_VALUE_BYTES) {
          throw invalid('content', `the value of "${key}" is larger than ${MAX_CONFIG_VALUE_BYTES} bytes of JSON`);
        }
      }
      const added: string[] = [];
      const changed: string[] = [];
      const unchanged: string[] = [];
      const events: NewEvent[] = [];
      const side: SideWrite[] = [];
      for (const key of keys) {
        const latest = this.latest(p.environment, key);
        const live = latest?.op === 'set' ? latest : undefined;
        const sensitive = p.sensitive ?? live?.sensitive ?? false;
        if (live && sameValue(live.value, parsed[key]) && live.sensitive === sensitive) {
          unchanged.push(key);
          continue;
        }
        (live ? changed : added).push(key);
        const next: StoredVersion = {
          version: (latest?.version ?? 0) + 1,
          op: 'set',
          value: parsed[key],
          sensitive,
          description: live?.description,
          at: '',
          by: actor,
          seq: 0,
        };
        events.push(this.setEvent(p.environment, key, next, actor, side));
      }
      if (changed.length > 0 && !p.overwrite) {
        throw new RpcError(
          ErrorCode.FailedPrecondition,
          `overwrite: ${changed.length} key(s) already exist in "${p.environment}" with other values (${changed.join(', ')}); pass overwrite: true to replace them. Nothing was imported.`,
          { field: 'overwrite', keys: changed },
        );
      }
      if (events.length > 0) await this.commit(events, side);
      return { added, changed, unchanged };
    });
  }

  exportDotenv(p: ParsedParamsOf<typeof ExportDotenv>, caller: ConfigCaller): ResultOf<typeof ExportDotenv> {
    this.requireEnv(p.environment);
    if (p.includeSensitive && caller.scope !== 'admin') throw needsAdmin('includeSensitive', 'exporting sensitive values', caller);
    const lines = [`# CogniForge configuration: environment ${p.environment}, event log seq ${this.store.lastSeq}`];
    const omitted: ResultOf<typeof ExportDotenv>['omitted'] = [];
    for (const [key, v] of this.stateAt(p.environment)) {
      if (v.sensitive && !p.includeSensitive) {
        omitted.push({ key, reason: 'sensitive' });
        continue;
      }
      if (v.value === undefined) {
        omitted.push({ key, reason: 'missing' });
        continue;
      }
      const quoted = quoteDotenvValue(dotenvString(v.value));
      if (quoted === undefined) omitted.push({ key, reason: 'unrepresentable' });
      else lines.push(`${key}=${quoted}`);
    }
    return { content: `${lines.join('\n')}\n`, omitted };
  }

  private pointState(field: 'from' | 'to', point: ParsedParamsOf<typeof DiffConfig>['from'], key: string | undefined): Map<string, StoredVersion> {
    this.requireEnv(point.environment, `${field}.environment`);
    if (point.version !== undefined && key !== undefined) {
      const v = this.versions(point.environment, key).find((x) => x.version === point.version);
      if (!v) {
        throw new RpcError(ErrorCode.NotFound, `${field}.version: key "${key}" in "${point.environment}" has no version ${point.version}.`, {
          kind: 'version',
          id: point.version,
          field: `${field}.version`,
        });
      }
      return v.op === 'set' ? new Map([[key, v]]) : new Map();
    }
    const state = this.stateAt(point.environment, point.seq);
    if (key === undefined) return state;
    const v = state.get(key);
    return v ? new Map([[key, v]]) : new Map();
  }

  /** The event of a new version; a sensitive value goes to `side` instead, for the sensitive value store. */
  private setEvent(environment: string, key: string, v: StoredVersion, actor: string, side: SideWrite[]): NewEvent {
    if (v.sensitive) side.push({ ref: { environment, key, version: v.version }, value: v.value });
    const payload: EntrySetPayload = {
      environment,
      key,
      version: v.version,
      ...(v.sensitive ? {} : { value: v.value as EntrySetPayload['value'] }),
      sensitive: v.sensitive,
      ...(v.description !== undefined ? { description: v.description } : {}),
      ...(v.rolledBackFrom !== undefined ? { rolledBackFrom: v.rolledBackFrom } : {}),
      ...(v.promotedFrom !== undefined ? { promotedFrom: v.promotedFrom } : {}),
    };
    return { type: ConfigEvent.EntrySet, actor, payload };
  }

  /**
   * Check-and-set: `expected` is the live version the caller saw, or 0 (or the tombstone's version)
   * for a key that does not exist now.
   */
  private checkExpected(expected: number | undefined, latest: StoredVersion | undefined, where: { environment: string; key: string }): void {
    if (expected === undefined) return;
    const live = latest?.op === 'set' ? latest.version : 0;
    const ok = live > 0 ? expected === live : expected === 0 || expected === latest?.version;
    if (!ok) {
      throw new RpcError(
        ErrorCode.Conflict,
        `expectedVersion: key "${where.key}" in "${where.environment}" is at version ${live}${live === 0 ? ' (absent)' : ''}, not ${expected}; nothing was written.`,
        { field: 'expectedVersion', expected, actual: live },
      );
    }
  }

  /** Sensitive values first (durable), then the events that refer to them. */
  private async commit(events: NewEvent[], side: SideWrite[]): Promise<void> {
    await this.sensitiveValues.put(side);
    await this.store.append(events);
  }

  /** A version with its value, fetched from the sensitive value store when it lives there. */
  private withValue(environment: string, key: string, v: StoredVersion): StoredVersion {
    if (v.op !== 'set' || !v.sensitive) return v;
    return { ...v, value: this.sensitiveValues.get({ environment, key, version: v.version }) };
  }

  private latest(environment: string, key: string): StoredVersion | undefined {
    const v = this.projection.latest(environment, key);
    return v && this.withValue(environment, key, v);
  }

  private versions(environment: string, key: string): StoredVersion[] {
    return this.projection.versions(environment, key).map((v) => this.withValue(environment, key, v));
  }

  private stateAt(environment: string, seq?: number): Map<string, StoredVersion> {
    return new Map([...this.projection.stateAt(environment, seq)].map(([key, v]) => [key, this.withValue(environment, key, v)]));
  }

  private current(environment: string, key: string): ConfigEntry {
    return entryView(environment, key, this.projection.latest(environment, key)!);
  }

  private environmentView(env: StoredEnvironment, includeEntries: boolean): ConfigEnvironment {
    const state = this.projection.stateAt(env.name);
    return {
      name: env.name,
      ...(env.description !== undefined ? { description: env.description } : {}),
      createdAt: env.createdAt,
      createdBy: env.createdBy,
      entryCount: state.size,
      updatedAt: env.updatedAt,
      ...(includeEntries ? { entries: [...state].map(([key, v]) => entryView(env.name, key, v)) } : {}),
    };
  }

  private requireEnv(name: string, field = 'environment'): StoredEnvironment {
    const env = this.projection.environment(name);
    if (!env) {
      const known = this.projection.environments().map((e) => e.name);
      throw new RpcError(ErrorCode.NotFound, `${field}: no environment "${name}" (known: ${known.join(', ')}); create it with config/createEnvironment.`, {
        kind: 'environment',
        id: name,
        field,
        known,
      });
    }
    return env;
  }

  private noKey(environment: string, key: string): RpcError {
    return new RpcError(ErrorCode.NotFound, `key: no key "${key}" in environment "${environment}".`, { kind: 'key', id: key, field: 'key', environment });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
