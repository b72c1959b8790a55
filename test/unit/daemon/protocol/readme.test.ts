import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ErrorCode, ErrorCodeDoc, notifications, requests } from '../../../../daemon/protocol';

const readme = readFileSync('README.md', 'utf8');

describe('README', () => {
  it('documents every error code with its number and name', () => {
    for (const [name, code] of Object.entries(ErrorCode)) {
      expect(readme, `error ${name}`).toContain(`| ${code} | ${name} |`);
      expect(ErrorCodeDoc[name as keyof typeof ErrorCode].length).toBeGreaterThan(10);
    }
  });

  it('keeps application error codes outside the JSON-RPC reserved range', () => {
    const standard = new Set([-32700, -32600, -32601, -32602, -32603]);
    for (const code of Object.values(ErrorCode)) {
      if (standard.has(code)) continue;
      expect(code < -32768 || code > -32000, `code ${code}`).toBe(true);
    }
  });

  it('lists every method and notification', () => {
    for (const r of requests) expect(readme).toContain(`| \`${r.method}\` |`);
    for (const n of notifications) expect(readme).toContain(`| \`${n.method}\` |`);
  });

  it('has generated sections identical to what the declarations produce', () => {
    // Exits non-zero (and execFileSync throws) when the README is stale.
    const out = execFileSync(process.execPath, ['scripts/genReadme.mjs', '--check'], { encoding: 'utf8' });
    expect(out).toContain('current');
  });
});

describe('protocol tables', () => {
  it('declares each method once, named domain/verb, each notification domain/didVerb', () => {
    const names = requests.map((r) => r.method);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z][a-zA-Z]*\/[a-z][a-zA-Z]*$/);
    for (const n of notifications) expect(n.method).toMatch(/^[a-z][a-zA-Z]*\/did[A-Z][a-zA-Z]*$/);
  });

  it('requires write or admin scope for every command', () => {
    for (const r of requests) if (r.kind === 'command') expect(['write', 'admin']).toContain(r.scope);
  });
});
