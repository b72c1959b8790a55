import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, liveConfig, type DaemonClient, type LiveConfigChange } from '../../../daemon/client';
import { ErrorCode, SetConfig } from '../../../daemon/protocol';
import { rpcError, useDaemons, type DaemonProcess, type RpcClient } from '../helpers/daemonProcess';

const start = useDaemons();
let d: DaemonProcess;
let c: RpcClient;

beforeAll(async () => {
  d = await start();
  c = await d.connect();
});

afterAll(async () => {
  await c?.close();
});

type Entry = { key: string; version: number; value?: unknown; masked?: true; sensitive: boolean; updatedBy: string };
type Env = { name: string; entryCount: number; entries?: Entry[] };
const lastSeq = async () => (await c.request<{ eventLog: { lastSeq: number } }>('daemon/status', {})).eventLog.lastSeq;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1500 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!cond()) throw new Error(`gave up waiting for ${what}`);
}

describe('config over JSON-RPC against the real daemon', () => {
  it('seeds the four environments with the seed entries', async () => {
    const r = await c.request<{ environments: Env[] }>('config/listEnvironments', { includeEntries: true });
    expect(r.environments.map((e) => e.name)).toEqual(['development', 'staging', 'production', 'test']);
    const prod = r.environments.find((e) => e.name === 'production')!;
    expect(Object.fromEntries(prod.entries!.map((e) => [e.key, e.value]))).toEqual({ debug_mode: false, rate_limit_enabled: true, strict_ssl: true });
  });

  it('creates environments and versions entries: set, get, list, history, diff, rollback, delete', async () => {
    await c.request('config/createEnvironment', { name: 'qa', description: 'QA lab' });
    expect((await rpcError(c.request('config/createEnvironment', { name: 'qa' }))).code).toBe(ErrorCode.Duplicate);
    const v1 = await c.request<{ entry: Entry; changed: boolean }>('config/set', { environment: 'qa', key: 'pool.size', value: 10, expectedVersion: 0 });
    expect(v1).toMatchObject({ changed: true, entry: { version: 1, value: 10, updatedBy: 'owner' } });
    await c.request('config/set', { environment: 'qa', key: 'pool.size', value: 20, expectedVersion: 1 });
    expect(await c.request('config/get', { environment: 'qa', key: 'pool.size' })).toMatchObject({ version: 2, value: 20 });
    expect(await c.request('config/get', { environment: 'qa', key: 'pool.size', version: 1 })).toMatchObject({ version: 1, value: 10 });
    const list = await c.request<{ entries: Entry[]; seq: number }>('config/list', { environment: 'qa' });
    expect(list.entries.map((e) => [e.key, e.value])).toEqual([['pool.size', 20]]);
    const history = await c.request<{ versions: { version: number; seq: number }[]; nextCursor?: string }>('config/history', {
      environment: 'qa',
      key: 'pool.size',
      limit: 1,
    });
    expect(history.versions.map((v) => v.version)).toEqual([2]);
    const older = await c.request<{ versions: { version: number; seq: number }[] }>('config/history', {
      environment: 'qa',
      key: 'pool.size',
      limit: 1,
      cursor: history.nextCursor,
    });
    expect(older.versions.map((v) => v.version)).toEqual([1]);
    const diff = await c.request('config/diff', { key: 'pool.size', from: { environment: 'qa', version: 1 }, to: { environment: 'qa', version: 2 } });
    expect(diff).toEqual({
      entries: [{ key: 'pool.size', change: 'changed', fields: ['value'], before: { version: 1, value: 10, sensitive: false }, after: { version: 2, value: 20, sensitive: false } }],
      unchanged: 0,
    });
    const bySeq = await c.request<{ entries: unknown[] }>('config/diff', { from: { environment: 'qa', seq: older.versions[0]!.seq }, to: { environment: 'qa' } });
    expect(bySeq.entries).toHaveLength(1);
    const rolled = await c.request<{ entry: Entry }>('config/rollback', { environment: 'qa', key: 'pool.size', version: 1 });
    expect(rolled.entry).toMatchObject({ version: 3, value: 10 });
    expect(await c.request('config/delete', { environment: 'qa', key: 'pool.size', expectedVersion: 3 })).toEqual({ environment: 'qa', key: 'pool.size', version: 4 });
    expect((await rpcError(c.request('config/get', { environment: 'qa', key: 'pool.size' }))).code).toBe(ErrorCode.NotFound);
    const envHistory = await c.request<{ versions: { op: string; version: number }[] }>('config/history', { environment: 'qa' });
    expect(envHistory.versions.map((v) => `${v.op}@${v.version}`)).toEqual(['delete@4', 'set@3', 'set@2', 'set@1']);
  });

  it('promotes with a dry run first, then atomically', async () => {
    await c.request('config/set', { environment: 'development', key: 'new_checkout', value: { enabled: true, percent: 0.25 } });
    const before = await lastSeq();
    const dry = await c.request<{ applied: boolean; diff: { entries: { key: string; change: string }[] } }>('config/promote', {
      from: 'development',
      to: 'staging',
      key: 'new_checkout',
      dryRun: true,
    });
    expect(dry).toMatchObject({ applied: false, diff: { entries: [{ key: 'new_checkout', change: 'added' }] } });
    expect(await lastSeq()).toBe(before);
    const applied = await c.request<{ applied: boolean; versions: unknown[] }>('config/promote', { from: 'development', to: 'staging' });
    expect(applied.applied).toBe(true);
    expect(applied.versions).toEqual([
      { key: 'debug_mode', version: 2 },
      { key: 'new_checkout', version: 1 },
      { key: 'rate_limit_enabled', version: 2 },
    ]);
    const same = await c.request<{ entries: unknown[] }>('config/diff', { from: { environment: 'development' }, to: { environment: 'staging' } });
    expect(same.entries).toEqual([]);
  });

  it('masks sensitive values; reveal and sensitive export need an admin token', async () => {
    await c.request('config/set', { environment: 'test', key: 'SMTP_PASSWORD', value: 'pw-9f3a', sensitive: true });
    const listed = await c.request<{ entries: Entry[] }>('config/list', { environment: 'test' });
    expect(listed.entries.find((e) => e.key === 'SMTP_PASSWORD')).toMatchObject({ masked: true, sensitive: true });
    expect(JSON.stringify(listed)).not.toContain('pw-9f3a');
    const { token } = await c.request<{ token: string }>('auth/createToken', { name: 'cfg-reader', scope: 'read' });
    const reader = await d.connect({ token });
    try {
      const denied = await rpcError(reader.request('config/get', { environment: 'test', key: 'SMTP_PASSWORD', reveal: true }));
      expect(denied.code).toBe(ErrorCode.Forbidden);
      expect(denied.message).toContain('reveal');
      expect((await rpcError(reader.request('config/exportDotenv', { environment: 'test', includeSensitive: true }))).code).toBe(ErrorCode.Forbidden);
      expect((await rpcError(reader.request('config/set', { environment: 'test', key: 'x', value: 1 }))).code).toBe(ErrorCode.Forbidden);
    } finally {
      await reader.close();
    }
    expect(await c.request('config/get', { environment: 'test', key: 'SMTP_PASSWORD', reveal: true })).toMatchObject({ value: 'pw-9f3a' });
  });

  it('keeps sensitive values out of the event log and encrypted in config/sensitive.json (mode 0600)', async () => {
    const events = await c.request<{ events: unknown[] }>('events/query', { types: ['config.**'], limit: 1000 });
    expect(events.events.length).toBeGreaterThan(0);
    expect(JSON.stringify(events)).not.toContain('pw-9f3a');
    await c.request('daemon/status', {});
    expect(filesUnder(d.dataDir).filter((f) => readFileSync(f).includes('pw-9f3a'))).toEqual([]);
    expect(statSync(join(d.dataDir, 'config', 'sensitive.json')).mode & 0o777).toBe(0o600);
  });

  it('imports and exports .env text that round-trips awkward values', async () => {
    await c.request('config/createEnvironment', { name: 'dotenv' });
    const values = {
      QUOTES: `it's "fine"`,
      MULTI: 'first\nsecond',
      HASH: 'x # y',
      EQ: 'k=v',
      PADDED: '  spaced  ',
      UNI: 'naïve ☃ 🚀',
    };
    for (const [key, value] of Object.entries(values)) await c.request('config/set', { environment: 'dotenv', key, value });
    const out = await c.request<{ content: string; omitted: unknown[] }>('config/exportDotenv', { environment: 'dotenv' });
    expect(parse(out.content)).toEqual(values);
    await c.request('config/createEnvironment', { name: 'dotenv-copy' });
    const imported = await c.request('config/importDotenv', { environment: 'dotenv-copy', content: out.content });
    expect(imported).toEqual({ added: Object.keys(values).sort(), changed: [], unchanged: [] });
    const again = await c.request('config/importDotenv', { environment: 'dotenv-copy', content: out.content });
    expect(again).toEqual({ added: [], changed: [], unchanged: Object.keys(values).sort() });
    const before = await lastSeq();
    const refused = await rpcError(c.request('config/importDotenv', { environment: 'dotenv-copy', content: 'EQ=other\nBRAND_NEW=1\n' }));
    expect(refused.code).toBe(ErrorCode.FailedPrecondition);
    expect(await lastSeq()).toBe(before);
  });

  it('refuses bad input with the field named and appends nothing', async () => {
    const before = await lastSeq();
    const unknown = await rpcError(c.request('config/set', { environment: 'nope', key: 'k', value: 1 }));
    expect(unknown.code).toBe(ErrorCode.NotFound);
    expect(unknown.message).toContain('environment');
    const badKey = await rpcError(c.request('config/set', { environment: 'test', key: 'has space', value: 1 }));
    expect(badKey.code).toBe(ErrorCode.InvalidParams);
    expect(JSON.stringify(badKey.data)).toContain('key');
    const big = await rpcError(c.request('config/set', { environment: 'test', key: 'big', value: 'x'.repeat(70_000) }));
    expect(big.code).toBe(ErrorCode.InvalidParams);
    expect(JSON.stringify(big.data)).toContain('value');
    await c.request('config/set', { environment: 'test', key: 'cas', value: 1 });
    const mid = await lastSeq();
    const cas = await rpcError(c.request('config/set', { environment: 'test', key: 'cas', value: 2, expectedVersion: 7 }));
    expect(cas.code).toBe(ErrorCode.Conflict);
    expect(cas.data).toMatchObject({ field: 'expectedVersion', actual: 1 });
    expect(await lastSeq()).toBe(mid);
    expect(mid).toBe(before + 1);
  });

  it('notifies config/didChange without sensitive values', async () => {
    const watcher = await d.connect();
    try {
      await c.request('config/set', { environment: 'test', key: 'watched', value: 'v' });
      await c.request('config/set', { environment: 'test', key: 'watched_secret', value: 'zz-top', sensitive: true });
      const seen = await watcher.waitForNotifications(2, (n) => n.method === 'config/didChange');
      expect(seen.map((n) => n.params)).toEqual([
        { environment: 'test', key: 'watched', version: 1, op: 'set', sensitive: false, value: 'v', seq: expect.any(Number) as number },
        { environment: 'test', key: 'watched_secret', version: 1, op: 'set', sensitive: true, seq: expect.any(Number) as number },
      ]);
    } finally {
      await watcher.close();
    }
  });
});

