import type { AuditFinding, FixDescriptor, SpecFormat } from '../../../protocol';
import { CustomRule } from './categories';
import { valueAt } from './sourceDocuments';

/** What to tell the user, and the edit an editor can apply when the change is mechanical. */
export interface Fix {
  text: string;
  descriptor?: FixDescriptor;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Advice per rule, for findings with no mechanical fix or to explain the one offered. */
const FIX_TEXT: Record<string, string> = {
  'owasp:api1:2023-no-numeric-ids': 'Use random, unguessable ids (type: string, format: uuid) instead of integers.',
  'owasp:api2:2023-no-http-basic': 'Replace HTTP Basic/Digest with a token scheme (OAuth 2, bearer JWT).',
  'owasp:api2:2023-no-api-keys-in-url': 'Send API keys in a header (in: header), never in the query or path.',
  'owasp:api2:2023-no-credentials-in-url': 'Move credentials out of URL parameters into a header or the body.',
  'owasp:api2:2023-auth-insecure-schemes': 'Use a registered, non-deprecated HTTP auth scheme such as bearer.',
  'owasp:api2:2023-jwt-best-practices': 'Mention RFC 8725 (JWT best current practices) in the scheme description and follow it.',
  'owasp:api2:2023-short-lived-access-tokens': 'Use short-lived access tokens with refresh tokens (declare refreshUrl).',
  'owasp:api2:2023-write-restricted': 'Add a security requirement to this write operation.',
  'owasp:api2:2023-read-restricted': 'Add a security requirement to this read operation (or mark it public on purpose).',
  'owasp:api3:2023-no-additionalProperties': 'Set additionalProperties: false so unexpected properties are refused.',
  'owasp:api3:2023-constrained-additionalProperties': 'Bound the extra properties with maxProperties.',
  'owasp:api3:2023-no-unevaluatedProperties': 'Set unevaluatedProperties: false so unexpected properties are refused.',
  'owasp:api3:2023-constrained-unevaluatedProperties': 'Bound the extra properties with maxProperties.',
  'owasp:api4:2023-rate-limit': 'Document rate-limit headers (RateLimit, or X-RateLimit-Limit/Remaining/Reset) on this response.',
  'owasp:api4:2023-rate-limit-retry-after': 'Document a Retry-After header on the 429 response.',
  'owasp:api4:2023-rate-limit-responses-429': 'Add a 429 Too Many Requests response with a body and Retry-After.',
  'owasp:api4:2023-array-limit': 'Add maxItems to the array schema.',
  'owasp:api4:2023-string-limit': 'Add maxLength (or enum/const) to the string schema.',
  'owasp:api4:2023-string-restricted': 'Add a format, pattern, enum or const to the string schema.',
  'owasp:api4:2023-integer-limit': 'Add minimum and maximum (or exclusive bounds) to the integer schema.',
  'owasp:api4:2023-integer-limit-legacy': 'Add minimum and maximum to the integer schema.',
  'owasp:api4:2023-integer-format': 'Add format: int32 or int64 to the integer schema.',
  'owasp:api5:2023-admin-security-unique': 'Protect admin endpoints with a security scheme of their own, not the one of ordinary endpoints.',
  'owasp:api7:2023-concerning-url-parameter': 'Validate URL parameters against an allow-list on the server (governance/checkUrl shows the checks).',
  'owasp:api8:2023-define-cors-origin': 'Document the Access-Control-Allow-Origin header on responses.',
  'owasp:api8:2023-no-scheme-http': 'Serve over https only.',
  'owasp:api8:2023-no-server-http': 'Switch the server URL to https.',
  'owasp:api8:2023-define-error-validation': 'Add a 400 (or 422) response describing validation errors.',
  'owasp:api8:2023-define-error-responses-401': 'Add a 401 Unauthorized response with a body.',
  'owasp:api8:2023-define-error-responses-500': 'Add a 500 response with a body.',
  'owasp:api9:2023-inventory-access': 'Declare the audience of the server with x-internal: true or false.',
  'owasp:api9:2023-inventory-environment': 'Name the environment (production, staging, development…) in the server description.',
  'oas2-operation-security-defined': 'Define the security scheme the operation names, or fix its name.',
  'oas3-operation-security-defined': 'Define the security scheme the operation names in components.securitySchemes, or fix its name.',
  [CustomRule.SensitiveFlow]: 'Document rate limiting (a 429 response, RateLimit headers or an x-ratelimit extension) or bot protection (captcha) for this flow.',
  [CustomRule.DeprecatedWithoutSunset]: 'Document the retirement date: a Sunset response header (RFC 8594) or x-sunset: YYYY-MM-DD on the operation.',
  [CustomRule.NoServers]: 'Declare the servers (url, description naming the environment) this API runs on.',
  [CustomRule.PlainHttpConsumption]: 'Switch the URL to https.',
  parser: 'Fix the YAML/JSON syntax at this position.',
  'invalid-ref': 'Point the $ref at an existing local file and path; remote (http) refs are not followed.',
  'circular-ref': 'Point one $ref of the cycle at a real definition (a schema with a type or properties), not at another $ref.',
  'unrecognized-format': 'This is not an OpenAPI 3.x or Swagger 2.0 document (no openapi: or swagger: field).',
};

function errorResponse(format: SpecFormat, description: string, extraHeaders: Json = {}): Json {
  const headers = Object.keys(extraHeaders).length > 0 ? { headers: extraHeaders } : {};
  // Swagger 2.0 bodies need a schema the document defines; we do not guess one.
  if (format === 'swagger-2.0') return { description, ...headers };
  return {
    description,
    ...headers,
    content: { 'application/problem+json': { schema: { type: 'object', additionalProperties: false, properties: { title: { type: 'string', maxLength: 256 } } } } },
  };
}

function header(format: SpecFormat, description: string): Json {
  return format === 'swagger-2.0' ? { type: 'integer', description } : { description, schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 86400 } };
}

