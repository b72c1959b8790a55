import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RpcError, type ContractChange } from '../../../../../daemon/protocol';
import { compareSpecs, type RemovalPolicy } from '../../../../../daemon/services/governance/compare/compareEngine';
import { COMPARE_RULES, COMPARE_RULE_IDS, type CompareRuleId } from '../../../../../daemon/services/governance/compare/rules';
import { diskRefReader as readRef, SpecDocuments } from '../../../../../daemon/services/governance/compare/specDocuments';

type Json = Record<string, unknown>;

const oas3 = (paths: Json, extra: Json = {}): Json => ({ openapi: '3.0.3', info: { title: 'Shop', version: '1' }, paths, ...extra });
const ok = (schema?: Json): Json => ({ description: 'ok', ...(schema ? { content: { 'application/json': { schema } } } : {}) });
const get = (op: Json = {}): Json => ({ get: { responses: { '200': ok() }, ...op } });
const post = (schema: Json, op: Json = {}): Json => ({ post: { requestBody: { content: { 'application/json': { schema } } }, responses: { '201': ok() }, ...op } });
const petResponse = (schema: Json): Json => ({ get: { responses: { '200': ok(schema) } } });
const queryParam = (name: string, schema: Json, required = false): Json => ({ name, in: 'query', required, schema });

async function diff(base: Json, head: Json, removal?: RemovalPolicy): Promise<ContractChange[]> {
  const b = await SpecDocuments.load('base.json', JSON.stringify(base));
  const h = await SpecDocuments.load('head.json', JSON.stringify(head));
  return compareSpecs(b, h, removal);
}

