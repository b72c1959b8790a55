// Incidents at scale (issue 5): two daemons, one with 1,000 incidents and one with 100,000, filled
// over RPC (incidents/create, then acknowledge and resolve transitions for part of them, so MTTA and
// MTTR have data and every status list is populated; each create also runs its escalation level 1
// on the durable scheduler, as it does for real).
//   - `incidents/list`, first page (50 rows, filtered by status and severity), single round trips
//     alternated with `daemon/ping` on the same connection of the 100k daemon.
//     Target: list median ≤ 5× the ping median.
//   - `incidents/metrics` (all time, and over the last 30 days): a JSON-RPC batch frame of K calls
//     minus a frame of K pings, per call, on the 1k and the 100k daemon, frames alternated.
//     Target: 100k ≤ 1.5× 1k.
// Also reported: fill rate, the incidents projection's share of the snapshot (bytes per incident) and
// the 100k daemon's resident memory.
// BENCH_QUICK=1 (or `--quick` when run directly) uses 10,000 instead of 100,000; BENCH_INCIDENTS sets any count.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect, median, memoryOf, report, startDaemon } from './lib.mjs';

const quick = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');
const LARGE = Number(process.env.BENCH_INCIDENTS ?? (quick ? 10_000 : 100_000));
const SMALL = 1_000;
const FRAME = 500;
const K = 50;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? (quick ? 200 : 400));
const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];
const SERVICES = Array.from({ length: 20 }, (_, i) => `svc-${i}`);
const LIST_FILTER = { statuses: ['detected', 'acknowledged', 'investigating'], severities: ['SEV1', 'SEV2'], limit: 50 };

/** Send `calls` in frames of FRAME, waiting for each frame's answers; returns every result in order. */
async function inFrames(client, calls) {
  const results = [];
  for (let i = 0; i < calls.length; i += FRAME) results.push(...(await client.callBatch(calls.slice(i, i + FRAME))));
  return results;
}

/**
 * `count` incidents: severities and services cycle; 70 % acknowledged, 50 % of all resolved (resolved
 * ones are acknowledged first), the rest left open.
 */
async function fill(client, count) {
  const t0 = performance.now();
  const creates = Array.from({ length: count }, (_, i) => [
    'incidents/create',
    {
      title: `bench incident ${i}`,
      severity: SEVERITIES[i % 4],
      detectedBy: { kind: 'monitor', name: 'bench' },
      services: [SERVICES[i % SERVICES.length], SERVICES[(i * 7 + 3) % SERVICES.length]],
    },
  ]);
  const created = await inFrames(client, creates);
  const createMs = performance.now() - t0;
  const acks = created.filter((_, i) => i % 10 < 7).map((inc) => ['incidents/transition', { id: inc.id, to: 'acknowledged' }]);
  await inFrames(client, acks);
  const resolves = created.filter((_, i) => i % 10 < 5).map((inc) => ['incidents/transition', { id: inc.id, to: 'resolved' }]);
  await inFrames(client, resolves);
  const totalMs = performance.now() - t0;
  return { createsPerS: (count / createMs) * 1000, transitionsPerS: ((acks.length + resolves.length) / (totalMs - createMs)) * 1000 };
}

/** Resolves once the daemon appended nothing for 2 s; returns how long that took, ms. */
async function quiescent(client) {
  const t0 = performance.now();
  let last = -1;
  let still = 0;
  while (still < 4) {
    await new Promise((r) => setTimeout(r, 500));
    const seq = (await client.call('daemon/status', {})).eventLog.lastSeq;
    still = seq === last ? still + 1 : 0;
    last = seq;
  }
  return performance.now() - t0;
}

async function roundTrip(client, method, params) {
  const t = performance.now();
  await client.call(method, params);
  return performance.now() - t;
}

async function frameTime(client, calls) {
  const t = performance.now();
  await client.callBatch(calls);
  return performance.now() - t;
}

/** The incidents projection's share of `<dataDir>/snapshots/projections.json`, bytes. */
function snapshotBytes(dataDir) {
  const file = JSON.parse(readFileSync(join(dataDir, 'snapshots', 'projections.json'), 'utf8'));
  return Buffer.byteLength(JSON.stringify(file.projections.incidents ?? null));
}

