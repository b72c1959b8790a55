// Start-up with 100,000 events in the log (snapshot at 90,000, a 10,000-event tail to replay), timed
// from spawn to the first answered call, against the same with an empty log.
// Target (issue 2): ≤ 2× the empty-log start-up. Also reports replay events/s.
import { rmSync } from 'node:fs';
import { connect, median, report, startDaemon, tempDir } from './lib.mjs';

const TOTAL = Number(process.env.BENCH_EVENTS ?? 100_000);
const SNAPSHOT_AT = Math.round(TOTAL * 0.9);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function fill(dataDir) {
  // Publish with fsync off to build the fixture quickly; the on-disk format is the same.
  const daemon = await startDaemon({ dataDir, args: ['--no-fsync', '--snapshot-every', String(SNAPSHOT_AT)] });
  const c = await connect(daemon.port, daemon.token);
  const BATCH = 500;
  for (let sent = 0; sent < TOTAL; sent += BATCH) {
    const frame = [];
    for (let i = 0; i < BATCH && sent + i < TOTAL; i++) {
      frame.push({ jsonrpc: '2.0', id: i, method: 'events/publish', params: { type: 'bench.filled', payload: { n: sent + i, pad: 'y'.repeat(80) } } });
    }
    await new Promise((resolve, reject) => {
      c.ws.once('message', (d) => {
        const answers = JSON.parse(d.toString());
        const bad = answers.find((a) => a.error);
        if (bad) reject(new Error(bad.error.message));
        else resolve();
      });
      c.ws.send(JSON.stringify(frame));
    });
  }
  const status = await c.call('daemon/status', {});
  c.close();
  // SIGKILL: a clean stop would snapshot at 100,000 and leave no tail to replay.
  await daemon.stop('SIGKILL');
  return status;
}

async function timeToFirstAnswer(dataDir) {
  const daemon = await startDaemon({ dataDir });
  const c = await connect(daemon.port, daemon.token);
  await c.call('daemon/ping', {});
  const ms = performance.now() - daemon.spawnedAt;
  const status = await c.call('daemon/status', {});
  c.close();
  await daemon.stop('SIGKILL');
  return { ms, status };
}

export async function run() {
  const full = tempDir();
  const filled = await fill(full);
  const emptyTimes = [];
  const fullTimes = [];
  let lastStatus;
  for (let i = 0; i < RUNS; i++) {
    const empty = tempDir();
    emptyTimes.push((await timeToFirstAnswer(empty)).ms);
    rmSync(empty, { recursive: true, force: true });
    const r = await timeToFirstAnswer(full);
    fullTimes.push(r.ms);
    lastStatus = r.status;
  }
  const tail = TOTAL - SNAPSHOT_AT;
  const extraMs = median(fullTimes) - median(emptyTimes);
  const rows = {
    'events in log / snapshot seq at fill': `${filled.eventLog.lastSeq} / ${filled.eventLog.snapshotSeq}`,
    'events after restart': lastStatus.eventLog.events,
    'empty log: spawn → first answer, median ms': median(emptyTimes),
    [`${TOTAL} events (${tail} tail): median ms`]: median(fullTimes),
    'ratio full ÷ empty (target ≤ 2)': median(fullTimes) / median(emptyTimes),
    'replay rate, tail events ÷ extra start-up time (events/s)': extraMs > 0 ? (tail / extraMs) * 1000 : 'below measurement noise',
  };
  report('Start-up with a 100,000-event log vs empty', rows);
  rmSync(full, { recursive: true, force: true });
  return { ratio: median(fullTimes) / median(emptyTimes) };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
