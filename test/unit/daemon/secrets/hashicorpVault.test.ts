import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, RpcError } from '../../../../daemon/protocol';
import { DependencyPolicies } from '../../../../daemon/services/resilience/policies';
import { BackendGateway } from '../../../../daemon/services/secrets/backends/backendGateway';
import { HashicorpVaultBackend } from '../../../../daemon/services/secrets/backends/hashicorpVault';
import {
  BackendConflictError,
  BackendNotFoundError,
  BackendRefusedError,
  type SecretLocator,
} from '../../../../daemon/services/secrets/backends/secretBackend';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { startFakeVault, type FakeVault } from '../../../integration/helpers/fakeVault';
import { MemoryEventLog } from '../support/memoryStore';

let vault: FakeVault;
beforeAll(async () => {
  vault = await startFakeVault({ mount: 'kv' });
});
afterAll(() => vault.close());

const backend = (over: { address?: string; token?: string } = {}) =>
  new HashicorpVaultBackend({
    address: over.address ?? vault.address,
    token: over.token ?? vault.token,
    mount: 'kv',
    pathPrefix: 'cogniforge/',
    requestTimeoutMs: 5_000,
  });

const loc = (name: string): SecretLocator => ({ secretId: `sec_${name.padEnd(16, '0').slice(0, 16)}`, name, environment: 'production' });
const write = (b: HashicorpVaultBackend, l: SecretLocator, value: string, expected: string | undefined) =>
  b.write(l, { version: 0, value, expectedCurrentRef: expected, idempotencyKey: 'unused-by-vault' });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('HashicorpVaultBackend against a KV v2 server', () => {
  it('writes with check-and-set, reads every version, lists, reports metadata', async () => {
    const b = backend();
    const l = loc('aaaa');
    const first = await write(b, l, 'v-one', undefined);
    expect(first).toEqual({ ref: '1', location: `cogniforge/production/aaaa/${l.secretId}` });
    expect(vault.stored(first.location, 1)).toEqual({ value: 'v-one' });
    expect(await write(b, l, 'v-two', '1')).toMatchObject({ ref: '2' });
    expect(await b.read(l, '1')).toBe('v-one');
    expect(await b.read(l, '2')).toBe('v-two');
    // A second create (cas 0) and a stale cas both lose.
    expect(await rejection(write(b, l, 'x', undefined))).toBeInstanceOf(BackendConflictError);
    const stale = await rejection(write(b, l, 'x', '1'));
    expect(stale).toBeInstanceOf(BackendConflictError);
    expect((stale as Error).message).toContain('check-and-set parameter did not match the current version');
    expect((await b.versions(l)).map((v) => [v.ref, v.labels])).toEqual([
      ['1', []],
      ['2', ['current']],
    ]);
    expect((await b.metadata(l)).current_version).toBe(2);
    expect(await b.list('production')).toEqual(['aaaa/']);
    expect(await b.list('staging')).toEqual([]);
    expect(vault.requests).toContain('GET /v1/kv/metadata/cogniforge/production?list=1');
    expect((await b.health()).ok).toBe(true);
  });

  it('rolls back as Vault does: the old data written as a new version with cas', async () => {
    const b = backend();
    const l = loc('bbbb');
    await write(b, l, 'good', undefined);
    await write(b, l, 'bad', '1');
    const old = await b.read(l, '1');
    expect(await write(b, l, old, '2')).toMatchObject({ ref: '3' });
    expect(await b.read(l, '3')).toBe('good');
  });

  it('soft-deletes, undeletes and destroys versions', async () => {
    const b = backend();
    const l = loc('cccc');
    await write(b, l, 'one', undefined);
    await write(b, l, 'two', '1');
    await b.delete(l, ['1', '2']);
    expect(await rejection(b.read(l, '2'))).toBeInstanceOf(BackendNotFoundError);
    expect((await b.versions(l)).map((v) => v.labels)).toEqual([['deleted'], ['current', 'deleted']]);
    await b.restore(l, ['2']);
    expect(await b.read(l, '2')).toBe('two');
    await b.destroy(l, ['1']);
    expect(await rejection(b.restore(l, ['1']).then(() => b.read(l, '1')))).toBeInstanceOf(BackendNotFoundError);
    expect((await b.versions(l))[0]!.labels).toEqual(['deleted', 'destroyed']);
    expect(vault.stored(`cogniforge/production/cccc/${l.secretId}`, 1)).toBeNull();
  });

  it('names a refused token without echoing it', async () => {
    const e = await rejection(write(backend({ token: 'wrong-token-xyz' }), loc('dddd'), 'v', undefined));
    expect(e).toBeInstanceOf(BackendRefusedError);
    expect((e as Error).message).toMatch(/permission denied.*VAULT_TOKEN/);
    expect((e as Error).message).not.toContain('wrong-token-xyz');
  });
});