export async function run() {
  // Fixture filling only: fsync off, one snapshot after the fill (clean stop) measures its size.
  const args = ['--no-fsync', '--snapshot-every', '100000000'];
  const small = await startDaemon({ args });
  const large = await startDaemon({ args });
  const s = await connect(small.port, small.token);
  const l = await connect(large.port, large.token);
  try {
    await fill(s, SMALL);
    const filled = await fill(l, LARGE);
    // Each create's escalation level 1 fires on the scheduler after the create answered: measure
    // once that backlog is worked off, or the measurements share the daemon with it.
    const settleS = await quiescent(s);
    const settleL = await quiescent(l);
    const total = (await l.call('incidents/metrics', {})).openBySeverity;
    const page = await l.call('incidents/list', LIST_FILTER);
    if (page.incidents.length !== 50) throw new Error(`first page has ${page.incidents.length} rows`);

    // Single round trips: list page vs ping, alternated.
    const tList = [];
    const tPing = [];
    for (let i = 0; i < ITERATIONS * 5 + 100; i++) {
      const a = await roundTrip(l, 'incidents/list', LIST_FILTER);
      const b = await roundTrip(l, 'daemon/ping', {});
      if (i < 100) continue;
      tList.push(a);
      tPing.push(b);
    }

    // Batched metrics on both daemons, minus batched pings on each.
    const since = new Date(Date.now() - 30 * 86_400_000).toISOString();
    const metrics = Array.from({ length: K }, () => ['incidents/metrics', {}]);
    const metricsPeriod = Array.from({ length: K }, () => ['incidents/metrics', { from: since }]);
    const pings = Array.from({ length: K }, () => ['daemon/ping', {}]);
    const t = { s: [], l: [], sp: [], lp: [], sPing: [], lPing: [] };
    for (let i = 0; i < ITERATIONS + 50; i++) {
      const row = [
        await frameTime(s, metrics),
        await frameTime(l, metrics),
        await frameTime(s, metricsPeriod),
        await frameTime(l, metricsPeriod),
        await frameTime(s, pings),
        await frameTime(l, pings),
      ];
      if (i < 50) continue;
      ['s', 'l', 'sp', 'lp', 'sPing', 'lPing'].forEach((k, j) => t[k].push(row[j]));
    }
    const perCall = (frames, pingFrames) => ((median(frames) - median(pingFrames)) / K) * 1000;
    const usSmall = perCall(t.s, t.sPing);
    const usLarge = perCall(t.l, t.lPing);
    const usSmallP = perCall(t.sp, t.sPing);
    const usLargeP = perCall(t.lp, t.lPing);
    const mem = memoryOf(large.child.pid);

    s.close();
    l.close();
    await small.stop();
    await large.stop();
    const bytes = snapshotBytes(large.dataDir);

    const rows = {
      [`incidents: small / large daemon`]: `${SMALL} / ${LARGE}`,
      'fill (large): creates/s, transitions/s': `${filled.createsPerS.toFixed(0)} / ${filled.transitionsPerS.toFixed(0)}`,
      'escalation backlog after fill, s: 1k / large': `${(settleS / 1000).toFixed(1)} / ${(settleL / 1000).toFixed(1)}`,
      'open incidents by severity (large)': JSON.stringify(total),
      'list first page (50, status+severity) median ms': median(tList),
      'daemon/ping median ms (same run, alternated)': median(tPing),
      'list ÷ ping (target ≤ 5)': median(tList) / median(tPing),
      'metrics all-time µs/call: 1k / large': `${usSmall.toFixed(1)} / ${usLarge.toFixed(1)}`,
      'metrics all-time large ÷ 1k (target ≤ 1.5)': usLarge / usSmall,
      'metrics last 30 d µs/call: 1k / large': `${usSmallP.toFixed(1)} / ${usLargeP.toFixed(1)}`,
      'metrics last 30 d large ÷ 1k (target ≤ 1.5)': usLargeP / usSmallP,
      'incidents snapshot: bytes per incident': bytes / LARGE,
      'large daemon RSS MB (after fill)': mem.rssMb,
    };
    report(`Incidents: list and metrics with ${LARGE} incidents`, rows);
    return { listRatio: median(tList) / median(tPing), metricsRatio: usLarge / usSmall, metricsPeriodRatio: usLargeP / usSmallP };
  } finally {
    s.close();
    l.close();
    await small.stop();
    await large.stop();
    // Half a gigabyte of log at 100,000 incidents.
    rmSync(small.dataDir, { recursive: true, force: true });
    rmSync(large.dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
