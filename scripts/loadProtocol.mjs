// Loads daemon/protocol (TypeScript) from scripts: esbuild bundles it to a temp CommonJS file.
import * as esbuild from 'esbuild';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export async function loadProtocol(root = process.cwd()) {
  const out = join(root, '.cache', 'scripts', 'protocol.cjs');
  mkdirSync(join(root, '.cache', 'scripts'), { recursive: true });
  await esbuild.build({
    entryPoints: [join(root, 'daemon/protocol/index.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'error',
  });
  const require = createRequire(import.meta.url);
  delete require.cache[out];
  return require(out);
}
