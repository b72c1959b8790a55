// The cost the full per-dependency policy adds to an outbound call (issue 8: at most 50 µs).
// In one process, a no-op async call is timed bare and through DependencyPolicies.execute
// (bulkhead → breaker → timeout → chaos hook, idle: no experiment attached), in alternating rounds so
// drift in machine load hits both alike. The policy code is bundled from the TypeScript sources with
// esbuild (the same code the daemon runs), into a temp file, then imported.
//   overhead µs = (median round time through the policy − median bare round time) ÷ calls per round.
import * as esbuild from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, median, report, tempDir } from './lib.mjs';

const CALLS = 2_000;
const ROUNDS = Number(process.env.BENCH_ITERATIONS ?? 60);
const TARGET_US = 50;

async function loadPolicies() {
  const entry = `export { DependencyPolicies } from ${JSON.stringify(join(ROOT, 'daemon/services/resilience/policies.ts'))};
export { systemClock } from ${JSON.stringify(join(ROOT, 'daemon/services/shared/clock.ts'))};
export { ChangeThrottle } from ${JSON.stringify(join(ROOT, 'daemon/services/resilience/changeThrottle.ts'))};`;
  const out = await esbuild.build({
    stdin: { contents: entry, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'warning',
  });
  const dir = tempDir('cf-bench-policy-');
  const file = join(dir, 'policies.mjs');
  writeFileSync(file, out.outputFiles[0].text);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Appends nothing: an idle policy records no events, so the store is never called. */
const nullStore = {
  append: async () => [],
};

async function round(call) {
  const t = performance.now();
  for (let i = 0; i < CALLS; i++) await call();
  return performance.now() - t;
}

export async function run() {
  const { DependencyPolicies, systemClock, ChangeThrottle } = await loadPolicies();
  const policies = new DependencyPolicies({ store: nullStore, clock: systemClock });
  // A second policy set wired like the daemon's: its observer feeds the throttled live-stats
  // notification (here: building the stats it would send, at most once a second).
  const observed = new DependencyPolicies({ store: nullStore, clock: systemClock });
  let notifications = 0;
  const throttle = new ChangeThrottle(systemClock, 1000, (dep) => {
    if (observed.stats(dep)[0]) notifications++;
  });
  observed.setObserver((dep) => throttle.touch(dep));
  const noop = async () => 1;
  const bare = () => noop();
  const viaPolicy = () => policies.execute('bench', noop);
  const viaObserved = () => observed.execute('bench', noop);
  // Warm-up: JIT every path.
  for (let i = 0; i < 5; i++) {
    await round(bare);
    await round(viaPolicy);
    await round(viaObserved);
  }
  const bareTimes = [];
  const policyTimes = [];
  const observedTimes = [];
  for (let r = 0; r < ROUNDS; r++) {
    bareTimes.push(await round(bare));
    policyTimes.push(await round(viaPolicy));
    observedTimes.push(await round(viaObserved));
  }
  const bareUs = (median(bareTimes) * 1000) / CALLS;
  const policyUs = (median(policyTimes) * 1000) / CALLS;
  const observedUs = (median(observedTimes) * 1000) / CALLS;
  const overheadUs = policyUs - bareUs;
  const stats = policies.stats('bench')[0];
  throttle.close();
  await policies.close();
  await observed.close();
  report('Dependency policy overhead (no-op call, in process)', {
    'bare call, µs': bareUs,
    'through the policy (chaos hook idle), µs': policyUs,
    'overhead per call, µs': overheadUs,
    'target, µs': `≤ ${TARGET_US} (${overheadUs <= TARGET_US ? 'met' : 'NOT met'})`,
    'overhead with live-stats observer, µs': observedUs - bareUs,
    'live-stats notifications built': notifications,
    'calls through the policy (successes)': stats?.successes ?? 0,
  });
}
