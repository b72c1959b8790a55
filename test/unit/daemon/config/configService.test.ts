import { describe, expect, it } from 'vitest';
import {
  ConfigHistory,
  DeleteConfig,
  DiffConfig,
  ErrorCode,
  ExportDotenv,
  GetConfig,
  ImportDotenv,
  ListConfig,
  PromoteConfig,
  RollbackConfig,
  RpcError,
  SetConfig,
  type AnyRequestType,
  type ParamsOf,
  type ParsedParamsOf,
} from '../../../../daemon/protocol';
import { didChangeOf } from '../../../../daemon/services/config/configFeature';
import { ConfigEvent, ConfigProjection } from '../../../../daemon/services/config/configProjection';
import { ConfigService, type ConfigCaller } from '../../../../daemon/services/config/configService';
import { parseDotenv } from '../../../../daemon/services/config/dotenvFormat';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';
import { MemorySensitiveValues } from './memorySensitiveValues';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const reader: ConfigCaller = { actor: 'dashboard', scope: 'read' };
const admin: ConfigCaller = { actor: 'owner', scope: 'admin' };

/** Params as the router hands them over: validated, defaults applied. */
const params = <T extends AnyRequestType>(type: T, raw: ParamsOf<T>): ParsedParamsOf<T> => type.params.parse(raw) as ParsedParamsOf<T>;

async function open(log = new MemoryEventLog(), clock = new ManualClock(NOW), sensitive = new MemorySensitiveValues()) {
  const projection = new ConfigProjection();
  const store = log.open({ clock, projections: [projection] });
  const service = new ConfigService(store, projection, sensitive);
  await service.seedDefaults();
  let appendBatches = 0;
  store.onAppend(() => appendBatches++);
  return { log, clock, projection, service, store, sensitive, batches: () => appendBatches };
}

async function rpcError(p: Promise<unknown> | (() => unknown)): Promise<RpcError> {
  const e = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(RpcError);
  return e as RpcError;
}

const set = (s: ConfigService, raw: ParamsOf<typeof SetConfig>, actor = 'owner') => s.set(params(SetConfig, raw), actor);

describe('seeding', () => {
  it('seeds the four environments and the seed entries once, as daemon events', async () => {
    const { service, log, clock } = await open();
    expect(service.listEnvironments(false).map((e) => [e.name, e.entryCount])).toEqual([
      ['development', 2],
      ['staging', 2],
      ['production', 3],
      ['test', 0],
    ]);
    const values = (env: string) => Object.fromEntries(service.list(params(ListConfig, { environment: env })).entries.map((e) => [e.key, e.value]));
    expect(values('development')).toEqual({ debug_mode: true, rate_limit_enabled: false });
    expect(values('staging')).toEqual({ debug_mode: false, rate_limit_enabled: true });
    expect(values('production')).toEqual({ debug_mode: false, rate_limit_enabled: true, strict_ssl: true });
    expect(log.ofType(ConfigEvent.EntrySet).every((e) => e.actor === 'daemon')).toBe(true);
    const before = log.records.length;
    const again = await open(log, clock);
    expect(log.records.length).toBe(before);
    expect(again.service.listEnvironments(false)).toHaveLength(4);
  });
});