describe('config over REST', () => {
  const json = async (path: string, init: RequestInit = {}) => {
    const r = await d.http(path, { ...init, headers: { 'content-type': 'application/json' } });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  it('serves every /api/config route (except the secrets audit, which secrets owns)', async () => {
    const envs = await json('/api/config/environments');
    expect(envs.status).toBe(200);
    expect((envs.body.environments as Env[]).find((e) => e.name === 'development')!.entries).toBeDefined();
    expect((await json('/api/config/environments', { method: 'POST', body: JSON.stringify({ name: 'rest' }) })).status).toBe(201);
    const put = await json('/api/config/environments/rest/entries/api.base_url', { method: 'PUT', body: JSON.stringify({ value: 'https://a' }) });
    expect(put).toMatchObject({ status: 200, body: { entry: { version: 1, value: 'https://a' } } });
    await json('/api/config/environments/rest/entries/api.base_url', { method: 'PUT', body: JSON.stringify({ value: 'https://b', expectedVersion: 1 }) });
    expect((await json('/api/config/environments/rest/entries/api.base_url')).body).toMatchObject({ version: 2, value: 'https://b' });
    expect((await json('/api/config/environments/rest/entries/api.base_url?version=1')).body).toMatchObject({ value: 'https://a' });
    expect((await json('/api/config/environments/rest')).body).toMatchObject({ environment: 'rest', entries: [{ key: 'api.base_url' }] });
    const keyHistory = await json('/api/config/environments/rest/entries/api.base_url/history?limit=1');
    expect((keyHistory.body.versions as { version: number }[]).map((v) => v.version)).toEqual([2]);
    expect(keyHistory.body.nextCursor).toBeDefined();
    expect(((await json('/api/config/environments/rest/history')).body.versions as unknown[]).length).toBe(2);
    const rolled = await json('/api/config/environments/rest/entries/api.base_url/rollback', { method: 'POST', body: JSON.stringify({ version: 1 }) });
    expect(rolled.body).toMatchObject({ entry: { version: 3, value: 'https://a' } });
    const diff = await json('/api/config/diff', { method: 'POST', body: JSON.stringify({ from: { environment: 'rest' }, to: { environment: 'test' }, key: 'api.base_url' }) });
    expect(diff.body).toMatchObject({ entries: [{ key: 'api.base_url', change: 'removed' }] });
    const promote = await json('/api/config/promote', { method: 'POST', body: JSON.stringify({ from: 'rest', to: 'test', key: 'api.base_url', dryRun: true }) });
    expect(promote.body).toMatchObject({ applied: false, diff: { entries: [{ change: 'added' }] } });
    const imp = await json('/api/config/environments/rest/dotenv', { method: 'POST', body: JSON.stringify({ content: 'FROM_FILE=yes\n' }) });
    expect(imp.body).toEqual({ added: ['FROM_FILE'], changed: [], unchanged: [] });
    const exp = await json('/api/config/environments/rest/dotenv');
    expect(parse(exp.body.content as string)).toEqual({ FROM_FILE: 'yes', 'api.base_url': 'https://a' });
    const del = await json('/api/config/environments/rest/entries/api.base_url?expectedVersion=3', { method: 'DELETE' });
    expect(del.body).toEqual({ environment: 'rest', key: 'api.base_url', version: 4 });
    const missing = await json('/api/config/environments/nowhere');
    expect(missing.status).toBe(404);
    expect(JSON.stringify(missing.body)).toContain('environment');
    expect((await d.http('/api/config/environments', { token: null })).status).toBe(401);
  });
});

describe('live configuration and restarts', () => {
  it("a second client's live getter sees changes, also across a daemon restart", async () => {
    const clients: DaemonClient[] = [];
    const open = async (name: string) => {
      const client = await connect({ dataDir: d.dataDir, clientName: name, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
      clients.push(client);
      return client;
    };
    try {
      const writer = await open('writer');
      const service = await open('user-service');
      const cfg = await liveConfig(service, { environment: 'production' });
      expect(cfg.get('strict_ssl')).toBe(true);
      expect(cfg.get('missing', 'fallback')).toBe('fallback');
      const changes: LiveConfigChange[] = [];
      const sub = cfg.onChange((ch) => changes.push(ch));
      await writer.request(SetConfig, { environment: 'production', key: 'timeout_ms', value: 2500 });
      await until(() => cfg.get('timeout_ms') === 2500, 'the live getter to see timeout_ms');
      expect(changes).toEqual([
        { environment: 'production', key: 'timeout_ms', version: 1, op: 'set', sensitive: false, value: 2500, previous: undefined },
      ]);

      await d.stop();
      d = await start({ dataDir: d.dataDir });
      c = await d.connect();
      // Changed while the service's connection is down or reconnecting: the refresh after reconnect catches it.
      await c.request('config/set', { environment: 'production', key: 'timeout_ms', value: 4000 });
      await until(() => cfg.get('timeout_ms') === 4000, 'the live getter to see the change made after the restart');
      await until(() => service.state === 'connected', 'the service to reconnect');
      await c.request('config/delete', { environment: 'production', key: 'timeout_ms' });
      await until(() => !cfg.has('timeout_ms'), 'the live getter to see the deletion');
      expect(changes.map((ch) => `${ch.op}@${ch.version}:${String(ch.value)}`)).toEqual(['set@1:2500', 'set@2:4000', 'delete@3:undefined']);
      sub.dispose();
      cfg.dispose();

      // State survived the restart: the history written before it is all there.
      const qa = await c.request<{ versions: { version: number }[] }>('config/history', { environment: 'qa', key: 'pool.size' });
      expect(qa.versions.map((v) => v.version)).toEqual([4, 3, 2, 1]);
      const envs = await c.request<{ environments: Env[] }>('config/listEnvironments', {});
      expect(envs.environments.map((e) => e.name)).toEqual(['development', 'staging', 'production', 'test', 'qa', 'dotenv', 'dotenv-copy', 'rest']);
      expect(await c.request('config/get', { environment: 'staging', key: 'new_checkout' })).toMatchObject({ value: { enabled: true, percent: 0.25 } });
      expect(await c.request('config/get', { environment: 'test', key: 'SMTP_PASSWORD', reveal: true })).toMatchObject({ value: 'pw-9f3a' });
    } finally {
      await Promise.all(clients.map((x) => x.close()));
    }
  });
});
