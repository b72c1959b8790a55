// Durable events/publish with 64 concurrent callers, with and without one live subscriber in its own
// process (the client library's durable `subscribe(name, filter, handler)`, acking every event), each
// on a fresh daemon, alternating, all in this run. Target (issue 8): with ≥ 0.8× without.
// Also reports how far behind the subscriber was when publishing stopped.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closedLoop, connect, median, report, ROOT, startDaemon, tempDir, waitFor } from './lib.mjs';

const DURATION = Number(process.env.BENCH_MS ?? (process.env.BENCH_QUICK ? 2000 : 4000));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const SUBSCRIBER = `
const { connect } = require(${JSON.stringify(join(ROOT, 'dist', 'client.js'))});
(async () => {
  const client = await connect({ dataDir: process.argv[2], clientName: 'bench-subscriber' });
  let received = 0;
  await client.subscribe('bench-subscriber', { types: ['bench.**'] }, async () => { received++; });
  process.stdout.write('ready\\n');
  setInterval(() => process.stdout.write('received ' + received + '\\n'), 200);
})().catch((e) => { console.error(e); process.exit(1); });
`;

async function round(withSubscriber, script) {
  const daemon = await startDaemon();
  const c = await connect(daemon.port, daemon.token);
  let sub;
  let received = 0;
  try {
    if (withSubscriber) {
      sub = spawn(process.execPath, [script, daemon.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      sub.stdout.on('data', (d) => {
        out += d;
        const m = /received (\d+)\n(?![\s\S]*received)/.exec(out);
        if (m) received = Number(m[1]);
        if (out.length > 4096) out = out.slice(-256);
      });
      let err = '';
      sub.stderr.on('data', (d) => (err += d));
      await waitFor(() => out.includes('ready') || /received/.test(out), 30_000, `the subscriber to attach (${err})`);
    }
    let n = 0;
    const r = await closedLoop(() => c.call('events/publish', { type: 'bench.published', payload: { n: n++, pad: 'x'.repeat(100) } }), {
      inFlight: 64,
      durationMs: DURATION,
    });
    const published = n;
    return { rate: r.rate, published, receivedAtEnd: received };
  } finally {
    sub?.kill('SIGTERM');
    c.close();
    await daemon.stop();
    rmSync(daemon.dataDir, { recursive: true, force: true });
  }
}

export async function run() {
  const dir = tempDir('cf-bench-sub-');
  const script = join(dir, 'subscriber.cjs');
  writeFileSync(script, SUBSCRIBER);
  const ratios = [];
  const rows = {};
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const without = await round(false, script);
      const withSub = await round(true, script);
      ratios.push(withSub.rate / without.rate);
      rows[`round ${i + 1}: with / without subscriber (events/s)`] =
        `${withSub.rate.toFixed(0)} / ${without.rate.toFixed(0)} (subscriber had ${withSub.receivedAtEnd} of ${withSub.published} when publishing stopped)`;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  rows['median with ÷ without (target ≥ 0.8)'] = median(ratios);
  report('Durable events/publish, 64 concurrent callers, with one live subscriber process', rows);
  return { ratio: median(ratios) };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
