// Fails (exit 1, listing every drift) when package.json `contributes` and the typed ids in
// extension/ids.ts disagree, or when an id is declared but nothing registers it. Run by `npm run check`.
//
// Checked: commands (declared both ways, category "CogniForge", a title, registered with
// registerCommand(Commands.x)); views (declared both ways, in the CogniForge container, registered
// with createTreeView/registerTreeDataProvider(Views.x), a welcome for the connected and for the
// not-connected state); settings (declared both ways, with a type, a default and a description);
// menus and welcome links name existing commands; `when` clauses use only known context keys;
// every webview panel type has its onWebviewPanel activation event.
import * as esbuild from 'esbuild';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const packagePath = join(root, 'package.json');
const idsPath = join(root, 'extension', 'ids.ts');
const sourceDir = join(root, 'extension');

/** ids.ts imports nothing, so bundling it alone and importing the result gives its real values. */
export async function loadIds(file = idsPath) {
  const out = await esbuild.build({ entryPoints: [file], bundle: true, write: false, format: 'esm', platform: 'neutral', logLevel: 'silent' });
  const code = out.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}

function sourceFiles(dir) {
  const files = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) files.push(path);
  }
  return files;
}

/**
 * Every drift between package.json and the ids, one sentence each; empty when they agree.
 * @param {{ pkg: any, ids: any, sources: { file: string, text: string }[] }} input
 *   pkg: parsed package.json; ids: the module extension/ids.ts exports; sources: extension/ files
 *   (without ids.ts) searched for registrations.
 * @returns {string[]}
 */
