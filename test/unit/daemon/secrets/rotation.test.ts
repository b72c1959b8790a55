import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, RpcError, SchedulerEventType } from '../../../../daemon/protocol';
import { CreateSecret, RotateManySecrets, SecretRotationHook, SecretsAuditRequest } from '../../../../daemon/protocol/secrets';
import { Scheduler, SchedulerProjection } from '../../../../daemon/services/scheduler';
import { LocalVault } from '../../../../daemon/services/secrets/localVault';
import { RotationHookRunner, maskValue } from '../../../../daemon/services/secrets/rotationHooks';
import { GRACE_TIMER_KIND, ROTATION_TIMER_KIND, RotationScheduler } from '../../../../daemon/services/secrets/rotationScheduler';
import { SecretsProjection } from '../../../../daemon/services/secrets/secretsProjection';
import { SecretsService } from '../../../../daemon/services/secrets/secretsService';
import { DependencyPolicies } from '../../../../daemon/services/resilience/policies';
import { ManualClock, systemClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let dir: string;
let clock: ManualClock;
let log: MemoryEventLog;

/** One daemon run on the shared log: secrets + scheduler wired as the feature wires them. */
function boot(options: { chunkSize?: number; graceHours?: number } = {}) {
  const projection = new SecretsProjection();
  const schedulerProjection = new SchedulerProjection();
  const store = log.open({ clock, projections: [projection, schedulerProjection] });
  const vault = LocalVault.open({ dataDir: dir, env: {}, now: () => clock.now() });
  const scheduler = new Scheduler({ store, clock, projection: schedulerProjection });
  const late: { rotations?: RotationScheduler } = {};
  const service = new SecretsService(store, projection, vault, clock, undefined, {
    ...options,
    hooks: new RotationHookRunner({ clock, baseEnv: { PATH: process.env.PATH } }),
    onDeadlinesChanged: () => void late.rotations?.reconcile(),
  });
  const rotations = (late.rotations = new RotationScheduler(scheduler, service, clock));
  rotations.register();
  const start = async () => {
    scheduler.start();
    await rotations.reconcile();
    await settle();
  };
  /** Let timers that fired finish, and the reschedules they cause. */
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      await scheduler.idle();
      await rotations.reconcile();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { projection, store, vault, scheduler, service, rotations, start, settle };
}

const create = (s: SecretsService, p: Record<string, unknown>, actor = 'owner') => s.create(CreateSecret.params.parse(p), actor);

async function rpcError(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected an RpcError');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-rotation-'));
  clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
  log = new MemoryEventLog();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('scheduled rotation', () => {
  it('rotates when due, keeps the old version previous for the grace period, then deprecates it', async () => {
    const d = boot({ graceHours: 24 });
    await d.start();
    const s = await create(d.service, { name: 'api', type: 'api_key', environment: 'production', rotation: { policy: 'daily', graceHours: 2 } });
    const never = await create(d.service, { name: 'static', type: 'api_key', environment: 'production' });
    await d.settle();
    expect(d.scheduler.pending().map((t) => [t.kind, t.due])).toEqual([[ROTATION_TIMER_KIND, '2026-03-02T00:00:00.000Z']]);
    expect(d.service.dueForRotation(0).secrets).toEqual([]);
    expect(d.service.dueForRotation(24).secrets.map((x) => x.id)).toEqual([s.id]);

    clock.advance(DAY);
    await d.settle();
    const after = d.service.get(s.id);
    expect(after.versions.map((v) => [v.version, v.state, v.graceUntil])).toEqual([
      [1, 'previous', '2026-03-02T02:00:00.000Z'],
      [2, 'current', undefined],
    ]);
    expect(after.nextRotation).toBe('2026-03-03T00:00:00.000Z');
    expect(d.service.get(never.id).currentVersion).toBe(1);
    expect(d.service.audit(SecretsAuditRequest.params.parse({ secretId: s.id }))[0]).toMatchObject({ action: 'rotated', actor: 'scheduler' });
    // The grace timer is the next deadline; both timers pending.
    expect(d.scheduler.pending().map((t) => [t.kind, t.due])).toEqual([
      [GRACE_TIMER_KIND, '2026-03-02T02:00:00.000Z'],
      [ROTATION_TIMER_KIND, '2026-03-03T00:00:00.000Z'],
    ]);
    // The previous version stays readable in its grace period and afterwards (deprecated is not deleted).
    expect((await d.service.reveal(s.id, 1, 'svc')).version).toBe(1);

    clock.advance(2 * HOUR);
    await d.settle();
    expect(d.service.get(s.id).versions.map((v) => v.state)).toEqual(['deprecated', 'current']);
    expect(d.service.history(s.id, 10).entries.map((e) => e.kind)).toEqual(['deprecated', 'revealed', 'rotated', 'created']);
    await d.scheduler.stop();
  });

  it('after a week down it catches up once, not once per missed day; dueForRotation agrees with what it rotates', async () => {
    const first = boot();
    await first.start();
    const a = await create(first.service, { name: 'a', type: 'api_key', environment: 'dev', rotation: { policy: 'daily' } });
    const b = await create(first.service, { name: 'b', type: 'jwt_secret', environment: 'dev', rotation: { policy: 'weekly' } });
    const c = await create(first.service, { name: 'c', type: 'api_key', environment: 'dev', rotation: { policy: 'monthly' } });
    await first.settle();
    await first.scheduler.stop();

    // The daemon is down (or the laptop asleep) for eight days.
    clock.advance(8 * DAY);
    const second = boot();
    const due = second.service.dueForRotation(0).secrets.map((x) => x.id).sort();
    expect(due).toEqual([a.id, b.id].sort());
    expect(second.service.dueForRotation(0).secrets.find((x) => x.id === a.id)?.overdueMs).toBe(7 * DAY);
    await second.start();
    await second.settle();
    expect([a, b, c].map((x) => second.service.get(x.id).currentVersion)).toEqual([2, 2, 1]);
    expect(log.records.filter((e) => e.type === 'secret.rotated')).toHaveLength(2);
    const fired = log.records.filter((e) => e.type === SchedulerEventType.TimerFired).map((e) => e.payload as { late: boolean });
    expect(fired).toEqual([expect.objectContaining({ late: true })]);
    expect(second.service.get(a.id).nextRotation).toBe(new Date(clock.now() + DAY).toISOString());
    expect(second.service.dueForRotation(0).secrets).toEqual([]);
    await second.scheduler.stop();
  });

  it('a policy change moves the next rotation; a secret set to never leaves the timer', async () => {
    const d = boot();
    await d.start();
    const s = await create(d.service, { name: 'x', type: 'api_key', environment: 'dev', rotation: { policy: 'quarterly' } });
    await d.settle();
    expect(d.scheduler.pending()[0]?.due).toBe('2026-05-30T00:00:00.000Z');
    await d.service.update({ id: s.id, rotation: { policy: 'custom', customDays: 3, graceHours: 0 } }, 'owner');
    await d.settle();
    expect(d.scheduler.pending().map((t) => t.due)).toEqual(['2026-03-04T00:00:00.000Z']);
    await d.service.update({ id: s.id, rotation: { policy: 'never' } }, 'owner');
    await d.settle();
    expect(d.scheduler.pending()).toEqual([]);
    await d.scheduler.stop();
  });
});

