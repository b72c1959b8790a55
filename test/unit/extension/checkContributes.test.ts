import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findDrift, loadIds } from '../../../scripts/checkContributes.mjs';

const root = join(__dirname, '..', '..', '..');
const sources = (dir: string): { file: string; text: string }[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && name !== 'ids.ts' ? [{ file: relative(root, path), text: readFileSync(path, 'utf8') }] : [];
  });

type Pkg = {
  activationEvents: string[];
  contributes: {
    commands: { command: string; category?: string; title: string }[];
    views: Record<string, { id: string; name: string }[]>;
    viewsWelcome: { view: string; contents: string; when?: string }[];
    configuration: { properties: Record<string, Record<string, unknown>> };
    menus: Record<string, { command: string; when?: string }[]>;
  };
};

let ids: Record<string, unknown>;
let pkg: Pkg;
let src: { file: string; text: string }[];
const fresh = (): Pkg => structuredClone(pkg);

beforeAll(async () => {
  ids = await loadIds(join(root, 'extension', 'ids.ts'));
  pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Pkg;
  src = sources(join(root, 'extension'));
});

describe('checkContributes', () => {
  it('finds no drift in the real package.json and extension/', () => {
    expect(findDrift({ pkg, ids, sources: src })).toEqual([]);
  });

  it('reports a command missing from package.json, and one without the category', () => {
    const p = fresh();
    p.contributes.commands = p.contributes.commands.filter((c) => c.command !== 'cogniforge.showLog');
    p.contributes.commands[0]!.category = 'Other';
    const drift = findDrift({ pkg: p, ids, sources: src });
    expect(drift).toContain('command cogniforge.showLog is in extension/ids.ts but not in package.json contributes.commands');
    expect(drift.some((d) => d.includes('expected "CogniForge"'))).toBe(true);
  });

  it('reports a declared command that nothing registers', () => {
    const withoutShowLog = src.map((s) => ({ ...s, text: s.text.replace('registerCommand(Commands.showLog', 'registerCommand(showLogId') }));
    expect(findDrift({ pkg, ids, sources: withoutShowLog })).toEqual([
      'command cogniforge.showLog is declared but no registerCommand(Commands.showLog, ...) in extension/',
    ]);
  });

  it('reports a view without welcome and an unknown view in package.json', () => {
    const p = fresh();
    p.contributes.viewsWelcome = p.contributes.viewsWelcome.filter((w) => w.view !== 'cogniforge.dr');
    p.contributes.views.cogniforge!.push({ id: 'cogniforge.extra', name: 'Extra' });
    const drift = findDrift({ pkg: p, ids, sources: src });
    expect(drift).toContain('view cogniforge.dr has no viewsWelcome entry');
    expect(drift).toContain('view cogniforge.extra is in package.json but not in extension/ids.ts Views');
  });

  it('reports settings drift and a missing description', () => {
    const p = fresh();
    delete p.contributes.configuration.properties['cogniforge.daemon.nodePath'];
    delete p.contributes.configuration.properties['cogniforge.daemon.port']!.markdownDescription;
    const drift = findDrift({ pkg: p, ids, sources: src });
    expect(drift).toContain('setting cogniforge.daemon.nodePath is in extension/ids.ts but not in contributes.configuration');
    expect(drift).toContain('setting cogniforge.daemon.port has no description');
  });

  it('reports unknown context keys, broken welcome links and a missing webview activation event', () => {
    const p = fresh();
    p.contributes.menus['view/title']![0]!.when = 'cogniforge.conected';
    p.contributes.viewsWelcome[0]!.contents += '\n[Go](command:cogniforge.nope)';
    p.activationEvents = ['onStartupFinished'];
    const drift = findDrift({ pkg: p, ids, sources: src });
    expect(drift.some((d) => d.includes('unknown context key cogniforge.conected'))).toBe(true);
    expect(drift.some((d) => d.includes('links unknown command cogniforge.nope'))).toBe(true);
    expect(drift.some((d) => d.includes('onWebviewPanel:cogniforge.overview'))).toBe(true);
  });
});