export function findDrift({ pkg, ids, sources }) {
  const contributes = pkg.contributes ?? {};
  const problems = [];
  const problem = (text) => problems.push(text);

  const keyOf = (table, value) => Object.keys(table).find((k) => table[k] === value);
  const registered = (pattern) => {
    const found = new Set();
    for (const { text } of sources) for (const m of text.matchAll(pattern)) found.add(m[1]);
    return found;
  };

  // ---- commands
  const commandIds = new Set(Object.values(ids.Commands));
  const declaredCommands = contributes.commands ?? [];
  const declaredCommandIds = new Set(declaredCommands.map((c) => c.command));
  for (const id of commandIds) if (!declaredCommandIds.has(id)) problem(`command ${id} is in extension/ids.ts but not in package.json contributes.commands`);
  for (const c of declaredCommands) {
    if (!commandIds.has(c.command)) problem(`command ${c.command} is in package.json but not in extension/ids.ts Commands`);
    if (c.category !== ids.COMMAND_CATEGORY) problem(`command ${c.command} has category ${JSON.stringify(c.category)}, expected "${ids.COMMAND_CATEGORY}"`);
    if (typeof c.title !== 'string' || c.title.trim() === '') problem(`command ${c.command} has no title`);
  }
  const registeredCommands = registered(/registerCommand\(\s*Commands\.(\w+)/g);
  for (const id of commandIds) {
    const key = keyOf(ids.Commands, id);
    if (!registeredCommands.has(key)) problem(`command ${id} is declared but no registerCommand(Commands.${key}, ...) in extension/`);
  }

  // ---- views
  const viewIds = new Set(Object.values(ids.Views));
  const containers = contributes.viewsContainers?.activitybar ?? [];
  if (!containers.some((c) => c.id === ids.VIEW_CONTAINER)) problem(`activity-bar container ${ids.VIEW_CONTAINER} is not in contributes.viewsContainers.activitybar`);
  const declaredViews = Object.entries(contributes.views ?? {}).flatMap(([container, list]) => list.map((v) => ({ ...v, container })));
  for (const id of viewIds) {
    const v = declaredViews.find((d) => d.id === id);
    if (!v) problem(`view ${id} is in extension/ids.ts but not in package.json contributes.views`);
    else if (v.container !== ids.VIEW_CONTAINER) problem(`view ${id} is in container ${v.container}, expected ${ids.VIEW_CONTAINER}`);
  }
  for (const v of declaredViews) {
    if (!viewIds.has(v.id)) problem(`view ${v.id} is in package.json but not in extension/ids.ts Views`);
    if (typeof v.name !== 'string' || v.name.trim() === '') problem(`view ${v.id} has no name`);
  }
  const registeredViews = registered(/(?:createTreeView|registerTreeDataProvider|registerWebviewViewProvider)\(\s*Views\.(\w+)/g);
  const connectedKey = ids.ContextKeys.connected;
  const welcomes = contributes.viewsWelcome ?? [];
  for (const id of viewIds) {
    const key = keyOf(ids.Views, id);
    if (!registeredViews.has(key)) problem(`view ${id} is declared but nothing registers a provider for Views.${key} in extension/`);
    const mine = welcomes.filter((w) => w.view === id);
    const whenOf = (w) => (w.when ?? '').replace(/\s+/g, ' ');
    const forConnected = mine.some((w) => new RegExp(`(^|[^!])\\b${connectedKey.replace('.', '\\.')}\\b`).test(whenOf(w)));
    const forDisconnected = mine.some((w) => whenOf(w).includes(`!${connectedKey}`));
    if (mine.length === 0) problem(`view ${id} has no viewsWelcome entry`);
    else {
      if (!forConnected) problem(`view ${id} has no welcome for the connected state (when: ${connectedKey})`);
      if (!forDisconnected) problem(`view ${id} has no welcome for the not-connected state (when: !${connectedKey} ...)`);
    }
  }
  for (const w of welcomes) {
    if (!viewIds.has(w.view)) problem(`viewsWelcome names unknown view ${w.view}`);
    for (const m of (w.contents ?? '').matchAll(/\(command:([\w.]+)/g)) {
      if (m[1].startsWith('cogniforge.') && !commandIds.has(m[1])) problem(`viewsWelcome of ${w.view} links unknown command ${m[1]}`);
    }
  }

  // ---- settings
  const settingIds = new Set(Object.values(ids.Settings));
  const configurations = Array.isArray(contributes.configuration) ? contributes.configuration : [contributes.configuration ?? {}];
  const properties = Object.assign({}, ...configurations.map((c) => c.properties ?? {}));
  for (const id of settingIds) if (!(id in properties)) problem(`setting ${id} is in extension/ids.ts but not in contributes.configuration`);
  for (const [id, p] of Object.entries(properties)) {
    if (!settingIds.has(id)) problem(`setting ${id} is in package.json but not in extension/ids.ts Settings`);
    if (!p.description && !p.markdownDescription) problem(`setting ${id} has no description`);
    if (!p.type) problem(`setting ${id} has no type`);
    if (!('default' in p)) problem(`setting ${id} has no default`);
  }

  // ---- menus and when clauses
  const knownContextKeys = new Set(Object.values(ids.ContextKeys));
  const checkWhen = (where, when) => {
    if (!when) return;
    // Strip quoted values (`'stopped'`) and regexes, then every remaining cogniforge.* word must be a
    // context key, or a view or container id compared with `view ==`.
    const bare = when.replace(/'[^']*'/g, '').replace(/\/[^/]*\//g, '');
    for (const m of bare.matchAll(/\bcogniforge\.[\w.]+/g)) {
      if (!knownContextKeys.has(m[0]) && !viewIds.has(m[0]) && m[0] !== ids.VIEW_CONTAINER && !settingIds.has(m[0].replace(/^config\./, ''))) {
        problem(`${where}: unknown context key ${m[0]} in when clause "${when}"`);
      }
    }
  };
  for (const [menu, entries] of Object.entries(contributes.menus ?? {})) {
    for (const e of entries) {
      if (e.command && e.command.startsWith('cogniforge.') && !commandIds.has(e.command)) problem(`menu ${menu} names unknown command ${e.command}`);
      checkWhen(`menu ${menu} (${e.command ?? e.submenu})`, e.when);
    }
  }
  for (const w of welcomes) checkWhen(`viewsWelcome of ${w.view}`, w.when);

  // ---- webview panels
  const activation = new Set(pkg.activationEvents ?? []);
  for (const type of Object.values(ids.WebviewPanels)) {
    if (!activation.has(`onWebviewPanel:${type}`)) problem(`webview panel ${type} has no "onWebviewPanel:${type}" activation event (its serializer would never run)`);
  }
  return problems;
}

async function main() {
  const ids = await loadIds(idsPath);
  const pkg = JSON.parse(readFileSync(packagePath, 'utf8'));
  const sources = sourceFiles(sourceDir)
    .filter((f) => f !== idsPath)
    .map((f) => ({ file: relative(root, f), text: readFileSync(f, 'utf8') }));
  const problems = findDrift({ pkg, ids, sources });
  if (problems.length > 0) {
    console.error(`checkContributes: package.json and extension/ids.ts drifted apart (${problems.length}):`);
    for (const p of problems) console.error(`  - ${p}`);
    process.exit(1);
  }
  console.log(
    `checkContributes: ok (${Object.keys(ids.Commands).length} commands, ${Object.keys(ids.Views).length} views, ${Object.keys(ids.Settings).length} settings, ${Object.keys(ids.WebviewPanels).length} webview panel types)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
