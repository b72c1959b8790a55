// Installs what the real-editor tests need: Debian packages (chromium, ripgrep, libkrb5-dev) and
// code-server 4.100.3 in the git-ignored cache `.cache/e2e/`, following ../shared/notes/vscode-e2e.md.
// Idempotent: a marker file records a finished install, so a warm run returns in well under a second.
// Run alone with `node test/e2e/setup.mjs` (or `.ci/e2e-setup.sh`); test/e2e/run.mjs calls it first.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync, lstatSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** code-server versions after 4.100 need Node 22+; this one serves VS Code 1.100.3 on Node 20. */
export const CODE_SERVER_VERSION = '4.100.3';
/** Bump when the install steps change, so caches made by older steps are redone. */
const RECIPE_REVISION = 1;

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** E2E_CACHE_DIR moves the cache (a CI cache mount, or a cold-install trial beside a warm cache). */
export const cacheDir = process.env.E2E_CACHE_DIR ? resolve(process.env.E2E_CACHE_DIR) : join(repoRoot, '.cache', 'e2e');
export const codeServerEntry = join(cacheDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const markerFile = join(cacheDir, 'installed.json');
const logFile = join(cacheDir, 'install.log');
const debianPackages = [
  // The gssapi headers the kerberos module of VS Code builds against.
  { name: 'libkrb5-dev', present: () => existsSync('/usr/include/gssapi/gssapi.h') },
  // VS Code's search needs rg; @vscode/ripgrep would download it, which these machines cannot.
  { name: 'ripgrep', present: () => onPath('rg') },
  { name: 'chromium', present: () => existsSync(chromiumPath) },
];

function onPath(binary) {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, binary)));
}

