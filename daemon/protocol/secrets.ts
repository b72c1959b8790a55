import * as z from 'zod';
import { IsoTime, Ok } from './common';
import { defineRequest } from './define';

/** The seed's seven secret types. */
export const SecretType = z.enum([
  'api_key',
  'database_password',
  'jwt_secret',
  'encryption_key',
  'oauth_client_secret',
  'webhook_secret',
  'certificate',
]);
export type SecretType = z.infer<typeof SecretType>;

/** Where the value lives: the local encrypted vault, HashiCorp Vault (KV v2) or AWS Secrets Manager. */
export const SecretBackend = z.enum(['local', 'hashicorp', 'aws']);
export type SecretBackendName = z.infer<typeof SecretBackend>;

export const SecretRotationPolicyName = z.enum(['never', 'daily', 'weekly', 'monthly', 'quarterly', 'custom']);

export const SecretRotationPolicy = z
  .object({
    policy: SecretRotationPolicyName.default('never'),
    /** Days between rotations; required for (and only for) `custom`. */
    customDays: z.number().int().min(1).max(3650).optional(),
    /**
     * Hours the replaced version stays `previous` (readable by services still holding it) after a
     * rotation before it becomes `deprecated`; default the daemon's `SECRETS_ROTATION_GRACE_HOURS` (24).
     */
    graceHours: z.number().min(0).max(8760).optional(),
  })
  .refine((p) => (p.policy === 'custom') === (p.customDays !== undefined), {
    message: 'customDays is required with policy "custom" and not allowed otherwise',
    path: ['customDays'],
  });
export type SecretRotationPolicy = z.infer<typeof SecretRotationPolicy>;

export const SecretName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z][\w.-]*$/, 'secret names start with a letter and use letters, digits, "_", "." and "-"');

export const SecretEnvironmentName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_-]*$/, 'environment names are lower case letters, digits, "_" and "-"');

export const SecretId = z.string().regex(/^sec_[0-9a-f]{16}$/, 'secret ids look like sec_0123456789abcdef');

/** A secret value: never logged, never in an event. At most 64 KiB. */
export const SecretValue = z.string().min(1).max(65_536);

export const SecretVersionState = z.enum(['current', 'previous', 'deprecated']);

export const SecretVersion = z.object({
  /** 1-based. */
  version: z.number().int().positive(),
  createdAt: IsoTime,
  /** Token name that wrote the version. */
  createdBy: z.string(),
  state: SecretVersionState,
  /** For a rollback: the version whose value this one copies. */
  rolledBackFrom: z.number().int().positive().optional(),
  /** The backend's own reference of this version (Vault KV version, AWS VersionId); a reference, never a value. */
  backendRef: z.string().optional(),
  /** For a `previous` version: when its grace period ends and it becomes `deprecated` (ISO-8601). */
  graceUntil: IsoTime.optional(),
  /** Soft-deleted: unreadable until undeleted (Vault KV delete; local: kept encrypted, refused). */
  deleted: z.boolean().optional(),
  /** Destroyed: the value is gone for good from the backend. */
  destroyed: z.boolean().optional(),
});

/** Run after every rotation so the new value reaches the service that uses it. */
export const SecretRotationHook = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('command'),
      /** Executable (absolute path or a name on PATH), run without a shell. */
      command: z.string().min(1).max(1024),
      args: z.array(z.string().max(4096)).max(64).default([]),
      /** Working directory; the daemon's when absent. */
      cwd: z.string().max(1024).optional(),
      /** Write the new value to the command's stdin (it never goes into argv, env or a log). Default false. */
      valueOnStdin: z.boolean().default(false),
      /** Killed after this long, ms. */
      timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    })
    .strict(),
  z
    .object({
      kind: z.literal('webhook'),
      /** http(s) URL; only its host is contacted (no redirects elsewhere). */
      url: z.url({ protocol: /^https?$/ }),
      /** Put the new value in the JSON body (`value`). Default false: name, environment and version only. */
      includeValue: z.boolean().default(false),
      /** Per-attempt timeout, ms. */
      timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
    })
    .strict(),
]);
export type SecretRotationHook = z.infer<typeof SecretRotationHook>;