describe('bulk rotation', () => {
  it('rotates many in chunks; a rotation racing one of them gets Conflict; the audit chain stays whole', async () => {
    const d = boot({ chunkSize: 7 });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await create(d.service, { name: `s${i}`, type: 'api_key', environment: i % 2 ? 'dev' : 'staging' })).id);
    const bulk = d.service.rotateMany(RotateManySecrets.params.parse({ ids }), 'ops');
    const racer = await rpcError(d.service.rotate({ id: ids[29]! }, 'alice'));
    expect(racer.code).toBe(ErrorCode.Conflict);
    expect(racer.message).toMatch(/being rotated/);
    const r = await bulk;
    expect(r).toMatchObject({ rotated: 30, failed: 0 });
    expect(ids.every((id) => d.service.get(id).currentVersion === 2)).toBe(true);
    // Two bulk rotations of the same secrets at once: each secret is rotated by exactly one of them.
    const [x, y] = await Promise.all([
      d.service.rotateMany(RotateManySecrets.params.parse({ filter: { environment: 'dev' } }), 'a'),
      d.service.rotateMany(RotateManySecrets.params.parse({ filter: { environment: 'dev' } }), 'b'),
    ]);
    expect(x.rotated + y.rotated).toBe(15);
    expect([...x.results, ...y.results].filter((res) => !res.ok).every((res) => res.error?.code === ErrorCode.Conflict)).toBe(true);
    expect(await d.service.verifyAudit()).toEqual({ ok: true, entries: 30 + 30 + 15 });
    expect(RotateManySecrets.params.safeParse({ ids, due: true }).success).toBe(false);
    expect(RotateManySecrets.params.safeParse({}).success).toBe(false);
  });
});

