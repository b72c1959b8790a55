import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../daemon/protocol';
import { AWSCURRENT, AWSPREVIOUS, AwsSecretsManagerBackend } from '../../../daemon/services/secrets/backends/awsSecretsManager';
import { HashicorpVaultBackend } from '../../../daemon/services/secrets/backends/hashicorpVault';
import { startFakeVault, type FakeVault } from '../helpers/fakeVault';
import { MOTO_ENV, motoUnavailableReason, startMoto, type MotoServer } from '../helpers/moto';
import { makeTempDir, rpcError, runDaemonToExit, useDaemons, type DaemonProcess, type RpcClient } from '../helpers/daemonProcess';

const skipReason = motoUnavailableReason();
if (skipReason) console.log(`skipped: secrets backends through the daemon (aws + hashicorp): ${skipReason}`);

interface Meta {
  id: string;
  name: string;
  environment: string;
  backend: string;
  location?: string;
  currentVersion: number;
  versions: { version: number; state: string; backendRef?: string }[];
}

/** Every file under `dir` except the local vault folder, as one string. */
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

describe.skipIf(skipReason !== undefined)('secrets in AWS Secrets Manager (moto) and HashiCorp Vault (KV v2 test server) through the daemon', () => {
  const start = useDaemons();
  let moto: MotoServer;
  let vault: FakeVault;
  let env: Record<string, string>;
  beforeAll(async () => {
    [moto, vault] = await Promise.all([startMoto(), startFakeVault()]);
    env = {
      ...MOTO_ENV,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
      VAULT_BACKEND: 'aws',
      VAULT_URL: vault.address,
      VAULT_TOKEN: vault.token,
      COGNIFORGE_SECRETS_BACKEND_TIMEOUT_MS: '3000',
    };
  }, 60_000);
  afterAll(async () => {
    await Promise.all([moto?.stop(), vault?.close()]);
  });

  it('create / rotate / rollback / reveal in both backends, survive a restart, fail clearly when one is down; no value in log or stderr', async () => {
    const values = ['aws-val-alpha-1', 'aws-val-bravo-2', 'hc-val-charlie-3', 'hc-val-delta-4'];
    const daemons: DaemonProcess[] = [];
    const d = await start({ env });
    daemons.push(d);
    let c: RpcClient = await d.connect();

    const { backends } = await c.request<{ backends: { name: string; configured: boolean; isDefault: boolean; healthy?: boolean; address?: string }[] }>(
      'secrets/backends',
      {},
    );
    expect(backends.map((b) => [b.name, b.configured, b.isDefault, b.healthy])).toEqual([
      ['local', true, false, true],
      ['hashicorp', true, false, true],
      ['aws', true, true, true],
    ]);
    expect(backends[2]!.address).toBe(moto.endpoint);

    // AWS, the default backend (VAULT_BACKEND=aws).
    const a = await c.request<Meta>('secrets/create', { name: 'payments_api', type: 'api_key', environment: 'production', value: values[0] });
    expect(a).toMatchObject({ backend: 'aws', location: `cogniforge/production/payments_api/${a.id}`, currentVersion: 1 });
    await c.request('secrets/rotate', { id: a.id, value: values[1], expectedVersion: 1 });
    expect((await rpcError(c.request('secrets/rotate', { id: a.id, expectedVersion: 1 }))).code).toBe(ErrorCode.Conflict);
    expect(await c.request('secrets/reveal', { id: a.id })).toEqual({ id: a.id, version: 2, value: values[1] });
    const aBack = await c.request<Meta>('secrets/rollback', { id: a.id, version: 1 });
    expect(aBack.versions.map((v) => [v.version, v.state])).toEqual([
      [1, 'deprecated'],
      [2, 'previous'],
      [3, 'current'],
    ]);
    expect(new Set(aBack.versions.map((v) => v.backendRef)).size).toBe(3);
    expect((await c.request<{ value: string }>('secrets/reveal', { id: a.id })).value).toBe(values[0]);
    // What AWS itself holds: AWSCURRENT on the rollback's version, three versions.
    const aws = new AwsSecretsManagerBackend({
      region: MOTO_ENV.AWS_REGION,
      endpoint: moto.endpoint,
      credentials: { accessKeyId: MOTO_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: MOTO_ENV.AWS_SECRET_ACCESS_KEY },
      namePrefix: 'cogniforge/',
      recoveryWindowDays: 7,
    });
    const awsLoc = { secretId: a.id, name: a.name, environment: a.environment, location: a.location! };
    expect(await aws.readStage(awsLoc, AWSCURRENT)).toBe(values[0]);
    expect((await aws.versions(awsLoc)).find((v) => v.labels.includes(AWSCURRENT))?.ref).toBe(aBack.versions[2]!.backendRef);

    // HashiCorp Vault, chosen per secret.
    const h = await c.request<Meta>('secrets/create', {
      name: 'db_password',
      type: 'database_password',
      environment: 'staging',
      value: values[2],
      backend: 'hashicorp',
    });
    expect(h).toMatchObject({ backend: 'hashicorp', location: `cogniforge/staging/db_password/${h.id}`, versions: [{ backendRef: '1' }] });
    await c.request('secrets/rotate', { id: h.id, value: values[3] });
    await c.request('secrets/rollback', { id: h.id, version: 1 });
    expect(vault.stored(h.location!, 3)).toEqual({ value: values[2] });
    expect((await c.request<{ value: string }>('secrets/reveal', { id: h.id, version: 2 })).value).toBe(values[3]);

    // A local one still works beside them.
    const l = await c.request<Meta>('secrets/create', { name: 'local_one', type: 'jwt_secret', environment: 'dev', backend: 'local' });
    expect(l.backend).toBe('local');
    await c.close();
    await d.stop();

    const d2 = await start({ env, dataDir: d.dataDir });
    daemons.push(d2);
    c = await d2.connect();
    expect(await c.request('secrets/reveal', { id: a.id })).toEqual({ id: a.id, version: 3, value: values[0] });
    expect((await c.request<{ value: string }>('secrets/reveal', { id: a.id, version: 2 })).value).toBe(values[1]);
    expect(await c.request('secrets/reveal', { id: h.id })).toEqual({ id: h.id, version: 3, value: values[2] });
    expect((await c.request<Meta>('secrets/get', { id: h.id })).versions.map((v) => v.backendRef)).toEqual(['1', '2', '3']);

    // Versions through one API. Vault: soft delete, undelete, destroy as KV v2 does them.
    const kv = new HashicorpVaultBackend({ address: vault.address, token: vault.token, mount: 'secret', pathPrefix: 'cogniforge/', requestTimeoutMs: 3000 });
    const hLoc = { secretId: h.id, name: h.name, environment: h.environment, location: h.location! };
    const labelsOf = async (ref: string) => (await kv.versions(hLoc)).find((v) => v.ref === ref)?.labels;
    await c.request('secrets/deleteVersion', { id: h.id, version: 1 });
    expect(await labelsOf('1')).toEqual(['deleted']);
    expect((await rpcError(c.request('secrets/reveal', { id: h.id, version: 1 }))).message).toMatch(/deleted/);
    await c.request('secrets/undeleteVersion', { id: h.id, version: 1 });
    expect(await labelsOf('1')).toEqual([]);
    expect((await c.request<{ value: string }>('secrets/reveal', { id: h.id, version: 1 })).value).toBe(values[2]);
    const destroyed = await c.request<Meta & { versions: { destroyed?: boolean }[] }>('secrets/destroyVersion', { id: h.id, version: 1 });
    expect(destroyed.versions[0]).toMatchObject({ version: 1, destroyed: true });
    expect(await labelsOf('1')).toEqual(['destroyed']);
    expect((await rpcError(c.request('secrets/deleteVersion', { id: h.id, version: 3 }))).code).toBe(ErrorCode.FailedPrecondition);
    // Vault has no current pointer: restoring the previous version is its rollback (a new version).
    const hRestored = await c.request<Meta>('secrets/restorePrevious', { id: h.id });
    expect(hRestored).toMatchObject({ currentVersion: 4, versions: [{}, {}, {}, { version: 4, backendRef: '4', rolledBackFrom: 2 }] });
    expect(vault.stored(h.location!, 4)).toEqual({ value: values[3] });

    // AWS: restoring the previous version moves AWSCURRENT back to AWSPREVIOUS, no new version.
    const aRestored = await c.request<Meta>('secrets/restorePrevious', { id: a.id });
    expect(aRestored.currentVersion).toBe(2);
    expect(aRestored.versions.map((v) => v.state)).toEqual(['deprecated', 'current', 'previous']);
    expect(await aws.readStage(awsLoc, AWSCURRENT)).toBe(values[1]);
    expect(await aws.readStage(awsLoc, AWSPREVIOUS)).toBe(values[0]);
    expect(await c.request('secrets/reveal', { id: a.id })).toEqual({ id: a.id, version: 2, value: values[1] });
    const noPerVersion = await rpcError(c.request('secrets/deleteVersion', { id: a.id, version: 1 }));
    expect(noPerVersion.code).toBe(ErrorCode.FailedPrecondition);
    expect(noPerVersion.message).toMatch(/AWS Secrets Manager cannot delete a single version/);

    // Vault goes down: a clear, quick error naming the backend and its address; nothing recorded.
    const auditBefore = (await c.request<{ entries: unknown[] }>('secrets/audit', { limit: 1000 })).entries.length;
    await vault.close();
    const down = await rpcError(c.request('secrets/rotate', { id: h.id, value: 'hc-never-written-5' }));
    expect(down.code).toBe(ErrorCode.BackendUnavailable);
    expect(down.message).toContain(`secrets backend hashicorp at ${vault.address} is unreachable`);
    expect(down.message).not.toContain('hc-never-written-5');
    expect((await rpcError(c.request('secrets/reveal', { id: h.id }))).code).toBe(ErrorCode.BackendUnavailable);
    expect((await c.request<Meta>('secrets/get', { id: h.id })).currentVersion).toBe(4);
    // The two attempts are audited as failed, with the reason; nothing else changed.
    const afterDown = (await c.request<{ entries: { action: string; outcome: string; attempted?: string; reason?: string }[] }>('secrets/audit', { limit: 1000 })).entries;
    expect(afterDown.length).toBe(auditBefore + 2);
    expect(afterDown.slice(0, 2).map((e) => [e.action, e.outcome, e.attempted])).toEqual([
      ['denied', 'failed', 'secrets/reveal'],
      ['denied', 'failed', 'secrets/rotate'],
    ]);
    expect(afterDown[1]!.reason).toContain('unreachable');
    expect(JSON.stringify(afterDown)).not.toContain('hc-never-written-5');
    const health = await c.request<{ backends: { name: string; healthy?: boolean; detail?: string }[] }>('secrets/backends', {});
    expect(health.backends.find((b) => b.name === 'hashicorp')).toMatchObject({ healthy: false });
    expect(health.backends.find((b) => b.name === 'aws')).toMatchObject({ healthy: true });

    // Delete in AWS: scheduled for deletion with a recovery window, gone from the list.
    await c.request('secrets/delete', { id: a.id });
    expect((await c.request<{ secrets: Meta[] }>('secrets/list', {})).secrets.map((s) => s.name)).toEqual(['local_one', 'db_password']);
    await expect(aws.readStage(awsLoc, AWSCURRENT)).rejects.toThrow();
    await aws.restore(awsLoc, []);
    expect(await aws.readStage(awsLoc, AWSCURRENT)).toBe(values[1]);
    await c.close();
    await d2.stop();

    const stderr = daemons.map((x) => x.stderr()).join('\n');
    const disk = everythingOutsideVault(d.dataDir);
    for (const v of [...values, 'hc-never-written-5']) {
      expect(stderr).not.toContain(v);
      expect(disk).not.toContain(v);
    }
    expect(stderr).not.toContain(vault.token);
  }, 90_000);

  it('refuses to start with a bad VAULT_BACKEND, naming the variable and never the token', async () => {
    const dataDir = join(makeTempDir(), 'data');
    const m = await runDaemonToExit(['--port', '0', '--data-dir', dataDir], { env: { ...env, VAULT_BACKEND: 'gcp' } });
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/VAULT_BACKEND: must be local, hashicorp or aws \(got "gcp"\)/);
    expect(m.stderr).not.toContain(vault.token);
  });
});
