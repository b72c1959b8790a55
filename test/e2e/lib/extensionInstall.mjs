// Installs the built extension into a code-server extensions dir the way a .vsix install lays it out:
// `<extensionsDir>/<publisher>.<name>-<version>/` holding the files the package would contain.
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** What a package holds when there is no .vscodeignore to ask vsce about. */
const DEFAULT_PACKAGE_ENTRIES = ['package.json', 'dist', 'media', 'README.md', 'CHANGELOG.md', 'LICENSE', 'LICENSE.md'];
/** Never part of a package; listed by vsce only when .vscodeignore forgets them. */
const NEVER_PACKAGED = /^(\.cache|test-results|node_modules|\.git)\//;

/**
 * The package's files relative to the repo. With a .vscodeignore, vsce itself decides (the same list
 * `vsce ls --no-dependencies` prints); without one vsce would take the whole tree, so the harness
 * takes the manifest, the build output and the media instead.
 * @returns {Promise<{ files: string[], source: string, skipped: string[] }>}
 */
async function packageFiles(repoRoot) {
  if (!existsSync(join(repoRoot, '.vscodeignore'))) {
    return { files: DEFAULT_PACKAGE_ENTRIES.filter((e) => existsSync(join(repoRoot, e))), source: 'package.json, dist/, media/', skipped: [] };
  }
  const require = createRequire(join(repoRoot, 'package.json'));
  const vsce = require('@vscode/vsce');
  const listed = await vsce.listFiles({ cwd: repoRoot, packageManager: vsce.PackageManager.None });
  const skipped = listed.filter((f) => NEVER_PACKAGED.test(f));
  return { files: listed.filter((f) => !NEVER_PACKAGED.test(f)), source: '.vscodeignore (vsce listFiles)', skipped };
}

/**
 * @param {string} repoRoot
 * @param {string} extensionsDir
 * @returns {Promise<{ id: string, dir: string, fileCount: number, source: string, warnings: string[] }>}
 */
export async function installExtension(repoRoot, extensionsDir) {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const main = manifest.main && join(repoRoot, manifest.main);
  if (!main || !existsSync(main)) throw new Error(`${manifest.main ?? 'package.json "main"'} is missing: build the extension first (node esbuild.mjs).`);
  const id = `${manifest.publisher}.${manifest.name}`;
  const dir = join(extensionsDir, `${id}-${manifest.version}`);
  const { files, source, skipped } = await packageFiles(repoRoot);
  mkdirSync(dir, { recursive: true });
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(dir, file), { recursive: true });
  }
  const warnings = skipped.length > 0 ? [`.vscodeignore lets ${skipped.length} files from ${[...new Set(skipped.map((f) => f.split('/')[0]))].join(', ')} into the package; the e2e install left them out`] : [];
  return { id, dir, fileCount: files.length, source, warnings };
}
