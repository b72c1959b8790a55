import { z } from 'zod';
import { IsoTime, Ok } from './common';
import { defineRequest } from './define';

/**
 * API governance, runtime half: the SSRF URL check, the password strength check, rate-limit policies
 * with token-bucket answers, and API version lifecycle with the headers a gateway should send.
 */

// ---------------------------------------------------------------------------------------------
// SSRF URL check

export const CheckUrlResult = z.object({
  allowed: z.boolean(),
  /** Why the URL was refused (absent when allowed). */
  reason: z.string().optional(),
  /** The host as the WHATWG URL parser normalised it (`0x7f.1` becomes `127.0.0.1`). */
  host: z.string().optional(),
  /** Every address the host resolved to (an IP literal resolves to itself). */
  addresses: z.array(z.string()),
});
export type CheckUrlResult = z.infer<typeof CheckUrlResult>;

export const CheckUrl = defineRequest(
  'governance/checkUrl',
  z.object({ url: z.string().min(1).max(8192) }),
  CheckUrlResult,
  {
    kind: 'query',
    doc: 'SSRF check: parse the URL, resolve its host, refuse loopback, private, link-local, metadata and other internal addresses in every notation.',
  },
);

// ---------------------------------------------------------------------------------------------
// Password strength

export const PasswordReason = z.object({
  /** `tooShort`, `common`, `fewClasses`, `repeated`, `sequence`, `containsUserInput`, `tooLong`. */
  code: z.string(),
  message: z.string(),
});

export const CheckPasswordResult = z.object({
  /** 0 (trivially guessable) .. 4 (strong). */
  score: z.number().int().min(0).max(4),
  /** Score 3 or more and no blocking reason. */
  acceptable: z.boolean(),
  reasons: z.array(PasswordReason),
});
export type CheckPasswordResult = z.infer<typeof CheckPasswordResult>;

export const CheckPassword = defineRequest(
  'governance/checkPassword',
  z.object({
    /** Never logged, stored or echoed. */
    password: z.string().max(1024),
    /** Words the password must not contain (user name, e-mail, product name). */
    userInputs: z.array(z.string().max(256)).max(20).default([]),
  }),
  CheckPasswordResult,
  { kind: 'query', doc: 'Password/credential strength: length, character classes, common passwords, repeats and sequences. Score 0..4.' },
);

// ---------------------------------------------------------------------------------------------
// Rate-limit policies

/** `anonymous`, `authenticated`, `premium` or any other client type a gateway names. */
export const ClientType = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_-]*$/, 'client types look like "anonymous" or "premium"');

/** `hard`: deny past the limit · `soft`: allow but flag `exceeded`. */
export const Enforcement = z.enum(['hard', 'soft']);
export type Enforcement = z.infer<typeof Enforcement>;

export const PolicyId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'policy ids use letters, digits, "_", "." and "-"');

const Limit = z.number().int().positive().max(1_000_000_000);

export const RateLimitPolicyFields = z.object({
  name: z.string().min(1).max(200),
  clientType: ClientType,
  /** Glob over the endpoint a gateway names (`*` any run of characters), e.g. `*` or `/api/orders/*`. */
  endpointPattern: z.string().min(1).max(512),
  /** Requests per minute (sustained rate of the minute bucket). */
  perMinute: Limit,
  /** Requests per hour. */
  perHour: Limit,
  /** Requests per day. */
  perDay: Limit,
  /** Requests a client may make at once before the per-minute rate applies (capacity of the minute bucket). */
  burst: Limit,
  enforcement: Enforcement,
});

export const RateLimitPolicy = RateLimitPolicyFields.extend({
  id: PolicyId,
  /** ISO-8601. */
  createdAt: IsoTime,
  /** ISO-8601. */
  updatedAt: IsoTime,
});
export type RateLimitPolicy = z.infer<typeof RateLimitPolicy>;

export const ListRateLimitPolicies = defineRequest(
  'governance/policies',
  z.object({ clientType: ClientType.optional() }),
  z.object({ policies: z.array(RateLimitPolicy) }),
  { kind: 'query', doc: 'Rate-limit policies (per client type and endpoint pattern).' },
);

export const CreateRateLimitPolicy = defineRequest(
  'governance/createPolicy',
  RateLimitPolicyFields.extend({ id: PolicyId.optional() }),
  RateLimitPolicy,
  { kind: 'command', doc: 'Create a rate-limit policy. Duplicate when the id, or the client type and endpoint pattern, is taken.' },
);

export const UpdateRateLimitPolicy = defineRequest(
  'governance/updatePolicy',
  RateLimitPolicyFields.partial().extend({ id: PolicyId }),
  RateLimitPolicy,
  { kind: 'command', doc: "Change fields of a rate-limit policy; its clients' token buckets start afresh." },
);

export const DeleteRateLimitPolicy = defineRequest('governance/deletePolicy', z.object({ id: PolicyId }), Ok, {
  kind: 'command',
  doc: 'Delete a rate-limit policy.',
});

export const RateLimitWindow = z.enum(['minute', 'hour', 'day']);
export type RateLimitWindow = z.infer<typeof RateLimitWindow>;

export const RateLimitWindowState = z.object({
  window: RateLimitWindow,
  /** Bucket capacity: the burst for `minute`, the limit for `hour` and `day`. */
  limit: z.number().int(),
  /** Whole requests left in this window's bucket after this call. */
  remaining: z.number().int().min(0),
  /** When the bucket is full again (ISO-8601). */
  resetAt: IsoTime,
  /** Seconds until the bucket is full again. */
  resetSeconds: z.number().int().min(0),
});

