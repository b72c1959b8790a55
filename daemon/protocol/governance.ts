import * as z from 'zod';
import { IsoTime, Ok } from './common';
import { defineNotification, defineRequest } from './define';

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
  /** Present when asked for a version. */
  version: VersionName.optional(),
  status: VersionStatus.optional(),
  /** Header name → value: `Deprecation` (RFC 9745), `Sunset` (RFC 8594), `Link`. Empty for an active version. */
  headers: z.record(z.string(), z.string()),
  /** HTTP status a gateway should answer with instead of serving: 410 once retired. */
  recommendedStatus: z.number().int().optional(),
  /** The deprecation policy that covers `path` (its headers are merged in: its dates win, links add up). */
  policy: z.lazy(() => DeprecationPolicy).optional(),
});

export const HeadersFor = defineRequest(
  'governance/headersFor',
  z
    .object({
      version: VersionName.optional(),
      /** A path template or request path, matched against the deprecation policies' patterns. */
      path: z.string().min(1).max(2048).optional(),
      /** With `path`: the request method (policies may cover only some). */
      method: z.lazy(() => HttpMethodName).optional(),
    })
    .refine((p) => p.version !== undefined || p.path !== undefined, { message: 'give version, path or both', path: ['version'] }),
  HeadersForResult,
  {
    kind: 'query',
    doc: 'Response headers for a version in its lifecycle state and/or a path under a deprecation policy (Deprecation, Sunset, Link), for a gateway to apply.',
  },
);

// ---------------------------------------------------------------------------------------------
// OWASP API Security Top 10 (2023) contract audit

/** The ten OWASP API Security Top 10 (2023) categories. */
export const OwaspCategory = z.enum(['API1', 'API2', 'API3', 'API4', 'API5', 'API6', 'API7', 'API8', 'API9', 'API10']);
export type OwaspCategory = z.infer<typeof OwaspCategory>;

/** An OWASP category, or `structure`: the document is not valid OpenAPI (parse errors, schema violations, bad `$ref`s). */
export const FindingCategory = z.enum([...OwaspCategory.options, 'structure']);
export type FindingCategory = z.infer<typeof FindingCategory>;

export const FindingSeverity = z.enum(['error', 'warn', 'info', 'hint']);
export type FindingSeverity = z.infer<typeof FindingSeverity>;

/** A position in a file, 0-based line and 0-based character (UTF-16 code unit), as LSP and VS Code count. */
export const SourcePosition = z.object({ line: z.number().int().min(0), character: z.number().int().min(0) });

export const SourceRange = z.object({ start: SourcePosition, end: SourcePosition });
export type SourceRange = z.infer<typeof SourceRange>;

/** RFC 6901 JSON pointer inside the finding's file (`""` is the whole document). */
export const JsonPointer = z.string().max(4096);

/**
 * A mechanical fix an editor can apply as a quick fix. `pointer` is inside the finding's `file`.
 * `setProperty`: add `key` with `value` to the object at `pointer` (only when the key is absent) ·
 * `replaceValue`: replace the value at `pointer` with `value`.
 */
export const FixDescriptor = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('setProperty'), title: z.string(), pointer: JsonPointer, key: z.string(), value: z.unknown() }),
  z.object({ kind: z.literal('replaceValue'), title: z.string(), pointer: JsonPointer, value: z.unknown() }),
]);
export type FixDescriptor = z.infer<typeof FixDescriptor>;

export const AuditFinding = z.object({
  /** Spectral rule name, e.g. `owasp:api4:2023-array-limit` or `cogniforge:api6:2023-sensitive-flow-protection`. */
  rule: z.string(),
  category: FindingCategory,
  severity: FindingSeverity,
  message: z.string(),
  /** Absolute path of the file the finding is in (a `$ref`'d file for findings inside it). */
  file: z.string(),
  range: SourceRange,
  /** Where in `file` (RFC 6901). */
  pointer: JsonPointer,
  /** What to change, in words. */
  suggestedFix: z.string(),
  /** Present when the fix is mechanical. */
  fix: FixDescriptor.optional(),
});
export type AuditFinding = z.infer<typeof AuditFinding>;

