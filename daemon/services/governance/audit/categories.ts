import type { FindingCategory, OwaspCategory } from '../../../protocol';

/** Titles of the OWASP API Security Top 10 (2023). */
export const OWASP_TITLES: Record<OwaspCategory, string> = {
  API1: 'Broken Object Level Authorization',
  API2: 'Broken Authentication',
  API3: 'Broken Object Property Level Authorization',
  API4: 'Unrestricted Resource Consumption',
  API5: 'Broken Function Level Authorization',
  API6: 'Unrestricted Access to Sensitive Business Flows',
  API7: 'Server Side Request Forgery',
  API8: 'Security Misconfiguration',
  API9: 'Improper Inventory Management',
  API10: 'Unsafe Consumption of APIs',
};

export const OWASP_CATEGORIES = Object.keys(OWASP_TITLES) as OwaspCategory[];

/** Names of the rules we add (custom Spectral functions in customRules.ts). */
export const CustomRule = {
  SensitiveFlow: 'cogniforge:api6:2023-sensitive-flow-protection',
  DeprecatedWithoutSunset: 'cogniforge:api9:2023-deprecated-without-sunset',
  NoServers: 'cogniforge:api9:2023-servers-declared',
  PlainHttpConsumption: 'cogniforge:api10:2023-no-http-consumption',
} as const;

/**
 * Every rule the audit runs, by name, with its category. Keyed explicitly (not parsed from the name) so
 * a ruleset upgrade that adds a rule fails the mapping test instead of landing in no category.
 */
export const RULE_CATEGORIES: Readonly<Record<string, FindingCategory>> = {
  'owasp:api1:2023-no-numeric-ids': 'API1',
  'owasp:api2:2023-no-http-basic': 'API2',
  'owasp:api2:2023-no-api-keys-in-url': 'API2',
  'owasp:api2:2023-no-credentials-in-url': 'API2',
  'owasp:api2:2023-auth-insecure-schemes': 'API2',
  'owasp:api2:2023-jwt-best-practices': 'API2',
  'owasp:api2:2023-short-lived-access-tokens': 'API2',
  'owasp:api2:2023-write-restricted': 'API2',
  'owasp:api2:2023-read-restricted': 'API2',
  'owasp:api3:2023-no-additionalProperties': 'API3',
  'owasp:api3:2023-constrained-additionalProperties': 'API3',
  'owasp:api3:2023-no-unevaluatedProperties': 'API3',
  'owasp:api3:2023-constrained-unevaluatedProperties': 'API3',
  'owasp:api4:2023-rate-limit': 'API4',
  'owasp:api4:2023-rate-limit-retry-after': 'API4',
  'owasp:api4:2023-rate-limit-responses-429': 'API4',
  'owasp:api4:2023-array-limit': 'API4',
  'owasp:api4:2023-string-limit': 'API4',
  'owasp:api4:2023-string-restricted': 'API4',
  'owasp:api4:2023-integer-limit': 'API4',
  'owasp:api4:2023-integer-limit-legacy': 'API4',
  'owasp:api4:2023-integer-format': 'API4',
  'owasp:api5:2023-admin-security-unique': 'API5',
  'owasp:api7:2023-concerning-url-parameter': 'API7',
  'owasp:api8:2023-define-cors-origin': 'API8',
  'owasp:api8:2023-no-scheme-http': 'API8',
  'owasp:api8:2023-no-server-http': 'API8',
  'owasp:api8:2023-define-error-validation': 'API8',
  'owasp:api8:2023-define-error-responses-401': 'API8',
  'owasp:api8:2023-define-error-responses-500': 'API8',
  'owasp:api9:2023-inventory-access': 'API9',
  'owasp:api9:2023-inventory-environment': 'API9',
  // From the `oas` ruleset: a security requirement naming an undefined scheme leaves the operation unauthenticated.
  'oas2-operation-security-defined': 'API2',
  'oas3-operation-security-defined': 'API2',
  // From the `oas` ruleset: is this a valid document at all.
  'oas2-schema': 'structure',
  'oas3-schema': 'structure',
  'path-params': 'structure',
  'operation-operationId-unique': 'structure',
  'no-script-tags-in-markdown': 'structure',
  'no-eval-in-markdown': 'structure',
  [CustomRule.SensitiveFlow]: 'API6',
  [CustomRule.DeprecatedWithoutSunset]: 'API9',
  [CustomRule.NoServers]: 'API9',
  [CustomRule.PlainHttpConsumption]: 'API10',
};

/** Spectral's own codes for a document it could not read or resolve, and ours for a `$ref` cycle. */
const STRUCTURE_CODES = new Set(['parser', 'invalid-ref', 'unrecognized-format', 'invalid-ruleset', 'circular-ref']);

/** Category of a rule; `undefined` for a rule the table does not know (the audit reports it as `structure`, tests forbid it). */
export function categoryOfRule(rule: string): FindingCategory | undefined {
  if (STRUCTURE_CODES.has(rule)) return 'structure';
  return Object.hasOwn(RULE_CATEGORIES, rule) ? RULE_CATEGORIES[rule] : undefined;
}

/**
 * How much of a category a contract can show. None is fully judgeable from a contract: authorization
 * decisions, flow abuse, outbound calls and deployments live in code and infrastructure.
 */
export const CATEGORY_COVERAGE: Record<OwaspCategory, { coverage: 'partial' | 'none'; checks: string; cannotSee: string }> = {
  API1: { coverage: 'partial', checks: 'guessable (integer) ids in paths and parameters', cannotSee: 'whether the server checks that the caller owns the object' },
  API2: { coverage: 'partial', checks: 'HTTP Basic/Digest and other weak schemes, keys or credentials in URLs, JWT and token lifetime hints, unsecured reads/writes, undefined schemes', cannotSee: 'token validation, brute-force protection, credential storage' },
  API3: { coverage: 'partial', checks: 'open objects (additionalProperties / unevaluatedProperties)', cannotSee: 'which properties a given caller may read or write' },
  API4: { coverage: 'partial', checks: 'limits on arrays, strings and integers; 429 responses and rate-limit headers', cannotSee: 'the limits actually enforced, timeouts, payload and upload sizes at run time' },
  API5: { coverage: 'partial', checks: 'admin endpoints sharing the security scheme of ordinary ones', cannotSee: 'role checks in handlers' },
  API6: { coverage: 'partial', checks: 'sensitive flows (purchase, checkout, signup, password reset, OTP, transfer…) recognised by name without documented rate limiting or bot protection', cannotSee: 'flows not named that way, device fingerprinting, business-level abuse limits' },
  API7: { coverage: 'partial', checks: 'parameters that take URLs (callback, redirect, webhook…)', cannotSee: 'how the server fetches them — use governance/checkUrl at run time' },
  API8: { coverage: 'partial', checks: 'plain-http servers and schemes, CORS headers, error responses (400/422, 401, 500)', cannotSee: 'TLS set-up, headers and verbose errors of the running service' },
  API9: { coverage: 'partial', checks: 'servers declared with audience and environment, deprecated operations without a sunset date', cannotSee: 'undocumented or forgotten hosts and versions still running' },
  API10: { coverage: 'partial', checks: 'callbacks, links, per-path servers and OAuth/OpenID URLs consumed over plain http', cannotSee: 'how responses of third-party APIs are validated in code' },
};