describe('refusals in the audit', () => {
  it('records denied and failed attempts in the hash chain, verifiable, with actor, method and reason', async () => {
    const d = boot();
    const s = await create(d.service, { name: 'db', type: 'database_password', environment: 'production' });
    await d.service.recordDenied('secrets/reveal', 'reader', new RpcError(ErrorCode.Forbidden, 'secrets/reveal needs a token with scope "admin"'));
    await d.service.recordDenied('secrets/rotate', 'ci', new RpcError(ErrorCode.Conflict, 'stale version'), { secretId: s.id });
    await d.service.recordDenied('secrets/reveal', 'ci', new RpcError(ErrorCode.BackendUnavailable, 'vault down'), { secretId: s.id, version: 1 });
    const entries = d.service.audit(SecretsAuditRequest.params.parse({}));
    expect(entries.slice(0, 3).map((e) => [e.action, e.outcome, e.actor, e.attempted, e.secretName])).toEqual([
      ['denied', 'failed', 'ci', 'secrets/reveal', 'db'],
      ['denied', 'denied', 'ci', 'secrets/rotate', 'db'],
      ['denied', 'denied', 'reader', 'secrets/reveal', undefined],
    ]);
    expect(entries[2]!.reason).toMatch(/scope "admin"/);
    expect(await d.service.verifyAudit()).toEqual({ ok: true, entries: 4 });
    expect(d.service.history(s.id, 10).entries.map((e) => e.kind)).toEqual(['denied', 'denied', 'created']);
    // A refusal's reason is covered by its hash.
    const denied = log.records.find((e) => e.type === 'secret.denied')!;
    (denied.payload as { reason: string }).reason = 'nothing happened';
    expect(await d.service.verifyAudit()).toMatchObject({ ok: false, brokenAtSeq: denied.seq });
  });
});