export const SeverityCounts = z.object({
  error: z.number().int().min(0),
  warn: z.number().int().min(0),
  info: z.number().int().min(0),
  hint: z.number().int().min(0),
});
export type SeverityCounts = z.infer<typeof SeverityCounts>;

export const CategoryResult = z.object({
  category: OwaspCategory,
  title: z.string(),
  /** `fail` when the category has an error or warn finding; info and hint findings do not fail it. */
  status: z.enum(['pass', 'fail']),
  /** How much of the category a contract can show at all (README: OWASP coverage). */
  coverage: z.enum(['partial', 'none']),
  findings: SeverityCounts,
});
export type CategoryResult = z.infer<typeof CategoryResult>;

export const SpecFormat = z.enum(['openapi-3.0', 'openapi-3.1', 'swagger-2.0', 'unknown']);
export type SpecFormat = z.infer<typeof SpecFormat>;

export const DocumentReport = z.object({
  /** Absolute path of the root document audited. */
  file: z.string(),
  format: SpecFormat,
  /** 0..100, see `scoreFormula`; 100 only when the document has no finding at all. */
  score: z.number().min(0).max(100),
  categories: z.array(CategoryResult),
  bySeverity: SeverityCounts,
  findingCount: z.number().int().min(0),
  /** Findings of category `structure` (invalid YAML/JSON, not OpenAPI, bad `$ref`s). */
  structureFindings: z.number().int().min(0),
});
export type DocumentReport = z.infer<typeof DocumentReport>;

export const ComplianceReport = z.object({
  auditId: z.string(),
  /** ISO-8601. */
  auditedAt: IsoTime,
  /** Workspace folder searched, when the audit was asked for by `root`. */
  root: z.string().optional(),
  /** Mean of the document scores, 0..100; 100 only when no document has a finding. */
  score: z.number().min(0).max(100),
  scoreFormula: z.string(),
  documents: z.array(DocumentReport),
  /** Files under `root` that matched the glob but were not audited (too big, unreadable). */
  skipped: z.array(z.object({ file: z.string(), reason: z.string() })),
  /** Per category over all documents: `fail` when any document fails it. */
  categories: z.array(CategoryResult),
  bySeverity: SeverityCounts,
  findingCount: z.number().int().min(0),
  /** The findings, most severe first, at most `findingsCap` of them. */
  findings: z.array(AuditFinding),
  findingsCap: z.number().int(),
  /** True when `findingCount` exceeds `findingsCap` and the list was cut. */
  findingsTruncated: z.boolean(),
  /**
   * What this run audited afresh: the documents that changed since the daemon last audited them, or
   * that `$ref` (transitively) a file that changed. The other documents' findings were reused.
   */
  incremental: z.object({ audited: z.array(z.string()), reused: z.number().int().min(0) }).optional(),
});
export type ComplianceReport = z.infer<typeof ComplianceReport>;

const AbsolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'must be an absolute path');

export const AuditParams = z
  .object({
    /** Spec files to audit (absolute paths, each a regular file of at most 5 MiB). */
    paths: z.array(AbsolutePath).min(1).max(200).optional(),
    /** A workspace folder to search for OpenAPI/Swagger documents (absolute). */
    root: AbsolutePath.optional(),
    /** With `root`: a glob relative to it (`**`, `*`, `?`, `{a,b}`); default `**\/*.{yaml,yml,json}`. node_modules, .git and dot folders are skipped. */
    glob: z.string().min(1).max(512).optional(),
  })
  .superRefine((p, ctx) => {
    if ((p.paths === undefined) === (p.root === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['paths'], message: 'give either paths (files) or root (a folder), not both or neither' });
    }
    if (p.glob !== undefined && p.root === undefined) ctx.addIssue({ code: 'custom', path: ['glob'], message: 'glob needs root' });
  });

export const AuditContracts = defineRequest('governance/audit', AuditParams, ComplianceReport, {
  kind: 'command',
  doc: 'Audit OpenAPI 3.0/3.1 and Swagger 2.0 files (or every spec under a folder) against the OWASP API Security Top 10 (2023); records the summary as governance.auditCompleted.',
});

