import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, RpcError } from '../../../../daemon/protocol';
import { CreateSecret, RotateSecret, SecretsAuditRequest } from '../../../../daemon/protocol/secrets';
import { verifyAuditChain } from '../../../../daemon/services/secrets/auditChain';
import { LocalVault } from '../../../../daemon/services/secrets/localVault';
import { SecretsProjection } from '../../../../daemon/services/secrets/secretsProjection';
import { SecretsService } from '../../../../daemon/services/secrets/secretsService';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

let dir: string;
let clock: ManualClock;
let log: MemoryEventLog;

function open() {
  const projection = new SecretsProjection();
  const store = log.open({ clock, projections: [projection] });
  const vault = LocalVault.open({ dataDir: dir, env: {}, now: () => clock.now() });
  return { projection, store, vault, service: new SecretsService(store, projection, vault, clock) };
}

const create = (s: SecretsService, p: Record<string, unknown>, actor = 'owner') => s.create(CreateSecret.params.parse(p), actor);
const rotate = (s: SecretsService, p: Record<string, unknown>, actor = 'owner') => s.rotate(RotateSecret.params.parse(p), actor);

async function rpcError(p: Promise<unknown> | (() => unknown)): Promise<RpcError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected an RpcError');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-secrets-'));
  clock = new ManualClock(Date.parse('2026-02-01T00:00:00Z'));
  log = new MemoryEventLog();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SecretsService', () => {
  it('creates, rotates, rolls back and reveals; events carry only version references', async () => {
    const { service } = open();
    const s = await create(service, { name: 'db_password', type: 'database_password', environment: 'production', value: 'p@ss-one', rotation: { policy: 'monthly' }, tags: { team: 'core' } });
    expect(s).toMatchObject({ name: 'db_password', backend: 'local', currentVersion: 1, nextRotation: '2026-03-03T00:00:00.000Z', tags: { team: 'core' } });
    clock.advance(1000);
    const r = await rotate(service, { id: s.id, value: 'p@ss-two', expectedVersion: 1 });
    expect(r.versions.map((v) => [v.version, v.state])).toEqual([[1, 'previous'], [2, 'current']]);
    await rotate(service, { id: s.id, value: 'p@ss-three' });
    const back = await service.rollback(s.id, 1, 'owner');
    expect(back.currentVersion).toBe(4);
    expect(back.versions.map((v) => v.state)).toEqual(['deprecated', 'deprecated', 'previous', 'current']);
    expect(back.versions[3]).toMatchObject({ rolledBackFrom: 1 });
    expect(await service.reveal(s.id, undefined, 'alice')).toEqual({ id: s.id, version: 4, value: 'p@ss-one' });
    expect((await service.reveal(s.id, 3, 'alice')).value).toBe('p@ss-three');

    expect(log.records.map((e) => e.type)).toEqual(['secret.created', 'secret.rotated', 'secret.rotated', 'secret.rolledBack', 'secret.revealed', 'secret.revealed']);
    const vaultText = readFileSync(join(dir, 'vault', 'vault.json'), 'utf8');
    const tokens = (JSON.parse(vaultText) as { entries: { token: string }[] }).entries.map((e) => e.token);
    const logText = JSON.stringify(log.records);
    for (const needle of ['p@ss-one', 'p@ss-two', 'p@ss-three', ...tokens]) expect(logText).not.toContain(needle);
    expect(vaultText).not.toContain('p@ss');
  });

  it('generates values in the shape of each type, refuses to generate a certificate', async () => {
    const { service } = open();
    const api = await create(service, { name: 'k', type: 'api_key', environment: 'dev' });
    expect((await service.reveal(api.id, undefined, 'owner')).value).toMatch(/^cf_[\w-]{43}$/);
    const jwt = await create(service, { name: 'j', type: 'jwt_secret', environment: 'dev', generate: true });
    expect(Buffer.from((await service.reveal(jwt.id, undefined, 'owner')).value, 'base64url')).toHaveLength(64);
    const pw = await create(service, { name: 'p', type: 'database_password', environment: 'dev' });
    const password = (await service.reveal(pw.id, undefined, 'owner')).value;
    expect(password).toHaveLength(32);
    for (const cls of [/[a-z]/, /[A-Z]/, /\d/, /[-_.~!*]/]) expect(password).toMatch(cls);
    const enc = await create(service, { name: 'e', type: 'encryption_key', environment: 'dev' });
    expect(Buffer.from((await service.reveal(enc.id, undefined, 'owner')).value, 'base64url')).toHaveLength(32);
    const e = await rpcError(create(service, { name: 'c', type: 'certificate', environment: 'dev' }));
    expect(e.code).toBe(ErrorCode.InvalidParams);
    expect(e.message).toMatch(/value/);
  });

  it('refuses bad input clearly and changes nothing', async () => {
    const { service, vault } = open();
    const s = await create(service, { name: 'a', type: 'api_key', environment: 'dev', value: 'v1' });
    const before = log.records.length;
    expect((await rpcError(create(service, { name: 'a', type: 'api_key', environment: 'dev', value: 'x' }))).code).toBe(ErrorCode.Duplicate);
    expect((await rpcError(() => create(service, { name: 'b', type: 'api_key', environment: 'dev', value: 'x', generate: true }))).code).toBe(ErrorCode.InvalidParams);
    expect((await rpcError(() => create(service, { name: 'b', type: 'api_key', environment: 'dev', generate: false }))).message).toMatch(/value/);
    expect((await rpcError(rotate(service, { id: 'sec_ffffffffffffffff' }))).code).toBe(ErrorCode.NotFound);
    const unknownVersion = await rpcError(service.reveal(s.id, 9, 'owner'));
    expect(unknownVersion.code).toBe(ErrorCode.NotFound);
    expect(unknownVersion.data).toMatchObject({ kind: 'secretVersion', version: 9 });
    expect((await rpcError(service.rollback(s.id, 1, 'owner'))).code).toBe(ErrorCode.FailedPrecondition);
    expect(log.records.length).toBe(before);
    expect(vault.size).toBe(1);
    const schema = CreateSecret.params.safeParse({ name: '1bad', type: 'nope', environment: 'dev' });
    expect(schema.success).toBe(false);
    expect(schema.error?.issues.map((i) => i.path[0]).sort()).toEqual(['name', 'type']);
    expect(RotateSecret.params.safeParse({ id: s.id, expectedVersion: 0 }).success).toBe(false);
  });

  it('lets one of two racing rotations win; the other gets Conflict', async () => {
    const { service } = open();
    const s = await create(service, { name: 'race', type: 'api_key', environment: 'dev' });
    const results = await Promise.allSettled([rotate(service, { id: s.id, expectedVersion: 1 }), rotate(service, { id: s.id, expectedVersion: 1 })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((rejected.reason as RpcError).code).toBe(ErrorCode.Conflict);
    expect(service.get(s.id).currentVersion).toBe(2);
  });

  it('keeps a hash-chained audit that detects tampering, filtered by secret and actor', async () => {
    const { service, projection } = open();
    const a = await create(service, { name: 'a', type: 'api_key', environment: 'dev' }, 'ci');
    const b = await create(service, { name: 'b', type: 'api_key', environment: 'dev' });
    await service.reveal(a.id, undefined, 'alice');
    await rotate(service, { id: b.id }, 'ci');
    await service.delete(b.id, 'owner');
    const all = service.audit(SecretsAuditRequest.params.parse({}));
    expect(all.map((e) => e.action)).toEqual(['deleted', 'rotated', 'revealed', 'created', 'created']);
    expect(service.audit(SecretsAuditRequest.params.parse({ actor: 'ci' })).map((e) => e.action)).toEqual(['rotated', 'created']);
    expect(service.audit(SecretsAuditRequest.params.parse({ secretId: a.id })).map((e) => e.action)).toEqual(['revealed', 'created']);
    expect(service.audit(SecretsAuditRequest.params.parse({ limit: 2 }))).toHaveLength(2);
    expect(service.list({})).toHaveLength(1);

    const trail = projection.auditTrail();
    for (let i = 1; i < trail.length; i++) expect(trail[i]!.prevHash).toBe(trail[i - 1]!.hash);
    expect(verifyAuditChain(trail)).toEqual({ ok: true, entries: 5 });
    expect(await service.verifyAudit()).toEqual({ ok: true, entries: 5 });

    const altered = structuredClone([...trail]);
    altered[2]!.actor = 'mallory';
    expect(verifyAuditChain(altered)).toMatchObject({ ok: false, brokenAtSeq: altered[2]!.seq });
    const removed = [...trail.slice(0, 1), ...trail.slice(2)];
    expect(verifyAuditChain(removed)).toMatchObject({ ok: false, brokenAtSeq: trail[2]!.seq });
    // Tampering with the stored event itself is found by verifyAudit, which re-reads the log.
    (log.records[2]!.actor as string) = 'mallory';
    expect(await service.verifyAudit()).toMatchObject({ ok: false, brokenAtSeq: log.records[2]!.seq });
  });

  it('deletes every version from the vault file; state and values survive a restart', async () => {
    const first = open();
    const keep = await create(first.service, { name: 'keep', type: 'webhook_secret', environment: 'staging', value: 'whsec_keep' });
    const gone = await create(first.service, { name: 'gone', type: 'api_key', environment: 'staging', value: 'gone-1' });
    await rotate(first.service, { id: gone.id, value: 'gone-2' });
    await first.service.delete(gone.id, 'owner');
    expect(first.vault.size).toBe(1);
    expect(readFileSync(join(dir, 'vault', 'vault.json'), 'utf8')).not.toContain(gone.id);
    await first.store.snapshot();
    await rotate(first.service, { id: keep.id, value: 'whsec_keep2' });

    const second = open();
    expect(second.service.list({ environment: 'staging' }).map((s) => [s.name, s.currentVersion])).toEqual([['keep', 2]]);
    expect((await second.service.reveal(keep.id, 1, 'owner')).value).toBe('whsec_keep');
    expect(await second.service.verifyAudit()).toMatchObject({ ok: true });
    expect((await second.service.rotateMasterKey('owner')).reencrypted).toBe(2);
    expect((await second.service.reveal(keep.id, 2, 'owner')).value).toBe('whsec_keep2');
  });
});
