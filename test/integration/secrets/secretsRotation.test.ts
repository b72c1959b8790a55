import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../daemon/protocol';
import { rpcError, sleep, useDaemons, type RpcClient } from '../helpers/daemonProcess';

const start = useDaemons();

interface Meta {
  id: string;
  name: string;
  currentVersion: number;
  versions: { version: number; state: string; graceUntil?: string; deleted?: boolean; destroyed?: boolean }[];
  hook?: { kind: string };
  lastHookRun?: { ok: boolean; exitCode?: number; output?: string; version: number };
}
interface AuditEntry {
  action: string;
  outcome: string;
  actor: string;
  attempted?: string;
  reason?: string;
  secretId?: string;
}
interface HistoryEntry {
  kind: string;
  version?: number;
  detail?: string;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function everythingOutsideVault(dir: string): string {
  let text = '';
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (relative(dir, p) !== 'vault') text += everythingOutsideVault(p);
    } else text += readFileSync(p).toString('latin1');
  }
  return text;
}

const HOOK_SCRIPT = [
  'let v = "";',
  'process.stdin.on("data", (c) => (v += c));',
  'process.stdin.on("end", () => {',
  '  console.log(`deploying ${process.env.COGNIFORGE_SECRET_NAME}@${process.env.COGNIFORGE_SECRET_VERSION}: ${v}`);',
  '  console.error(`argv has ${process.argv.length - 1} args`);',
  '});',
].join('\n');