export const AuditHistoryEntry = z.object({
  auditId: z.string(),
  /** ISO-8601. */
  auditedAt: IsoTime,
  score: z.number(),
  findingCount: z.number().int(),
  bySeverity: SeverityCounts,
  documents: z.array(z.object({ file: z.string(), score: z.number() })),
});

export const AuditHistory = defineRequest(
  'governance/auditHistory',
  z.object({
    /** Only audits that included this file (absolute path). */
    file: z.string().min(1).max(4096).optional(),
    limit: z.number().int().min(1).max(1000).default(100),
  }),
  z.object({ entries: z.array(AuditHistoryEntry) }),
  { kind: 'query', doc: 'Compliance scores of past audits, newest first, from the event log.' },
);

export const OwaspCompliance = z.object({
  status: z.enum(['audited', 'notAudited']),
  /** The latest audit (findings capped as stored in the event), null before the first audit. */
  report: ComplianceReport.nullable(),
});

export const GetOwaspCompliance = defineRequest('governance/owaspCompliance', z.object({}), OwaspCompliance, {
  kind: 'query',
  doc: 'The latest OWASP API Top 10 compliance report (GET /api/governance/owasp-compliance).',
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
  owasp: z.discriminatedUnion('status', [
    z.object({
      /** No audit has run yet; no score is made up meanwhile. */
      status: z.literal('notAudited'),
      score: z.null(),
      message: z.string(),
    }),
    z.object({
      status: z.literal('audited'),
      /** Score of the latest audit, 0..100. */
      score: z.number(),
      auditId: z.string(),
      /** ISO-8601. */
      auditedAt: IsoTime,
      documents: z.number().int(),
      findingCount: z.number().int(),
      failingCategories: z.array(OwaspCategory),
      message: z.string(),
    }),
  ]),
});

export const GetGovernanceDashboard = defineRequest('governance/dashboard', z.object({}), GovernanceDashboard, {
  kind: 'query',
  doc: 'Versions, rate-limit policies, counts and the latest OWASP audit score (`notAudited` before the first audit).',
});

// ---------------------------------------------------------------------------------------------
// Breaking-change comparison between two versions of a contract (compare/ in the governance service)

/** `breaking`: existing clients fail · `warning`: they may · `info`: they will not. */
export const ChangeSeverity = z.enum(['breaking', 'warning', 'info']);
export type ChangeSeverity = z.infer<typeof ChangeSeverity>;

export const ChangeLocation = z.object({
  /** Absolute path (or display name of inline content, or `<rev>:<path>`) of the file the node is in. */
  file: z.string(),
  /** RFC 6901 pointer inside `file`. */
  pointer: JsonPointer,
  /** Where `pointer` is in `file` (0-based, like LSP). */
  range: SourceRange.optional(),
});
export type ChangeLocation = z.infer<typeof ChangeLocation>;

export const ClientUsage = z.object({
  client: z.string(),
  /** Requests of this client to the operation in the impact window. */
  requests: z.number().int().min(0),
  /** ISO-8601. */
  lastSeen: IsoTime,
});
export type ClientUsage = z.infer<typeof ClientUsage>;

export const ContractChange = z.object({
  /** Rule id, e.g. `operation-removed` (README: breaking-change rules). */
  rule: z.string(),
  severity: ChangeSeverity,
  message: z.string(),
  /** The operation's path template, when the change is about an operation. */
  path: z.string().optional(),
  /** The operation's method, lower-case. */
  method: z.string().optional(),
  /** In the head (new) documents; for a removal, the closest node that still exists. */
  location: ChangeLocation.optional(),
  /** In the base (old) documents. */
  baseLocation: ChangeLocation.optional(),
  /** Why a removal is allowed (`deprecated-operation-removed`): `x-sunset`, `policy:<id>` or `version:<name>`. */
  allowedBy: z.string().optional(),
  /** Breaking changes only: callers of the operation in the impact window, most requests first. */
  clients: z.array(ClientUsage).optional(),
});
export type ContractChange = z.infer<typeof ContractChange>;

/** Git revision names as `git rev-parse` takes them; never starting with `-` (it would read as an option). */
export const GitRevision = z
  .string()
  .min(1)
  .max(256)
  .regex(/^(?!-)[A-Za-z0-9._/@{}~^+-]+$/, 'a branch, tag or commit like "v1.2.0", "main" or "HEAD~1"');

