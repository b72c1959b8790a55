import { createRulesetFunction, type IFunctionResult, type RuleDefinition } from '@stoplight/spectral-core';
import { oas2, oas3 } from '@stoplight/spectral-formats';
import { CustomRule } from './categories';

/**
 * Our rules for what the OWASP ruleset leaves out (API6, API9 retirement, API10). They run on the
 * resolved document, so `$ref`'d responses and headers count.
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const STATE_CHANGING = new Set(['post', 'put', 'patch', 'delete']);

/** Words naming flows whose automated abuse hurts the business (OWASP API6:2023 examples and kin). */
export const SENSITIVE_FLOW =
  /(purchase|checkout|check-out|buy|order|payment|pay|signup|sign-up|sign_up|register|registration|password|passwd|reset|otp|one-time|2fa|mfa|verify|verification|transfer|withdraw|redeem|coupon|voucher|gift-?card|booking|reserve|reservation|invite|referral|vote|login|signin|sign-in)/i;

const RATE_LIMIT_HEADER = /^(x-)?rate-?limit|^retry-after$/i;
const RATE_LIMIT_EXTENSION = /^x-.*(rate-?limit|throttl|quota)/i;
const BOT_PROTECTION = /(captcha|turnstile|bot-?protection|proof-?of-?work|x-bot)/i;

function responses(op: Json): Json {
  return isObject(op.responses) ? op.responses : {};
}

function headersOf(response: unknown): string[] {
  return isObject(response) && isObject(response.headers) ? Object.keys(response.headers) : [];
}

/** Rate limiting or bot protection documented on an operation (or on its path item, for extensions). */
export function documentsFlowProtection(op: Json, pathItem: Json = {}): boolean {
  const res = responses(op);
  if (Object.hasOwn(res, '429')) return true;
  if (Object.values(res).some((r) => headersOf(r).some((h) => RATE_LIMIT_HEADER.test(h)))) return true;
  const extensions = [...Object.keys(op), ...Object.keys(pathItem)].filter((k) => k.startsWith('x-'));
  if (extensions.some((k) => RATE_LIMIT_EXTENSION.test(k) || BOT_PROTECTION.test(k))) return true;
  const params = [...(Array.isArray(op.parameters) ? op.parameters : []), ...(Array.isArray(pathItem.parameters) ? pathItem.parameters : [])];
  return params.some((p) => isObject(p) && typeof p.name === 'string' && BOT_PROTECTION.test(p.name));
}

/** Words of the operation that name its flow: path, operationId, summary, tags. */
function flowText(path: string, op: Json): string {
  const tags = Array.isArray(op.tags) ? op.tags.filter((t) => typeof t === 'string') : [];
  return [path, op.operationId, op.summary, ...tags].filter((s) => typeof s === 'string').join(' ');
}

export const sensitiveFlowProtection = createRulesetFunction<Json, null>({ input: null, options: null }, (paths) => {
  const results: IFunctionResult[] = [];
  if (!isObject(paths)) return results;
  for (const [path, pathItem] of Object.entries(paths)) {
    if (!isObject(pathItem)) continue;
    for (const method of HTTP_METHODS) {
      const op = pathItem[method];
      if (!STATE_CHANGING.has(method) || !isObject(op)) continue;
      const match = SENSITIVE_FLOW.exec(flowText(path, op));
      if (!match || documentsFlowProtection(op, pathItem)) continue;
      results.push({
        message: `${method.toUpperCase()} ${path} looks like a sensitive business flow ("${match[0]}") but documents no rate limiting (429 response, RateLimit headers, x-ratelimit extension) or bot protection.`,
        path: ['paths', path, method],
      });
    }
  }
  return results;
});

/** A Sunset header (RFC 8594) on a response, or an `x-sunset` date on the operation. */
export function documentsSunset(op: Json): boolean {
  if (typeof op['x-sunset'] === 'string' || op['x-sunset'] instanceof Date) return true;
  return Object.values(responses(op)).some((r) => headersOf(r).some((h) => h.toLowerCase() === 'sunset'));
}

