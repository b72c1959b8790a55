import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyBuilder } from '../../../daemon/client/policies';
import { ErrorCode, type ChaosExperiment, type DependencyStats, type ReportedPolicy } from '../../../daemon/protocol';
import { rpcError, sleep, useDaemons, type DaemonProcess, type RpcClient } from '../helpers/daemonProcess';

const spawn = useDaemons();
const DEP = 'notify:webhook';

/** The test's own webhook endpoint: counts the pages that reach it. */
class Receiver {
  hits = 0;
  port = 0;
  private server!: Server;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.hits++;
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

interface PoliciesResult {
  policies: DependencyStats[];
  reported: ReportedPolicy[];
}

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const policyOf = async (c: RpcClient): Promise<DependencyStats | undefined> =>
  (await c.request<PoliciesResult>('resilience/policies', { dependency: DEP })).policies[0];

const experiments = async (c: RpcClient, state?: 'running' | 'finished') =>
  (await c.request<{ experiments: ChaosExperiment[] }>('chaos/list', state ? { state } : {})).experiments;

/** Page alice through the SEV4 policy: one webhook call through `notify:webhook` per incident. */
async function page(c: RpcClient, title: string): Promise<void> {
  await c.request('incidents/create', { title, severity: 'SEV4', detectedBy: { kind: 'monitor', name: 'probe' } });
}

/** Wait until the page of each created incident was attempted (success or failure). */
async function waitCalls(c: RpcClient, total: number): Promise<DependencyStats> {
  return waitUntil(`${total} calls of ${DEP}`, async () => {
    const p = await policyOf(c);
    return p && p.successes + p.failures + p.shortCircuited + p.rejected >= total ? p : undefined;
  });
}

describe('resilience and chaos on a real daemon', () => {
  const rx = new Receiver();
  beforeAll(() => rx.start());
  afterAll(() => rx.stop());

  it('configures policies, trips a breaker with a chaos experiment that ends by itself, resets it over REST, and survives restarts', async () => {
    const env = { COGNIFORGE_OUTBOUND_HOSTS: `127.0.0.1:${rx.port}` };
    let d: DaemonProcess = await spawn({ env });
    let c = await d.connect();
    const watcher = await d.connect();
    await c.request('oncall/upsertPerson', {
      handle: 'alice',
      name: 'Alice',
      timeZone: 'UTC',
      contacts: [{ channel: 'webhook', url: `http://127.0.0.1:${rx.port}/hook` }],
    });
    await c.request('oncall/upsertSchedule', {
      role: 'primary',
      layers: [{ name: 'all', members: ['alice'], startDate: '2026-01-05', handoffTime: '09:00', timeZone: 'UTC', turn: { count: 1, unit: 'weeks' } }],
    });
    await c.request('escalation/upsertPolicy', { severity: 'SEV4', levels: [{ delayMinutes: 0, targets: [{ role: 'primary' }], channels: ['webhook'] }] });

    await page(c, 'baseline');
    await waitUntil('the baseline page', async () => (rx.hits >= 1 ? true : undefined));
    let calls = 1;
    await waitCalls(c, calls);

    // Configuration: validated, applied live, and bad input changes nothing.
    const configured = await c.request<{ policy: DependencyStats }>('resilience/configure', {
      dependency: DEP,
      config: { breaker: { failureThreshold: 2, halfOpenAfterMs: 600_000 } },
    });
    expect(configured.policy.config.breaker).toEqual({ failureThreshold: 2, halfOpenAfterMs: 600_000, successThreshold: 3 });
    const zero = await rpcError(c.request('resilience/configure', { dependency: DEP, config: { maxConcurrent: 0 } }));
    expect(zero.code).toBe(ErrorCode.InvalidParams);
    expect(zero.message).toContain('maxConcurrent');
    expect((await rpcError(c.request('resilience/configure', { dependency: 'nosuch', config: { timeoutMs: 100 } }))).code).toBe(ErrorCode.NotFound);
    expect((await policyOf(c))?.config.maxConcurrent).toBe(15);

    // Chaos bad input: clear errors, nothing started.
    const bad = async (body: unknown, code: number, mention: string) => {
      const res = await d.http('/api/gateway/chaos/inject', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      const text = await res.text();
      expect(res.status, text).toBeGreaterThanOrEqual(400);
      expect(text).toContain(String(code));
      expect(text).toContain(mention);
    };
    await bad({ dependency: 'nosuch', fault: 'error', durationMs: 1000 }, ErrorCode.NotFound, 'unknown dependency');
    await bad({ dependency: DEP, fault: 'error', rate: 1.5, durationMs: 1000 }, ErrorCode.InvalidParams, 'rate');
    await bad({ dependency: DEP, fault: 'error', durationMs: 0 }, ErrorCode.InvalidParams, 'durationMs');
    await bad({ dependency: DEP, fault: 'error', durationMs: 1e12 }, ErrorCode.InvalidParams, 'durationMs');
    await bad({ dependency: DEP, fault: 'flood', durationMs: 1000 }, ErrorCode.InvalidParams, 'fault');
    expect(await experiments(c)).toEqual([]);

    // An error experiment over REST: pages fail inside the policy and the breaker opens.
    const inject = await d.http('/api/gateway/chaos/inject', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dependency: DEP, fault: 'error', rate: 1, durationMs: 4_000 }),
    });
    expect(inject.status).toBe(201);
    const { experiment } = (await inject.json()) as { experiment: ChaosExperiment };
    expect(experiment).toMatchObject({ state: 'running', fault: 'error', dependency: DEP });
    const twice = await rpcError(c.request('chaos/start', { dependency: DEP, fault: 'latency', durationMs: 1000, parameters: { latencyMs: 5 } }));
    expect(twice.code).toBe(ErrorCode.Conflict);
    expect(await experiments(c)).toHaveLength(1);

    const hitsBefore = rx.hits;
    for (let i = 0; i < 3; i++) await page(c, `during chaos ${i}`);
    calls += 3;
    const tripped = await waitCalls(c, calls);
    expect(rx.hits).toBe(hitsBefore);
    expect(tripped.breaker.state).toBe('open');
    expect(tripped).toMatchObject({ failures: 2, shortCircuited: 1, faultInjection: true });

    const opened = await watcher.waitForNotifications(1, (n) => n.method === 'resilience/didChange' && (n.params as { policy?: DependencyStats }).policy?.breaker.state === 'open');
    expect(opened[0]!.params).toMatchObject({ dependency: DEP });
    const started = await watcher.waitForNotifications(1, (n) => n.method === 'chaos/didChange' && (n.params as { change: string }).change === 'started');
    expect(started[0]!.params).toMatchObject({ experiment: { id: experiment.id } });
    const transitions = await c.request<{ events: { payload: { dependency: string; from: string; to: string } }[] }>('events/query', {
      types: ['resilience.breakerStateChanged'],
    });
    expect(transitions.events.map((e) => `${e.payload.dependency}:${e.payload.from}->${e.payload.to}`)).toEqual([`${DEP}:closed->open`]);

    const listed = await d.http('/api/gateway/chaos/experiments?state=running');
    expect(listed.status).toBe(200);
    const running = ((await listed.json()) as { experiments: ChaosExperiment[] }).experiments;
    expect(running).toHaveLength(1);
    expect(running[0]!.results).toEqual({ calls: 3, callsAffected: 2, breakerTrips: 1, callerErrors: 3 });
    const status = await d.http(`/api/gateway/circuit-breaker/status?service=${encodeURIComponent(DEP)}`);
    expect(((await status.json()) as PoliciesResult).policies[0]!.breaker.state).toBe('open');

    // The duration ends the experiment by itself.
    const finished = await waitUntil('the experiment to end', async () => {
      const [e] = await experiments(c, 'finished');
      return e;
    });
    expect(finished).toMatchObject({ id: experiment.id, endReason: 'duration', results: { breakerTrips: 1, callsAffected: 2 } });
    expect((await policyOf(c))?.faultInjection).toBe(false);

    // A read-only token may not reset; the owner resets over REST and pages flow again.
    const viewer = await c.request<{ token: string }>('auth/createToken', { name: 'viewer', scope: 'read' });
    const refused = await d.http(`/api/gateway/circuit-breaker/${encodeURIComponent(DEP)}/reset`, { method: 'POST', token: viewer.token, body: '{}', headers: { 'content-type': 'application/json' } });
    expect(refused.status).toBe(403);
    const reset = await d.http(`/api/gateway/circuit-breaker/${encodeURIComponent(DEP)}/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'webhook is back' }),
    });
    expect(reset.status).toBe(200);
    expect(await reset.json()).toMatchObject({ changed: true, policy: { breaker: { state: 'closed' } } });
    const again = await c.request<{ changed: boolean }>('resilience/resetBreaker', { dependency: DEP });
    expect(again.changed).toBe(false);
    await page(c, 'after reset');
    await waitUntil('the page after the reset', async () => (rx.hits > hitsBefore ? true : undefined));

    // The client library's policies report to the daemon and show beside its own.
    const builder = policyBuilder({ client: { request: ((type: { method: string }, params: unknown) => c.request(type.method, params)) as never } });
    expect(await builder.call('database', async () => 42)).toEqual({ success: true, result: 42 });
    const failed = await builder.call('llm', async () => {
      throw new Error('model overloaded');
    });
    expect(failed).toMatchObject({ success: false, error: { message: 'model overloaded' } });
    await builder.reportNow();
    builder.dispose();
    const all = await c.request<PoliciesResult>('resilience/policies', {});
    expect(all.reported.map((r) => `${r.serviceId}:${r.reporter}:${r.successes}/${r.failures}:${r.maxConcurrent}`)).toEqual(['database:owner:1/0:20', 'llm:owner:0/1:10']);
    expect(all.reported[0]!.clientId).toBe(builder.clientId);
    expect(all.policies.map((p) => p.dependency)).toContain(DEP);
    expect((await rpcError(c.request('resilience/reportStats', { clientId: '', policies: [] }))).code).toBe(ErrorCode.InvalidParams);

    // Restart mid-experiment: the configuration and the running experiment survive; then stop it.
    const partition = await c.request<{ experiment: ChaosExperiment }>('chaos/start', { dependency: DEP, fault: 'network_partition', durationMs: 120_000 });
    await d.stop();
    d = await spawn({ env, dataDir: d.dataDir });
    c = await d.connect();
    expect((await policyOf(c))?.config.breaker.failureThreshold).toBe(2);
    expect(await experiments(c, 'running')).toMatchObject([{ id: partition.experiment.id, fault: 'network_partition' }]);
    const hitsAtRestart = rx.hits;
    await page(c, 'during partition');
    const p = await waitCalls(c, 1);
    expect(p).toMatchObject({ failures: 1, faultInjection: true });
    expect(rx.hits).toBe(hitsAtRestart);
    const stopped = await c.request<{ experiment: ChaosExperiment }>('chaos/stop', { id: partition.experiment.id });
    expect(stopped.experiment).toMatchObject({ state: 'finished', endReason: 'stopped', stoppedBy: 'owner' });
    expect((await rpcError(c.request('chaos/stop', { id: partition.experiment.id }))).code).toBe(ErrorCode.InvalidTransition);

    // Restart after an experiment's end passed while the daemon was down: finished, not resumed.
    const short = await c.request<{ experiment: ChaosExperiment }>('chaos/start', { dependency: DEP, fault: 'error', durationMs: 1_500 });
    await d.stop();
    await sleep(2_000);
    d = await spawn({ env, dataDir: d.dataDir });
    c = await d.connect();
    const expired = await waitUntil('the expired experiment', async () =>
      (await experiments(c, 'finished')).find((e) => e.id === short.experiment.id),
    );
    expect(expired.endReason).toBe('expired');
    expect(await experiments(c, 'running')).toEqual([]);
    expect((await policyOf(c))?.faultInjection ?? false).toBe(false);
    await d.stop();
  }, 90_000);
});