/** Largest inline document, characters (the file limit of the audit). */
export const MAX_INLINE_SPEC_CHARS = 5 * 1024 * 1024;

/**
 * One side of a comparison: a file (`path`), a file at a git revision (`path` + `revision`; on `base`
 * `revision` alone means head's path), or inline text (`content` with a display `name`).
 */
export const CompareDocument = z.object({
  path: AbsolutePath.optional(),
  revision: GitRevision.optional(),
  content: z.string().max(MAX_INLINE_SPEC_CHARS).optional(),
  /** Display name of inline content; its extension (.json/.yaml) picks the parser. */
  name: z.string().min(1).max(512).optional(),
});
export type CompareDocument = z.infer<typeof CompareDocument>;

export const CompareParams = z
  .object({
    /** The old contract. */
    base: CompareDocument,
    /** The new contract. */
    head: CompareDocument,
    /** Client impact looks at requests this many days back. */
    impactDays: z.number().int().min(1).max(365).default(30),
  })
  .superRefine((p, ctx) => {
    for (const side of ['base', 'head'] as const) {
      const d = p[side];
      const given = [d.path !== undefined, d.content !== undefined].filter(Boolean).length;
      if (given > 1) ctx.addIssue({ code: 'custom', path: [side], message: 'give path or content, not both' });
      if (d.content !== undefined && d.name === undefined) ctx.addIssue({ code: 'custom', path: [side, 'name'], message: 'inline content needs a display name' });
      if (d.content !== undefined && d.revision !== undefined) ctx.addIssue({ code: 'custom', path: [side, 'revision'], message: 'a revision goes with a path, not inline content' });
      if (given === 0 && !(side === 'base' && d.revision !== undefined && p.head.path !== undefined)) {
        ctx.addIssue({ code: 'custom', path: [side], message: side === 'base' ? 'give path, content, or revision (with a head path)' : 'give path or content' });
      }
    }
  });

export const CompareSide = z.object({
  /** What the user sees: the file, `<rev>:<file>`, or the inline name. */
  name: z.string(),
  format: SpecFormat,
  file: z.string().optional(),
  revision: z.string().optional(),
  /** The commit the revision resolved to. */
  commit: z.string().optional(),
});

export const ChangeSummary = z.object({
  breaking: z.number().int().min(0),
  warning: z.number().int().min(0),
  info: z.number().int().min(0),
});

export const ComparisonReport = z.object({
  reportId: z.string(),
  /** ISO-8601. */
  comparedAt: IsoTime,
  /** The key reports are kept under: head's file path, or its inline name. */
  document: z.string(),
  base: CompareSide,
  head: CompareSide,
  /** True when any change is breaking. */
  breaking: z.boolean(),
  summary: ChangeSummary,
  /** Breaking first, then warnings, then info; at most `changesCap`. */
  changes: z.array(ContractChange),
  changeCount: z.number().int().min(0),
  changesCap: z.number().int(),
  changesTruncated: z.boolean(),
  impact: z.object({
    /** Days of requests looked at. */
    sinceDays: z.number().int(),
    /** Every client that called an operation a breaking change touches. */
    clients: z.array(z.object({ client: z.string(), requests: z.number().int().min(0), operations: z.number().int().min(0) })),
  }),
});
export type ComparisonReport = z.infer<typeof ComparisonReport>;

export const CompareContracts = defineRequest('governance/compare', CompareParams, ComparisonReport, {
  kind: 'command',
  doc: 'Breaking-change detection between two versions of an OpenAPI/Swagger contract (files, inline content, or a file against a git revision); records governance.compareCompleted and, when breaking, notifies.',
});

export const CompareReports = defineRequest(
  'governance/compareReports',
  z.object({
    /** Only the report of this document (head file path or inline name). */
    document: z.string().min(1).max(4096).optional(),
    limit: z.number().int().min(1).max(200).default(50),
  }),
  z.object({ reports: z.array(ComparisonReport) }),
  { kind: 'query', doc: 'The latest comparison report per document, newest first.' },
);

