/**
 * The HashiCorp Vault backend against a real Vault (or OpenBao) server. No such server can be
 * installed on the machines this project is built on, so this suite runs only when VAULT_ADDR (or
 * VAULT_URL) and VAULT_TOKEN name one, e.g. `vault server -dev` then
 * `VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=<root token> npx vitest run test/integration/secrets/hashicorpVaultLive.test.ts`.
 * It uses the KV v2 mount VAULT_KV_MOUNT (default `secret`) under a fresh `cogniforge-test-<random>/`
 * prefix and destroys what it wrote.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { HashicorpVaultBackend } from '../../../daemon/services/secrets/backends/hashicorpVault';
import { BackendConflictError, BackendNotFoundError, type SecretLocator } from '../../../daemon/services/secrets/backends/secretBackend';

const address = process.env.VAULT_ADDR ?? process.env.VAULT_URL;
const token = process.env.VAULT_TOKEN;
const skipReason = !address || !token ? 'VAULT_ADDR (or VAULT_URL) and VAULT_TOKEN are not set' : undefined;
if (skipReason) console.log(`skipped: HashiCorp Vault live suite: ${skipReason}`);

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(skipReason !== undefined)('HashicorpVaultBackend against a live Vault', () => {
  const prefix = `cogniforge-test-${randomBytes(4).toString('hex')}/`;
  const b = new HashicorpVaultBackend({
    address: (address ?? '').replace(/\/+$/, ''),
    token: token ?? '',
    mount: process.env.VAULT_KV_MOUNT ?? 'secret',
    pathPrefix: prefix,
    ...(process.env.VAULT_NAMESPACE ? { namespace: process.env.VAULT_NAMESPACE } : {}),
    requestTimeoutMs: 10_000,
  });
  const l: SecretLocator = { secretId: `sec_${randomBytes(8).toString('hex')}`, name: 'live_check', environment: 'test' };
  const written: string[] = [];
  afterAll(async () => {
    if (written.length > 0) await b.destroy(l, written);
  });

  it('writes with cas, reads versions, rolls back, soft-deletes / undeletes / destroys, lists, answers health', async () => {
    expect((await b.health()).ok).toBe(true);
    const v1 = await b.write(l, { version: 1, value: 'live-one', expectedCurrentRef: undefined, idempotencyKey: 'k1' });
    written.push(v1.ref);
    const v2 = await b.write(l, { version: 2, value: 'live-two', expectedCurrentRef: v1.ref, idempotencyKey: 'k2' });
    written.push(v2.ref);
    expect(await rejection(b.write(l, { version: 3, value: 'late', expectedCurrentRef: v1.ref, idempotencyKey: 'k3' }))).toBeInstanceOf(
      BackendConflictError,
    );
    expect(await b.read(l, v1.ref)).toBe('live-one');
    const v3 = await b.write(l, { version: 3, value: await b.read(l, v1.ref), expectedCurrentRef: v2.ref, idempotencyKey: 'k3' });
    written.push(v3.ref);
    expect(await b.read(l, v3.ref)).toBe('live-one');
    expect((await b.versions(l)).map((v) => v.ref)).toEqual(written);
    expect(await b.list('test')).toEqual(['live_check/']);
    await b.delete(l, [v2.ref]);
    expect(await rejection(b.read(l, v2.ref))).toBeInstanceOf(BackendNotFoundError);
    await b.restore(l, [v2.ref]);
    expect(await b.read(l, v2.ref)).toBe('live-two');
    await b.destroy(l, [v1.ref]);
    expect((await b.versions(l))[0]!.labels).toContain('destroyed');
  });
});
