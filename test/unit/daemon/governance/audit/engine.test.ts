import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditEngine, type DocumentAudit } from '../../../../../daemon/services/governance/audit/engine';

const FIXTURES = fileURLToPath(new URL('../../../../fixtures/openapi/', import.meta.url));
const engine = new AuditEngine();
const tmp = mkdtempSync(join(tmpdir(), 'cf-audit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function auditFixture(name: string): Promise<DocumentAudit> {
  const file = join(FIXTURES, name);
  return engine.audit(file, await readFile(file, 'utf8'));
}

async function auditText(name: string, text: string): Promise<DocumentAudit> {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return engine.audit(file, text);
}

const rules = (a: DocumentAudit) => new Set(a.findings.map((f) => f.rule));

describe('AuditEngine on the fixtures', () => {
  it('finds nothing in the clean OpenAPI 3.1 petstore', async () => {
    const a = await auditFixture('petstore31.yaml');
    expect(a.format).toBe('openapi-3.1');
    expect(a.findings).toEqual([]);
  });

  it('flags the insecure 3.0 spec in many categories, including our API6, API9 and API10 rules', async () => {
    const a = await auditFixture('insecure30.yaml');
    expect(a.format).toBe('openapi-3.0');
    const categories = new Set(a.findings.map((f) => f.category));
    for (const c of ['API1', 'API2', 'API4', 'API6', 'API8', 'API9', 'API10']) expect(categories, c).toContain(c);
    expect(rules(a)).toContain('cogniforge:api6:2023-sensitive-flow-protection');
    expect(rules(a)).toContain('cogniforge:api9:2023-deprecated-without-sunset');
    expect(rules(a)).toContain('cogniforge:api10:2023-no-http-consumption');
  });

  it('reports 0-based positions, the file and a JSON pointer', async () => {
    const a = await auditFixture('insecure30.yaml');
    const http = a.findings.find((f) => f.rule === 'owasp:api8:2023-no-server-http')!;
    // Line 6 of the file (`  - url: http://shop.example.com/v1`), the value starts at column 10.
    expect(http.range.start).toEqual({ line: 5, character: 9 });
    expect(http.file).toBe(join(FIXTURES, 'insecure30.yaml'));
    expect(http.pointer).toBe('/servers/0/url');
    expect(http.severity).toBe('error');
    expect(http.fix).toEqual({ kind: 'replaceValue', title: 'Switch to https', pointer: '/servers/0/url', value: 'https://shop.example.com/v1' });
    const callback = a.findings.find((f) => f.rule === 'cogniforge:api10:2023-no-http-consumption')!;
    expect(callback.pointer).toBe('/paths/~1checkout/post/callbacks/paymentDone/http:~1~1partner.example.com~1hooks~1payment');
  });

  it('offers mechanical fixes: maxItems, a 429 response, a security requirement', async () => {
    const a = await auditFixture('insecure30.yaml');
    const array = a.findings.find((f) => f.rule === 'owasp:api4:2023-array-limit')!;
    expect(array.fix).toMatchObject({ kind: 'setProperty', key: 'maxItems', value: 100, pointer: array.pointer });
    const flow = a.findings.find((f) => f.rule === 'cogniforge:api6:2023-sensitive-flow-protection')!;
    expect(flow.fix).toMatchObject({ kind: 'setProperty', pointer: '/paths/~1checkout/post/responses', key: '429' });
    const read = a.findings.find((f) => f.rule === 'owasp:api2:2023-read-restricted')!;
    expect(read.fix).toMatchObject({ kind: 'setProperty', pointer: '/paths/~1users~1{id}/get', key: 'security', value: [{ basicAuth: [] }] });
    for (const f of a.findings) expect(f.suggestedFix.length, f.rule).toBeGreaterThan(0);
  });

  it('audits Swagger 2.0 JSON', async () => {
    const a = await auditFixture('swagger2.json');
    expect(a.format).toBe('swagger-2.0');
    expect(rules(a)).toContain('owasp:api8:2023-no-scheme-http');
    expect(rules(a)).toContain('cogniforge:api6:2023-sensitive-flow-protection');
    const scheme = a.findings.find((f) => f.rule === 'owasp:api8:2023-no-scheme-http')!;
    expect(scheme.fix).toMatchObject({ kind: 'replaceValue', pointer: '/schemes/0', value: 'https' });
    const missing429 = a.findings.find((f) => f.rule === 'owasp:api4:2023-rate-limit-responses-429')!;
    expect(missing429.fix).toMatchObject({ key: '429', value: { description: 'Too Many Requests', headers: { 'Retry-After': { type: 'integer' } } } });
  });

  it('follows a $ref into another file and places the finding there', async () => {
    const a = await auditFixture('twoFile/api.yaml');
    const array = a.findings.find((f) => f.rule === 'owasp:api4:2023-array-limit')!;
    expect(array.file).toBe(join(FIXTURES, 'twoFile', 'schemas.yaml'));
    expect(array.pointer).toBe('/Orders');
    expect(array.range.start.line).toBe(0);
    expect(array.fix).toMatchObject({ kind: 'setProperty', pointer: '/Orders', key: 'maxItems' });
  });
});

describe('AuditEngine on bad input', () => {
  const minimal = (extra: string) => `openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers: [{url: 'https://a.example.com', description: production, x-internal: false}]\n${extra}`;

  it('refuses remote $refs without fetching them', async () => {
    const a = await auditText('remote.yaml', minimal(`paths:\n  /a:\n    get:\n      responses:\n        '200':\n          $ref: 'http://127.0.0.1:9/never.yaml#/R'\n`));
    const ref = a.findings.find((f) => f.rule === 'invalid-ref')!;
    expect(ref.category).toBe('structure');
    expect(ref.message).toContain('refused');
  });

  it('reports a missing $ref file and circular refs without hanging', async () => {
    const a = await auditText('missing.yaml', minimal(`paths: {}\ncomponents:\n  schemas:\n    A: {$ref: './nope.yaml#/A'}\n    Loop: {type: object, additionalProperties: false, properties: {next: {$ref: '#/components/schemas/Loop'}}}\n`));
    expect(a.findings.some((f) => f.rule === 'invalid-ref' && f.message.includes('nope.yaml'))).toBe(true);
  });

  it('reports invalid YAML with its position', async () => {
    const a = await auditText('broken.yaml', 'openapi: 3.0.3\ninfo: [unclosed\n');
    const parser = a.findings.find((f) => f.rule === 'parser')!;
    expect(parser.category).toBe('structure');
    expect(parser.range.start.line).toBeGreaterThanOrEqual(1);
  });

  it('says when a document is not OpenAPI', async () => {
    const a = await auditText('compose.yaml', 'services:\n  web:\n    image: nginx\n');
    expect(a.format).toBe('unknown');
    expect(rules(a)).toContain('unrecognized-format');
  });
});