export const DidDetectBreakingChange = defineNotification(
  'governance/didDetectBreakingChange',
  z.object({
    reportId: z.string(),
    document: z.string(),
    base: z.string(),
    head: z.string(),
    breakingCount: z.number().int().min(1),
    /** The breaking changes, at most 50. */
    changes: z.array(ContractChange),
    /** Clients that called affected operations in the impact window. */
    affectedClients: z.array(z.string()),
  }),
  'A comparison found breaking changes (also logged as governance.breakingChangeDetected and sent to the configured channels).',
);

/** Where breaking-change notices go; hosts must be in COGNIFORGE_OUTBOUND_HOSTS. */
export const BreakingChangeChannel = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('webhook'), url: HttpsOrHttpUrl }),
  z.object({ kind: z.literal('slack'), webhookUrl: HttpsOrHttpUrl }),
]);
export type BreakingChangeChannel = z.infer<typeof BreakingChangeChannel>;

export const NotificationChannelsResult = z.object({ channels: z.array(BreakingChangeChannel) });

export const SetNotificationChannels = defineRequest(
  'governance/setNotificationChannels',
  z.object({ channels: z.array(BreakingChangeChannel).max(10) }),
  NotificationChannelsResult,
  { kind: 'command', doc: 'Replace the webhook/Slack channels breaking-change notices are sent to (an empty list stops sending).' },
);

export const GetNotificationChannels = defineRequest('governance/notificationChannels', z.object({}), NotificationChannelsResult, {
  kind: 'query',
  doc: 'The channels breaking-change notices are sent to.',
});

// ---------------------------------------------------------------------------------------------
// Deprecation policies per endpoint pattern

export const DeprecationPolicyId = PolicyId;

export const HttpMethodName = z.enum(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

export const DeprecationPolicyFields = z.object({
  /** Glob over path templates or request paths (`*` any run of characters), e.g. `/v1/orders*`. */
  pattern: z.string().min(1).max(512).startsWith('/', 'patterns start with "/"'),
  /** Methods it covers; all when absent. */
  methods: z.array(HttpMethodName).min(1).max(8).optional(),
  /** What to use instead, e.g. `/v2/orders` or `v2`. */
  replacement: z.string().min(1).max(512).optional(),
  /** Steps clients follow to migrate, in order. */
  migrationSteps: z.array(z.string().min(1).max(2000)).max(50).default([]),
  /** ISO-8601 (default: when the policy is created). */
  deprecatedAt: IsoTime.optional(),
  /** When the endpoints stop answering, ISO-8601; once passed, removing them is not a breaking change. */
  sunsetAt: IsoTime.optional(),
  /** Migration guide (`Link rel="deprecation"`). */
  link: HttpsOrHttpUrl.optional(),
});

export const DeprecationPolicy = DeprecationPolicyFields.extend({
  id: DeprecationPolicyId,
  deprecatedAt: IsoTime,
  /** ISO-8601. */
  createdAt: IsoTime,
  /** ISO-8601. */
  updatedAt: IsoTime,
});
export type DeprecationPolicy = z.infer<typeof DeprecationPolicy>;

export const ListDeprecationPolicies = defineRequest(
  'governance/deprecationPolicies',
  z.object({ path: z.string().min(1).max(2048).optional() }),
  z.object({ policies: z.array(DeprecationPolicy) }),
  { kind: 'query', doc: 'Deprecation policies per endpoint pattern (only those matching `path` when given).' },
);

export const CreateDeprecationPolicy = defineRequest(
  'governance/createDeprecationPolicy',
  DeprecationPolicyFields.extend({ id: DeprecationPolicyId.optional() }),
  DeprecationPolicy,
  { kind: 'command', doc: 'Deprecate the endpoints matching a pattern, with replacement, migration steps and sunset date.' },
);

export const UpdateDeprecationPolicy = defineRequest(
  'governance/updateDeprecationPolicy',
  DeprecationPolicyFields.partial().extend({ id: DeprecationPolicyId }),
  DeprecationPolicy,
  { kind: 'command', doc: 'Change fields of a deprecation policy.' },
);

export const DeleteDeprecationPolicy = defineRequest('governance/deleteDeprecationPolicy', z.object({ id: DeprecationPolicyId }), Ok, {
  kind: 'command',
  doc: 'Delete a deprecation policy.',
});