export const CheckRateLimitResult = z.object({
  /** False only under hard enforcement. */
  allowed: z.boolean(),
  /** A limit was passed (with soft enforcement the call is still allowed). */
  exceeded: z.boolean(),
  /** `none` when no policy matches the client type and endpoint. */
  enforcement: z.enum(['hard', 'soft', 'none']),
  policyId: z.string().nullable(),
  windows: z.array(RateLimitWindowState),
  /** Seconds until a denied or exceeded call would pass (absent otherwise). */
  retryAfterSeconds: z.number().int().min(0).optional(),
  /** Header values to send: `RateLimit-Policy`, `RateLimit` (IETF httpapi draft), `Retry-After` when denied. */
  headers: z.record(z.string(), z.string()),
});
export type CheckRateLimitResult = z.infer<typeof CheckRateLimitResult>;

export const CheckRateLimit = defineRequest(
  'governance/checkRateLimit',
  z.object({
    clientId: z.string().min(1).max(256),
    clientType: ClientType,
    endpoint: z.string().min(1).max(2048),
  }),
  CheckRateLimitResult,
  {
    // It takes a token from in-memory buckets, not the event log: it is the hot path of a gateway.
    kind: 'query',
    doc: 'Count one request of a client against its policy (in-memory token buckets per minute/hour/day); answers allow/deny, remaining quota, reset times and header values.',
  },
);

// ---------------------------------------------------------------------------------------------
// API versions

export const VersionStatus = z.enum(['active', 'deprecated', 'sunset', 'retired']);
export type VersionStatus = z.infer<typeof VersionStatus>;

export const VersionName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'versions look like "v1" or "2024-05-01"');

const HttpsOrHttpUrl = z.url({ protocol: /^https?$/ }).max(2048);

export const ApiVersion = z.object({
  version: VersionName,
  status: VersionStatus,
  /** ISO-8601. */
  releasedAt: IsoTime.optional(),
  /** When it was (or is) deprecated, ISO-8601. */
  deprecatedAt: IsoTime.optional(),
  /** When it stops (or stopped) answering, ISO-8601. */
  sunsetAt: IsoTime.optional(),
  /** End of support, ISO-8601. */
  supportedUntil: IsoTime.optional(),
  /** When it was retired, ISO-8601. */
  retiredAt: IsoTime.optional(),
  /** The version clients should move to. */
  replacement: VersionName.optional(),
  /** Human-readable deprecation notice (`Link rel="deprecation"`). */
  deprecationLink: HttpsOrHttpUrl.optional(),
  /** Sunset policy page (`Link rel="sunset"`). */
  sunsetLink: HttpsOrHttpUrl.optional(),
});
export type ApiVersion = z.infer<typeof ApiVersion>;

export const ListVersions = defineRequest(
  'governance/versions',
  z.object({ status: VersionStatus.optional() }),
  z.object({ versions: z.array(ApiVersion) }),
  { kind: 'query', doc: 'API versions with their lifecycle state and dates.' },
);

export const CreateVersion = defineRequest(
  'governance/createVersion',
  z.object({
    version: VersionName,
    releasedAt: IsoTime.optional(),
    supportedUntil: IsoTime.optional(),
    deprecationLink: HttpsOrHttpUrl.optional(),
    sunsetLink: HttpsOrHttpUrl.optional(),
  }),
  ApiVersion,
  { kind: 'command', doc: 'Register an active API version.' },
);

export const TransitionVersion = defineRequest(
  'governance/transitionVersion',
  z.object({
    version: VersionName,
    /** active → deprecated → sunset → retired, one step at a time. */
    to: VersionStatus,
    /** When the new state takes effect, ISO-8601 (default now). */
    at: IsoTime.optional(),
    /** With `deprecated`: the planned sunset date, after `at`. */
    sunsetAt: IsoTime.optional(),
    supportedUntil: IsoTime.optional(),
    replacement: VersionName.optional(),
    deprecationLink: HttpsOrHttpUrl.optional(),
    sunsetLink: HttpsOrHttpUrl.optional(),
  }),
  ApiVersion,
  { kind: 'command', doc: 'Move a version one lifecycle step (InvalidTransition lists the allowed ones).' },
);

export const HeadersForResult = z.object({
  version: VersionName,
  status: VersionStatus,
  /** Header name → value: `Deprecation` (RFC 9745), `Sunset` (RFC 8594), `Link`. Empty for an active version. */
  headers: z.record(z.string(), z.string()),
  /** HTTP status a gateway should answer with instead of serving: 410 once retired. */
  recommendedStatus: z.number().int().optional(),
});

export const HeadersFor = defineRequest('governance/headersFor', z.object({ version: VersionName }), HeadersForResult, {
  kind: 'query',
  doc: 'Response headers for a version in its lifecycle state (Deprecation, Sunset, Link), for a gateway to apply.',
});

// ---------------------------------------------------------------------------------------------
// Dashboard

export const GovernanceDashboard = z.object({
  versions: z.array(ApiVersion),
  policies: z.array(RateLimitPolicy),
  counts: z.object({
    versions: z.record(VersionStatus, z.number().int()),
    policies: z.number().int(),
    /** Rate-limit checks since the daemon started. */
    rateLimitChecks: z.number().int(),
    rateLimitDenied: z.number().int(),
    rateLimitExceededSoft: z.number().int(),
  }),
  owasp: z.object({
    /** `notAudited` until the OWASP API Top 10 audit exists; no score is made up meanwhile. */
    status: z.literal('notAudited'),
    score: z.null(),
    message: z.string(),
  }),
});

export const GetGovernanceDashboard = defineRequest('governance/dashboard', z.object({}), GovernanceDashboard, {
  kind: 'query',
  doc: 'Versions, rate-limit policies and counts (the OWASP part stays empty until the audit runs).',
});
