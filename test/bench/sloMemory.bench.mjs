// Resident memory of the daemon while it ingests 10 million samples through slo/recordBatch (batches
// of 10,000, the seeded SLOs in place), read from /proc/<pid>/status before (after a warm-up) and
// after. Target (issue 4): RSS grows by less than 50 MB.
// Beside RSS it reports the live heap after the last full GC before and after (the daemon runs with
// --trace-gc): RSS also holds heap V8 reserved for the allocation rate, the live heap is what the
// daemon actually keeps.
// RSS read at an arbitrary moment includes whatever garbage the last full GC has not collected yet
// (a sawtooth of tens of MB at this allocation rate), so the daemon also runs with an inspector on a
// loopback port and RSS is read a second time right after a full GC requested through it: that pair
// is the memory the daemon keeps.
// BENCH_QUICK=1 (or `--quick` when run directly) ingests 1 million instead; BENCH_SLO_SAMPLES sets any count.
import WebSocket from 'ws';
import { connect, memoryOf, report, startDaemon, waitFor } from './lib.mjs';

const BATCH = 10_000;
const quick = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');
const TOTAL = Number(process.env.BENCH_SLO_SAMPLES ?? (quick ? 1_000_000 : 10_000_000));
/** Enough for the daemon's heap to reach its working size before the baseline is read. */
const WARMUP = 500_000;
const IN_FLIGHT = 2;

/** Payloads without timestamps (the daemon stamps them with its clock), so they never age out. */
function buildPayloads(count) {
  const routes = ['/api/orders/:id', '/api/orders', '/api/customers/:id', '/api/checkout'];
  const payloads = [];
  for (let p = 0; p < count; p++) {
    const samples = [];
    for (let i = 0; i < BATCH; i++) {
      const k = p * BATCH + i;
      samples.push({
        service: 'api',
        method: k % 5 === 0 ? 'POST' : 'GET',
        route: routes[k % routes.length],
        status: k % 1009 === 0 ? 500 : 200,
        durationMs: (k * 7919) % 700,
      });
    }
    payloads.push(JSON.stringify({ samples }));
  }
  return payloads;
}

/** Send `samples` in batches; `onProgress(sent)` after each acknowledged batch. */
async function ingest(client, payloads, samples, onProgress = () => undefined) {
  let next = 0;
  let acked = 0;
  const batches = Math.ceil(samples / BATCH);
  const worker = async () => {
    while (next < batches) {
      const n = next++;
      await client.callRaw('slo/recordBatch', payloads[n % payloads.length]);
      acked += BATCH;
      onProgress(acked);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return batches * BATCH;
}

const settle = () => new Promise((r) => setTimeout(r, 2000));

/** Connect to the daemon's inspector (its URL is on stderr) for `collectGarbage()`. */
async function inspectorOf(daemon) {
  const url = await waitFor(() => /Debugger listening on (ws:\/\/\S+)/.exec(daemon.stderr())?.[1], 10_000, 'inspector URL');
  const ws = new WebSocket(url);
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
  });
  let id = 0;
  const call = (method) =>
    new Promise((resolve) => {
      const mine = ++id;
      const onMessage = (data) => {
        if (JSON.parse(data.toString()).id !== mine) return;
        ws.off('message', onMessage);
        resolve();
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id: mine, method }));
    });
  return {
    /** Full GC, then a moment for V8 to give freed pages back. */
    async collectGarbage() {
      await call('HeapProfiler.collectGarbage');
      await new Promise((r) => setTimeout(r, 500));
    },
    close: () => ws.close(),
  };
}

export async function run() {
  const nodeOptions = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --inspect=127.0.0.1:0`.trim();
  let daemon;
  try {
    daemon = await startDaemon({ traceGc: true });
  } finally {
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
  }
  const c = await connect(daemon.port, daemon.token);
  const inspector = await inspectorOf(daemon);
  try {
    const payloads = buildPayloads(4);
    await ingest(c, payloads, WARMUP);
    await settle();
    const before = memoryOf(daemon.child.pid);
    await inspector.collectGarbage();
    const beforeGc = memoryOf(daemon.child.pid);
    const gcBefore = daemon.lastMajorGc();
    const t0 = performance.now();
    // RSS along the way: bounded memory shows as a plateau, a leak as a line.
    const checkpoints = [];
    const sent = await ingest(c, payloads, TOTAL, (acked) => {
      if (acked % (TOTAL / 5) === 0) checkpoints.push(`${(acked / 1e6).toFixed(1)} M: ${memoryOf(daemon.child.pid).rssMb.toFixed(0)}`);
    });
    const seconds = (performance.now() - t0) / 1000;
    await settle();
    const after = memoryOf(daemon.child.pid);
    await inspector.collectGarbage();
    const afterGc = memoryOf(daemon.child.pid);
    const gcAfter = daemon.lastMajorGc();
    const heap = (g) => (g ? `${g.liveMb.toFixed(1)} (${g.committedMb.toFixed(1)})` : 'no full GC yet');
    const status = await c.call('slo/get', { id: 'slo_avail_30d' });
    if (status.budget.totalEvents !== WARMUP + sent) throw new Error(`daemon counted ${status.budget.totalEvents}, sent ${WARMUP + sent}`);
    report(`SLO memory: ${(sent / 1e6).toFixed(1)} M samples through slo/recordBatch (${BATCH} per batch)`, {
      'samples ingested (after a 500 k warm-up)': sent,
      'ingestion time (s) / rate (samples/s)': `${seconds.toFixed(1)} / ${(sent / seconds).toFixed(0)}`,
      'daemon RSS before / after (MB)': `${before.rssMb.toFixed(1)} / ${after.rssMb.toFixed(1)}`,
      'daemon RSS during ingestion (MB)': checkpoints.join(', '),
      'daemon peak RSS (VmHWM, MB)': after.hwmMb,
      'RSS growth, read at any moment (MB)': after.rssMb - before.rssMb,
      'daemon RSS before / after, each right after a full GC (MB)': `${beforeGc.rssMb.toFixed(1)} / ${afterGc.rssMb.toFixed(1)}`,
      'RSS growth after full GCs (MB, target < 50)': afterGc.rssMb - beforeGc.rssMb,
      'live heap after last full GC, before / after (committed) MB': `${heap(gcBefore)} / ${heap(gcAfter)}`,
      'full GCs during the run': (gcAfter?.count ?? 0) - (gcBefore?.count ?? 0),
    });
    return { growthMb: afterGc.rssMb - beforeGc.rssMb, rawGrowthMb: after.rssMb - before.rssMb, liveHeapGrowthMb: gcAfter && gcBefore ? gcAfter.liveMb - gcBefore.liveMb : NaN, samples: sent };
  } finally {
    inspector.close();
    c.close();
    await daemon.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
