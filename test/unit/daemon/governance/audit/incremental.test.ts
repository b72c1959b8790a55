import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditEngine } from '../../../../../daemon/services/governance/audit/engine';
import { IncrementalAuditor } from '../../../../../daemon/services/governance/audit/incremental';

const engine = new AuditEngine(64 * 1024);
const ws = mkdtempSync(join(tmpdir(), 'cf-incr-'));
afterAll(() => rmSync(ws, { recursive: true, force: true }));

const head = (title: string) =>
  `openapi: 3.0.3\ninfo: {title: ${title}, version: '1.0', description: d, contact: {email: a@example.com}, license: {name: MIT}}\n` +
  `servers: [{url: 'https://api.example.com', x-internal: false}]\nsecurity: [{bearer: []}]\n`;
const op = (schemaRef: string) =>
  `      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '${schemaRef}'}\n`;

const FILES: Record<string, string> = {
  // A schema file that is not itself a spec: only reached through $refs.
  'shared/schemas.yaml': `Pet:\n  type: object\n  properties:\n    name: {type: string, maxLength: 64}\n    tags: {type: array, maxItems: 10, items: {type: string, maxLength: 16}}\n`,
  // Reached from a.yaml, and itself refers to schemas.yaml: a transitive dependency.
  'shared/common.yaml': `PetList:\n  type: array\n  maxItems: 100\n  items: {$ref: './schemas.yaml#/Pet'}\n`,
  'a.yaml': `${head('a')}paths:\n  /pets:\n    get:\n${op('./shared/common.yaml#/PetList')}components:\n  schemas:\n    Local: {type: string, maxLength: 8}\n  securitySchemes:\n    bearer: {type: http, scheme: bearer, bearerFormat: JWT}\n`,
  'b.yaml': `${head('b')}paths:\n  /pet:\n    get:\n${op('./shared/schemas.yaml#/Pet')}components:\n  securitySchemes:\n    bearer: {type: http, scheme: bearer, bearerFormat: JWT}\n`,
  // A spec that refers into another spec.
  'c.yaml': `${head('c')}paths:\n  /local:\n    get:\n${op('./a.yaml#/components/schemas/Local')}components:\n  securitySchemes:\n    bearer: {type: http, scheme: bearer, bearerFormat: JWT}\n`,
  'd.yaml': `${head('d')}paths:\n  /things:\n    get:\n      responses:\n        '200': {description: ok}\n`,
  'e.json': JSON.stringify({ openapi: '3.1.0', info: { title: 'e', version: '1' }, paths: { '/x': { post: { responses: { '201': { description: 'made' } } } } } }, null, 2),
};
const ROOTS = ['a.yaml', 'b.yaml', 'c.yaml', 'd.yaml', 'e.json'].map((f) => join(ws, f));
mkdirSync(join(ws, 'shared'));
for (const [name, text] of Object.entries(FILES)) writeFileSync(join(ws, name), text);

const inputs = () => ROOTS.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
const edit = (name: string, change: (text: string) => string) => writeFileSync(join(ws, name), change(readFileSync(join(ws, name), 'utf8')));
const names = (files: string[]) => files.map((f) => f.slice(ws.length + 1)).sort();

/** The same roots audited from scratch: what the incremental run must equal. */
async function fullAudit() {
  return (await new IncrementalAuditor(engine).auditAll(inputs())).audits;
}