describe('secret rotation over the real daemon', () => {
  it('hooks, grace timers, dueForRotation, rotateMany, version actions, refusals in the audit; state survives a restart; no value leaks', async () => {
    const d = await start({ env: { SECRETS_ROTATION_GRACE_HOURS: '48' } });
    let c: RpcClient = await d.connect();
    const values = ['hooked-value-one-111', 'hooked-value-two-222', 'hooked-value-three-333'];

    const s = await c.request<Meta>('secrets/create', { name: 'payments', type: 'api_key', environment: 'production', value: values[0], rotation: { policy: 'daily' } });
    const hook = { kind: 'command', command: process.execPath, args: ['-e', HOOK_SCRIPT], valueOnStdin: true };

    // Setting a hook runs code: a write-scoped token is refused, and the refusal is audited.
    const writer = await c.request<{ token: string }>('auth/createToken', { name: 'ci-writer', scope: 'write' });
    const reader = await c.request<{ token: string }>('auth/createToken', { name: 'dashboard', scope: 'read' });
    const wc = await d.connect({ token: writer.token });
    const rc = await d.connect({ token: reader.token });
    expect((await rpcError(wc.request('secrets/setHook', { id: s.id, hook }))).code).toBe(ErrorCode.Forbidden);
    expect((await rpcError(rc.request('secrets/reveal', { id: s.id }))).code).toBe(ErrorCode.Forbidden);
    expect((await rpcError(c.request('secrets/reveal', { id: s.id, version: 7 }))).code).toBe(ErrorCode.NotFound);
    // The router answers a refusal only once it is in the audit: no waiting needed.
    const denied = (await c.request<{ entries: AuditEntry[] }>('secrets/audit', { limit: 10 })).entries.filter((x) => x.action === 'denied');
    expect(denied.map((e) => [e.actor, e.outcome, e.attempted]).sort()).toEqual([
      ['ci-writer', 'denied', 'secrets/setHook'],
      ['dashboard', 'denied', 'secrets/reveal'],
      ['owner', 'denied', 'secrets/reveal'],
    ]);
    expect(denied.find((e) => e.attempted === 'secrets/reveal' && e.actor === 'owner')?.reason).toMatch(/no version 7/);
    // Scope refusals name the secret too (read from the raw params, only when it is one the daemon holds).
    expect(denied.filter((e) => e.outcome === 'denied').every((e) => e.secretId === s.id)).toBe(true);
    await wc.close();
    await rc.close();

    // A command hook gets the new value on stdin only; its output is recorded masked.
    expect((await c.request<Meta>('secrets/setHook', { id: s.id, hook })).hook).toMatchObject({ kind: 'command' });
    const rotated = await c.request<Meta>('secrets/rotate', { id: s.id, value: values[1] });
    const grace = Date.parse(rotated.versions[0]!.graceUntil!) - Date.now();
    expect(grace).toBeGreaterThan(47 * 3_600_000);
    expect(grace).toBeLessThanOrEqual(48 * 3_600_000);
    const run = await until('the hook result', async () => (await c.request<Meta>('secrets/get', { id: s.id })).lastHookRun);
    expect(run).toMatchObject({ ok: true, exitCode: 0, version: 2 });
    expect(run.output).toContain('deploying payments@2: [secret value]');
    expect(run.output).toContain('argv has 0 args');
    const history = (await c.request<{ entries: HistoryEntry[] }>('secrets/history', { id: s.id })).entries;
    expect(history.slice(0, 3).map((e) => e.kind)).toEqual(['hookRan', 'rotated', 'hookSet']);

    // dueForRotation and the scheduler's timers.
    expect((await c.request<{ secrets: unknown[] }>('secrets/dueForRotation', {})).secrets).toEqual([]);
    const soon = await c.request<{ secrets: { id: string; overdueMs: number }[] }>('secrets/dueForRotation', { withinHours: 25 });
    expect(soon.secrets.map((x) => x.id)).toEqual([s.id]);
    expect(soon.secrets[0]!.overdueMs).toBeLessThan(0);
    const timers = async () => (await c.request<{ timers: { kind: string }[] }>('scheduler/list', {})).timers.map((t) => t.kind).filter((k) => k.startsWith('secrets.')).sort();
    await until('both rotation timers', async () => ((await timers()).length === 2 ? true : undefined));
    expect(await timers()).toEqual(['secrets.endGrace', 'secrets.rotateDue']);

    // A zero grace period: the grace timer deprecates the old version right after the rotation.
    const quick = await c.request<Meta>('secrets/create', { name: 'quick', type: 'jwt_secret', environment: 'dev', rotation: { policy: 'weekly', graceHours: 0 } });
    await c.request('secrets/rotate', { id: quick.id });
    const states = await until('the grace timer', async () => {
      const v = (await c.request<Meta>('secrets/get', { id: quick.id })).versions.map((x) => x.state);
      return v[0] === 'deprecated' ? v : undefined;
    });
    expect(states).toEqual(['deprecated', 'current']);

    // Bulk rotation in one call, while another connection keeps querying.
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await c.request<Meta>('secrets/create', { name: `bulk_${i}`, type: 'api_key', environment: 'staging' })).id);
    const other = await d.connect();
    let answered = 0;
    let bulkDone = false;
    const bulk = c.request<{ rotated: number; failed: number }>('secrets/rotateMany', { filter: { environment: 'staging' } }).finally(() => (bulkDone = true));
    while (!bulkDone) {
      await other.request('secrets/list', { environment: 'dev' });
      answered++;
    }
    expect(await bulk).toMatchObject({ rotated: 60, failed: 0 });
    expect(answered).toBeGreaterThan(0);
    await other.close();
    const bad = await rpcError(c.request('secrets/rotateMany', { ids: [s.id], due: true }));
    expect(bad.code).toBe(ErrorCode.InvalidParams);

    // Version actions on the local vault.
    await c.request('secrets/rotate', { id: s.id, value: values[2] });
    await until('hook runs to finish', async () => ((await c.request<Meta>('secrets/get', { id: s.id })).lastHookRun?.version === 3 ? true : undefined));
    await c.request('secrets/deleteVersion', { id: s.id, version: 1 });
    expect((await rpcError(c.request('secrets/reveal', { id: s.id, version: 1 }))).code).toBe(ErrorCode.FailedPrecondition);
    await c.request('secrets/undeleteVersion', { id: s.id, version: 1 });
    expect((await c.request<{ value: string }>('secrets/reveal', { id: s.id, version: 1 })).value).toBe(values[0]);
    await c.request('secrets/destroyVersion', { id: s.id, version: 1 });
    const restored = await c.request<Meta>('secrets/restorePrevious', { id: s.id });
    expect(restored.currentVersion).toBe(2);
    expect(restored.versions.map((v) => [v.version, v.state, v.destroyed ?? false])).toEqual([
      [1, 'deprecated', true],
      [2, 'current', false],
      [3, 'previous', false],
    ]);
    expect(await c.request('secrets/verifyAudit', {})).toMatchObject({ ok: true });
    await c.close();
    expect((await d.stop()).code).toBe(0);

    // Restart: hook, history, grace deadlines and timers are all still there.
    const again = await start({ dataDir: d.dataDir, env: { SECRETS_ROTATION_GRACE_HOURS: '48' } });
    c = await again.connect();
    const after = await c.request<Meta>('secrets/get', { id: s.id });
    expect(after.hook).toMatchObject({ kind: 'command' });
    expect(after.versions[2]!.graceUntil).toBeDefined();
    expect((await c.request<{ entries: HistoryEntry[] }>('secrets/history', { id: s.id, limit: 3 })).entries.map((e) => e.kind)).toEqual([
      'restored',
      'versionDestroyed',
      'revealed',
    ]);
    expect(await c.request('secrets/verifyAudit', {})).toMatchObject({ ok: true });
    expect((await c.request<{ secrets: unknown[] }>('secrets/dueForRotation', { withinHours: 25 })).secrets.length).toBe(1);
    expect(await timers()).toEqual(['secrets.endGrace', 'secrets.rotateDue']);
    await c.close();
    await again.stop();

    const stderr = d.stderr() + again.stderr();
    const disk = everythingOutsideVault(d.dataDir);
    for (const v of values) {
      expect(stderr).not.toContain(v);
      expect(disk).not.toContain(v);
    }
  }, 120_000);
});
