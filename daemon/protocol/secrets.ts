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
});

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

export const SecretAuditAction = z.enum(['created', 'rotated', 'rolledBack', 'revealed', 'deleted']);

export const SecretAuditEntry = z.object({
  /** Event sequence number of the entry. */
  seq: z.number().int().positive(),
  time: IsoTime,
  /** Token name. */
  actor: z.string(),
  action: SecretAuditAction,
  secretId: SecretId,
  secretName: z.string(),
  environment: z.string(),
  version: z.number().int().positive().optional(),
  outcome: z.enum(['success']),
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
