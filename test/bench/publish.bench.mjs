// Durable events/publish with 64 concurrent callers: group commit (default) against one fdatasync per
// event (--no-group-commit) and against no fsync at all (--no-fsync), all measured in this run.
// Targets (issue 2): ≥ 5× the no-group-commit rate, ≥ 0.5× the no-fsync rate. Also reports this
// machine's fdatasync latency, which bounds the no-group-commit rate.
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { closedLoop, connect, median, percentiles, report, startDaemon, tempDir } from './lib.mjs';

const DURATION = Number(process.env.BENCH_MS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function fdatasyncLatency(samples = 200) {
  const dir = tempDir();
  const file = join(dir, 'probe');
  const fd = openSync(file, 'a');
  const buf = Buffer.alloc(200, 1);
  const times = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    writeSync(fd, buf);
    fdatasyncSync(fd);
    times.push(performance.now() - t);
  }
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return percentiles(times);
}

async function publishRate(args) {
  const daemon = await startDaemon({ args });
  const c = await connect(daemon.port, daemon.token);
  let n = 0;
  try {
    const r = await closedLoop(() => c.call('events/publish', { type: 'bench.published', payload: { n: n++, pad: 'x'.repeat(100) } }), {
      inFlight: 64,
      durationMs: DURATION,
    });
    return r.rate;
  } finally {
    c.close();
    await daemon.stop();
    rmSync(daemon.dataDir, { recursive: true, force: true });
  }
}

export async function run() {
  const sync = fdatasyncLatency();
  const vsNoGroup = [];
  const vsNoFsync = [];
  const rows = { 'fdatasync latency p50 / p99 (ms)': `${sync.p50.toFixed(3)} / ${sync.p99.toFixed(3)}` };
  for (let i = 0; i < ROUNDS; i++) {
    const noGroup = await publishRate(['--no-group-commit']);
    const group = await publishRate([]);
    const noFsync = await publishRate(['--no-fsync']);
    vsNoGroup.push(group / noGroup);
    vsNoFsync.push(group / noFsync);
    rows[`round ${i + 1}: group / no-group / no-fsync (events/s)`] = `${group.toFixed(0)} / ${noGroup.toFixed(0)} / ${noFsync.toFixed(0)}`;
  }
  rows['median group commit ÷ no group commit (target ≥ 5)'] = median(vsNoGroup);
  rows['median group commit ÷ no fsync (target ≥ 0.5)'] = median(vsNoFsync);
  report('Durable events/publish, 64 concurrent callers', rows);
  return { vsNoGroup: median(vsNoGroup), vsNoFsync: median(vsNoFsync) };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