function readMarker() {
  try {
    return JSON.parse(readFileSync(markerFile, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Runs a command with its output in the install log; throws with the log's tail when it fails. */
function run(command, args, { cwd = cacheDir, env = {} } = {}) {
  appendFileSync(logFile, `\n$ (cd ${cwd} && ${command} ${args.join(' ')})\n`);
  const result = spawnSync(command, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  appendFileSync(logFile, `${result.stdout ?? ''}${result.stderr ?? ''}`);
  if (result.status !== 0) {
    const tail = `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n').slice(-30).join('\n');
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}) in ${cwd}:\n${tail}\nFull log: ${logFile}`);
  }
  return result.stdout;
}

function step(log, title, action) {
  const started = Date.now();
  log(`e2e setup: ${title} ...`);
  action();
  log(`e2e setup: ${title} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function installDebianPackages(log) {
  const missing = debianPackages.filter((p) => !p.present()).map((p) => p.name);
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    log(
      `e2e setup: SKIPPING the Debian packages ${missing.join(', ')}: ` +
        (isRoot ? 'apt-get is not available.' : 'not running as root.') +
        ` Install them yourself (sudo apt-get install -y ${missing.join(' ')}) or set CHROMIUM_PATH.`,
    );
    return;
  }
  step(log, `apt-get install -y ${missing.join(' ')}`, () => {
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    // With recommends: chromium's bring fonts-liberation, without which screenshots lack glyphs.
    try {
      run('apt-get', ['install', '-y', ...missing], { env });
    } catch {
      // A fresh container has no package lists yet.
      run('apt-get', ['update'], { env });
      run('apt-get', ['install', '-y', ...missing], { env });
    }
  });
}

/** Top-level packages of a node_modules folder, scoped ones as `@scope/name`. */
function listPackages(nodeModules) {
  const names = [];
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    if (entry.name.startsWith('@')) {
      for (const scoped of readdirSync(join(nodeModules, entry.name))) names.push(`${entry.name}/${scoped}`);
    } else {
      names.push(entry.name);
    }
  }
  return names;
}

function installCodeServer(log) {
  const vscodeDir = join(cacheDir, 'node_modules', 'code-server', 'lib', 'vscode');
  // npm_config_yes answers the `npx node-gyp` prompt of node-pty's build; the scripts run explicitly
  // (npm rebuild) because the packages' own postinstall refuses root and downloads ripgrep.
  const npmEnv = { npm_config_yes: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

  // The cache is its own npm project so nothing climbs up into the repo's package.json.
  if (!existsSync(join(cacheDir, 'package.json'))) {
    writeFileSync(join(cacheDir, 'package.json'), `${JSON.stringify({ name: 'cogniforge-e2e-cache', private: true }, null, 2)}\n`);
  }
  step(log, `npm install code-server@${CODE_SERVER_VERSION}`, () =>
    run('npm', ['install', '--no-save', '--ignore-scripts', '--prefix', cacheDir, `code-server@${CODE_SERVER_VERSION}`], { env: npmEnv }),
  );
  step(log, 'npm install (code-server/lib/vscode)', () =>
    run('npm', ['install', '--omit=dev', '--ignore-scripts'], { cwd: vscodeDir, env: npmEnv }),
  );
  step(log, 'ripgrep from /usr/bin into @vscode/ripgrep', () => {
    const rg = (process.env.PATH ?? '').split(':').map((dir) => join(dir, 'rg')).find((p) => existsSync(p));
    if (!rg) throw new Error('rg (ripgrep) is not installed; VS Code cannot search without it.');
    const binDir = join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin');
    mkdirSync(binDir, { recursive: true });
    copyFileSync(rg, join(binDir, 'rg'));
  });
  step(log, 'npm rebuild (native modules of code-server/lib/vscode)', () => {
    const packages = listPackages(join(vscodeDir, 'node_modules')).filter((name) => name !== '@vscode/ripgrep');
    run('npm', ['rebuild', ...packages], { cwd: vscodeDir, env: npmEnv });
  });
  step(log, 'node_modules.asar link', () => {
    const link = join(vscodeDir, 'node_modules.asar');
    if (existsSync(link) || isSymlink(link)) rmSync(link, { force: true, recursive: true });
    symlinkSync('node_modules', link);
  });
  step(log, 'npm install (code-server/lib/vscode/extensions)', () =>
    run('npm', ['install', '--omit=dev'], { cwd: join(vscodeDir, 'extensions'), env: npmEnv }),
  );
  step(log, 'npm rebuild argon2', () => run('npm', ['rebuild', 'argon2'], { cwd: cacheDir, env: npmEnv }));
}

function isSymlink(path) {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The version line code-server prints, e.g. `4.100.3 <commit> with Code 1.100.3`. */
export function codeServerVersion() {
  // Keeps code-server from writing a default config into ~/.config and logs into ~/.local/share.
  const result = spawnSync(process.execPath, [codeServerEntry, '--version'], {
    encoding: 'utf8',
    env: { ...process.env, CODE_SERVER_CONFIG: join(cacheDir, 'config.yaml'), XDG_DATA_HOME: join(cacheDir, 'xdg-data') },
  });
  if (result.status !== 0) return undefined;
  return result.stdout.trim().split('\n').at(-1);
}

/**
 * Makes sure code-server and Chromium are ready. Returns the paths the harness needs.
 * @param {{ log?: (line: string) => void, force?: boolean }} [options]
 */
export function ensureE2eEnvironment({ log = (line) => console.log(line), force = false } = {}) {
  const started = Date.now();
  mkdirSync(cacheDir, { recursive: true });
  const marker = readMarker();
  const warm =
    !force &&
    marker?.codeServer === CODE_SERVER_VERSION &&
    marker?.recipe === RECIPE_REVISION &&
    existsSync(codeServerEntry) &&
    debianPackages.every((p) => p.present());
  if (warm) {
    log(`e2e setup: cached code-server ${CODE_SERVER_VERSION} in ${cacheDir} (installed ${marker.installedAt}); skipped in ${Date.now() - started} ms`);
    return { codeServerEntry, chromiumPath };
  }

  writeFileSync(logFile, `e2e install started ${new Date().toISOString()}\n`);
  installDebianPackages(log);
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium is missing at ${chromiumPath}: install the Debian package chromium as root, or set CHROMIUM_PATH.`);
  }
  rmSync(markerFile, { force: true });
  installCodeServer(log);

  const version = codeServerVersion();
  if (!version?.startsWith(`${CODE_SERVER_VERSION} `)) {
    throw new Error(`code-server --version printed ${JSON.stringify(version)}, expected ${CODE_SERVER_VERSION}. See ${logFile}.`);
  }
  const durationMs = Date.now() - started;
  writeFileSync(
    markerFile,
    `${JSON.stringify({ codeServer: CODE_SERVER_VERSION, recipe: RECIPE_REVISION, version, installedAt: new Date().toISOString(), durationMs }, null, 2)}\n`,
  );
  log(`e2e setup: installed ${version} in ${(durationMs / 1000).toFixed(1)} s (log: ${logFile})`);
  return { codeServerEntry, chromiumPath };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    ensureE2eEnvironment({ force: process.argv.includes('--force') });
  } catch (error) {
    console.error(`e2e setup failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
