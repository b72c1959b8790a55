import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, RpcError } from '../../../../daemon/protocol';
import { DrPlanSpec } from '../../../../daemon/protocol/dr';
import { DrProjection } from '../../../../daemon/services/dr/drProjection';
import { DrService, findOnPath } from '../../../../daemon/services/dr/drService';
import { TailBuffer, maskSecrets, stepEnvironment, type StepExecutors } from '../../../../daemon/services/dr/stepExecutors';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'cf-dr-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noExecutors: StepExecutors = {
  command: () => Promise.reject(new Error('no commands in this test')),
  httpCheck: () => Promise.reject(new Error('no checks in this test')),
};

function setup() {
  const clock = new ManualClock(T0);
  const projection = new DrProjection();
  const log = new MemoryEventLog();
  const store = log.open({ clock, projections: [projection] });
  const service = new DrService(store, projection, clock, noExecutors, { findExecutable: (e) => Promise.resolve(e) });
  return { clock, service, log };
}

function file(name: string, content: string) {
  const path = join(dir, name);
  writeFileSync(path, content);
  return { path, sha256: createHash('sha256').update(content).digest('hex'), sizeBytes: Buffer.byteLength(content) };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('backups and dr/status', () => {
  it('verifies real files: verified, corrupt (changed bytes) and missing; the RPO follows the newest verified one', async () => {
    const { service, clock } = setup();
    await service.createPlan(
      DrPlanSpec.parse({
        id: 'db',
        name: 'DB',
        services: ['database', 'files'],
        strategy: 'warm_standby',
        rtoSeconds: 1800,
        rpoSeconds: 300,
        testEveryDays: 90,
        steps: [{ id: 'a', name: 'a', action: { kind: 'manual', instructions: 'x' } }],
      }),
      'owner',
    );
    const good = file('good.dump', 'good backup');
    const bad = file('bad.dump', 'original bytes');
    await service.registerBackup({ id: 'b-old', service: 'database', location: good.path, createdAt: iso(T0 - 20 * MIN), sizeBytes: good.sizeBytes, sha256: good.sha256 }, 'ci');
    await service.registerBackup({ id: 'b-new', service: 'database', location: bad.path, createdAt: iso(T0 - 2 * MIN), sizeBytes: bad.sizeBytes, sha256: bad.sha256 }, 'ci');
    await service.registerBackup({ id: 'b-gone', service: 'files', location: join(dir, 'nope.dump'), createdAt: iso(T0 - MIN), sizeBytes: 1, sha256: good.sha256 }, 'ci');
    expect((await rpcErr(service.registerBackup({ id: 'b-old', service: 'database', location: good.path, createdAt: iso(T0), sizeBytes: 1, sha256: good.sha256 }, 'ci'))).code).toBe(
      ErrorCode.Duplicate,
    );
    writeFileSync(bad.path, 'tampered bytes');

    expect(await service.verifyBackup('b-old', 'ci')).toMatchObject({ state: 'verified', actualSha256: good.sha256, registeredBy: 'ci' });
    const corrupt = await service.verifyBackup('b-new', 'ci');
    expect(corrupt.state).toBe('corrupt');
    expect(corrupt.problem).toContain(`registered ${bad.sha256}`);
    expect(await service.verifyBackup('b-gone', 'ci')).toMatchObject({ state: 'missing', problem: `no file at ${join(dir, 'nope.dump')}` });
    expect(service.listBackups('database').backups.map((b) => b.id)).toEqual(['b-new', 'b-old']);

    const [st] = service.status({}).plans;
    // The corrupt newer one does not count: the verified one is 20 min old against a 5 min RPO.
    expect(st!.rpo).toEqual({
      met: false,
      services: [
        { service: 'database', status: 'missed', newestVerifiedBackupId: 'b-old', newestVerifiedAt: iso(T0 - 20 * MIN), ageMs: 20 * MIN },
        { service: 'files', status: 'noVerifiedBackup' },
      ],
    });
    expect(st!.backups).toEqual({ unverified: 0, verified: 1, corrupt: 1, missing: 1 });
    expect(st!.overdue).toBe(true);

    const fresh = file('fresh.dump', 'fresh');
    await service.registerBackup({ id: 'b-fresh', service: 'database', location: fresh.path, createdAt: iso(T0 - MIN), sizeBytes: fresh.sizeBytes, sha256: fresh.sha256 }, 'ci');
    await service.verifyBackup('b-fresh', 'ci');
    const f2 = file('files.dump', 'files');
    await service.registerBackup({ id: 'f', service: 'files', location: f2.path, createdAt: iso(T0), sizeBytes: f2.sizeBytes, sha256: f2.sha256 }, 'ci');
    await service.verifyBackup('f', 'ci');
    expect(service.status({ planId: 'db' }).plans[0]!.rpo.met).toBe(true);
    clock.advance(5 * MIN);
    expect(service.status({ planId: 'db' }).plans[0]!.rpo.services[0]).toMatchObject({ status: 'missed', ageMs: 6 * MIN });

    await service.deleteBackup('b-gone', 'ci');
    expect((await rpcErr(service.verifyBackup('b-gone', 'ci'))).code).toBe(ErrorCode.NotFound);
  });

  it('a successful run clears overdue until testEveryDays passed; a failed one does not', async () => {
    const { service, clock } = setup();
    await service.createPlan(
      DrPlanSpec.parse({
        id: 'p',
        name: 'P',
        services: ['api'],
        strategy: 'multi_site_active',
        rtoSeconds: 300,
        rpoSeconds: 0,
        testEveryDays: 30,
        steps: [{ id: 'a', name: 'a', action: { kind: 'manual', instructions: 'x' } }],
      }),
      'owner',
    );
    const settle = async () => {
      for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
    };
    const failed = await service.startRun({ planId: 'p', mode: 'drill' }, 'owner', 'admin');
    await settle();
    expect(service.status({}).plans[0]).toMatchObject({ activeRunId: failed.id, lastRun: { status: 'waiting' } });
    await service.completeManualStep({ runId: failed.id, stepId: 'a', outcome: 'failed' }, 'owner');
    await settle();
    expect(service.status({}).plans[0]).toMatchObject({ overdue: true, lastDrill: { status: 'failed' }, rto: { met: false } });

    const ok = await service.startRun({ planId: 'p', mode: 'drill' }, 'owner', 'admin');
    await settle();
    clock.advance(MIN);
    await service.completeManualStep({ runId: ok.id, stepId: 'a', outcome: 'done' }, 'owner');
    await settle();
    const st = service.status({}).plans[0]!;
    expect(st).toMatchObject({
      overdue: false,
      lastSuccessfulTestAt: iso(T0 + MIN),
      nextTestDueAt: iso(T0 + MIN + 30 * DAY),
      rto: { lastActualMs: MIN, met: true },
      lastDrill: { id: ok.id, status: 'succeeded' },
    });
    expect(st.activeRunId).toBeUndefined();
    clock.advance(30 * DAY + 1);
    expect(service.status({}).plans[0]!.overdue).toBe(true);
  });
});

describe('step output and environment', () => {
  it('keeps only the tail of the output, marked as cut', () => {
    const t = new TailBuffer(10);
    t.push(Buffer.from('0123456789'));
    t.push(Buffer.from('abcdef'));
    expect(t.text()).toBe('…6789abcdef');
    const small = new TailBuffer(10);
    small.push(Buffer.from('hi'));
    expect(small.text()).toBe('hi');
  });

  it('finds executables on PATH or by path, and only executable files', async () => {
    expect(await findOnPath('node', `/nonexistent:${dirname(process.execPath)}`)).toBe(join(dirname(process.execPath), 'node'));
    expect(await findOnPath(process.execPath, '')).toBe(process.execPath);
    expect(await findOnPath('no-such-binary-cf', dirname(process.execPath))).toBeUndefined();
    writeFileSync(join(dir, 'plain.txt'), 'not executable');
    expect(await findOnPath(join(dir, 'plain.txt'), '')).toBeUndefined();
    expect(await findOnPath(dir, '')).toBeUndefined();
  });

  it('passes PATH, the allow-listed variables and the step env only; masks secret values', () => {
    const daemonEnv = { PATH: '/bin', HOME: '/root', COGNIFORGE_TOKEN: 'owner-token', DB_PASSWORD: 'hunter22' };
    const { env, secrets } = stepEnvironment({ env: { MODE: 'drill', API_KEY: 'k-12345' }, inheritEnv: ['DB_PASSWORD', 'UNSET'] }, daemonEnv);
    expect(env).toEqual({ PATH: '/bin', DB_PASSWORD: 'hunter22', MODE: 'drill', API_KEY: 'k-12345' });
    expect(maskSecrets('pw=hunter22 key=k-12345 mode=drill', secrets)).toBe('pw=*** key=*** mode=drill');
    expect(maskSecrets('a1 b', ['a1'])).toBe('a1 b');
    const marked = stepEnvironment({ env: { COGNIFORGE_DR_RUN_ID: 'forged' }, inheritEnv: [] }, daemonEnv, { runId: 'r1', mode: 'failover' });
    expect(marked.env).toMatchObject({ COGNIFORGE_DR_RUN_ID: 'r1', COGNIFORGE_DR_MODE: 'failover' });
  });
});

async function rpcErr(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected an RpcError');
}