function tooManyRequests(format: SpecFormat): Json {
  return errorResponse(format, 'Too Many Requests', { 'Retry-After': header(format, 'Seconds to wait before retrying.') });
}

/** setProperty when the object at `pointer` exists and lacks `key`. */
function setIfAbsent(data: unknown, pointer: string, key: string, value: unknown, title: string): FixDescriptor | undefined {
  const target = valueAt(data, pointer);
  if (!isObject(target) || Object.hasOwn(target, key)) return undefined;
  return { kind: 'setProperty', title, pointer, key, value };
}

function toHttps(data: unknown, pointer: string): FixDescriptor | undefined {
  const url = valueAt(data, pointer);
  if (typeof url !== 'string' || !/^http:\/\//i.test(url)) return undefined;
  return { kind: 'replaceValue', title: 'Switch to https', pointer, value: url.replace(/^http:/i, 'https:') };
}

function securitySchemeNames(data: unknown): string[] {
  if (!isObject(data)) return [];
  const components = isObject(data.components) ? data.components : {};
  const schemes = isObject(components.securitySchemes) ? components.securitySchemes : isObject(data.securityDefinitions) ? data.securityDefinitions : {};
  return Object.keys(schemes);
}

/** A response status the operation should add, for the rules that ask for one. */
const MISSING_RESPONSE: Record<string, [status: string, description: string]> = {
  'owasp:api8:2023-define-error-responses-401': ['401', 'Unauthorized'],
  'owasp:api8:2023-define-error-responses-500': ['500', 'Internal Server Error'],
  'owasp:api8:2023-define-error-validation': ['400', 'Bad Request'],
};

function descriptorFor(f: AuditFinding, data: unknown, format: SpecFormat): FixDescriptor | undefined {
  const p = f.pointer;
  switch (f.rule) {
    case 'owasp:api4:2023-array-limit':
      return setIfAbsent(data, p, 'maxItems', 100, 'Add maxItems: 100');
    case 'owasp:api4:2023-string-limit':
      return setIfAbsent(data, p, 'maxLength', 255, 'Add maxLength: 255');
    case 'owasp:api4:2023-integer-format':
      return setIfAbsent(data, p, 'format', 'int64', 'Add format: int64');
    case 'owasp:api3:2023-no-additionalProperties':
      return setIfAbsent(data, p, 'additionalProperties', false, 'Add additionalProperties: false');
    case 'owasp:api3:2023-no-unevaluatedProperties':
      return setIfAbsent(data, p, 'unevaluatedProperties', false, 'Add unevaluatedProperties: false');
    case 'owasp:api3:2023-constrained-additionalProperties':
    case 'owasp:api3:2023-constrained-unevaluatedProperties':
      return setIfAbsent(data, p, 'maxProperties', 50, 'Add maxProperties: 50');
    case 'owasp:api4:2023-rate-limit-responses-429': {
      const existing = valueAt(data, `${p}/429`);
      if (isObject(existing)) return format === 'swagger-2.0' ? undefined : setIfAbsent(data, `${p}/429`, 'content', errorResponse(format, '').content, 'Add a body to the 429 response');
      return setIfAbsent(data, p, '429', tooManyRequests(format), 'Add a 429 Too Many Requests response');
    }
    case CustomRule.SensitiveFlow:
      return setIfAbsent(data, `${p}/responses`, '429', tooManyRequests(format), 'Add a 429 Too Many Requests response');
    case 'owasp:api4:2023-rate-limit-retry-after':
      return isObject(valueAt(data, `${p}/headers`))
        ? setIfAbsent(data, `${p}/headers`, 'Retry-After', header(format, 'Seconds to wait before retrying.'), 'Add a Retry-After header')
        : setIfAbsent(data, p, 'headers', { 'Retry-After': header(format, 'Seconds to wait before retrying.') }, 'Add a Retry-After header');
    case 'owasp:api4:2023-rate-limit': {
      const rateLimit = header(format, 'Requests left in the current window (IETF RateLimit fields).');
      return isObject(valueAt(data, `${p}/headers`))
        ? setIfAbsent(data, `${p}/headers`, 'RateLimit', rateLimit, 'Add a RateLimit header')
        : setIfAbsent(data, p, 'headers', { RateLimit: rateLimit }, 'Add a RateLimit header');
    }
    case 'owasp:api8:2023-define-error-responses-401':
    case 'owasp:api8:2023-define-error-responses-500':
    case 'owasp:api8:2023-define-error-validation': {
      const [status, description] = MISSING_RESPONSE[f.rule]!;
      const existing = valueAt(data, `${p}/${status}`);
      if (isObject(existing)) return format === 'swagger-2.0' ? undefined : setIfAbsent(data, `${p}/${status}`, 'content', errorResponse(format, '').content, `Add a body to the ${status} response`);
      return setIfAbsent(data, p, status, errorResponse(format, description), `Add a ${status} ${description} response`);
    }
    case 'owasp:api8:2023-no-server-http':
    case CustomRule.PlainHttpConsumption:
      return toHttps(data, p);
    case 'owasp:api8:2023-no-scheme-http':
      return valueAt(data, p) === 'http' ? { kind: 'replaceValue', title: 'Use https', pointer: p, value: 'https' } : undefined;
    case 'owasp:api2:2023-write-restricted':
    case 'owasp:api2:2023-read-restricted': {
      const [scheme] = securitySchemeNames(data);
      return scheme === undefined ? undefined : setIfAbsent(data, p, 'security', [{ [scheme]: [] }], `Require the "${scheme}" security scheme`);
    }
    case 'owasp:api9:2023-inventory-access':
      return setIfAbsent(data, p, 'x-internal', false, 'Declare the server public (x-internal: false)');
    default:
      return undefined;
  }
}

/** Advice and, where the change is mechanical, a quick-fix descriptor against the finding's file. */
export function fixFor(finding: AuditFinding, fileData: unknown, format: SpecFormat): Fix {
  const text = FIX_TEXT[finding.rule] ?? 'See the rule description in the Spectral/OWASP documentation.';
  const descriptor = fileData === undefined ? undefined : descriptorFor(finding, fileData, format);
  return descriptor ? { text, descriptor } : { text };
}
