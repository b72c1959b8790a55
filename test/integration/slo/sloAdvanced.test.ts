import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../daemon/protocol';
import { DAEMON_JS, makeTempDir, rpcError, useDaemons } from '../helpers/daemonProcess';

const start = useDaemons();

/** Run `cogniforged gate ...` as CI would. */
function gate(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COGNIFORGE_')) env[k] = v;
  const child = spawn(process.execPath, [DAEMON_JS, 'gate', ...args], { cwd: makeTempDir('cf-gate-'), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const sample = (status: number, durationMs: number) => ({ service: 'api', method: 'GET', route: '/api/orders/1', status, durationMs });

interface Latency {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  samples: number;
}

describe('slo gate, latency distributions, notices and budgetConsumed against a real daemon', () => {
  it('allows, denies, answers REST, exits 2 without a daemon, and keeps histograms across a restart', async () => {
    const d = await start();
    const c = await d.connect();

    // Fresh seeds: every budget whole.
    const allow = await gate(['--data-dir', d.dataDir]);
    expect(allow.stderr).toBe('');
    expect(allow.code).toBe(0);
    expect(allow.stdout).toContain('SLO deploy gate: ALLOW (3 SLOs');

    // 1,000 requests: 1..1000 ms, 3 of them 503s. Availability (99.9 %): budget 1, 3 bad → −200 %.
    const from = new Date(Date.now() - 60_000).toISOString();
    await c.request('slo/recordBatch', { samples: Array.from({ length: 1000 }, (_, i) => sample(i < 3 ? 503 : 200, i + 1)) });
    const lat = await c.request<{ burnRates: { window: string; latency: Latency }[]; budget: { badEvents: number } }>('slo/get', { id: 'slo_lat_30d' });
    expect(lat.burnRates.find((b) => b.window === '1h')!.latency).toEqual({ p50: 500, p95: 950, p99: 1000, samples: 1000 });
    expect(lat.budget.badEvents).toBe(500);
    const series = await c.request<{ latency: Latency; buckets: { latency: Latency }[] }>('slo/series', { id: 'slo_lat_30d', resolutionMinutes: 60 });
    expect(series.latency).toEqual({ p50: 500, p95: 950, p99: 1000, samples: 1000 });

    const deny = await gate(['--data-dir', d.dataDir, '--slo', 'availability_30d']);
    expect(deny.code).toBe(1);
    expect(deny.stdout).toContain('SLO deploy gate: DENY');
    expect(deny.stdout).toContain('slo_avail_30d [lowBudget] API Availability (30d): -200 % of the error budget remains; the gate needs at least 25 %.');
    const json = await gate(['--data-dir', d.dataDir, '--slo', 'slo_err_30d,slo_lat_30d', '--json', '--min-budget', '-5']);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as { decision: string; reasons: { sloId: string; code: string }[]; slos: { sloId: string }[] };
    // Error rate: 3 bad of a budget of 1 (−200 %, burn rate 3) passes a −500 % minimum; latency: 500 bad
    // of a budget of 10 is −4,900 %, and its burn rate of 50 pages.
    expect(parsed.decision).toBe('deny');
    expect(parsed.reasons.map((r) => [r.sloId, r.code])).toEqual([
      ['slo_lat_30d', 'lowBudget'],
      ['slo_lat_30d', 'pageAlert'],
    ]);
    expect(parsed.slos.map((s) => s.sloId)).toEqual(['slo_err_30d', 'slo_lat_30d']);
    expect((await gate(['--data-dir', d.dataDir, '--slo', 'nope'])).code).toBe(2);

    // REST mirror.
    const rest = await d.http('/api/slo/gate?slo=slo_err_30d&min_budget=-5');
    expect(rest.status).toBe(200);
    expect(await rest.json()).toMatchObject({ decision: 'allow', reasons: [] });
    expect((await d.http('/api/slo/gate?min_budget=7')).status).toBe(400);

    // OpenSLO: export a seed, import it under a new id (dry run first), refuse an unsupported field.
    const exported = await c.request<{ yaml: string }>('slo/export', { ids: ['availability_30d'] });
    expect(exported.yaml).toContain('name: slo-avail-30d');
    const copy = exported.yaml.replace(/slo-avail-30d/g, 'slo-copy').replace(/slo_avail_30d/g, 'slo_copy').replace(/\n\s+cogniforge.dev\/aliases: .*\n/, '\n');
    expect((await c.request<{ slos: { id: string }[] }>('slo/import', { yaml: copy, dryRun: true })).slos.map((s) => s.id)).toEqual(['slo_copy']);
    expect((await rpcError(c.request('slo/get', { id: 'slo_copy' }))).code).toBe(ErrorCode.NotFound);
    const refused = await rpcError(c.request('slo/import', { yaml: copy.replace('budgetingMethod: Occurrences', 'budgetingMethod: Timeslices') }));
    expect(refused.code).toBe(ErrorCode.InvalidParams);
    expect(refused.message).toBe('yaml: document 1: spec.budgetingMethod: only Occurrences is supported');
    const imported = await c.request<{ slos: { id: string; objective: number; aliases: string[] }[] }>('slo/import', { yaml: copy });
    expect(imported.slos).toMatchObject([{ id: 'slo_copy', objective: 0.999, aliases: [] }]);

    // Budget-consumption notices were sent once each.
    const notices = await c.waitForNotifications(5, (n) => n.method === 'slo/didNotice' && JSON.stringify(n.params).includes('"sloId":"slo_avail_30d"'));
    expect(notices.map((n) => (n.params as { notice: { threshold: number } }).notice.threshold).sort()).toEqual([0.1, 0.25, 0.5, 0.75, 1]);

    // The budget the last minutes consumed, and bad input naming its field.
    const consumed = await c.request<{ slos: { sloId: string; badEvents: number; consumedRatio: number }[] }>('slo/budgetConsumed', {
      sloIds: ['availability_30d'],
      from,
      to: new Date(Date.now() + 1000).toISOString(),
    });
    expect(consumed.slos).toEqual([{ sloId: 'slo_avail_30d', totalEvents: 1000, badEvents: 3, budgetEvents: 1, consumedRatio: 3 }]);
    const bad = await rpcError(c.request('slo/budgetConsumed', { from: 'soon', to: from }));
    expect(bad.code).toBe(ErrorCode.InvalidParams);
    expect(JSON.stringify(bad.data)).toContain('from');

    // A new latency threshold recounts the history from the histograms, and survives a restart.
    await c.request('slo/update', { id: 'slo_lat_30d', sli: { kind: 'latency', thresholdMs: 250 } });
    const recounted = await c.request<{ budget: { totalEvents: number; badEvents: number } }>('slo/get', { id: 'slo_lat_30d' });
    expect(recounted.budget).toMatchObject({ totalEvents: 1000, badEvents: 750 });
    await d.stop();
    const unreachable = await gate(['--data-dir', d.dataDir]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain(`Start it with \`cogniforged --data-dir ${d.dataDir}\``);

    const d2 = await start({ dataDir: d.dataDir });
    const c2 = await d2.connect();
    const after = await c2.request<{ budget: { badEvents: number }; burnRates: { window: string; latency: Latency }[] }>('slo/get', { id: 'latency_p99_30d' });
    expect(after.budget.badEvents).toBe(750);
    expect((await c2.request<{ slo: { name: string } }>('slo/get', { id: 'slo_copy' })).slo.name).toBe('API Availability (30d)');
    expect(after.burnRates.find((b) => b.window === '24h')!.latency.p99).toBe(1000);
    // 750 bad of a budget of 10: −7,300 %, below any minimum the gate accepts (≥ −10).
    const stillDenied = await gate(['--data-dir', d2.dataDir, '--slo', 'slo_lat_30d', '--allow-during-page']);
    expect(stillDenied.code).toBe(1);
    expect(stillDenied.stdout).not.toContain('pageAlert');
    expect((await gate(['--data-dir', d2.dataDir, '--slo', 'error_rate_30d', '--min-budget', '-5'])).code).toBe(0);
  }, 90_000);
});