/** One base/head pair per rule: each shows the smallest change the rule is about. */
const CASES: Record<CompareRuleId, { base: Json; head: Json; removal?: RemovalPolicy }> = {
  'path-removed': { base: oas3({ '/pets': get(), '/orders': get() }), head: oas3({ '/orders': get() }) },
  'operation-removed': { base: oas3({ '/pets': { ...get(), ...post({ type: 'object' }) } }), head: oas3({ '/pets': get() }) },
  'deprecated-operation-removed': {
    base: oas3({ '/pets': get({ deprecated: true, 'x-sunset': '2026-01-01' }), '/orders': get() }),
    head: oas3({ '/orders': get() }),
    removal: () => ({ allowed: true, by: 'x-sunset', message: 'sunset passed' }),
  },
  'path-added': { base: oas3({ '/pets': get() }), head: oas3({ '/pets': get(), '/orders': get() }) },
  'operation-added': { base: oas3({ '/pets': get() }), head: oas3({ '/pets': { ...get(), ...post({ type: 'object' }) } }) },
  'operation-deprecated': { base: oas3({ '/pets': get() }), head: oas3({ '/pets': get({ deprecated: true }) }) },
  'operation-undeprecated': { base: oas3({ '/pets': get({ deprecated: true }) }), head: oas3({ '/pets': get() }) },
  'operation-id-changed': { base: oas3({ '/pets': get({ operationId: 'listPets' }) }), head: oas3({ '/pets': get({ operationId: 'getPets' }) }) },
  'required-parameter-added': { base: oas3({ '/pets': get() }), head: oas3({ '/pets': get({ parameters: [queryParam('owner', { type: 'string' }, true)] }) }) },
  'optional-parameter-added': { base: oas3({ '/pets': get() }), head: oas3({ '/pets': get({ parameters: [queryParam('limit', { type: 'integer' })] }) }) },
  'parameter-removed': { base: oas3({ '/pets': get({ parameters: [queryParam('limit', { type: 'integer' })] }) }), head: oas3({ '/pets': get() }) },
  'parameter-became-required': {
    base: oas3({ '/pets': get({ parameters: [queryParam('limit', { type: 'integer' })] }) }),
    head: oas3({ '/pets': get({ parameters: [queryParam('limit', { type: 'integer' }, true)] }) }),
  },
  'parameter-became-optional': {
    base: oas3({ '/pets': get({ parameters: [queryParam('limit', { type: 'integer' }, true)] }) }),
    head: oas3({ '/pets': get({ parameters: [queryParam('limit', { type: 'integer' })] }) }),
  },
  'parameter-type-changed': {
    base: oas3({ '/pets': get({ parameters: [queryParam('limit', { type: 'string' })] }) }),
    head: oas3({ '/pets': get({ parameters: [queryParam('limit', { type: 'integer' })] }) }),
  },
  'request-body-required-added': { base: oas3({ '/pets': { post: { responses: { '201': ok() } } } }), head: oas3({ '/pets': post({ type: 'object' }, { requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } } }) }) },
  'request-body-added': { base: oas3({ '/pets': { post: { responses: { '201': ok() } } } }), head: oas3({ '/pets': post({ type: 'object' }) }) },
  'request-body-removed': { base: oas3({ '/pets': post({ type: 'object' }) }), head: oas3({ '/pets': { post: { responses: { '201': ok() } } } }) },
  'request-body-became-required': {
    base: oas3({ '/pets': post({ type: 'object' }) }),
    head: oas3({ '/pets': post({ type: 'object' }, { requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } } }) }),
  },
  'request-media-type-removed': {
    base: oas3({ '/pets': post({ type: 'object' }, { requestBody: { content: { 'application/json': { schema: { type: 'object' } }, 'application/xml': { schema: { type: 'object' } } } } }) }),
    head: oas3({ '/pets': post({ type: 'object' }) }),
  },
  'request-media-type-added': {
    base: oas3({ '/pets': post({ type: 'object' }) }),
    head: oas3({ '/pets': post({ type: 'object' }, { requestBody: { content: { 'application/json': { schema: { type: 'object' } }, 'application/xml': { schema: { type: 'object' } } } } }) }),
  },
  'request-required-property-added': {
    base: oas3({ '/pets': post({ type: 'object', properties: { name: { type: 'string' } } }) }),
    head: oas3({ '/pets': post({ type: 'object', required: ['tag'], properties: { name: { type: 'string' }, tag: { type: 'string' } } }) }),
  },
  'request-optional-property-added': {
    base: oas3({ '/pets': post({ type: 'object', properties: { name: { type: 'string' } } }) }),
    head: oas3({ '/pets': post({ type: 'object', properties: { name: { type: 'string' }, tag: { type: 'string' } } }) }),
  },
  'request-property-removed': {
    base: oas3({ '/pets': post({ type: 'object', properties: { name: { type: 'string' }, tag: { type: 'string' } } }) }),
    head: oas3({ '/pets': post({ type: 'object', properties: { name: { type: 'string' } } }) }),
  },
  'request-property-became-required': {
    base: oas3({ '/pets': post({ type: 'object', properties: { name: { type: 'string' } } }) }),
    head: oas3({ '/pets': post({ type: 'object', required: ['name'], properties: { name: { type: 'string' } } }) }),
  },
  'request-property-became-optional': {
    base: oas3({ '/pets': post({ type: 'object', required: ['name'], properties: { name: { type: 'string' } } }) }),
    head: oas3({ '/pets': post({ type: 'object', properties: { name: { type: 'string' } } }) }),
  },
  'request-property-type-changed': {
    base: oas3({ '/pets': post({ type: 'object', properties: { age: { type: 'number' } } }) }),
    head: oas3({ '/pets': post({ type: 'object', properties: { age: { type: 'integer' } } }) }),
  },
  'request-enum-value-removed': {
    base: oas3({ '/pets': get({ parameters: [queryParam('status', { type: 'string', enum: ['available', 'sold'] })] }) }),
    head: oas3({ '/pets': get({ parameters: [queryParam('status', { type: 'string', enum: ['available'] })] }) }),
  },
  'request-enum-value-added': {
    base: oas3({ '/pets': get({ parameters: [queryParam('status', { type: 'string', enum: ['available'] })] }) }),
    head: oas3({ '/pets': get({ parameters: [queryParam('status', { type: 'string', enum: ['available', 'sold'] })] }) }),
  },
  'success-response-removed': {
    base: oas3({ '/pets': { get: { responses: { '200': ok(), '206': ok() } } } }),
    head: oas3({ '/pets': { get: { responses: { '200': ok() } } } }),
  },
  'response-removed': {
    base: oas3({ '/pets': { get: { responses: { '200': ok(), '404': { description: 'missing' } } } } }),
    head: oas3({ '/pets': get() }),
  },
  'response-added': { base: oas3({ '/pets': get() }), head: oas3({ '/pets': { get: { responses: { '200': ok(), '429': { description: 'slow down' } } } } }) },
  'response-media-type-removed': {
    base: oas3({ '/pets': { get: { responses: { '200': { description: 'ok', content: { 'application/json': {}, 'text/csv': {} } } } } } }),
    head: oas3({ '/pets': { get: { responses: { '200': { description: 'ok', content: { 'application/json': {} } } } } } }),
  },
  'response-media-type-added': {
    base: oas3({ '/pets': { get: { responses: { '200': { description: 'ok', content: { 'application/json': {} } } } } } }),
    head: oas3({ '/pets': { get: { responses: { '200': { description: 'ok', content: { 'application/json': {}, 'text/csv': {} } } } } } }),
  },
  'response-property-removed': {
    base: oas3({ '/pets': petResponse({ type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } }) }),
    head: oas3({ '/pets': petResponse({ type: 'object', properties: { id: { type: 'integer' } } }) }),
  },
  'response-property-added': {
    base: oas3({ '/pets': petResponse({ type: 'object', properties: { id: { type: 'integer' } } }) }),
    head: oas3({ '/pets': petResponse({ type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } }) }),
  },
  'response-property-became-optional': {
    base: oas3({ '/pets': petResponse({ type: 'object', required: ['id'], properties: { id: { type: 'integer' } } }) }),
    head: oas3({ '/pets': petResponse({ type: 'object', properties: { id: { type: 'integer' } } }) }),
  },
  'response-property-type-changed': {
    base: oas3({ '/pets': petResponse({ type: 'object', properties: { id: { type: 'integer' } } }) }),
    head: oas3({ '/pets': petResponse({ type: 'object', properties: { id: { type: 'string' } } }) }),
  },
  'response-enum-value-added': {
    base: oas3({ '/pets': petResponse({ type: 'object', properties: { status: { type: 'string', enum: ['available'] } } }) }),
    head: oas3({ '/pets': petResponse({ type: 'object', properties: { status: { type: 'string', enum: ['available', 'pending'] } } }) }),
  },
  'response-enum-value-removed': {
    base: oas3({ '/pets': petResponse({ type: 'object', properties: { status: { type: 'string', enum: ['available', 'pending'] } } }) }),
    head: oas3({ '/pets': petResponse({ type: 'object', properties: { status: { type: 'string', enum: ['available'] } } }) }),
  },
  'type-generalized': {
    base: oas3({ '/pets': get({ parameters: [queryParam('limit', { type: 'integer' })] }) }),
    head: oas3({ '/pets': get({ parameters: [queryParam('limit', { type: 'number' })] }) }),
  },
  'security-requirement-added': {
    base: oas3({ '/pets': get() }, { components: { securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Key' } } } }),
    head: oas3({ '/pets': get({ security: [{ key: [] }] }) }, { components: { securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Key' } } } }),
  },
  'security-requirement-removed': {
    base: oas3({ '/pets': get({ security: [{ key: [] }] }) }, { components: { securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Key' } } } }),
    head: oas3({ '/pets': get({ security: [] }) }, { components: { securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Key' } } } }),
  },
};

describe('compare rules: one base/head pair per rule', () => {
  it('has a case for every rule', () => {
    expect(Object.keys(CASES).sort()).toEqual([...COMPARE_RULE_IDS].sort());
  });

  for (const rule of COMPARE_RULE_IDS) {
    it(`${rule} (${COMPARE_RULES[rule].severity})`, async () => {
      const { base, head, removal } = CASES[rule];
      const changes = await diff(base, head, removal);
      const hit = changes.find((c) => c.rule === rule);
      expect(hit, `changes: ${JSON.stringify(changes.map((c) => c.rule))}`).toBeDefined();
      expect(hit!.severity).toBe(COMPARE_RULES[rule].severity);
      expect(hit!.message.length).toBeGreaterThan(10);
      expect(hit!.path).toMatch(/^\//);
      // No rule in the table fires for a change another rule describes better.
      expect(changes.filter((c) => c.rule !== rule && c.severity === 'breaking' && hit!.severity !== 'breaking')).toEqual([]);
    });
  }
});

describe('compare engine', () => {
  it('finds nothing between a document and itself', async () => {
    const spec = CASES['response-property-removed'].base;
    expect(await diff(spec, spec)).toEqual([]);
  });

  it('matches a path whose parameter was renamed ({id} → {petId})', async () => {
    const p = (name: string) => ({ get: { parameters: [{ name, in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': ok() } } });
    expect(await diff(oas3({ '/pets/{id}': p('id') }), oas3({ '/pets/{petId}': p('petId') }))).toEqual([]);
  });

  it('widening a request type is compatible, narrowing a response type too; the reverse breaks', async () => {
    const narrowResponse = await diff(
      oas3({ '/pets': petResponse({ type: 'object', properties: { weight: { type: 'number' } } }) }),
      oas3({ '/pets': petResponse({ type: 'object', properties: { weight: { type: 'integer' } } }) }),
    );
    expect(narrowResponse.map((c) => c.rule)).toEqual(['type-generalized']);
    const nullable = await diff(
      oas3({ '/pets': petResponse({ type: 'object', properties: { tag: { type: 'string' } } }) }),
      oas3({ '/pets': petResponse({ type: 'object', properties: { tag: { type: 'string', nullable: true } } }) }),
    );
    expect(nullable.map((c) => c.rule)).toEqual(['response-property-type-changed']);
  });

  it('restricting a request value to an enum breaks clients sending other values', async () => {
    const changes = await diff(
      oas3({ '/pets': get({ parameters: [queryParam('sort', { type: 'string' })] }) }),
      oas3({ '/pets': get({ parameters: [queryParam('sort', { type: 'string', enum: ['name'] })] }) }),
    );
    expect(changes.map((c) => c.rule)).toEqual(['request-enum-value-removed']);
  });

  it('follows $refs and allOf, and stops on recursive schemas', async () => {
    const components = (nodeProps: Json) => ({
      components: {
        schemas: {
          Base: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } },
          Node: { allOf: [{ $ref: '#/components/schemas/Base' }, { type: 'object', properties: { children: { type: 'array', items: { $ref: '#/components/schemas/Node' } }, ...nodeProps } }] },
        },
      },
    });
    const spec = (nodeProps: Json) => oas3({ '/tree': petResponse({ $ref: '#/components/schemas/Node' }) }, components(nodeProps));
    const changes = await diff(spec({ label: { type: 'string' } }), spec({}));
    expect(changes.map((c) => c.rule)).toEqual(['response-property-removed']);
    expect(changes[0]!.message).toContain('"label"');
    expect(changes[0]!.baseLocation?.pointer).toBe('/components/schemas/Node/allOf/1/properties/label');
  });

  it('a base alternative still satisfied by a head alternative is not a security break; a new scope is', async () => {
    const schemes = { components: { securitySchemes: { oauth: { type: 'oauth2', flows: {} }, key: { type: 'apiKey', in: 'header', name: 'K' } } } };
    const same = await diff(oas3({ '/pets': get({ security: [{ oauth: ['read'] }, { key: [] }] }) }, schemes), oas3({ '/pets': get({ security: [{ key: [] }, { oauth: ['read'] }] }) }, schemes));
    expect(same).toEqual([]);
    const scope = await diff(oas3({ '/pets': get({ security: [{ oauth: ['read'] }] }) }, schemes), oas3({ '/pets': get({ security: [{ oauth: ['read', 'admin'] }] }) }, schemes));
    expect(scope.map((c) => c.rule)).toEqual(['security-requirement-added']);
    const inherited = await diff(oas3({ '/pets': get() }), oas3({ '/pets': get() }, { security: [{ key: [] }], ...schemes }));
    expect(inherited.map((c) => c.rule)).toEqual(['security-requirement-added']);
  });

  it('a removal the policy refuses stays breaking and carries its note', async () => {
    const changes = await diff(oas3({ '/pets': get({ deprecated: true }), '/orders': get() }), oas3({ '/orders': get() }), () => ({ allowed: false, note: 'Its sunset date 2027-01-01 has not passed.' }));
    expect(changes).toMatchObject([{ rule: 'path-removed', severity: 'breaking', path: '/pets', method: 'get', message: expect.stringContaining('2027-01-01') }]);
  });

  it('reads Swagger 2.0: body and query parameters, responses, basePath', async () => {
    const swagger = (bodyRequired: string[], statuses: string[]) => ({
      swagger: '2.0',
      info: { title: 'Shop', version: '1' },
      basePath: '/v1',
      paths: {
        '/pets': {
          post: {
            parameters: [
              { name: 'body', in: 'body', required: true, schema: { type: 'object', required: bodyRequired, properties: { name: { type: 'string' }, tag: { type: 'string' } } } },
              { name: 'dryRun', in: 'query', type: 'boolean' },
            ],
            responses: Object.fromEntries(statuses.map((s) => [s, { description: s }])),
          },
        },
      },
    });
    const changes = await diff(swagger(['name'], ['200', '201']), swagger(['name', 'tag'], ['200']));
    expect(changes.map((c) => c.rule).sort()).toEqual(['request-property-became-required', 'success-response-removed']);
  });

  it('gives the line and column of the change in the head YAML document', async () => {
    const base = await SpecDocuments.load('base.yaml', 'openapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths:\n  /pets:\n    get:\n      responses:\n        "200": {description: ok}\n');
    const headText = [
      'openapi: 3.1.0',
      'info: {title: t, version: "1"}',
      'paths:',
      '  /pets:',
      '    get:',
      '      parameters:',
      '        - name: owner',
      '          in: query',
      '          required: true',
      '          schema: {type: string}',
      '      responses:',
      '        "200": {description: ok}',
      '',
    ].join('\n');
    const head = await SpecDocuments.load('/api/head.yaml', headText);
    const [change] = compareSpecs(base, head);
    expect(change).toMatchObject({ rule: 'required-parameter-added', location: { file: '/api/head.yaml', pointer: '/paths/~1pets/get/parameters/0' } });
    expect(change!.location!.range!.start.line).toBe(6);
    // The parameter spans four lines; the change marks the first one, to its end.
    expect(change!.location!.range).toEqual({ start: { line: 6, character: 10 }, end: { line: 6, character: 21 } });
  });
});

describe('documents: $refs across files and bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-compare-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves $refs to other files and locates changes inside them', async () => {
    writeFileSync(join(dir, 'pet-v1.yaml'), 'type: object\nproperties:\n  id: {type: integer}\n  name: {type: string}\n');
    writeFileSync(join(dir, 'pet-v2.yaml'), 'type: object\nproperties:\n  id: {type: integer}\n');
    const spec = (file: string) => JSON.stringify(oas3({ '/pets': petResponse({ $ref: `./${file}` }) }));
    const base = await SpecDocuments.load(join(dir, 'base.json'), spec('pet-v1.yaml'), readRef);
    const head = await SpecDocuments.load(join(dir, 'head.json'), spec('pet-v2.yaml'), readRef);
    const [change] = compareSpecs(base, head);
    expect(change).toMatchObject({ rule: 'response-property-removed', location: { file: join(dir, 'pet-v2.yaml'), pointer: '' } });
    expect(change!.baseLocation).toMatchObject({ file: join(dir, 'pet-v1.yaml'), pointer: '/properties/name', range: { start: { line: 3 } } });
  });

  it('names the file and line of an unresolvable $ref', async () => {
    const text = JSON.stringify(oas3({ '/pets': petResponse({ $ref: './missing.yaml' }) }), null, 2);
    const docs = await SpecDocuments.load(join(dir, 'broken.json'), text, readRef);
    const e = (() => {
      try {
        compareSpecs(docs, docs);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(RpcError);
    expect((e as RpcError).message).toMatch(/broken\.json: \$ref "\.\/missing\.yaml" at \/paths\/~1pets\/get\/responses\/200\/content\/application~1json\/schema \(line \d+, column \d+\) cannot be resolved/);
  });

  it('refuses invalid YAML and documents that are not OpenAPI, naming the file and position', async () => {
    await expect(SpecDocuments.load('bad.yaml', 'openapi: 3.0.0\npaths: [\n')).rejects.toThrow(/bad\.yaml: invalid YAML at line \d+, column \d+/);
    await expect(SpecDocuments.load('notes.json', '{"name": "not a spec"}')).rejects.toThrow(/notes\.json: is not an OpenAPI 3\.0\/3\.1 or Swagger 2\.0 document/);
  });

  it('reports a circular $ref chain instead of looping', async () => {
    const text = JSON.stringify(oas3({ '/pets': petResponse({ $ref: '#/components/schemas/A' }) }, { components: { schemas: { A: { $ref: '#/components/schemas/B' }, B: { $ref: '#/components/schemas/A' } } } }));
    const docs = await SpecDocuments.load('loop.json', text);
    expect(() => compareSpecs(docs, docs)).toThrow(/loop\.json: \$ref .* is circular/);
  });
});