describe('versions', () => {
  it('numbers versions per key and environment, records who and when, and skips no-op sets', async () => {
    const { service, clock, log } = await open();
    const a = await set(service, { environment: 'test', key: 'db.url', value: 'postgres://a', description: 'Primary DB' }, 'alice');
    clock.advance(60_000);
    const b = await set(service, { environment: 'test', key: 'db.url', value: 'postgres://b' }, 'bob');
    const other = await set(service, { environment: 'staging', key: 'db.url', value: { host: 'x', port: 5432 } });
    expect([a.entry.version, b.entry.version, other.entry.version]).toEqual([1, 2, 1]);
    expect(b.entry).toMatchObject({ updatedBy: 'bob', updatedAt: '2026-11-27T12:01:00.000Z', description: 'Primary DB', sensitive: false });
    const count = log.records.length;
    const same = await set(service, { environment: 'test', key: 'db.url', value: 'postgres://b' });
    expect(same).toMatchObject({ changed: false, entry: { version: 2 } });
    expect(log.records.length).toBe(count);
  });

  it('check-and-set: a stale expectedVersion is a Conflict naming the field and appends nothing', async () => {
    const { service, log } = await open();
    await set(service, { environment: 'test', key: 'k', value: 1, expectedVersion: 0 });
    await set(service, { environment: 'test', key: 'k', value: 2, expectedVersion: 1 });
    const count = log.records.length;
    const e = await rpcError(set(service, { environment: 'test', key: 'k', value: 3, expectedVersion: 1 }));
    expect(e.code).toBe(ErrorCode.Conflict);
    expect(e.message).toContain('expectedVersion');
    expect(e.data).toMatchObject({ field: 'expectedVersion', expected: 1, actual: 2 });
    const created = await rpcError(set(service, { environment: 'test', key: 'k', value: 3, expectedVersion: 0 }));
    expect(created.code).toBe(ErrorCode.Conflict);
    expect(log.records.length).toBe(count);
  });

  it('two racing check-and-set writes: one wins, the other gets Conflict', async () => {
    const { service } = await open();
    await set(service, { environment: 'test', key: 'race', value: 0 });
    const results = await Promise.allSettled([
      set(service, { environment: 'test', key: 'race', value: 'a', expectedVersion: 1 }),
      set(service, { environment: 'test', key: 'race', value: 'b', expectedVersion: 1 }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as RpcError).code).toBe(ErrorCode.Conflict);
  });

  it('refuses bad input naming the field, appending nothing', async () => {
    const { service, log } = await open();
    const count = log.records.length;
    const unknown = await rpcError(set(service, { environment: 'qa', key: 'k', value: 1 }));
    expect(unknown.code).toBe(ErrorCode.NotFound);
    expect(unknown.message).toMatch(/^environment: no environment "qa"/);
    expect(unknown.data).toMatchObject({ field: 'environment', known: ['development', 'staging', 'production', 'test'] });
    const badKey = SetConfig.params.safeParse({ environment: 'test', key: '1bad key', value: 1 });
    expect(badKey.success).toBe(false);
    expect(badKey.error!.issues[0]!.path).toEqual(['key']);
    const big = SetConfig.params.safeParse({ environment: 'test', key: 'big', value: 'x'.repeat(65_536) });
    expect(big.success).toBe(false);
    expect(big.error!.issues[0]!.path).toEqual(['value']);
    expect(SetConfig.params.safeParse({ environment: 'test', key: 'fits', value: 'x'.repeat(65_534) }).success).toBe(true);
    expect(SetConfig.params.safeParse({ environment: 'Prod!', key: 'k', value: 1 }).error!.issues[0]!.path).toEqual(['environment']);
    expect(log.records.length).toBe(count);
  });

  it('delete appends a tombstone; the old versions stay readable', async () => {
    const { service } = await open();
    await set(service, { environment: 'test', key: 'gone', value: 'v1' });
    const del = await service.delete(params(DeleteConfig, { environment: 'test', key: 'gone' }), 'owner');
    expect(del.version).toBe(2);
    const e = await rpcError(() => service.get(params(GetConfig, { environment: 'test', key: 'gone' }), reader));
    expect(e.code).toBe(ErrorCode.NotFound);
    expect(service.get(params(GetConfig, { environment: 'test', key: 'gone', version: 1 }), reader).value).toBe('v1');
    expect((await rpcError(service.delete(params(DeleteConfig, { environment: 'test', key: 'gone' }), 'owner'))).code).toBe(ErrorCode.NotFound);
    const again = await set(service, { environment: 'test', key: 'gone', value: 'v3', expectedVersion: 0 });
    expect(again.entry.version).toBe(3);
  });
});

describe('sensitive entries', () => {
  it('are masked in list, history and diff; reveal needs admin', async () => {
    const { service } = await open();
    await set(service, { environment: 'test', key: 'api_token', value: 's3cr3t', sensitive: true });
    const listed = service.list(params(ListConfig, { environment: 'test' })).entries[0]!;
    expect(listed).toMatchObject({ key: 'api_token', masked: true, sensitive: true });
    expect(listed).not.toHaveProperty('value');
    expect(JSON.stringify(service.listEnvironments(true))).not.toContain('s3cr3t');
    expect(JSON.stringify(service.history(params(ConfigHistory, { environment: 'test' })))).not.toContain('s3cr3t');
    const denied = await rpcError(() => service.get(params(GetConfig, { environment: 'test', key: 'api_token', reveal: true }), reader));
    expect(denied.code).toBe(ErrorCode.Forbidden);
    expect(denied.message).toMatch(/^reveal:/);
    expect(service.get(params(GetConfig, { environment: 'test', key: 'api_token' }), admin)).toMatchObject({ masked: true });
    expect(service.get(params(GetConfig, { environment: 'test', key: 'api_token', reveal: true }), admin).value).toBe('s3cr3t');
    await set(service, { environment: 'test', key: 'api_token', value: 'n3w' });
    const diff = service.diff(params(DiffConfig, { key: 'api_token', from: { environment: 'test', version: 1 }, to: { environment: 'test', version: 2 } }));
    expect(diff.entries).toEqual([
      {
        key: 'api_token',
        change: 'changed',
        fields: ['value'],
        before: { version: 1, masked: true, sensitive: true },
        after: { version: 2, masked: true, sensitive: true },
      },
    ]);
  });

  it('keep their values out of every event, across rollback, promotion, import and a restart', async () => {
    const { service, log, clock, sensitive } = await open();
    await set(service, { environment: 'development', key: 'db_pw', value: 'first-pw', sensitive: true });
    await set(service, { environment: 'development', key: 'db_pw', value: 'second-pw' });
    await service.rollback(params(RollbackConfig, { environment: 'development', key: 'db_pw', version: 1 }), 'owner');
    await service.promote(params(PromoteConfig, { from: 'development', to: 'staging', key: 'db_pw' }), 'owner');
    await service.importDotenv(params(ImportDotenv, { environment: 'test', content: 'TOKEN=from-file-pw\n', sensitive: true }), 'owner');
    const logged = JSON.stringify(log.records);
    for (const v of ['first-pw', 'second-pw', 'from-file-pw']) expect(logged).not.toContain(v);
    expect(sensitive.values.size).toBe(5);
    const after = await open(log, clock, sensitive);
    const reveal = (environment: string, key: string, version?: number) =>
      after.service.get(params(GetConfig, { environment, key, version, reveal: true }), admin).value;
    expect([reveal('development', 'db_pw', 1), reveal('development', 'db_pw', 2), reveal('development', 'db_pw')]).toEqual([
      'first-pw',
      'second-pw',
      'first-pw',
    ]);
    expect(reveal('staging', 'db_pw')).toBe('first-pw');
    expect(reveal('test', 'TOKEN')).toBe('from-file-pw');
    const diff = after.service.diff(params(DiffConfig, { key: 'db_pw', from: { environment: 'development', version: 1 }, to: { environment: 'development', version: 3 } }));
    expect(diff).toEqual({ entries: [], unchanged: 1 });
  });

  it('config/didChange carries no sensitive value', async () => {
    const { service, log } = await open();
    await set(service, { environment: 'test', key: 'pw', value: 'hunter2', sensitive: true });
    await set(service, { environment: 'test', key: 'plain', value: 42 });
    const [pw, plain] = log.ofType(ConfigEvent.EntrySet).slice(-2).map((e) => didChangeOf(e)!);
    expect(pw).toEqual({ environment: 'test', key: 'pw', version: 1, op: 'set', sensitive: true, seq: expect.any(Number) as number });
    expect(plain).toMatchObject({ key: 'plain', value: 42, sensitive: false });
  });
});

describe('history and diff', () => {
  it('pages history newest first, per key and per environment', async () => {
    const { service } = await open();
    for (let i = 1; i <= 5; i++) await set(service, { environment: 'test', key: 'counter', value: i });
    await set(service, { environment: 'test', key: 'other', value: 'x' });
    const p1 = service.history(params(ConfigHistory, { environment: 'test', key: 'counter', limit: 2 }));
    expect(p1.versions.map((v) => v.version)).toEqual([5, 4]);
    const p2 = service.history(params(ConfigHistory, { environment: 'test', key: 'counter', limit: 2, cursor: p1.nextCursor }));
    const p3 = service.history(params(ConfigHistory, { environment: 'test', key: 'counter', limit: 2, cursor: p2.nextCursor }));
    expect([...p2.versions, ...p3.versions].map((v) => v.version)).toEqual([3, 2, 1]);
    expect(p3.nextCursor).toBeUndefined();
    const env = service.history(params(ConfigHistory, { environment: 'test' }));
    expect(env.versions.map((v) => `${v.key}@${v.version}`)).toEqual(['other@1', 'counter@5', 'counter@4', 'counter@3', 'counter@2', 'counter@1']);
    expect((await rpcError(() => service.history(params(ConfigHistory, { environment: 'test', cursor: 'abc' })))).message).toMatch(/^cursor:/);
  });

  it('diffs an environment at two log positions and two environments', async () => {
    const { service } = await open();
    const start = (await set(service, { environment: 'test', key: 'a', value: 1 })).entry;
    const seqAfterA = service.history(params(ConfigHistory, { environment: 'test', key: 'a' })).versions[0]!.seq;
    await set(service, { environment: 'test', key: 'a', value: 2 });
    await set(service, { environment: 'test', key: 'b', value: true, description: 'flag' });
    expect(start.version).toBe(1);
    const overTime = service.diff(params(DiffConfig, { from: { environment: 'test', seq: seqAfterA }, to: { environment: 'test' } }));
    expect(overTime).toEqual({
      entries: [
        { key: 'a', change: 'changed', fields: ['value'], before: { version: 1, value: 1, sensitive: false }, after: { version: 2, value: 2, sensitive: false } },
        { key: 'b', change: 'added', after: { version: 1, value: true, sensitive: false, description: 'flag' } },
      ],
      unchanged: 0,
    });
    const envs = service.diff(params(DiffConfig, { from: { environment: 'development' }, to: { environment: 'production' } }));
    expect(envs.entries.map((e) => [e.key, e.change])).toEqual([
      ['debug_mode', 'changed'],
      ['rate_limit_enabled', 'changed'],
      ['strict_ssl', 'added'],
    ]);
    const missing = await rpcError(() => service.diff(params(DiffConfig, { key: 'a', from: { environment: 'test', version: 9 }, to: { environment: 'test' } })));
    expect(missing.message).toMatch(/^from\.version:/);
    expect(DiffConfig.params.safeParse({ from: { environment: 'test', version: 1 }, to: { environment: 'test' } }).error!.issues[0]!.path).toEqual(['key']);
  });

  it('key order in objects does not make a change', async () => {
    const { service, log } = await open();
    await set(service, { environment: 'test', key: 'obj', value: { a: 1, b: [1, 2] } });
    const count = log.records.length;
    expect((await set(service, { environment: 'test', key: 'obj', value: { b: [1, 2], a: 1 } })).changed).toBe(false);
    expect(log.records.length).toBe(count);
  });
});

describe('rollback', () => {
  it('appends a new version copying an old one and never rewrites', async () => {
    const { service } = await open();
    await set(service, { environment: 'test', key: 'mode', value: 'blue', description: 'colour' });
    await set(service, { environment: 'test', key: 'mode', value: 'green' });
    const r = await service.rollback(params(RollbackConfig, { environment: 'test', key: 'mode', version: 1 }), 'carol');
    expect(r.entry).toMatchObject({ version: 3, value: 'blue', description: 'colour', updatedBy: 'carol' });
    const h = service.history(params(ConfigHistory, { environment: 'test', key: 'mode' })).versions;
    expect(h.map((v) => [v.version, v.value, v.rolledBackFrom])).toEqual([
      [3, 'blue', 1],
      [2, 'green', undefined],
      [1, 'blue', undefined],
    ]);
    await service.delete(params(DeleteConfig, { environment: 'test', key: 'mode' }), 'owner');
    const toTombstone = await rpcError(service.rollback(params(RollbackConfig, { environment: 'test', key: 'mode', version: 4 }), 'owner'));
    expect(toTombstone.code).toBe(ErrorCode.FailedPrecondition);
    const restored = await service.rollback(params(RollbackConfig, { environment: 'test', key: 'mode', version: 2, expectedVersion: 4 }), 'owner');
    expect(restored.entry).toMatchObject({ version: 5, value: 'green' });
    expect((await rpcError(service.rollback(params(RollbackConfig, { environment: 'test', key: 'mode', version: 99 }), 'owner'))).message).toMatch(/^version:/);
  });
});

describe('promotion', () => {
  it('dry run answers the diff and changes nothing; applying is one atomic append', async () => {
    const { service, log, batches } = await open();
    await set(service, { environment: 'development', key: 'feature_x', value: true, sensitive: true });
    await set(service, { environment: 'staging', key: 'only_staging', value: 1 });
    const count = log.records.length;
    const dry = await service.promote(params(PromoteConfig, { from: 'development', to: 'staging', dryRun: true }), 'owner');
    expect(dry.applied).toBe(false);
    expect(dry.diff.entries.map((e) => [e.key, e.change])).toEqual([
      ['debug_mode', 'changed'],
      ['feature_x', 'added'],
      ['rate_limit_enabled', 'changed'],
    ]);
    expect(log.records.length).toBe(count);
    const batchesBefore = batches();
    const applied = await service.promote(params(PromoteConfig, { from: 'development', to: 'staging', prune: true }), 'owner');
    expect(batches()).toBe(batchesBefore + 1);
    expect(applied.diff.entries.map((e) => [e.key, e.change])).toEqual([
      ['debug_mode', 'changed'],
      ['feature_x', 'added'],
      ['only_staging', 'removed'],
      ['rate_limit_enabled', 'changed'],
    ]);
    expect(applied.versions).toEqual([
      { key: 'debug_mode', version: 2 },
      { key: 'feature_x', version: 1 },
      { key: 'only_staging', version: 2 },
      { key: 'rate_limit_enabled', version: 2 },
    ]);
    const after = service.diff(params(DiffConfig, { from: { environment: 'development' }, to: { environment: 'staging' } }));
    expect(after.entries).toEqual([]);
    const promoted = service.history(params(ConfigHistory, { environment: 'staging', key: 'feature_x' })).versions[0]!;
    expect(promoted).toMatchObject({ sensitive: true, masked: true, promotedFrom: { environment: 'development', version: 1 } });
  });

  it('promotes one key, leaving the others', async () => {
    const { service } = await open();
    await set(service, { environment: 'staging', key: 'timeout_ms', value: 900 });
    const r = await service.promote(params(PromoteConfig, { from: 'staging', to: 'production', key: 'timeout_ms' }), 'owner');
    expect(r.diff).toEqual({ entries: [{ key: 'timeout_ms', change: 'added', after: { version: 1, value: 900, sensitive: false } }], unchanged: 0 });
    expect(service.list(params(ListConfig, { environment: 'production' })).entries.map((e) => e.key)).toEqual([
      'debug_mode',
      'rate_limit_enabled',
      'strict_ssl',
      'timeout_ms',
    ]);
    const e = await rpcError(service.promote(params(PromoteConfig, { from: 'staging', to: 'nowhere' }), 'owner'));
    expect(e.message).toMatch(/^to: no environment "nowhere"/);
    expect(PromoteConfig.params.safeParse({ from: 'test', to: 'test' }).error!.issues[0]!.path).toEqual(['to']);
  });
});

describe('.env import and export', () => {
  const weird: Record<string, string> = {
    PLAIN: 'hello',
    SPACES: '  padded value  ',
    HASH: 'a # not a comment',
    EQUALS: 'a=b=c',
    DOUBLE: 'say "hi"',
    SINGLE: "it's",
    BOTH: `it's "quoted"`,
    NEWLINES: 'line1\nline2\n',
    CRLF: 'a\r\nb',
    BACKSLASH_N: 'C:\\new\\folder',
    UNICODE: 'Grüße ✓ 🚀 مرحبا',
    EMPTY: '',
    BACKTICK: 'run `ls`',
  };

  it('round-trips awkward values through export and dotenv.parse', async () => {
    const { service } = await open();
    for (const [key, value] of Object.entries(weird)) await set(service, { environment: 'test', key, value });
    await set(service, { environment: 'test', key: 'NUMBER', value: 42 });
    const out = service.exportDotenv(params(ExportDotenv, { environment: 'test' }), reader);
    expect(out.omitted).toEqual([]);
    expect(parseDotenv(out.content)).toEqual({ ...weird, NUMBER: '42' });
  });

  it('reports the one value no dotenv quoting can carry', async () => {
    const { service } = await open();
    await set(service, { environment: 'test', key: 'ALL_QUOTES', value: `'"\`` });
    expect(service.exportDotenv(params(ExportDotenv, { environment: 'test' }), reader).omitted).toEqual([{ key: 'ALL_QUOTES', reason: 'unrepresentable' }]);
  });

  it('leaves sensitive values out unless an admin asks', async () => {
    const { service } = await open();
    await set(service, { environment: 'test', key: 'DB_PASSWORD', value: 'pa$$', sensitive: true });
    await set(service, { environment: 'test', key: 'HOST', value: 'db.local' });
    const plain = service.exportDotenv(params(ExportDotenv, { environment: 'test' }), admin);
    expect(plain.content).not.toContain('pa$$');
    expect(plain.omitted).toEqual([{ key: 'DB_PASSWORD', reason: 'sensitive' }]);
    expect((await rpcError(() => service.exportDotenv(params(ExportDotenv, { environment: 'test', includeSensitive: true }), reader))).code).toBe(
      ErrorCode.Forbidden,
    );
    expect(parseDotenv(service.exportDotenv(params(ExportDotenv, { environment: 'test', includeSensitive: true }), admin).content)).toEqual({
      DB_PASSWORD: 'pa$$',
      HOST: 'db.local',
    });
  });

  it('imports all or nothing and reports added, changed and unchanged', async () => {
    const { service, log } = await open();
    await set(service, { environment: 'test', key: 'KEEP', value: 'same' });
    await set(service, { environment: 'test', key: 'CHANGE', value: 'old' });
    const content = 'KEEP=same\nCHANGE=new\nNEW_ONE="multi\\nline"\n# comment\n';
    const count = log.records.length;
    const refused = await rpcError(service.importDotenv(params(ImportDotenv, { environment: 'test', content }), 'owner'));
    expect(refused.code).toBe(ErrorCode.FailedPrecondition);
    expect(refused.data).toMatchObject({ field: 'overwrite', keys: ['CHANGE'] });
    expect(log.records.length).toBe(count);
    const r = await service.importDotenv(params(ImportDotenv, { environment: 'test', content, overwrite: true }), 'importer');
    expect(r).toEqual({ added: ['NEW_ONE'], changed: ['CHANGE'], unchanged: ['KEEP'] });
    expect(service.get(params(GetConfig, { environment: 'test', key: 'NEW_ONE' }), reader)).toMatchObject({ value: 'multi\nline', updatedBy: 'importer' });
    const before = log.records.length;
    const bad = await rpcError(service.importDotenv(params(ImportDotenv, { environment: 'test', content: 'GOOD=1\n9LIVES=x\n' }), 'owner'));
    expect(bad.code).toBe(ErrorCode.InvalidParams);
    expect(bad.message).toMatch(/^content: "9LIVES"/);
    expect(log.records.length).toBe(before);
  });
});

describe('restart', () => {
  it('a projection restored from its snapshot plus the tail equals one rebuilt from the log', async () => {
    const { service, log, clock, store } = await open();
    await set(service, { environment: 'test', key: 'a', value: 1 });
    await store.snapshot();
    await set(service, { environment: 'test', key: 'a', value: 2 });
    await service.delete(params(DeleteConfig, { environment: 'test', key: 'a' }), 'owner');
    const restored = await open(log, clock);
    const rebuilt = new ConfigProjection();
    for (const r of log.records) rebuilt.apply(r);
    expect(restored.projection.snapshot()).toEqual(rebuilt.snapshot());
    expect(restored.service.history(params(ConfigHistory, { environment: 'test', key: 'a' })).versions.map((v) => v.op)).toEqual(['delete', 'set', 'set']);
  });
});
