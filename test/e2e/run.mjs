// The real-editor test suite: the built extension in a real VS Code (code-server 4.100.3) driven by
// Playwright in Debian's Chromium, against a real daemon. One code-server, one browser and one daemon
// serve every scenario in test/e2e/scenarios/*.mjs (each exports `name` and `run(ctx)`).
//
//   npm run test:e2e                  build, install code-server if needed, run every scenario
//   node test/e2e/run.mjs overview    only the scenarios whose name or file contains "overview"
//   node test/e2e/run.mjs --keep      keep the temp dirs (user data, logs, daemon data) for debugging
//
// Screenshots and logs go to test-results/e2e/. The last line is `N passed, N failed`; CI reads it.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { ensureE2eEnvironment, repoRoot } from './setup.mjs';
import { startDaemon } from './lib/daemon.mjs';
import { installExtension } from './lib/extensionInstall.mjs';
import { GiveUp, freePort, spawnLogged, stopProcess, waitFor } from './lib/processes.mjs';
import { workbenchHelpers } from './lib/workbench.mjs';

const SCENARIO_DIR = join(repoRoot, 'test', 'e2e', 'scenarios');
/** E2E_ARTIFACTS_DIR lets two local runs (or a CI matrix) keep their screenshots apart. */
const ARTIFACTS_DIR = process.env.E2E_ARTIFACTS_DIR ? resolve(process.env.E2E_ARTIFACTS_DIR) : join(repoRoot, 'test-results', 'e2e');
const LOGS_DIR = join(ARTIFACTS_DIR, 'logs');
/** Default per-scenario budget; a scenario may export `timeoutMs`. */
const SCENARIO_TIMEOUT_MS = 180_000;
/** The extension bundle budget of issue 3's speed bar. */
const BUNDLE_BUDGET_BYTES = 400 * 1024;
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // Nothing but 127.0.0.1 resolves, so a stray remote request fails fast instead of leaving the machine.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];
/** Webview resources live on this host; the webview's service worker answers them locally. */
const WEBVIEW_RESOURCE_HOST = /\.vscode-resource\.vscode-cdn\.net$/;
const CSP_MESSAGE = /Content Security Policy|Refused to/i;

const args = process.argv.slice(2);
const keepTemp = args.includes('--keep');
const filters = args.filter((a) => !a.startsWith('--'));

const log = (line) => console.log(line);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Everything started, so cleanup stops exactly these, by pid. */
const started = { daemon: undefined, codeServer: undefined, browserServer: undefined, browser: undefined, tempDir: undefined };
let cleaning;