describe('BackendGateway with a Vault backend', () => {
  const policies = () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock(0);
    return new DependencyPolicies({
      store: log.open({ clock, projections: [] }),
      clock,
      dependencies: { vault: { retry: { maxRetries: 0 }, breaker: { failureThreshold: 2 } } },
    });
  };

  it('turns an unreachable Vault into BackendUnavailable naming backend and address; the breaker then fails fast', async () => {
    const down = backend({ address: 'http://127.0.0.1:9' });
    const p = policies();
    const gateway = new BackendGateway('hashicorp', [down], p, 2_000);
    const call = () => gateway.call(down, { idempotent: false, what: 'create x' }, () => write(down, loc('eeee'), 'secret-value-1', undefined));
    for (let i = 0; i < 2; i++) {
      const e = (await rejection(call())) as RpcError;
      expect(e).toBeInstanceOf(RpcError);
      expect(e.code).toBe(ErrorCode.BackendUnavailable);
      expect(e.message).toMatch(/^secrets backend hashicorp at http:\/\/127\.0\.0\.1:9 is unreachable \(create x\): .*ECONNREFUSED/);
      expect(e.data).toMatchObject({ backend: 'hashicorp', address: 'http://127.0.0.1:9' });
      expect(e.message).not.toContain('secret-value-1');
    }
    const open = (await rejection(call())) as RpcError;
    expect(open.code).toBe(ErrorCode.BackendUnavailable);
    expect(open.data).toMatchObject({ backend: 'hashicorp', reason: 'circuitOpen', dependency: 'vault' });
    expect(p.stats('vault')[0]).toMatchObject({ shortCircuited: 1, breaker: { state: 'open' } });
  });

  it("maps Vault's answers to Conflict / FailedPrecondition without counting them against the breaker", async () => {
    const b = backend();
    const p = policies();
    const gateway = new BackendGateway('hashicorp', [b], p, 2_000);
    const l = loc('ffff');
    await gateway.call(b, { idempotent: false, what: 'create' }, () => write(b, l, 'v', undefined));
    for (let i = 0; i < 3; i++) {
      const e = (await rejection(gateway.call(b, { idempotent: false, what: 'rotate' }, () => write(b, l, 'v2', '7')))) as RpcError;
      expect(e.code).toBe(ErrorCode.Conflict);
    }
    const missing = (await rejection(gateway.call(b, { idempotent: true, what: 'read' }, () => b.read(l, '9')))) as RpcError;
    expect(missing.code).toBe(ErrorCode.FailedPrecondition);
    expect(p.stats('vault')[0]).toMatchObject({ failures: 0, breaker: { state: 'closed' } });
  });

  it('gives up on a Vault that accepts but never answers: Timeout naming the backend', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const b = new HashicorpVaultBackend({ address, token: 't', mount: 'kv', pathPrefix: 'cogniforge/', requestTimeoutMs: 300 });
      const gateway = new BackendGateway('hashicorp', [b], policies(), 300);
      const e = (await rejection(gateway.call(b, { idempotent: true, what: 'read version 1 of x' }, () => b.read(loc('gggg'), '1')))) as RpcError;
      expect(e).toBeInstanceOf(RpcError);
      expect([ErrorCode.Timeout, ErrorCode.BackendUnavailable]).toContain(e.code);
      expect(e.message).toContain(`secrets backend hashicorp at ${address}`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('answers FailedPrecondition naming the variables for a backend that is not configured', () => {
    const gateway = new BackendGateway('local', [], undefined, 1_000);
    expect(() => gateway.get('aws')).toThrow(/secrets backend "aws" is not configured: set AWS_REGION/);
    expect(gateway.describe().map((d) => [d.name, d.configured, d.isDefault])).toEqual([
      ['local', false, true],
      ['hashicorp', false, false],
      ['aws', false, false],
    ]);
  });
});