export const deprecatedWithoutSunset = createRulesetFunction<Json, null>({ input: null, options: null }, (paths) => {
  const results: IFunctionResult[] = [];
  if (!isObject(paths)) return results;
  for (const [path, pathItem] of Object.entries(paths)) {
    if (!isObject(pathItem)) continue;
    for (const method of HTTP_METHODS) {
      const op = pathItem[method];
      if (!isObject(op) || op.deprecated !== true || documentsSunset(op)) continue;
      results.push({
        message: `${method.toUpperCase()} ${path} is deprecated without a retirement date: document a Sunset response header (RFC 8594) or an x-sunset date.`,
        path: ['paths', path, method],
      });
    }
  }
  return results;
});

export const serversDeclared = createRulesetFunction<Json, null>({ input: null, options: null }, (doc) => {
  if (!isObject(doc)) return [];
  if (typeof doc.swagger === 'string') {
    return typeof doc.host === 'string' && doc.host.length > 0
      ? []
      : [{ message: 'No host declared: the inventory cannot tell where this API runs (add host and basePath).', path: [] }];
  }
  const servers = doc.servers;
  return Array.isArray(servers) && servers.length > 0
    ? []
    : [{ message: 'No servers declared: the inventory cannot tell where and in which environment this API runs (add servers with url and description).', path: [] }];
});

type JsonPath = (string | number)[];

const IDENTITY_URL_KEYS = new Set(['tokenUrl', 'authorizationUrl', 'refreshUrl', 'openIdConnectUrl']);

/** Every URL the API itself consumes or calls back, with where it is. */
function* consumedUrls(doc: Json): Generator<{ url: string; path: JsonPath; what: string }> {
  const seen = new Set<unknown>();
  function* walk(node: unknown, path: JsonPath): Generator<{ url: string; path: JsonPath; what: string }> {
    if (typeof node !== 'object' || node === null || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) yield* walk(node[i], [...path, i]);
      return;
    }
    const obj = node as Json;
    const parent = path[path.length - 1];
    for (const [key, value] of Object.entries(obj)) {
      const here = [...path, key];
      // Callback objects are keyed by the URL expression the API will call: `{$request.body#/url}` is decided at run time, a literal is not.
      if (path[path.length - 2] === 'callbacks' && /^http:\/\//i.test(key)) yield { url: key, path: here, what: 'callback' };
      if (typeof value === 'string' && /^http:\/\//i.test(value)) {
        // Top-level servers are OWASP's own API8 rule; servers of paths, operations and links are ours.
        const nestedServer = key === 'url' && (parent === 'server' || (path.includes('servers') && path[0] !== 'servers'));
        if (nestedServer) yield { url: value, path: here, what: 'server' };
        else if (IDENTITY_URL_KEYS.has(key)) yield { url: value, path: here, what: 'identity provider' };
      }
      yield* walk(value, here);
    }
  }
  yield* walk(doc, []);
}

export const plainHttpConsumption = createRulesetFunction<Json, null>({ input: null, options: null }, (doc) => {
  if (!isObject(doc)) return [];
  const results: IFunctionResult[] = [];
  for (const { url, path, what } of consumedUrls(doc)) {
    results.push({ message: `The ${what} URL ${url} is consumed over plain http: use https.`, path });
  }
  return results;
});

/** One of our rules: the message is the function's own, on OpenAPI 2 and 3 documents. */
function customRule(description: string, severity: 'warn' | 'error', given: string, fn: typeof plainHttpConsumption): RuleDefinition {
  return { description, message: '{{error}}', severity, formats: [oas2, oas3], given, then: { function: fn } };
}

/** Our rules, added to the Spectral ruleset next to the OWASP ones. */
export const CUSTOM_RULES: Record<string, RuleDefinition> = {
  [CustomRule.SensitiveFlow]: customRule(
    'Sensitive business flows (purchase, signup, password reset, OTP, transfer…) should document rate limiting or bot protection.',
    'warn',
    '$.paths',
    sensitiveFlowProtection,
  ),
  [CustomRule.DeprecatedWithoutSunset]: customRule('A deprecated operation needs a retirement date (Sunset header or x-sunset).', 'warn', '$.paths', deprecatedWithoutSunset),
  [CustomRule.NoServers]: customRule('The document should say where the API runs (servers, or host for Swagger 2.0).', 'warn', '$', serversDeclared),
  [CustomRule.PlainHttpConsumption]: customRule(
    'Callbacks, links, per-path servers and identity-provider URLs must not be consumed over plain http.',
    'error',
    '$',
    plainHttpConsumption,
  ),
};
