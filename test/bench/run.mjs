// `npm run bench`: runs every test/bench/*.bench.mjs (or those named on the command line) in turn.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv.slice(2);
const files = readdirSync(import.meta.dirname)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
console.log(`# CogniForge benchmarks (${new Date().toISOString()}, node ${process.version})`);
for (const f of files) {
  const mod = await import(join(import.meta.dirname, f));
  await mod.run();
}
