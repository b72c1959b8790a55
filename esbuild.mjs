// One build script for the three targets: the extension (Node, cjs, vscode external), the daemon
// (Node) and the webview bundles (browser). tsc only type-checks.
import * as esbuild from 'esbuild';
import { chmodSync, copyFileSync, existsSync, readdirSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// zod 4 re-exports every locale as `z.locales`, which keeps ~250 KB of translations in any bundle that
// imports `z`, used or not. zod registers English itself (classic/schemas.js imports locales/en.js
// directly), so the bundles for the editor get an empty locale index instead.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'zod-english-only' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

// zod 4 builds JSON Schema generation (toJSONSchema and its per-type processors, ~18 KB minified) into
// every schema class. The editor bundles never generate JSON Schema, so they get stand-ins that throw
// if it is ever asked for; the daemon keeps the real modules.
const ZOD_JSON_SCHEMA = /[\\/]zod[\\/]v4[\\/]core[\\/](json-schema-processors|to-json-schema|json-schema-generator)\.js$/;
const zodWithoutJsonSchema = {
  name: 'zod-without-json-schema',
  setup(build) {
    build.onLoad({ filter: ZOD_JSON_SCHEMA }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const source = await readFile(args.path, 'utf8');
      const names = new Set();
      for (const m of source.matchAll(/^export (?:const|function|class) ([A-Za-z_$][\w$]*)/gm)) names.add(m[1]);
      for (const m of source.matchAll(/^export \{([^}]*)\}/gm)) for (const part of m[1].split(',')) { const name = part.trim().split(/\s+as\s+/).pop(); if (name) names.add(name); }
      const unavailable = "function unavailable() { throw new Error('JSON Schema generation is not part of this bundle'); }";
      const lines = [...names].map((name) => (name.startsWith('create') ? `export const ${name} = () => unavailable;` : `export const ${name} = unavailable;`));
      return { contents: `${unavailable}\n${lines.join('\n')}\n`, loader: 'js' };
    });
  },
};

// Spectral's @stoplight/json requires jsonc-parser, whose "main" is a UMD build with a dynamic require()
// esbuild cannot follow (the bundle then fails at run time: "Cannot find module './impl/format'"). Its ESM
// build bundles cleanly, so the daemon takes that one.
const jsoncParserEsm = {
  name: 'jsonc-parser-esm',
  setup(build) {
    build.onResolve({ filter: /^jsonc-parser$/ }, async (args) => {
      const resolved = await build.resolve('jsonc-parser/lib/esm/main.js', { resolveDir: args.resolveDir, kind: args.kind });
      return resolved.errors.length > 0 ? undefined : { path: resolved.path };
    });
  },
};

/** @type {esbuild.BuildOptions} */
const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'warning',
  legalComments: 'none',
};

const nodeTargets = [
  {
    ...common,
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'bufferutil', 'utf-8-validate'],
    // The extension bundle must stay small: always minify it (keeps zod locales and dead code out).
    minify: true,
    metafile: true,
    plugins: [zodEnglishOnly, zodWithoutJsonSchema],
    // The client only opens WebSockets: ws's package entry would add its server and stream helpers.
    alias: { ws: './node_modules/ws/lib/websocket.js' },
    charset: 'utf8',
  },
  {
    ...common,
    entryPoints: ['daemon/main.ts'],
    outfile: 'dist/daemon.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    // Optional native helpers of ws; the pure-JS fallbacks are used when absent.
    external: ['bufferutil', 'utf-8-validate'],
    plugins: [jsoncParserEsm],
  },
  {
    // The client library for users' services and scripts: `require('cogniforge/dist/client.js')`.
    ...common,
    entryPoints: ['daemon/client/bundle.ts'],
    outfile: 'dist/client.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['bufferutil', 'utf-8-validate'],
  },
];

// Each folder of webview/ with an index.ts (except protocol/) is a dashboard bundle.
const webviewEntries = existsSync('webview')
  ? readdirSync('webview', { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'protocol' && existsSync(join('webview', d.name, 'index.ts')))
      .map((d) => ({ in: join('webview', d.name, 'index.ts'), out: d.name }))
  : [];

const webviewTarget = {
  ...common,
  entryPoints: webviewEntries,
  outdir: 'dist/webview',
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: true,
  loader: { '.css': 'text', '.ttf': 'file' },
  plugins: [zodEnglishOnly, zodWithoutJsonSchema],
};

const entryExists = (t) => (t.entryPoints ?? []).length > 0 && (t.entryPoints ?? []).every((e) => existsSync(typeof e === 'string' ? e : e.in));
const targets = [...nodeTargets, webviewTarget].filter(entryExists);

mkdirSync('dist', { recursive: true });

// The dashboards' codicon font (used by @vscode-elements): the .vsix ships no node_modules, and
// webviews may load only from dist/ and media/, so the assets are copied next to the bundles.
const codiconsDir = 'node_modules/@vscode/codicons/dist';
if (webviewEntries.length > 0 && existsSync(codiconsDir)) {
  mkdirSync('dist/webview/codicons', { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(join(codiconsDir, f), join('dist/webview/codicons', f));
}
if (watch) {
  for (const t of targets) await (await esbuild.context(t)).watch();
  console.log('esbuild: watching');
} else {
  const results = await Promise.all(targets.map((t) => esbuild.build(t)));
  if (existsSync('dist/daemon.js')) chmodSync('dist/daemon.js', 0o755);
  const ext = results.find((r) => r.metafile?.outputs['dist/extension.js']);
  if (ext && process.argv.includes('--report')) {
    console.log(`dist/extension.js: ${ext.metafile.outputs['dist/extension.js'].bytes} bytes`);
  }
}