/** The outcome of one hook run (never the value, never unmasked output). */
export const SecretHookRun = z.object({
  /** Version the hook was run for. */
  version: z.number().int().positive(),
  kind: z.enum(['command', 'webhook']),
  ok: z.boolean(),
  /** Exit code of a command hook (absent when killed by a signal or not started). */
  exitCode: z.number().int().optional(),
  /** HTTP status of a webhook hook. */
  status: z.number().int().optional(),
  /** Wall time, ms. */
  durationMs: z.number().nonnegative(),
  /** Why it failed (timeout, spawn error, HTTP status), value masked. */
  error: z.string().optional(),
  /** The first 2 KiB of stdout+stderr or response body, with the value masked. */
  output: z.string().optional(),
  at: IsoTime,
});
export type SecretHookRun = z.infer<typeof SecretHookRun>;

/** Everything about a secret except its value. */
export const SecretMetadata = z.object({
  id: SecretId,
  name: z.string(),
  type: SecretType,
  environment: z.string(),
  backend: SecretBackend,
  /** The backend's path or name of the secret (Vault KV path, AWS secret name); absent for local. */
  location: z.string().optional(),
  /** Number of the current version. */
  currentVersion: z.number().int().positive(),
  versions: z.array(SecretVersion),
  rotation: SecretRotationPolicy,
  /** When the next rotation is due (ISO-8601); absent for policy `never`. */
  nextRotation: IsoTime.optional(),
  tags: z.record(z.string(), z.string()),
  createdAt: IsoTime,
  createdBy: z.string(),
  updatedAt: IsoTime,
  /** Run after each rotation (set with `secrets/setHook`). */
  hook: SecretRotationHook.optional(),
  /** The latest hook run. */
  lastHookRun: SecretHookRun.optional(),
  /**
   * Team mode only: true for Vault and AWS secrets (teammates' daemons see them and read the same
   * backend), false for local-vault secrets (their values are encrypted under this daemon's key and
   * never leave it).
   */
  sharedWithTeam: z.boolean().optional(),
  /** Team mode: the daemon this secret was created on, when not this one; it runs the scheduled rotations. */
  origin: z.string().optional(),
});
export type SecretMetadata = z.infer<typeof SecretMetadata>;

const Tags = z.record(z.string().min(1).max(64), z.string().max(256)).refine((t) => Object.keys(t).length <= 50, {
  message: 'at most 50 tags',
});

export const CreateSecret = defineRequest(
  'secrets/create',
  z
    .object({
      name: SecretName,
      type: SecretType,
      environment: SecretEnvironmentName,
      /** The value; when absent one is generated in the shape of the type (not for `certificate`). */
      value: SecretValue.optional(),
      /** Must be true (or omitted) when no value is given. */
      generate: z.boolean().optional(),
      rotation: SecretRotationPolicy.optional(),
      tags: Tags.optional(),
      /** Where the value lives; default from `VAULT_BACKEND` (local when unset). Fixed for the secret's life. */
      backend: SecretBackend.optional(),
    })
    .strict(),
  SecretMetadata,
  {
    kind: 'command',
    doc: 'Create a secret in its backend (local vault by default; value given or generated); answers its metadata, never the value.',
  },
);

export const ListSecrets = defineRequest(
  'secrets/list',
  z.object({ environment: SecretEnvironmentName.optional(), type: SecretType.optional() }).strict(),
  z.object({ secrets: z.array(SecretMetadata) }),
  { kind: 'query', doc: 'Secrets (metadata only, never values), optionally of one environment or type.' },
);

export const GetSecret = defineRequest('secrets/get', z.object({ id: SecretId }).strict(), SecretMetadata, {
  kind: 'query',
  doc: "A secret's metadata and version list.",
});

export const RotateSecret = defineRequest(
  'secrets/rotate',
  z
    .object({
      id: SecretId,
      /** The new value; generated per type when absent. */
      value: SecretValue.optional(),
      /** Check-and-set: the current version the caller saw; a different one answers Conflict. */
      expectedVersion: z.number().int().positive().optional(),
    })
    .strict(),
  SecretMetadata,
  { kind: 'command', doc: 'Write a new current version; the old one stays readable as `previous`. Conflict when `expectedVersion` is stale.' },
);

export const RollbackSecret = defineRequest(
  'secrets/rollback',
  z.object({ id: SecretId, version: z.number().int().positive() }).strict(),
  SecretMetadata,
  { kind: 'command', doc: 'Make a NEW current version holding the value of an older one (history is never rewritten).' },
);

export const RevealSecret = defineRequest(
  'secrets/reveal',
  z.object({ id: SecretId, version: z.number().int().positive().optional() }).strict(),
  z.object({
    id: SecretId,
    version: z.number().int().positive(),
    /** The plaintext value. */
    value: z.string(),
  }),
  {
    kind: 'command',
    scope: 'admin',
    doc: 'The value of a version (default: current). Its audit entry is durable before the value is sent.',
  },
);

