// Secrets (issue 6). Two figures, each against a baseline measured in the same run:
// 1. a local-vault secrets/reveal (its audit event fsynced before the value is sent) against an
//    events/publish round trip (one fsynced event too), one caller, alternating rounds
//    (target: reveal p50 ≤ 1.5 × publish p50);
// 2. secrets/rotateMany of 1,000 secrets in one call while a second connection runs a trivial query
//    (daemon/ping) back to back: the query's p99 during the rotation against its idle p99
//    (target ≤ 5×).
import { rmSync } from 'node:fs';
import { closedLoop, connect, median, percentiles, report, startDaemon } from './lib.mjs';

const DURATION = Number(process.env.BENCH_MS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BULK = Number(process.env.BENCH_SECRETS ?? 1000);

/** p50/p99 of back-to-back calls of `fn` for `durationMs`, one at a time. */
async function sequential(fn, durationMs) {
  const r = await closedLoop(fn, { inFlight: 1, durationMs, warmupMs: 200 });
  return r;
}

async function revealVsPublish(c, secretId) {
  const reveal = [];
  const publish = [];
  for (let i = 0; i < ROUNDS; i++) {
    publish.push(await sequential(() => c.call('events/publish', { type: 'bench.published', payload: { n: i } }), DURATION));
    reveal.push(await sequential(() => c.call('secrets/reveal', { id: secretId }), DURATION));
  }
  return { reveal, publish };
}

/** The query's latencies while `work` runs (at least `minMs`). */
async function queryDuring(q, work, minMs = 0) {
  const latencies = [];
  let done = false;
  const running = work().finally(() => (done = true));
  const t0 = performance.now();
  while (!done || performance.now() - t0 < minMs) {
    const t = performance.now();
    await q.call('daemon/ping');
    latencies.push(performance.now() - t);
  }
  return { result: await running, ...percentiles(latencies), wallMs: performance.now() - t0 };
}

export async function run() {
  const daemon = await startDaemon();
  const c = await connect(daemon.port, daemon.token);
  const q = await connect(daemon.port, daemon.token);
  try {
    const rows = {};
    const s = await c.call('secrets/create', { name: 'bench_reveal', type: 'api_key', environment: 'dev' });
    const { reveal, publish } = await revealVsPublish(c, s.id);
    const ratios = reveal.map((r, i) => r.p50 / publish[i].p50);
    for (let i = 0; i < ROUNDS; i++) {
      rows[`round ${i + 1}: reveal / publish p50 (ms)`] = `${reveal[i].p50.toFixed(3)} / ${publish[i].p50.toFixed(3)}`;
    }
    rows['median reveal ÷ publish p50 (target ≤ 1.5)'] = median(ratios);
    report('Local-vault secrets/reveal against events/publish, one caller', rows);

    // 1,000 secrets in the bulk environment (created in batches of 50 calls at a time).
    for (let i = 0; i < BULK; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, BULK - i) }, (_, j) => c.call('secrets/create', { name: `bulk_${i + j}`, type: 'api_key', environment: 'bulk' })),
      );
    }
    const bulkRows = {};
    const during = [];
    const idle = [];
    for (let i = 0; i < ROUNDS; i++) {
      const quiet = await queryDuring(q, () => new Promise((r) => setTimeout(r, DURATION)));
      const busy = await queryDuring(q, () => c.call('secrets/rotateMany', { filter: { environment: 'bulk' } }));
      if (busy.result.rotated !== BULK) throw new Error(`rotateMany rotated ${busy.result.rotated} of ${BULK}`);
      idle.push(quiet.p99);
      during.push(busy.p99);
      bulkRows[`round ${i + 1}: rotate ${BULK} took (ms)`] = busy.wallMs;
      bulkRows[`round ${i + 1}: ping p50 / p99 idle (ms)`] = `${quiet.p50.toFixed(3)} / ${quiet.p99.toFixed(3)} (n=${quiet.n})`;
      bulkRows[`round ${i + 1}: ping p50 / p99 during (ms)`] = `${busy.p50.toFixed(3)} / ${busy.p99.toFixed(3)} (n=${busy.n})`;
    }
    bulkRows['median p99 during ÷ idle (target ≤ 5)'] = median(during.map((d, i) => d / idle[i]));
    report(`secrets/rotateMany of ${BULK} secrets while another connection pings`, bulkRows);
    return { revealVsPublish: median(ratios), queryP99Ratio: median(during.map((d, i) => d / idle[i])) };
  } finally {
    c.close();
    q.close();
    await daemon.stop();
    rmSync(daemon.dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