async function cleanup() {
  cleaning ??= (async () => {
    const stopped = [];
    try {
      await started.browser?.close();
    } catch {
      // The browser process is stopped by pid below.
    }
    const browserPid = started.browserServer?.process()?.pid;
    if (browserPid) {
      try {
        await started.browserServer.close();
      } catch {
        // Stopped by pid below.
      }
      await stopProcess(browserPid, { group: true, graceMs: 2_000 });
      stopped.push(`chromium ${browserPid}`);
    }
    if (started.codeServer) {
      await stopProcess(started.codeServer.child.pid, { group: true, graceMs: 5_000 });
      stopped.push(`code-server ${started.codeServer.child.pid} (process group)`);
    }
    if (started.daemon) {
      for (const pid of await started.daemon.stopAll()) stopped.push(`daemon ${pid}`);
    }
    if (started.tempDir) {
      copyServerLogs(started.tempDir);
      if (keepTemp) log(`kept temp dir ${started.tempDir}`);
      else rmSync(started.tempDir, { recursive: true, force: true });
    }
    if (stopped.length > 0) log(`stopped: ${stopped.join(', ')}`);
  })();
  return cleaning;
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    interrupted = true;
    log(`\n${sig}: stopping everything the e2e run started`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** code-server's and the extension host's logs (the extension's LogOutputChannel among them). */
function copyServerLogs(tempDir) {
  const logs = join(tempDir, 'user-data', 'logs');
  if (existsSync(logs)) cpSync(logs, join(LOGS_DIR, 'code-server'), { recursive: true });
}

function findFiles(dir, test) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map((f) => join(dir, String(f)))
    .filter((f) => test(f) && statSync(f).isFile());
}

async function loadScenarios() {
  const files = existsSync(SCENARIO_DIR) ? readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.mjs')).sort() : [];
  const scenarios = [];
  for (const file of files) {
    const mod = await import(pathToFileURL(join(SCENARIO_DIR, file)).href);
    if (typeof mod.name !== 'string' || typeof mod.run !== 'function') {
      throw new Error(`test/e2e/scenarios/${file} must export \`name\` (string) and \`run(ctx)\``);
    }
    const slug = basename(file, '.mjs');
    if (filters.length > 0 && !filters.some((f) => slug.includes(f) || mod.name.includes(f))) continue;
    scenarios.push({ file, slug, name: mod.name, run: mod.run, timeoutMs: mod.timeoutMs ?? SCENARIO_TIMEOUT_MS });
  }
  return scenarios;
}

function writeSettings(path, settings) {
  writeFileSync(path, `${JSON.stringify(settings, null, 2)}\n`);
}

async function main() {
  const runStarted = Date.now();
  rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
  mkdirSync(LOGS_DIR, { recursive: true });

  const { codeServerEntry, chromiumPath } = ensureE2eEnvironment({ log });

  const bundle = join(repoRoot, 'dist', 'extension.js');
  const bundleBytes = existsSync(bundle) ? statSync(bundle).size : undefined;
  const bundleLine =
    bundleBytes === undefined
      ? 'dist/extension.js: missing'
      : `dist/extension.js: ${bundleBytes} bytes (${(bundleBytes / 1024).toFixed(1)} KB${bundleBytes > BUNDLE_BUDGET_BYTES ? ', OVER the 400 KB budget' : ', within the 400 KB budget'})`;
  log(bundleLine);

  const scenarios = await loadScenarios();
  if (scenarios.length === 0) throw new Error(filters.length > 0 ? `no scenario matches ${filters.join(', ')}` : `no scenarios in ${relative(repoRoot, SCENARIO_DIR)}`);

  const tempDir = mkdtempSync(join(tmpdir(), 'cogniforge-e2e-'));
  started.tempDir = tempDir;
  const dirs = {
    userData: join(tempDir, 'user-data'),
    extensions: join(tempDir, 'extensions'),
    workspace: join(tempDir, 'workspace'),
    daemonData: join(tempDir, 'daemon-data'),
    xdg: join(tempDir, 'xdg'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(join(dirs.workspace, 'README.md'), '# e2e workspace\n');
  // code-server and Chromium write config, logs and crash reports under XDG dirs: keep them in the temp dir.
  const hermeticEnv = {
    ...process.env,
    XDG_CONFIG_HOME: join(dirs.xdg, 'config'),
    XDG_DATA_HOME: join(dirs.xdg, 'data'),
    XDG_CACHE_HOME: join(dirs.xdg, 'cache'),
    CODE_SERVER_CONFIG: join(dirs.xdg, 'code-server.yaml'),
  };
  // Variables a surrounding VS Code terminal sets would make code-server think it runs inside it;
  // a developer's COGNIFORGE_* variables would point the daemon somewhere else than the settings do.
  for (const key of Object.keys(hermeticEnv)) if (key.startsWith('VSCODE_') || key.startsWith('COGNIFORGE_')) delete hermeticEnv[key];

  const installed = await installExtension(repoRoot, dirs.extensions);
  log(`installed ${installed.id} (${installed.fileCount} entries from ${installed.source}) into ${relative(tempDir, installed.dir)}`);
  for (const warning of installed.warnings) log(`warning: ${warning}`);

  // A loopback port scenarios may run an HTTP receiver on (webhook pages, chaos): the only host the daemon may call.
  const receiverPort = await freePort();
  // Also for the daemon the extension starts itself (the foundation scenario stops and restarts it).
  hermeticEnv.COGNIFORGE_OUTBOUND_HOSTS = `127.0.0.1:${receiverPort}`;
  const daemon = await startDaemon({ daemonJs: join(repoRoot, 'dist', 'daemon.js'), dataDir: dirs.daemonData, logPath: join(LOGS_DIR, 'daemon.log'), cwd: tempDir, env: hermeticEnv });
  started.daemon = daemon;
  const firstRuntime = daemon.runtime();
  log(`daemon pid ${firstRuntime.pid} on 127.0.0.1:${firstRuntime.port}, data dir ${dirs.daemonData}`);

  // The extension's settings: the harness's daemon data dir, no auto-start (the harness owns the
  // daemon), and port 0 so a daemon the extension starts (Start Daemon) never collides with another
  // run. They go to the user and the remote-machine settings: in code-server the workbench is remote
  // and reads `machine`-scoped settings only from the latter.
  const cogniforgeSettings = {
    'cogniforge.daemon.dataDir': dirs.daemonData,
    'cogniforge.daemon.autoStart': false,
    'cogniforge.daemon.port': 0,
  };
  const workbenchSettings = {
    'workbench.colorTheme': 'Default Dark Modern',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.enabled': false,
    'git.enabled': false,
    'chat.commandCenter.enabled': false,
    'window.commandCenter': false,
  };
  // code-server reads these files at start; it does not watch them, so scenarios change settings
  // through the UI (see setTheme).
  writeSettings(join(dirs.userData, 'User', 'settings.json'), { ...cogniforgeSettings, ...workbenchSettings });
  mkdirSync(join(dirs.userData, 'Machine'), { recursive: true });
  writeSettings(join(dirs.userData, 'Machine', 'settings.json'), cogniforgeSettings);

  const port = await freePort();
  const codeServerStarted = Date.now();
  const codeServer = spawnLogged(
    process.execPath,
    [
      codeServerEntry,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--user-data-dir', dirs.userData,
      '--extensions-dir', dirs.extensions,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      dirs.workspace,
    ],
    { env: hermeticEnv, logPath: join(LOGS_DIR, 'code-server.log'), group: true },
  );
  started.codeServer = codeServer;
  let codeServerExit;
  void codeServer.exited.then((e) => {
    codeServerExit = e;
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (codeServerExit) throw new GiveUp(`code-server exited (${codeServerExit.code ?? codeServerExit.signal}):\n${codeServer.output()}`);
      const res = await fetch(`${baseUrl}/healthz`);
      return res.ok;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: `code-server on ${baseUrl}` },
  );
  log(`code-server pid ${codeServer.child.pid} on ${baseUrl} (up in ${seconds(Date.now() - codeServerStarted)})`);

  started.browserServer = await chromium.launchServer({ executablePath: chromiumPath, args: CHROMIUM_ARGS, env: hermeticEnv });
  started.browser = await chromium.connect(started.browserServer.wsEndpoint());
  const context = await started.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);

  /** Violations of the "nothing remote, CSP clean" rule, attributed to the scenario running. */
  const violations = [];
  const pageErrors = [];
  let current = 'workbench start-up';
  const record = (kind, detail) => violations.push({ scenario: current, kind, detail });
  page.on('console', (msg) => {
    const text = msg.text();
    if (CSP_MESSAGE.test(text)) record('CSP', `${text} (at ${msg.location().url || 'unknown'})`);
  });
  page.on('pageerror', (error) => pageErrors.push({ scenario: current, message: error.message }));
  const checkUrl = (url, how) => {
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      return;
    }
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(parsed.protocol)) return;
    if (parsed.hostname === '127.0.0.1' || WEBVIEW_RESOURCE_HOST.test(parsed.hostname)) return;
    record('remote request', `${how} ${url}`);
  };
  context.on('request', (req) => checkUrl(req.url(), req.method()));
  // Webview resources must be answered by the service worker, never by the network.
  context.on('response', (res) => {
    const host = new URL(res.url()).hostname;
    if (WEBVIEW_RESOURCE_HOST.test(host) && !res.fromServiceWorker()) record('remote request', `${res.url()} left the service worker`);
  });
  page.on('websocket', (ws) => checkUrl(ws.url(), 'WebSocket'));

  const helpers = workbenchHelpers(page);
  const navigated = Date.now();
  await page.goto(`${baseUrl}/?folder=${encodeURIComponent(dirs.workspace)}`);
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
  const workbenchReady = Date.now();
  log(`workbench ready in ${seconds(workbenchReady - navigated)}`);

  let shotCounter = 0;
  let scenarioSlug = 'startup';
  const screenshot = async (name) => {
    const file = join(ARTIFACTS_DIR, `${scenarioSlug}-${String(++shotCounter).padStart(2, '0')}-${name.replace(/[^\w.-]+/g, '-')}.png`);
    await page.screenshot({ path: file });
    return file;
  };

  const metrics = await observeActivation({ helpers, workbenchReady, userDataDir: dirs.userData, extensionId: installed.id });
  await screenshot('workbench');

  const results = [];
  if (violations.length > 0) {
    results.push({ name: 'workbench start-up', ok: false, ms: workbenchReady - navigated, error: describeViolations(violations) });
  }
  for (const scenario of scenarios) {
    current = scenario.name;
    scenarioSlug = scenario.slug;
    shotCounter = 0;
    const before = violations.length;
    const beforeErrors = pageErrors.length;
    const ctx = {
      page,
      context,
      ...helpers,
      screenshot,
      daemon: {
        dataDir: dirs.daemonData,
        /** Current port/token/pid from daemon.json (it changes when a scenario restarts the daemon). */
        get runtime() {
          return daemon.runtime();
        },
        get port() {
          return daemon.runtime()?.port;
        },
        get token() {
          return daemon.runtime()?.token;
        },
        get pid() {
          return daemon.runtime()?.pid;
        },
        waitForRuntime: (options) => daemon.waitForRuntime(options),
      },
      rpc: (method, params) => daemon.rpc(method, params),
      waitFor,
      workspaceDir: dirs.workspace,
      /** Loopback port the daemon may send webhooks to (COGNIFORGE_OUTBOUND_HOSTS); free for a scenario's receiver. */
      receiverPort,
      artifactsDir: ARTIFACTS_DIR,
      log: (line) => log(`    ${line}`),
      metrics,
    };
    const t0 = Date.now();
    log(`▶ ${scenario.name}`);
    let error;
    let timer;
    try {
      await Promise.race([
        scenario.run(ctx),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${seconds(scenario.timeoutMs)}`)), scenario.timeoutMs);
        }),
      ]);
    } catch (e) {
      error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    } finally {
      clearTimeout(timer);
    }
    const own = violations.slice(before);
    if (!error && own.length > 0) error = describeViolations(own);
    else if (error && own.length > 0) error += `\n${describeViolations(own)}`;
    for (const pe of pageErrors.slice(beforeErrors)) log(`    page error (not a failure by itself): ${pe.message}`);
    const ms = Date.now() - t0;
    if (error) {
      const shot = await screenshot('failure').catch(() => undefined);
      log(`✘ ${scenario.name} (${seconds(ms)})\n${indent(error)}${shot ? `\n    screenshot: ${relative(repoRoot, shot)}` : ''}`);
    } else {
      log(`✔ ${scenario.name} (${seconds(ms)})`);
    }
    results.push({ name: scenario.name, ok: !error, ms, error });
    await helpers.closeAllEditors().catch(() => undefined);
  }

  log('');
  log('e2e report');
  log(`  ${bundleLine}`);
  for (const line of metrics.lines) log(`  ${line}`);
  for (const r of results) log(`  ${r.ok ? 'passed' : 'FAILED'}  ${r.name}  ${seconds(r.ms)}`);
  log(`  screenshots and logs: ${relative(repoRoot, ARTIFACTS_DIR)}/`);
  log(`  total ${seconds(Date.now() - runStarted)}`);
  return results;
}

/**
 * What the run can see of activation: when the extension host activated the extension (its log),
 * when the status bar item appeared and when it said connected, measured from workbench ready.
 */
async function observeActivation({ helpers, workbenchReady, userDataDir, extensionId }) {
  const lines = [];
  const result = { lines };
  try {
    await helpers.waitForStatusBar('CogniForge', { timeoutMs: 60_000 });
    result.statusItemMs = Date.now() - workbenchReady;
    lines.push(`status bar item "CogniForge" visible ${result.statusItemMs} ms after workbench ready`);
    await helpers.waitForStatusBar(['CogniForge', /connected/i], { timeoutMs: 30_000 });
    result.connectedMs = Date.now() - workbenchReady;
    lines.push(`status bar "connected" ${result.connectedMs} ms after workbench ready`);
  } catch (error) {
    lines.push(`activation not fully observed: ${error.message}`);
  }
  const hostLog = findFiles(join(userDataDir, 'logs'), (f) => f.endsWith('remoteexthost.log'))[0];
  if (hostLog) {
    const text = readFileSync(hostLog, 'utf8');
    const stamp = (re) => {
      const m = re.exec(text);
      return m ? Date.parse(m[1].replace(' ', 'T')) : undefined;
    };
    const hostStart = stamp(/^(\S+ \S+) \[info\] Extension host with pid/m);
    const activated = stamp(new RegExp(`^(\\S+ \\S+) \\[info\\] ExtensionService#_doActivateExtension ${extensionId.replace('.', '\\.')}[,:]`, 'm'));
    const event = new RegExp(`_doActivateExtension ${extensionId.replace('.', '\\.')}, startup: \\w+, activationEvent: '([^']+)'`).exec(text)?.[1];
    if (hostStart !== undefined && activated !== undefined) {
      lines.push(`extension host activated ${extensionId} ${activated - hostStart} ms after it started (event ${event})`);
    }
    // The extension's own LogOutputChannel: how long activate() took, and when it reached the daemon.
    const ownLog = findFiles(join(userDataDir, 'logs'), (f) => f.includes(`${extensionId}/`) && f.endsWith('.log'))[0];
    const own = ownLog ? readFileSync(ownLog, 'utf8') : '';
    const activateMs = /activated in (\d+) ms/.exec(own)?.[1];
    if (activateMs !== undefined) {
      result.activateMs = Number(activateMs);
      lines.push(`activate() took ${activateMs} ms (the extension's log)`);
    }
    const connectedAt = /^(\S+ \S+) \[info\] Connected to daemon/m.exec(own)?.[1];
    if (connectedAt && activated !== undefined) {
      lines.push(`connected to the daemon ${Date.parse(connectedAt.replace(' ', 'T')) - activated} ms after activation began`);
    }
  }
  return result;
}

function describeViolations(list) {
  return list.map((v) => `${v.kind}: ${v.detail}`).join('\n');
}

function indent(text) {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

let exitCode = 1;
try {
  const results = await main();
  const failed = results.filter((r) => !r.ok).length;
  await cleanup();
  console.log(`${results.length - failed} passed, ${failed} failed`);
  exitCode = failed > 0 ? 1 : 0;
} catch (error) {
  // After an interrupt the run fails because its processes were stopped; that is no news.
  if (!interrupted) console.error(`e2e run aborted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await cleanup();
  console.log('0 passed, 1 failed');
} finally {
  await cleanup();
}
process.exit(exitCode);
