// RPC round trips through the daemon (daemon/ping, one client process) against a bare ws echo server
// in its own process that parses and stringifies JSON. Five alternating pairs; median ratio.
// Targets (issue 2): throughput ≥ 0.7× the echo's with 64 in flight; p99 ≤ 2× the echo's with 1 in flight.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { closedLoop, connect, median, report, startDaemon } from './lib.mjs';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 5);
const DURATION = Number(process.env.BENCH_MS ?? 2000);

async function startEcho() {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'echoServer.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((r) => createInterface({ input: child.stdout }).once('line', (l) => r(Number(l))));
  process.on('exit', () => child.kill());
  return { port, stop: () => child.kill() };
}

export async function run() {
  const daemon = await startDaemon();
  const echo = await startEcho();
  const d = await connect(daemon.port, daemon.token);
  const e = await connect(echo.port, undefined, { initialize: false });
  const ping = (c) => () => c.call('daemon/ping', {});
  const tput = [];
  const lat = [];
  const rows = {};
  try {
    for (let i = 0; i < PAIRS; i++) {
      const a = await closedLoop(ping(e), { inFlight: 64, durationMs: DURATION });
      const b = await closedLoop(ping(d), { inFlight: 64, durationMs: DURATION });
      tput.push(b.rate / a.rate);
      const a1 = await closedLoop(ping(e), { inFlight: 1, durationMs: DURATION / 2 });
      const b1 = await closedLoop(ping(d), { inFlight: 1, durationMs: DURATION / 2 });
      lat.push(b1.p99 / a1.p99);
      rows[`pair ${i + 1}: echo / daemon msgs/s (64 in flight)`] = `${a.rate.toFixed(0)} / ${b.rate.toFixed(0)}`;
      rows[`pair ${i + 1}: echo / daemon p99 ms (1 in flight)`] = `${a1.p99.toFixed(3)} / ${b1.p99.toFixed(3)}`;
    }
  } finally {
    d.close();
    e.close();
    echo.stop();
    await daemon.stop();
  }
  rows['median throughput ratio daemon/echo (target ≥ 0.7)'] = median(tput);
  rows['median p99 ratio daemon/echo (target ≤ 2)'] = median(lat);
  report('RPC round trips: daemon vs bare ws echo', rows);
  return { throughputRatio: median(tput), p99Ratio: median(lat) };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