export const DeleteSecret = defineRequest('secrets/delete', z.object({ id: SecretId }).strict(), Ok, {
  kind: 'command',
  doc: 'Delete a secret: local versions are removed from the vault file; HashiCorp Vault versions are soft-deleted, AWS secrets scheduled for deletion (restorable there).',
});

export const SecretAuditAction = z.enum([
  'created',
  'rotated',
  'rolledBack',
  'revealed',
  'deleted',
  'restored',
  'versionDeleted',
  'versionUndeleted',
  'versionDestroyed',
  /** A refused call: see `attempted`, `outcome` and `reason`. */
  'denied',
]);

export const SecretAuditEntry = z.object({
  /** Event sequence number of the entry. */
  seq: z.number().int().positive(),
  time: IsoTime,
  /** Token name. */
  actor: z.string(),
  action: SecretAuditAction,
  /** Absent only for a refusal that named no secret the daemon knows (a scope refusal). */
  secretId: z.string().optional(),
  secretName: z.string().optional(),
  environment: z.string().optional(),
  version: z.number().int().positive().optional(),
  /** `denied`: refused (scope, conflict, unknown secret or version); `failed`: the backend did not answer. */
  outcome: z.enum(['success', 'denied', 'failed']),
  /** For a refusal: the method that was called (`secrets/reveal`). */
  attempted: z.string().optional(),
  /** For a refusal: why (the error message, never a value). */
  reason: z.string().optional(),
  /** Hex SHA-256 of the previous entry (64 zeros for the first). */
  prevHash: z.string(),
  /** Hex SHA-256 over this entry's fields and `prevHash`. */
  hash: z.string(),
});
export type SecretAuditEntry = z.infer<typeof SecretAuditEntry>;

export const SecretsAuditRequest = defineRequest(
  'secrets/audit',
  z
    .object({
      secretId: SecretId.optional(),
      actor: z.string().max(128).optional(),
      limit: z.number().int().min(1).max(1000).default(100),
    })
    .strict(),
  z.object({ entries: z.array(SecretAuditEntry) }),
  { kind: 'query', doc: 'The hash-chained secrets audit trail, newest first; filter by secret id and actor.' },
);

export const VerifySecretsAudit = defineRequest(
  'secrets/verifyAudit',
  z.object({}).strict(),
  z.object({
    /** True when every entry in the event log links to the previous one and its hash matches. */
    ok: z.boolean(),
    /** Entries checked. */
    entries: z.number().int().nonnegative(),
    /** Sequence number of the first entry that does not verify. */
    brokenAtSeq: z.number().int().positive().optional(),
    reason: z.string().optional(),
  }),
  { kind: 'query', doc: 'Re-read the audit entries from the event log and check the hash chain.' },
);

export const RotateMasterKey = defineRequest(
  'secrets/rotateMasterKey',
  z.object({}).strict(),
  z.object({ reencrypted: z.number().int().nonnegative() }),
  { kind: 'command', scope: 'admin', doc: 'Re-encrypt the whole local vault under a fresh master key; no old ciphertext remains.' },
);

export const SecretsBackendInfo = z.object({
  name: SecretBackend,
  /** Its settings are present (local always is). */
  configured: z.boolean(),
  /** New secrets go here when `secrets/create` names no backend (`VAULT_BACKEND`). */
  isDefault: z.boolean(),
  /** Vault URL, AWS endpoint or region host, local vault file. */
  address: z.string().optional(),
  /** Name of its dependency policy (`vault`, `aws-secrets`). */
  dependency: z.string().optional(),
  /** Result of a health call made for this request; absent when not configured. */
  healthy: z.boolean().optional(),
  /** What the health call saw, or why it failed (never a credential). */
  detail: z.string().optional(),
});

export const ListSecretsBackends = defineRequest(
  'secrets/backends',
  z.object({}).strict(),
  z.object({ backends: z.array(SecretsBackendInfo) }),
  { kind: 'query', doc: 'The three secrets backends: configured or not, which is the default, and a health call to each configured one.' },
);

export const UpdateSecret = defineRequest(
  'secrets/update',
  z.object({ id: SecretId, rotation: SecretRotationPolicy.optional(), tags: Tags.optional() }).strict(),
  SecretMetadata,
  { kind: 'command', doc: 'Change the rotation policy (and grace period) or the tags of a secret; the next rotation is recomputed from the last one.' },
);

