import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../daemon/protocol';
import { Fernet, generateFernetKey } from '../../../daemon/services/secrets/fernet';
import { runDaemonToExit, type RpcClient, useDaemons, rpcError } from '../helpers/daemonProcess';

const start = useDaemons();

interface Meta {
  id: string;
  currentVersion: number;
  versions: { version: number; state: string }[];
}

/** Every file under `dir` except the vault folder, as one string. */
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

const vaultTokens = (dataDir: string) =>
  (JSON.parse(readFileSync(join(dataDir, 'vault', 'vault.json'), 'utf8')) as { keyCheck: string; entries: { token: string }[] }).entries.map(
    (e) => e.token,
  );

describe('secrets over the real daemon', () => {
  it('create, list, get, rotate, rollback, reveal, audit, delete; values stay out of the log; state survives a restart', async () => {
    const d = await start();
    let c: RpcClient = await d.connect();
    const plain = ['S3cret-value-alpha-42', 'S3cret-value-beta-43'];
    const s = await c.request<Meta>('secrets/create', {
      name: 'payments_api',
      type: 'api_key',
      environment: 'production',
      value: plain[0],
      rotation: { policy: 'custom', customDays: 10 },
      tags: { team: 'payments' },
    });
    expect(s).toMatchObject({ name: 'payments_api', backend: 'local', currentVersion: 1, rotation: { policy: 'custom', customDays: 10 } });
    const generated = await c.request<Meta>('secrets/create', { name: 'jwt', type: 'jwt_secret', environment: 'staging' });
    const listed = await c.request<{ secrets: Record<string, unknown>[] }>('secrets/list', {});
    expect(listed.secrets.map((x) => x.name)).toEqual(['payments_api', 'jwt']);
    expect(JSON.stringify(listed)).not.toContain(plain[0]);
    expect((await c.request<{ secrets: unknown[] }>('secrets/list', { environment: 'staging' })).secrets).toHaveLength(1);
    expect(await c.request<Meta>('secrets/get', { id: s.id })).toMatchObject({ id: s.id, currentVersion: 1 });

    await c.request('secrets/rotate', { id: s.id, value: plain[1], expectedVersion: 1 });
    const stale = await rpcError(c.request('secrets/rotate', { id: s.id, expectedVersion: 1 }));
    expect(stale.code).toBe(ErrorCode.Conflict);
    const rolled = await c.request<Meta>('secrets/rollback', { id: s.id, version: 1 });
    expect(rolled.currentVersion).toBe(3);
    expect(await c.request('secrets/reveal', { id: s.id })).toEqual({ id: s.id, version: 3, value: plain[0] });
    expect((await c.request<{ value: string }>('secrets/reveal', { id: s.id, version: 2 })).value).toBe(plain[1]);
    const generatedValue = (await c.request<{ value: string }>('secrets/reveal', { id: generated.id })).value;
    expect(generatedValue.length).toBeGreaterThan(40);

    // A read-scoped token may list metadata but not reveal values.
    const reader = await c.request<{ token: string }>('auth/createToken', { name: 'reader', scope: 'read' });
    const rc = await d.connect({ token: reader.token });
    expect((await rc.request<{ secrets: unknown[] }>('secrets/list', {})).secrets).toHaveLength(2);
    expect((await rpcError(rc.request('secrets/reveal', { id: s.id }))).code).toBe(ErrorCode.Forbidden);
    await rc.close();

    const bad = await rpcError(c.request('secrets/create', { name: 'x', type: 'not_a_type', environment: 'dev' }));
    expect(bad.code).toBe(ErrorCode.InvalidParams);
    expect(JSON.stringify(bad.data)).toContain('type');
    expect((await rpcError(c.request('secrets/get', { id: 'sec_0000000000000000' }))).code).toBe(ErrorCode.NotFound);

    await c.request('secrets/delete', { id: generated.id });
    const audit = await c.request<{ entries: { action: string; actor: string; secretId: string }[] }>('secrets/audit', { secretId: s.id });
    // The stale rotation and the read token's reveal were refused, and both refusals are in the chain
    // too, naming the secret (the scope refusal is read from the raw params of a secret we hold).
    expect(audit.entries.map((e) => e.action)).toEqual(['denied', 'revealed', 'revealed', 'rolledBack', 'denied', 'rotated', 'created']);
    expect(audit.entries[0]).toMatchObject({ actor: 'reader', secretId: s.id });
    const rest = await d.http(`/api/config/secrets/audit?secretId=${s.id}&limit=2`);
    expect(rest.status).toBe(200);
    expect(((await rest.json()) as { entries: { action: string }[] }).entries.map((e) => e.action)).toEqual(['denied', 'revealed']);
    expect((await d.http('/api/config/secrets/audit?limit=0')).status).toBe(400);
    // 8 successes, the stale rotation and the reader's scope refusal.
    expect(await c.request('secrets/verifyAudit', {})).toEqual({ ok: true, entries: 10 });

    const tokens = vaultTokens(d.dataDir);
    expect(tokens).toHaveLength(3);
    await c.close();
    expect((await d.stop()).code).toBe(0);

    // Neither plaintext nor ciphertext anywhere outside the vault file, nor in the daemon's log.
    const outside = everythingOutsideVault(d.dataDir);
    for (const needle of [...plain, generatedValue, ...tokens]) {
      expect(outside).not.toContain(needle);
      expect(d.stderr()).not.toContain(needle);
    }
    expect(statSync(join(d.dataDir, 'vault', 'master.key')).mode & 0o777).toBe(0o600);

    const again = await start({ dataDir: d.dataDir });
    c = await again.connect();
    expect((await c.request<Meta>('secrets/get', { id: s.id })).versions.map((v) => v.state)).toEqual(['deprecated', 'previous', 'current']);
    expect((await c.request<{ value: string }>('secrets/reveal', { id: s.id, version: 2 })).value).toBe(plain[1]);
    const before = vaultTokens(again.dataDir);
    const oldKey = readFileSync(join(again.dataDir, 'vault', 'master.key'), 'utf8').trim();
    expect(await c.request('secrets/rotateMasterKey', {})).toEqual({ reencrypted: 3 });
    const newKey = readFileSync(join(again.dataDir, 'vault', 'master.key'), 'utf8').trim();
    const vaultText = readFileSync(join(again.dataDir, 'vault', 'vault.json'), 'utf8');
    for (const t of before) expect(vaultText).not.toContain(t);
    for (const t of vaultTokens(again.dataDir)) {
      expect(() => new Fernet(oldKey).decrypt(t)).toThrow(/HMAC/);
      expect(new Fernet(newKey).decrypt(t).length).toBeGreaterThan(0);
    }
    expect((await c.request<{ value: string }>('secrets/reveal', { id: s.id })).value).toBe(plain[0]);
    expect(await c.request('secrets/verifyAudit', {})).toMatchObject({ ok: true });
    await c.close();
  });

  it('refuses to start with a malformed or wrong master key, naming the variable but never the value', async () => {
    const key = generateFernetKey();
    const d = await start({ env: { COGNIFORGE_MASTER_KEY: key } });
    const c = await d.connect();
    await c.request('secrets/create', { name: 'n', type: 'api_key', environment: 'dev' });
    await c.close();
    await d.stop();
    const vaultBefore = readFileSync(join(d.dataDir, 'vault', 'vault.json'), 'utf8');

    const malformed = 'definitely-not-a-fernet-key';
    const m = await runDaemonToExit(['--port', '0', '--data-dir', d.dataDir], { env: { COGNIFORGE_MASTER_KEY: malformed } });
    expect(m.code).toBe(1);
    expect(m.stderr).toContain('COGNIFORGE_MASTER_KEY is not a valid Fernet key');
    expect(m.stderr).not.toContain(malformed);

    const wrong = generateFernetKey();
    const w = await runDaemonToExit(['--port', '0', '--data-dir', d.dataDir], { env: { MASTER_ENCRYPTION_KEY: wrong } });
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/master key from the variable MASTER_ENCRYPTION_KEY does not open the vault/);
    expect(w.stderr).not.toContain(wrong);
    expect(readFileSync(join(d.dataDir, 'vault', 'vault.json'), 'utf8')).toBe(vaultBefore);

    const ok = await start({ dataDir: d.dataDir, env: { MASTER_ENCRYPTION_KEY: key } });
    const c2 = await ok.connect();
    expect((await c2.request<{ secrets: unknown[] }>('secrets/list', {})).secrets).toHaveLength(1);
    expect((await rpcError(c2.request('secrets/rotateMasterKey', {}))).code).toBe(ErrorCode.FailedPrecondition);
    await c2.close();
  });
});
