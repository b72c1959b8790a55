import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CustomRule } from '../../../../../daemon/services/governance/audit/categories';
import { documentsFlowProtection, documentsSunset, SENSITIVE_FLOW } from '../../../../../daemon/services/governance/audit/customRules';
import { AuditEngine } from '../../../../../daemon/services/governance/audit/engine';

const engine = new AuditEngine();
const tmp = mkdtempSync(join(tmpdir(), 'cf-rules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** Findings of one of our rules on a JSON document (JSON keeps the inline specs short and exact). */
async function findingsOf(rule: string, doc: object) {
  const file = join(tmp, `doc${n++}.json`);
  const text = JSON.stringify(doc, null, 2);
  writeFileSync(file, text);
  return (await engine.audit(file, text)).findings.filter((f) => f.rule === rule);
}

const base = { openapi: '3.0.3', info: { title: 't', version: '1' }, servers: [{ url: 'https://a.example.com', description: 'production', 'x-internal': false }] };
const op = (extra: object = {}) => ({ responses: { '201': { description: 'ok' } }, ...extra });

describe(`${CustomRule.SensitiveFlow} (API6)`, () => {
  it('flags state-changing sensitive flows without rate limiting or bot protection', async () => {
    const f = await findingsOf(CustomRule.SensitiveFlow, {
      ...base,
      paths: { '/signup': { post: op() }, '/accounts/{id}/transfer': { post: op() }, '/x': { post: op({ operationId: 'resetPassword' }) } },
    });
    expect(f.map((x) => x.pointer).sort()).toEqual(['/paths/~1accounts~1{id}~1transfer/post', '/paths/~1signup/post', '/paths/~1x/post']);
    expect(f.every((x) => x.category === 'API6' && x.severity === 'warn')).toBe(true);
    expect(f[0]!.message).toMatch(/sensitive business flow/);
  });

  it('accepts a 429, RateLimit headers, an x-ratelimit extension or a captcha; ignores reads and ordinary flows', async () => {
    const f = await findingsOf(CustomRule.SensitiveFlow, {
      ...base,
      paths: {
        '/checkout': { post: { responses: { '201': { description: 'ok' }, '429': { description: 'slow down' } } } },
        '/purchase': { post: { responses: { '201': { description: 'ok', headers: { 'X-RateLimit-Remaining': { schema: { type: 'integer' } } } } } } },
        '/register': { post: op({ 'x-ratelimit': { perMinute: 5 } }) },
        '/otp': { post: op({ parameters: [{ name: 'X-Captcha-Token', in: 'header', schema: { type: 'string' } }] }) },
        '/orders': { get: op() },
        '/pets': { post: op() },
      },
    });
    expect(f).toEqual([]);
  });

  it('recognises the flow words and the protection signals', () => {
    for (const w of ['purchase', 'checkout', 'signup', 'register', 'password', 'otp', 'transfer']) expect(SENSITIVE_FLOW.test(`/${w}`), w).toBe(true);
    expect(SENSITIVE_FLOW.test('/pets')).toBe(false);
    expect(documentsFlowProtection({ responses: { '200': { headers: { 'Retry-After': {} } } } })).toBe(true);
    expect(documentsFlowProtection({ responses: {} }, { 'x-bot-protection': 'turnstile' })).toBe(true);
    expect(documentsFlowProtection({ responses: { '200': {} } })).toBe(false);
  });
});

describe(`${CustomRule.DeprecatedWithoutSunset} (API9)`, () => {
  it('flags deprecated operations without a sunset date', async () => {
    const f = await findingsOf(CustomRule.DeprecatedWithoutSunset, { ...base, paths: { '/v1/a': { get: op({ deprecated: true }) } } });
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ category: 'API9', pointer: '/paths/~1v1~1a/get' });
  });

  it('accepts x-sunset or a Sunset header, and ignores live operations', async () => {
    const f = await findingsOf(CustomRule.DeprecatedWithoutSunset, {
      ...base,
      paths: {
        '/v1/a': { get: op({ deprecated: true, 'x-sunset': '2027-01-01' }) },
        '/v1/b': { get: { deprecated: true, responses: { '200': { description: 'ok', headers: { Sunset: { schema: { type: 'string' } } } } } } },
        '/v2/a': { get: op() },
      },
    });
    expect(f).toEqual([]);
    expect(documentsSunset({ responses: { '200': { headers: { sunset: {} } } } })).toBe(true);
  });
});

describe(`${CustomRule.NoServers} (API9)`, () => {
  it('flags an OpenAPI document without servers and a Swagger one without host', async () => {
    expect(await findingsOf(CustomRule.NoServers, { openapi: '3.0.3', info: { title: 't', version: '1' }, paths: {} })).toHaveLength(1);
    expect(await findingsOf(CustomRule.NoServers, { swagger: '2.0', info: { title: 't', version: '1' }, paths: {} })).toHaveLength(1);
  });

  it('accepts servers or a host', async () => {
    expect(await findingsOf(CustomRule.NoServers, { ...base, paths: {} })).toEqual([]);
    expect(await findingsOf(CustomRule.NoServers, { swagger: '2.0', info: { title: 't', version: '1' }, host: 'a.example.com', schemes: ['https'], paths: {} })).toEqual([]);
  });
});

describe(`${CustomRule.PlainHttpConsumption} (API10)`, () => {
  it('flags http callbacks, per-path servers, link servers and identity-provider URLs, with an https fix', async () => {
    const f = await findingsOf(CustomRule.PlainHttpConsumption, {
      ...base,
      paths: {
        '/a': {
          servers: [{ url: 'http://legacy.example.com' }],
          post: op({
            callbacks: { done: { 'http://partner.example.com/hook': { post: op() } } },
            responses: { '201': { description: 'ok', links: { next: { operationId: 'x', server: { url: 'http://links.example.com' } } } } },
          }),
        },
      },
      components: { securitySchemes: { oauth: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: 'http://idp.example.com/token', scopes: {} } } } } },
    });
    expect(f.map((x) => x.pointer).sort()).toEqual([
      '/components/securitySchemes/oauth/flows/clientCredentials/tokenUrl',
      '/paths/~1a/post/callbacks/done/http:~1~1partner.example.com~1hook',
      '/paths/~1a/post/responses/201/links/next/server/url',
      '/paths/~1a/servers/0/url',
    ]);
    const server = f.find((x) => x.pointer === '/paths/~1a/servers/0/url')!;
    expect(server.fix).toMatchObject({ kind: 'replaceValue', value: 'https://legacy.example.com' });
    expect(f.every((x) => x.category === 'API10' && x.severity === 'error')).toBe(true);
  });

  it('accepts https and run-time callback expressions, and leaves top-level servers to the OWASP API8 rule', async () => {
    const f = await findingsOf(CustomRule.PlainHttpConsumption, {
      ...base,
      servers: [{ url: 'http://top.example.com', description: 'production', 'x-internal': false }],
      paths: {
        '/a': {
          servers: [{ url: 'https://ok.example.com' }],
          post: op({ callbacks: { done: { '{$request.body#/callbackUrl}': { post: op() }, 'https://partner.example.com/hook': { post: op() } } } }),
        },
      },
    });
    expect(f).toEqual([]);
  });
});