export const SetSecretHook = defineRequest(
  'secrets/setHook',
  z.object({ id: SecretId, hook: SecretRotationHook.nullable() }).strict(),
  SecretMetadata,
  {
    kind: 'command',
    scope: 'admin',
    doc: 'Set (or clear with null) the command or webhook run after each rotation of a secret; it runs code, so it needs admin.',
  },
);

export const DueSecret = z.object({
  id: SecretId,
  name: z.string(),
  environment: z.string(),
  backend: SecretBackend,
  nextRotation: IsoTime,
  /** ms past `nextRotation` (negative: due within the window but not yet). */
  overdueMs: z.number(),
});

export const DueForRotation = defineRequest(
  'secrets/dueForRotation',
  z
    .object({
      /** Also list secrets due within this many hours from now. Default 0: due now. */
      withinHours: z.number().min(0).max(8760).default(0),
      environment: SecretEnvironmentName.optional(),
    })
    .strict(),
  z.object({ asOf: IsoTime, secrets: z.array(DueSecret) }),
  { kind: 'query', doc: "Secrets whose rotation is due (the original's check_rotation_needed): exactly what the rotation scheduler rotates next." },
);

export const RotateManyResult = z.object({
  id: SecretId,
  ok: z.boolean(),
  /** The new current version. */
  version: z.number().int().positive().optional(),
  /** Error code and message of a secret that was not rotated (Conflict when another rotation holds it). */
  error: z.object({ code: z.number().int(), message: z.string() }).optional(),
});

export const RotateManySecrets = defineRequest(
  'secrets/rotateMany',
  z
    .object({
      /** These secrets (values generated per type). */
      ids: z.array(SecretId).min(1).max(10_000).optional(),
      /** Or every secret matching this filter. */
      filter: z
        .object({ environment: SecretEnvironmentName.optional(), type: SecretType.optional(), backend: SecretBackend.optional() })
        .strict()
        .optional(),
      /** Or every secret due for rotation now. */
      due: z.literal(true).optional(),
    })
    .strict()
    .refine((p) => [p.ids, p.filter, p.due].filter((x) => x !== undefined).length === 1, {
      message: 'give exactly one of ids, filter or due',
      path: ['ids'],
    }),
  z.object({
    rotated: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    results: z.array(RotateManyResult),
  }),
  {
    kind: 'command',
    doc: 'Rotate many secrets in one call, in chunks that let other calls run in between; a secret another rotation holds answers Conflict in its result.',
  },
);

export const SecretHistoryEntry = z.object({
  seq: z.number().int().positive(),
  time: IsoTime,
  actor: z.string(),
  /** created, rotated, rolledBack, revealed, restored, versionDeleted, ..., deprecated, hookRan, updated, hookSet, denied. */
  kind: z.string(),
  version: z.number().int().positive().optional(),
  /** One line: the hook's result, the refusal's reason, the deprecated version. */
  detail: z.string().optional(),
  hook: SecretHookRun.optional(),
});

export const SecretHistory = defineRequest(
  'secrets/history',
  z.object({ id: SecretId, limit: z.number().int().min(1).max(1000).default(200) }).strict(),
  z.object({ entries: z.array(SecretHistoryEntry) }),
  { kind: 'query', doc: "A secret's history, newest first: writes, reveals, refusals, grace-period deprecations and rotation-hook results." },
);

const VersionRef = z.object({ id: SecretId, version: z.number().int().positive() }).strict();

export const DeleteSecretVersion = defineRequest('secrets/deleteVersion', VersionRef, SecretMetadata, {
  kind: 'command',
  doc: 'Soft-delete a non-current version: Vault KV delete; local keeps the ciphertext but refuses reads. Undo with secrets/undeleteVersion. AWS has no per-version delete (FailedPrecondition).',
});

export const UndeleteSecretVersion = defineRequest('secrets/undeleteVersion', VersionRef, SecretMetadata, {
  kind: 'command',
  doc: 'Make a soft-deleted version readable again (Vault KV undelete; local).',
});

export const DestroySecretVersion = defineRequest('secrets/destroyVersion', VersionRef, SecretMetadata, {
  kind: 'command',
  scope: 'admin',
  doc: 'Remove a non-current version for good (Vault KV destroy; local: its vault entry is erased). AWS: FailedPrecondition.',
});

export const RestorePreviousSecret = defineRequest(
  'secrets/restorePrevious',
  z.object({ id: SecretId }).strict(),
  SecretMetadata,
  {
    kind: 'command',
    doc: 'Undo the last rotation: the previous version becomes current again (AWS: AWSCURRENT moves back to AWSPREVIOUS; local: no new version; Vault: its rollback, a new version with the old data).',
  },
);