describe('IncrementalAuditor on a workspace with cross-file $refs', () => {
  const auditor = new IncrementalAuditor(engine);

  it('audits every root the first time and records each one\'s $ref dependencies', async () => {
    const run = await auditor.auditAll(inputs());
    expect(names(run.audited)).toEqual(['a.yaml', 'b.yaml', 'c.yaml', 'd.yaml', 'e.json']);
    expect(run.reused).toEqual([]);
    expect(Object.keys(run.audits[0]!.dependencies!).map((f) => f.slice(ws.length + 1)).sort()).toEqual(['shared/common.yaml', 'shared/schemas.yaml']);
    expect(names(auditor.dependentsOf(join(ws, 'shared/schemas.yaml')))).toEqual(['a.yaml', 'b.yaml', 'c.yaml']);
    expect(names(auditor.dependentsOf(join(ws, 'a.yaml')))).toEqual(['a.yaml', 'c.yaml']);
  });

  it('reuses everything when nothing changed', async () => {
    const run = await auditor.auditAll(inputs());
    expect(run.audited).toEqual([]);
    expect(run.reused).toHaveLength(5);
    expect(run.audits).toEqual(await fullAudit());
  });

  it('re-audits only a changed standalone file, with the result of a full audit', async () => {
    edit('d.yaml', (t) => t.replace("url: 'https://api.example.com'", "url: 'http://api.example.com'"));
    const run = await auditor.auditAll(inputs());
    expect(names(run.audited)).toEqual(['d.yaml']);
    expect(run.audits[3]!.findings.some((f) => f.rule === 'owasp:api8:2023-no-server-http')).toBe(true);
    expect(run.audits).toEqual(await fullAudit());
  });

  it('re-audits every root that reaches a changed schema file, transitively', async () => {
    edit('shared/schemas.yaml', (t) => t.replace('{type: string, maxLength: 64}', '{type: string}'));
    const run = await auditor.auditAll(inputs());
    expect(names(run.audited)).toEqual(['a.yaml', 'b.yaml', 'c.yaml']);
    const inSchemas = run.audits[1]!.findings.filter((f) => f.file === join(ws, 'shared/schemas.yaml'));
    expect(inSchemas.map((f) => f.rule)).toContain('owasp:api4:2023-string-limit');
    expect(run.audits).toEqual(await fullAudit());
  });

  it('re-audits the roots behind a change that breaks a $ref, and again when it is mended', async () => {
    edit('shared/common.yaml', (t) => t.replace('#/Pet', '#/Pets'));
    let run = await auditor.auditAll(inputs());
    expect(names(run.audited)).toEqual(['a.yaml', 'c.yaml']);
    expect(run.audits[0]!.findings.some((f) => f.rule === 'invalid-ref' && f.file === join(ws, 'shared/common.yaml'))).toBe(true);
    expect(run.audits).toEqual(await fullAudit());

    edit('shared/common.yaml', (t) => t.replace('#/Pets', '#/Pet'));
    run = await auditor.auditAll(inputs());
    expect(names(run.audited)).toEqual(['a.yaml', 'c.yaml']);
    expect(run.audits[0]!.findings.some((f) => f.rule === 'invalid-ref')).toBe(false);
    expect(run.audits).toEqual(await fullAudit());
  });

  it('notices a referenced file deleted and created again', async () => {
    const schemas = readFileSync(join(ws, 'shared/schemas.yaml'), 'utf8');
    unlinkSync(join(ws, 'shared/schemas.yaml'));
    let run = await auditor.auditAll(inputs());
    expect(names(run.audited)).toEqual(['a.yaml', 'b.yaml', 'c.yaml']);
    expect(run.audits[1]!.findings.some((f) => f.rule === 'invalid-ref' && f.message.includes('schemas.yaml'))).toBe(true);
    expect(run.audits).toEqual(await fullAudit());

    writeFileSync(join(ws, 'shared/schemas.yaml'), schemas);
    run = await auditor.auditAll(inputs());
    expect(names(run.audited)).toEqual(['a.yaml', 'b.yaml', 'c.yaml']);
    expect(run.audits).toEqual(await fullAudit());
  });

  it('re-audits a root that another spec refers into, and that spec too', async () => {
    edit('a.yaml', (t) => t.replace('Local: {type: string, maxLength: 8}', 'Local: {type: string}'));
    const run = await auditor.auditAll(inputs());
    expect(names(run.audited)).toEqual(['a.yaml', 'c.yaml']);
    expect(run.audits).toEqual(await fullAudit());
  });

  it('forgets the least recently used roots beyond its bound', async () => {
    const small = new IncrementalAuditor(engine, 2);
    await small.auditAll(inputs());
    const run = await small.auditAll(inputs());
    // Five roots through a two-entry cache in the same order: each is evicted before it comes round again.
    expect(run.reused).toEqual([]);
    expect(small.dependentsOf(join(ws, 'shared/schemas.yaml'))).toEqual([]);
  });
});
