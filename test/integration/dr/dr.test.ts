import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../daemon/protocol';
import type { Backup, DrPlan, DrRun, PlanStatus } from '../../../daemon/protocol/dr';
import { makeTempDir, rpcError, sleep, useDaemons, type RpcClient } from '../helpers/daemonProcess';

const spawn = useDaemons();
const NODE = process.execPath;
const SECRET = 'dr-secret-value-42';

const servers: Server[] = [];
const pids: number[] = [];
afterAll(async () => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** A health endpoint that answers 503 seven times (more than opens a circuit breaker), then 200. */
async function healthServer(): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(hits <= 7 ? 503 : 200, { 'content-type': 'text/plain' }).end(hits <= 7 ? 'starting' : 'ok');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`, hits: () => hits };
}

const FINAL = ['succeeded', 'failed', 'cancelled', 'interrupted'];

/** Poll a run until `done` says so (bounded). */
async function waitRun(c: RpcClient, runId: string, done: (r: DrRun) => boolean = (r) => FINAL.includes(r.status)): Promise<DrRun> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const run = await c.request<DrRun>('dr/getRun', { runId });
    if (done(run)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status}: ${JSON.stringify(run.steps)}`);
    await sleep(25);
  }
}

/** Running (a zombie waiting to be reaped by whoever inherited it counts as gone). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
};

async function waitDead(pid: number): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) await sleep(25);
  return !alive(pid);
}

async function waitFile(path: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (!existsSync(path) || readFileSync(path, 'utf8').trim() === '') {
    if (Date.now() > deadline) throw new Error(`no ${path}`);
    await sleep(25);
  }
  return readFileSync(path, 'utf8');
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const json = (body: unknown) => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('disaster recovery on a real daemon', () => {
  it('runs plans with real commands, checks and confirmations; cancels process trees; verifies backups; scopes; restart', async () => {
    const d = await spawn({ env: { DR_SECRET: SECRET } });
    const c = await d.connect();
    const watcher = await d.connect();
    const work = makeTempDir('cf-dr-work-');
    const health = await healthServer();

    // Seeded plans.
    const seeded = await c.request<{ plans: DrPlan[] }>('dr/listPlans', {});
    expect(seeded.plans.map((p) => p.id)).toEqual(['dr_api_001', 'dr_db_001', 'dr_files_001']);
    expect(await c.request<DrPlan>('dr/getPlan', { id: 'dr_db_001' })).toMatchObject({ rtoSeconds: 1800, rpoSeconds: 300, seeded: true });

    const plan = {
      id: 'orders_db',
      name: 'Orders DB',
      services: ['orders-db'],
      strategy: 'warm_standby',
      rtoSeconds: 600,
      rpoSeconds: 900,
      testEveryDays: 30,
      steps: [
        {
          id: 'promote',
          name: 'Promote standby',
          action: {
            kind: 'command',
            executable: NODE,
            args: ['-e', "require('fs').writeFileSync('promoted.txt', process.env.MODE + ':' + process.cwd()); console.log('token is ' + process.env.DR_SECRET); console.error('warn: ' + (process.env.HOME ?? 'no home'))"],
            cwd: work,
            env: { MODE: 'standby' },
            inheritEnv: ['DR_SECRET'],
            timeoutMs: 20_000,
          },
        },
        { id: 'health', name: 'Health', action: { kind: 'httpCheck', url: health.url, intervalMs: 20, deadlineMs: 10_000 } },
        { id: 'dns', name: 'Update DNS', action: { kind: 'manual', instructions: 'Point orders-db at the standby.' } },
        { id: 'smoke', name: 'Smoke test', action: { kind: 'command', executable: NODE, args: ['-e', 'process.exit(3)'] } },
        { id: 'never', name: 'Never reached', action: { kind: 'manual', instructions: 'not reached' } },
      ],
    };

    // Bad input names the field and appends nothing.
    const seqBefore = (await c.request<{ eventLog: { lastSeq: number } }>('daemon/status', {})).eventLog.lastSeq;
    const missingExe = await rpcError(
      c.request('dr/createPlan', { ...plan, steps: [{ id: 'x', name: 'x', action: { kind: 'command', executable: 'no-such-binary-cf' } }] }),
    );
    expect(missingExe.code).toBe(ErrorCode.InvalidParams);
    expect(missingExe.message).toContain('steps.0.action.executable');
    const badRto = await rpcError(c.request('dr/createPlan', { ...plan, rtoSeconds: -1 }));
    expect(JSON.stringify(badRto.data)).toContain('rtoSeconds');
    expect((await c.request<{ eventLog: { lastSeq: number } }>('daemon/status', {})).eventLog.lastSeq).toBe(seqBefore);

    // Scopes: a read token may look, not configure or start anything; write may drill but not fail over.
    const reader = await c.request<{ token: string }>('auth/createToken', { name: 'dash', scope: 'read' });
    const writer = await c.request<{ token: string }>('auth/createToken', { name: 'ci', scope: 'write' });
    const r = await d.connect({ token: reader.token });
    const w = await d.connect({ token: writer.token });
    expect((await rpcError(r.request('dr/createPlan', plan))).code).toBe(ErrorCode.Forbidden);
    expect((await rpcError(w.request('dr/createPlan', plan))).code).toBe(ErrorCode.Forbidden);
    expect((await rpcError(r.request('dr/startRun', { planId: 'dr_db_001', mode: 'drill' }))).code).toBe(ErrorCode.Forbidden);
    expect((await rpcError(w.request('dr/startRun', { planId: 'dr_db_001', mode: 'failover' }))).code).toBe(ErrorCode.Forbidden);
    expect((await d.http('/api/disaster-recovery/failover', { ...json({ planId: 'dr_db_001' }), token: reader.token })).status).toBe(403);
    expect((await d.http('/api/disaster-recovery/failover', { ...json({ planId: 'dr_db_001' }), token: writer.token })).status).toBe(403);
    expect((await d.http('/api/disaster-recovery/status', { token: reader.token })).status).toBe(200);

    const created = await c.request<DrPlan>('dr/createPlan', plan);
    expect(created).toMatchObject({ version: 1, seeded: false });
    expect((await rpcError(c.request('dr/createPlan', plan))).code).toBe(ErrorCode.Duplicate);

    // A drill started by the write token.
    const run = await w.request<DrRun>('dr/startRun', { planId: 'orders_db', mode: 'drill' });
    expect(run).toMatchObject({ status: 'running', startedBy: 'ci', mode: 'drill' });
    const waiting = await waitRun(c, run.id, (x) => x.status === 'waiting');
    expect(waiting.currentStep).toBe(2);
    expect(readFileSync(join(work, 'promoted.txt'), 'utf8')).toBe(`standby:${work}`);
    const promote = waiting.steps[0]!;
    expect(promote).toMatchObject({ status: 'succeeded', exitCode: 0, stdoutTail: 'token is ***\n', stderrTail: 'warn: no home\n' });
    expect(JSON.stringify(waiting)).not.toContain(SECRET);
    expect(waiting.steps[1]).toMatchObject({ status: 'succeeded', httpStatus: 200, attempts: 8 });
    expect(health.hits()).toBe(8);

    const wrongStep = await rpcError(c.request('dr/completeManualStep', { runId: run.id, stepId: 'smoke' }));
    expect(wrongStep.code).toBe(ErrorCode.FailedPrecondition);
    const confirmed = await w.request<DrRun>('dr/completeManualStep', { runId: run.id, stepId: 'dns', note: 'done by hand' });
    expect(confirmed.steps[2]).toMatchObject({ status: 'succeeded', confirmedBy: 'ci', note: 'done by hand' });
    const failed = await waitRun(c, run.id);
    expect(failed.status).toBe('failed');
    expect(failed.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed', 'skipped']);
    expect(failed.steps[3]).toMatchObject({ exitCode: 3, error: 'exit code 3, expected exit code 0' });
    expect(failed.rto.met).toBe(false);
    expect(failed.rto.actualMs).toBeGreaterThan(0);

    // Every step start and finish is in the event log, and progress was pushed.
    const logged = await c.request<{ events: { type: string; payload: { runId?: string; run?: { id: string } } }[] }>('events/query', {
      types: ['dr.run.started', 'dr.step.started', 'dr.step.finished', 'dr.run.finished'],
      limit: 100,
    });
    const ofRun = logged.events.filter((e) => e.payload.runId === run.id || e.payload.run?.id === run.id).map((e) => e.type);
    expect(ofRun).toEqual(['dr.run.started', ...Array(4).fill(['dr.step.started', 'dr.step.finished']).flat(), 'dr.run.finished']);
    expect(JSON.stringify(logged)).not.toContain(SECRET);
    const progress = await watcher.waitForNotifications(10, (n) => n.method === 'dr/didProgress' && (n.params as { run: DrRun }).run.id === run.id);
    expect(progress.map((n) => (n.params as { change: string }).change).at(-1)).toBe('runFinished');

    // Continue on failure: the step fails, the run goes on and ends failed.
    const updated = await c.request<DrPlan>('dr/updatePlan', {
      ...plan,
      expectedVersion: 1,
      steps: [
        { id: 'smoke', name: 'Smoke', continueOnFailure: true, action: { kind: 'command', executable: NODE, args: ['-e', 'process.exit(3)'] } },
        {
          id: 'wrong_status',
          name: 'Expects 204',
          continueOnFailure: true,
          action: { kind: 'httpCheck', url: health.url, expectStatus: 204, intervalMs: 100, deadlineMs: 1000 },
        },
        {
          id: 'too_slow',
          name: 'Times out',
          continueOnFailure: true,
          action: { kind: 'command', executable: NODE, args: ['-e', 'setTimeout(() => {}, 60000)'], timeoutMs: 300 },
        },
        { id: 'no_dir', name: 'No dir', continueOnFailure: true, action: { kind: 'command', executable: NODE, args: ['-e', '1'], cwd: join(work, 'missing') } },
        { id: 'after', name: 'After', action: { kind: 'command', executable: NODE, args: ['-e', "require('fs').writeFileSync('after.txt', 'ran')"], cwd: work } },
      ],
    });
    expect(updated.version).toBe(2);
    expect((await rpcError(c.request('dr/updatePlan', { ...plan, expectedVersion: 1 }))).code).toBe(ErrorCode.Conflict);
    const second = await c.request<DrRun>('dr/startRun', { planId: 'orders_db' });
    const secondDone = await waitRun(c, second.id);
    expect(secondDone.steps.map((s) => s.status)).toEqual(['failed', 'failed', 'failed', 'failed', 'succeeded']);
    expect(secondDone.steps[2]).toMatchObject({ signal: 'SIGTERM', error: 'timed out after 300 ms: the process tree was killed' });
    expect(secondDone.steps[3]).toMatchObject({ error: `working directory ${join(work, 'missing')} does not exist` });
    expect(secondDone.steps[1]).toMatchObject({ httpStatus: 200 });
    expect(secondDone.steps[1]!.error).toMatch(/^no 204 from 127\.0\.0\.1:\d+ within 1000 ms/);
    expect(secondDone.status).toBe('failed');
    expect(readFileSync(join(work, 'after.txt'), 'utf8')).toBe('ran');

    // Cancel: the sleeping process and the child it started are killed.
    const pidFile = join(work, 'pids.txt');
    const sleeper = `const { spawn } = require('child_process');
      const kid = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      require('fs').writeFileSync(${JSON.stringify(pidFile)}, process.pid + ' ' + kid.pid);
      setTimeout(() => {}, 60000);`;
    await c.request('dr/createPlan', {
      id: 'slow',
      name: 'Slow',
      services: ['orders-db'],
      strategy: 'backup_restore',
      rtoSeconds: 60,
      rpoSeconds: 60,
      testEveryDays: 7,
      steps: [{ id: 'sleep', name: 'Sleep', action: { kind: 'command', executable: NODE, args: ['-e', sleeper], timeoutMs: 60_000 } }],
    });
    const slow = await c.request<DrRun>('dr/startRun', { planId: 'slow', mode: 'drill' });
    const [parentPid, kidPid] = (await waitFile(pidFile)).split(' ').map(Number) as [number, number];
    pids.push(parentPid, kidPid);
    expect(alive(kidPid)).toBe(true);
    expect((await rpcError(c.request('dr/deletePlan', { id: 'slow' }))).code).toBe(ErrorCode.FailedPrecondition);
    const cancelled = await c.request<DrRun>('dr/abortRun', { runId: slow.id, reason: 'test cancel' });
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelledBy: 'owner', reason: 'test cancel' });
    expect(cancelled.steps[0]).toMatchObject({ status: 'cancelled', signal: 'SIGTERM' });
    expect(await waitDead(parentPid)).toBe(true);
    expect(await waitDead(kidPid)).toBe(true);
    expect((await rpcError(c.request('dr/abortRun', { runId: slow.id }))).code).toBe(ErrorCode.InvalidTransition);
    await c.request('dr/deletePlan', { id: 'slow' });
    expect((await rpcError(c.request('dr/getPlan', { id: 'slow' }))).code).toBe(ErrorCode.NotFound);

    // Failover over REST, confirmed over RPC.
    const rest = await d.http('/api/disaster-recovery/failover', json({ planId: 'dr_api_001' }));
    expect(rest.status).toBe(202);
    const failover = (await rest.json()) as DrRun;
    expect(failover).toMatchObject({ mode: 'failover', planId: 'dr_api_001', startedBy: 'owner' });
    for (const stepId of ['detect_region_failure', 'remove_failed_region_from_load_balancer', 'verify_healthy_regions', 'scale_up_remaining_regions']) {
      await waitRun(c, failover.id, (x) => x.status === 'waiting' && x.steps[x.currentStep!]!.id === stepId);
      await c.request('dr/completeManualStep', { runId: failover.id, stepId, outcome: 'done' });
    }
    const failoverDone = await waitRun(c, failover.id);
    expect(failoverDone).toMatchObject({ status: 'succeeded', rto: { objectiveSeconds: 300, met: true } });
    const viaRest = (await (await d.http(`/api/disaster-recovery/runs/${failover.id}`)).json()) as DrRun;
    expect(viaRest).toEqual(failoverDone);
    expect((await d.http('/api/disaster-recovery/failover', json({ planId: 'nope' }))).status).toBe(404);

    // Backups: real files, one corrupted after registration, one missing.
    const good = join(work, 'orders-good.dump');
    const bad = join(work, 'orders-bad.dump');
    writeFileSync(good, 'orders backup 1');
    writeFileSync(bad, 'orders backup 2');
    const now = Date.now();
    await c.request<Backup>('backups/register', { id: 'orders-1', service: 'orders-db', location: good, createdAt: new Date(now - 60_000).toISOString(), sizeBytes: 15, sha256: sha('orders backup 1') });
    await w.request<Backup>('backups/register', { id: 'orders-2', service: 'orders-db', location: bad, createdAt: new Date(now).toISOString(), sizeBytes: 15, sha256: sha('orders backup 2') });
    await c.request<Backup>('backups/register', { id: 'orders-3', service: 'orders-db', location: join(work, 'gone.dump'), createdAt: new Date(now).toISOString(), sizeBytes: 1, sha256: sha('x') });
    const badSha = await rpcError(c.request('backups/register', { id: 'orders-4', service: 'orders-db', location: good, createdAt: new Date(now).toISOString(), sizeBytes: 1, sha256: 'abc' }));
    expect(JSON.stringify(badSha.data)).toContain('sha256');
    writeFileSync(bad, 'orders backup X');
    expect(await c.request<Backup>('backups/verify', { id: 'orders-1' })).toMatchObject({ state: 'verified', actualSha256: sha('orders backup 1') });
    expect(await c.request<Backup>('backups/verify', { id: 'orders-2' })).toMatchObject({ state: 'corrupt', actualSha256: sha('orders backup X') });
    expect(await c.request<Backup>('backups/verify', { id: 'orders-3' })).toMatchObject({ state: 'missing' });
    await c.request('backups/register', { id: 'tmp', service: 'other', location: good, createdAt: new Date(now).toISOString(), sizeBytes: 15, sha256: sha('orders backup 1') });
    await c.request('backups/delete', { id: 'tmp' });
    expect((await c.request<{ backups: Backup[] }>('backups/list', {})).backups.map((b) => b.id).sort()).toEqual(['orders-1', 'orders-2', 'orders-3']);
    expect((await r.request<{ backups: Backup[] }>('backups/list', { service: 'orders-db' })).backups).toHaveLength(3);

    const status = await c.request<{ plans: PlanStatus[] }>('dr/status', { planId: 'orders_db' });
    expect(status.plans[0]).toMatchObject({
      planId: 'orders_db',
      overdue: true,
      lastDrill: { status: 'failed' },
      rto: { met: false },
      rpo: { met: true, services: [{ service: 'orders-db', status: 'met', newestVerifiedBackupId: 'orders-1' }] },
      backups: { verified: 1, corrupt: 1, missing: 1, unverified: 0 },
    });
    const restStatus = (await (await d.http('/api/disaster-recovery/status')).json()) as { plans: PlanStatus[] };
    expect(restStatus.plans.map((p) => p.planId)).toEqual(['dr_api_001', 'dr_db_001', 'dr_files_001', 'orders_db']);
    expect(restStatus.plans[0]).toMatchObject({ overdue: false, lastRun: { mode: 'failover', status: 'succeeded' } });
    const onePlan = (await (await d.http('/api/disaster-recovery/status?plan=orders_db')).json()) as { plans: PlanStatus[] };
    expect(onePlan.plans).toEqual([expect.objectContaining({ planId: 'orders_db' })]);
    expect((await d.http('/api/disaster-recovery/status?plan=nope')).status).toBe(404);
    const runs = await r.request<{ runs: DrRun[] }>('dr/listRuns', { planId: 'orders_db' });
    expect(runs.runs.map((x) => x.id)).toEqual([second.id, run.id]);
    expect((await c.request<{ runs: DrRun[] }>('dr/listRuns', { limit: 1 })).runs[0]!.id).toBe(failover.id);
    const changes = await watcher.waitForNotifications(1, (n) => n.method === 'dr/didChange' && (n.params as { change: string }).change === 'backupVerified');
    expect(changes[0]!.params).toMatchObject({ id: 'orders-1' });

    // Restart: everything survives.
    await d.stop();
    const d2 = await spawn({ dataDir: d.dataDir });
    const c2 = await d2.connect();
    expect((await c2.request<{ runs: DrRun[] }>('dr/listRuns', {})).runs.map((x) => [x.id, x.status])).toEqual([
      [failover.id, 'succeeded'],
      [slow.id, 'cancelled'],
      [second.id, 'failed'],
      [run.id, 'failed'],
    ]);
    expect((await c2.request<DrPlan>('dr/getPlan', { id: 'orders_db' })).version).toBe(2);
    expect((await c2.request<Backup>('backups/verify', { id: 'orders-1' })).state).toBe('verified');
    expect((await c2.request<{ plans: PlanStatus[] }>('dr/status', {})).plans.map((p) => p.planId)).toEqual(['dr_api_001', 'dr_db_001', 'dr_files_001', 'orders_db']);
    await d2.stop();
  }, 90_000);

  it('marks a run cut by kill -9 as interrupted on restart and does not resume it', async () => {
    const d = await spawn();
    const c = await d.connect();
    const work = makeTempDir('cf-dr-kill-');
    const pidFile = join(work, 'pid.txt');
    await c.request('dr/createPlan', {
      id: 'crashy',
      name: 'Crashy',
      services: ['svc'],
      strategy: 'failover',
      rtoSeconds: 60,
      rpoSeconds: 60,
      testEveryDays: 7,
      steps: [
        {
          id: 'long',
          name: 'Long',
          action: {
            kind: 'command',
            executable: NODE,
            args: ['-e', `require('fs').writeFileSync(${JSON.stringify(pidFile)}, process.env.COGNIFORGE_DR_MODE + ' ' + process.pid); setTimeout(() => {}, 60000)`],
          },
        },
        { id: 'after', name: 'After', action: { kind: 'command', executable: NODE, args: ['-e', `require('fs').writeFileSync('after.txt', 'x')`], cwd: work } },
      ],
    });
    const run = await c.request<DrRun>('dr/startRun', { planId: 'crashy', mode: 'failover' });
    const [mode, pidText] = (await waitFile(pidFile)).split(' ');
    expect(mode).toBe('failover');
    const pid = Number(pidText);
    pids.push(pid);
    await waitRun(c, run.id, (x) => x.steps[0]!.status === 'running');
    expect((await d.stop('SIGKILL')).signal).toBe('SIGKILL');

    const d2 = await spawn({ dataDir: d.dataDir });
    const c2 = await d2.connect();
    const after = await c2.request<DrRun>('dr/getRun', { runId: run.id });
    expect(after.status).toBe('interrupted');
    expect(after.reason).toContain('not resumed');
    // The step's process outlived the daemon (its own process group); the restart found it by run id and stopped it.
    expect(after.reason).toContain(`were still running and were stopped (pids ${pid})`);
    expect(await waitDead(pid)).toBe(true);
    expect(after.steps.map((s) => s.status)).toEqual(['interrupted', 'skipped']);
    expect(after.rto.met).toBe(false);
    await sleep(200);
    expect(existsSync(join(work, 'after.txt'))).toBe(false);
    const status = await c2.request<{ plans: PlanStatus[] }>('dr/status', { planId: 'crashy' });
    expect(status.plans[0]).toMatchObject({ lastRun: { status: 'interrupted' }, overdue: true });
    expect(status.plans[0]!.activeRunId).toBeUndefined();
    // A new run can start: nothing is left holding the plan.
    const next = await c2.request<DrRun>('dr/startRun', { planId: 'crashy', mode: 'drill' });
    expect(next.status).toBe('running');
    await c2.request('dr/abortRun', { runId: next.id });
  }, 60_000);
});
