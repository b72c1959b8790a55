import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, RpcError } from '../../../../daemon/protocol';
import { CreateSecret, RotateSecret } from '../../../../daemon/protocol/secrets';
import { DependencyPolicies } from '../../../../daemon/services/resilience/policies';
import { BackendGateway } from '../../../../daemon/services/secrets/backends/backendGateway';
import { HashicorpVaultBackend } from '../../../../daemon/services/secrets/backends/hashicorpVault';
import { LocalBackend } from '../../../../daemon/services/secrets/backends/localBackend';
import { LocalVault } from '../../../../daemon/services/secrets/localVault';
import { SecretsProjection } from '../../../../daemon/services/secrets/secretsProjection';
import { SecretsService } from '../../../../daemon/services/secrets/secretsService';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { startFakeVault, type FakeVault } from '../../../integration/helpers/fakeVault';
import { MemoryEventLog } from '../support/memoryStore';

let fake: FakeVault;
let dir: string;
let clock: ManualClock;
let log: MemoryEventLog;

beforeAll(async () => {
  fake = await startFakeVault();
});
afterAll(() => fake.close());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-secrets-backends-'));
  clock = new ManualClock(Date.parse('2026-02-01T00:00:00Z'));
  log = new MemoryEventLog();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function open(address = fake.address, defaultBackend: 'local' | 'hashicorp' = 'hashicorp') {
  const projection = new SecretsProjection();
  const store = log.open({ clock, projections: [projection] });
  const vault = LocalVault.open({ dataDir: dir, env: {}, now: () => clock.now() });
  const hashicorp = new HashicorpVaultBackend({ address, token: fake.token, mount: 'secret', pathPrefix: 'cogniforge/', requestTimeoutMs: 2_000 });
  const policies = new DependencyPolicies({ store, clock, dependencies: { vault: { retry: { maxRetries: 0 } } } });
  const gateway = new BackendGateway(defaultBackend, [new LocalBackend(vault), hashicorp], policies, 2_000);
  return { projection, hashicorp, service: new SecretsService(store, projection, vault, clock, gateway) };
}

const create = (s: SecretsService, p: Record<string, unknown>) => s.create(CreateSecret.params.parse(p), 'owner');
const rotate = (s: SecretsService, p: Record<string, unknown>) => s.rotate(RotateSecret.params.parse(p), 'owner');

async function rpcError(p: Promise<unknown> | (() => unknown)): Promise<RpcError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected an RpcError');
}

describe('SecretsService with the HashiCorp Vault backend', () => {
  it('creates in the default backend, rotates, rolls back and reveals; events carry Vault version refs only', async () => {
    const { service } = open();
    const s = await create(service, { name: 'stripe_key', type: 'api_key', environment: 'production', value: 'vault-val-one' });
    expect(s).toMatchObject({ backend: 'hashicorp', location: `cogniforge/production/stripe_key/${s.id}`, versions: [{ version: 1, backendRef: '1' }] });
    expect(fake.stored(s.location!, 1)).toEqual({ value: 'vault-val-one' });
    await rotate(service, { id: s.id, value: 'vault-val-two', expectedVersion: 1 });
    const back = await service.rollback(s.id, 1, 'owner');
    expect(back.versions.map((v) => [v.version, v.backendRef, v.state])).toEqual([
      [1, '1', 'deprecated'],
      [2, '2', 'previous'],
      [3, '3', 'current'],
    ]);
    expect(await service.reveal(s.id, undefined, 'alice')).toEqual({ id: s.id, version: 3, value: 'vault-val-one' });
    expect((await service.reveal(s.id, 2, 'alice')).value).toBe('vault-val-two');
    // Every write to Vault used check-and-set.
    expect(fake.requests.filter((r) => r.startsWith('POST /v1/secret/data/'))).toHaveLength(3);
    const logText = JSON.stringify(log.records);
    for (const v of ['vault-val-one', 'vault-val-two']) expect(logText).not.toContain(v);
  });

  it('honours a per-secret backend: a local secret next to Vault ones', async () => {
    const { service } = open();
    const local = await create(service, { name: 'local_one', type: 'api_key', environment: 'dev', value: 'loc-val', backend: 'local' });
    expect(local.backend).toBe('local');
    expect(local.location).toBeUndefined();
    expect((await service.reveal(local.id, undefined, 'o')).value).toBe('loc-val');
  });

  it('answers Conflict when someone else wrote to Vault since (check-and-set); nothing appended', async () => {
    const { service, hashicorp } = open();
    const s = await create(service, { name: 'racy', type: 'api_key', environment: 'production', value: 'first-val' });
    await hashicorp.write({ secretId: s.id, name: s.name, environment: s.environment, location: s.location! }, { version: 0, value: 'outside', expectedCurrentRef: '1', idempotencyKey: 'k' });
    const before = log.records.length;
    const e = await rpcError(rotate(service, { id: s.id, value: 'mine' }));
    expect(e.code).toBe(ErrorCode.Conflict);
    expect(e.message).toMatch(/secrets backend hashicorp at http:\/\/127\.0\.0\.1:\d+: write version 2 of racy: .*check-and-set/);
    expect(log.records.length).toBe(before);
  });

  it('refuses a backend that is down with BackendUnavailable naming it; nothing appended, no value in the error', async () => {
    const { service } = open('http://127.0.0.1:9');
    const e = await rpcError(create(service, { name: 'down', type: 'api_key', environment: 'production', value: 'never-stored-val' }));
    expect(e.code).toBe(ErrorCode.BackendUnavailable);
    expect(e.message).toContain('secrets backend hashicorp at http://127.0.0.1:9 is unreachable (create down)');
    expect(e.message).not.toContain('never-stored-val');
    expect(log.records.filter((r) => r.type.startsWith('secret.'))).toHaveLength(0);
    expect(service.list({})).toEqual([]);
  });

  it('soft-deletes the Vault versions before recording the delete', async () => {
    const { service } = open();
    const s = await create(service, { name: 'gone', type: 'api_key', environment: 'production', value: 'val-x' });
    await rotate(service, { id: s.id, value: 'val-y' });
    await service.delete(s.id, 'owner');
    expect(fake.requests).toContain(`POST /v1/secret/delete/${s.location}`);
    expect(service.list({})).toEqual([]);
    expect(fake.stored(s.location!, 2)).toEqual({ value: 'val-y' });
  });

  it('answers FailedPrecondition for an unconfigured backend, before anything is written', async () => {
    const { service } = open(fake.address, 'local');
    const e = await rpcError(() => create(service, { name: 'a', type: 'api_key', environment: 'x', value: 'v', backend: 'aws' }));
    expect(e.code).toBe(ErrorCode.FailedPrecondition);
    expect(e.message).toMatch(/"aws" is not configured/);
    expect(log.records).toHaveLength(0);
  });

  it('reports each backend with a health call', async () => {
    const { service } = open();
    const { backends } = await service.backendsStatus();
    expect(backends.map((b) => [b.name, b.configured, b.isDefault, b.healthy])).toEqual([
      ['local', true, false, true],
      ['hashicorp', true, true, true],
      ['aws', false, false, undefined],
    ]);
  });
});