describe('rotation hooks', () => {
  it('runs a command without a shell: name and version in env, value only on stdin, output masked and recorded', async () => {
    const d = boot();
    const s = await create(d.service, { name: 'payments', type: 'api_key', environment: 'production', value: 'first-value-123' });
    const script = [
      'let v = "";',
      'process.stdin.on("data", (c) => (v += c));',
      'process.stdin.on("end", () => {',
      '  console.log(`name=${process.env.COGNIFORGE_SECRET_NAME} version=${process.env.COGNIFORGE_SECRET_VERSION} got=${v} argv=${process.argv.length}`);',
      '  process.exit(v.length > 0 ? 0 : 3);',
      '});',
    ].join('\n');
    const hook = SecretRotationHook.parse({ kind: 'command', command: process.execPath, args: ['-e', script], valueOnStdin: true });
    await d.service.setHook(s.id, hook, 'owner');
    await d.service.rotate({ id: s.id, value: 'second-value-456' }, 'owner');
    await d.service.hooksIdle();
    const run = d.service.get(s.id).lastHookRun!;
    expect(run).toMatchObject({ version: 2, kind: 'command', ok: true, exitCode: 0 });
    expect(run.output).toContain('name=payments version=2 got=[secret value]');
    expect(JSON.stringify(log.records)).not.toContain('second-value-456');
    expect(d.service.history(s.id, 1).entries[0]).toMatchObject({ kind: 'hookRan', version: 2, detail: expect.stringMatching(/command hook ok \(exit code 0/) });

    // Without stdin the command gets nothing; a failing exit code is recorded as failed.
    await d.service.setHook(s.id, SecretRotationHook.parse({ kind: 'command', command: process.execPath, args: ['-e', script], valueOnStdin: false }), 'owner');
    await d.service.rotate({ id: s.id, value: 'third-value-789' }, 'owner');
    await d.service.hooksIdle();
    expect(d.service.get(s.id).lastHookRun).toMatchObject({ version: 3, ok: false, exitCode: 3 });

    await d.service.setHook(s.id, SecretRotationHook.parse({ kind: 'command', command: '/nonexistent/hook' }), 'owner');
    await d.service.rotate({ id: s.id }, 'owner');
    await d.service.hooksIdle();
    expect(d.service.get(s.id).lastHookRun).toMatchObject({ ok: false, error: expect.stringMatching(/could not start/) });
    expect(JSON.stringify(log.records)).not.toContain('third-value-789');
  });

  it('kills a hook that outlives its timeout', async () => {
    const d = boot();
    const s = await create(d.service, { name: 'slow', type: 'api_key', environment: 'dev' });
    await d.service.setHook(s.id, SecretRotationHook.parse({ kind: 'command', command: process.execPath, args: ['-e', 'setTimeout(() => {}, 60000)'], timeoutMs: 200 }), 'owner');
    await d.service.rotate({ id: s.id }, 'owner');
    await d.service.hooksIdle();
    expect(d.service.get(s.id).lastHookRun).toMatchObject({ ok: false, error: expect.stringMatching(/timed out after 200 ms/) });
  });

  it('posts to a webhook through the outbound policies; the value only when asked, the answer masked', async () => {
    const bodies: Record<string, unknown>[] = [];
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as Record<string, unknown>;
        bodies.push(body);
        if (req.url === '/fail') res.writeHead(503).end('down');
        else res.writeHead(200).end(`stored ${String(body.value ?? 'nothing')}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const policies = new DependencyPolicies({
      store: new MemoryEventLog().open({ clock: systemClock }),
      clock: systemClock,
      defaults: { timeoutMs: 1000, retry: { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 2 } },
    });
    try {
      const runner = new RotationHookRunner({ clock, policies, baseEnv: {} });
      const delivery = { secret: { id: 'sec_0123456789abcdef', name: 'hooked', environment: 'prod', type: 'api_key' as const }, version: 4, value: 'webhook-value-999' };
      const plain = await runner.run(SecretRotationHook.parse({ kind: 'webhook', url: `${base}/ok` }), delivery);
      expect(plain).toMatchObject({ kind: 'webhook', ok: true, status: 200, version: 4, output: 'stored nothing' });
      expect(bodies[0]).toEqual({ event: 'secret.rotated', secretId: delivery.secret.id, name: 'hooked', environment: 'prod', version: 4 });
      const withValue = await runner.run(SecretRotationHook.parse({ kind: 'webhook', url: `${base}/ok`, includeValue: true }), delivery);
      expect(bodies[1]!.value).toBe('webhook-value-999');
      expect(withValue.output).toBe('stored [secret value]');
      const failed = await runner.run(SecretRotationHook.parse({ kind: 'webhook', url: `${base}/fail` }), delivery);
      expect(failed).toMatchObject({ ok: false, status: 503 });
    } finally {
      await policies.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('masks the value and its encodings', () => {
    const v = 'a+b/c=d';
    expect(maskValue(`x ${v} ${encodeURIComponent(v)} ${Buffer.from(v).toString('base64')}`, v)).toBe('x [secret value] [secret value] [secret value]');
  });
});

describe('versions on the local vault', () => {
  it('soft-deletes, undeletes and destroys a non-current version; restores the previous one without a new version', async () => {
    const d = boot();
    const s = await create(d.service, { name: 'v', type: 'api_key', environment: 'dev', value: 'one' });
    await d.service.rotate({ id: s.id, value: 'two' }, 'owner');
    await d.service.rotate({ id: s.id, value: 'three' }, 'owner');
    expect((await rpcError(d.service.versionAction(s.id, 3, 'delete', 'owner'))).code).toBe(ErrorCode.FailedPrecondition);
    await d.service.versionAction(s.id, 1, 'delete', 'owner');
    expect((await rpcError(d.service.reveal(s.id, 1, 'owner'))).message).toMatch(/deleted/);
    expect((await rpcError(d.service.rollback(s.id, 1, 'owner'))).code).toBe(ErrorCode.FailedPrecondition);
    await d.service.versionAction(s.id, 1, 'undelete', 'owner');
    expect((await d.service.reveal(s.id, 1, 'owner')).value).toBe('one');
    await d.service.versionAction(s.id, 1, 'destroy', 'owner');
    expect(d.vault.versionsOf(s.id)).toEqual([2, 3]);
    expect((await rpcError(d.service.reveal(s.id, 1, 'owner'))).message).toMatch(/destroyed/);

    const restored = await d.service.restorePrevious(s.id, 'owner');
    expect(restored.currentVersion).toBe(2);
    expect(restored.versions.map((v) => [v.version, v.state])).toEqual([[1, 'deprecated'], [2, 'current'], [3, 'previous']]);
    expect((await d.service.reveal(s.id, undefined, 'owner')).value).toBe('two');
    expect(d.service.audit(SecretsAuditRequest.params.parse({ limit: 5 })).map((e) => e.action)).toEqual([
      'revealed',
      'restored',
      'versionDestroyed',
      'revealed',
      'versionUndeleted',
    ]);
    expect(readFileSync(join(dir, 'vault', 'vault.json'), 'utf8')).not.toContain('"version":1');
    expect(await d.service.verifyAudit()).toMatchObject({ ok: true });
  });
});
