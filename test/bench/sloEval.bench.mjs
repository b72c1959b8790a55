// Evaluating an SLO with a 30-day window against one with a 7-day window, both with full history
// (one sample in every minute of the window, fed through slo/recordBatch with timestamps spread back
// from now: a spawned daemon has no ManualClock).
// Measured over RPC: a JSON-RPC batch frame of K `slo/get` calls against a frame of K `daemon/ping`
// calls on the same connection, so the socket and framing cost cancels out and what remains is the
// evaluation (status, budget, burn rates, alerts) plus serializing its answer, per SLO:
//   µs per evaluation = (median frame time of gets − median frame time of pings) ÷ K.
// Frames of the three kinds alternate so drift in machine load hits them alike.
// Target (issue 4): 30-day evaluation ≤ 1.5× the 7-day one.
import { connect, median, report, startDaemon } from './lib.mjs';

const K = 50;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 400);
const MINUTE = 60_000;

/** One sample per minute over the last `days` (minus a margin so none ages out of the window mid-feed). */
async function feedHistory(client, service, days) {
  const now = Date.now();
  const minutes = days * 1440 - 30;
  let sent = 0;
  for (let start = 1; start <= minutes; start += 10_000) {
    const samples = [];
    for (let m = start; m < Math.min(start + 10_000, minutes + 1); m++) {
      samples.push({
        service,
        method: 'GET',
        route: '/api/orders/:id',
        status: m % 500 === 0 ? 503 : 200,
        durationMs: m % 97 === 0 ? 900 : 40,
        timestamp: new Date(now - m * MINUTE).toISOString(),
      });
    }
    const r = await client.call('slo/recordBatch', { samples });
    sent += r.accepted;
  }
  return sent;
}

async function frameTime(client, calls) {
  const t = performance.now();
  await client.callBatch(calls);
  return performance.now() - t;
}

export async function run() {
  const daemon = await startDaemon();
  const c = await connect(daemon.port, daemon.token);
  try {
    // Only the two SLOs under test: the seeded ones would share the samples and the daemon's time.
    const { slos } = await c.call('slo/list', {});
    for (const s of slos) await c.call('slo/delete', { id: s.slo.id });
    for (const [id, days] of [
      ['bench_30d', 30],
      ['bench_7d', 7],
    ]) {
      await c.call('slo/create', { id, name: id, sli: { kind: 'availability' }, objective: 0.999, windowDays: days, filter: { service: id } });
    }
    const fed30 = await feedHistory(c, 'bench_30d', 30);
    const fed7 = await feedHistory(c, 'bench_7d', 7);
    const s30 = await c.call('slo/get', { id: 'bench_30d' });
    const s7 = await c.call('slo/get', { id: 'bench_7d' });
    if (s30.budget.totalEvents !== fed30 || s7.budget.totalEvents !== fed7) {
      throw new Error(`history not in the window: ${s30.budget.totalEvents}/${fed30}, ${s7.budget.totalEvents}/${fed7}`);
    }
    const gets = (id) => Array.from({ length: K }, () => ['slo/get', { id }]);
    const pings = Array.from({ length: K }, () => ['daemon/ping', {}]);
    const t30 = [];
    const t7 = [];
    const tPing = [];
    for (let i = 0; i < ITERATIONS + 50; i++) {
      const a = await frameTime(c, gets('bench_30d'));
      const b = await frameTime(c, gets('bench_7d'));
      const p = await frameTime(c, pings);
      // The first frames warm the JIT.
      if (i < 50) continue;
      t30.push(a);
      t7.push(b);
      tPing.push(p);
    }
    const ping = median(tPing);
    const us30 = ((median(t30) - ping) / K) * 1000;
    const us7 = ((median(t7) - ping) / K) * 1000;
    const rows = {
      'history (samples in window): 30 d / 7 d': `${fed30} / ${fed7}`,
      [`median frame of ${K} calls (ms): get 30 d / get 7 d / ping`]: `${median(t30).toFixed(3)} / ${median(t7).toFixed(3)} / ${ping.toFixed(3)}`,
      'µs per evaluation, 30-day window': us30,
      'µs per evaluation, 7-day window': us7,
      '30 d ÷ 7 d (target ≤ 1.5)': us30 / us7,
    };
    report('SLO evaluation cost: 30-day vs 7-day window, full history (slo/get minus daemon/ping, batched)', rows);
    return { us30, us7, ratio: us30 / us7 };
  } finally {
    c.close();
    await daemon.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
