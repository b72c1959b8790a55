import * as z from 'zod';
import { IsoTime, PageParams } from './common';
import { defineNotification, defineRequest } from './define';

/** Largest value accepted, as UTF-8 bytes of its JSON text (64 KiB). */
export const MAX_CONFIG_VALUE_BYTES = 65_536;
/** Largest `.env` text accepted by `config/importDotenv`, UTF-8 bytes (1 MiB). */
export const MAX_DOTENV_BYTES = 1_048_576;

/** UTF-8 length without Node or DOM APIs (this folder imports only zod). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}

export const ConfigEnvironmentName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_-]*$/, 'environment names start with a lower case letter and use lower case letters, digits, "_" and "-"');

/** Keys are usable as `.env` variable names: a letter or "_" first, then letters, digits, "_", "." and "-". */
export const ConfigKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'config keys start with a letter or "_" and use letters, digits, "_", "." and "-"');

/** Any JSON value, at most 64 KiB as JSON text. */
export const ConfigValue = z.json().refine((v) => utf8Length(JSON.stringify(v)) <= MAX_CONFIG_VALUE_BYTES, {
  message: `the value is larger than ${MAX_CONFIG_VALUE_BYTES} bytes of JSON`,
});
export type ConfigValue = z.infer<typeof ConfigValue>;

const Description = z.string().max(1024);
const Version = z.number().int().positive();
const Seq = z.number().int().nonnegative();

/**
 * An entry as the daemon shows it. For a sensitive entry `value` is absent and `masked` is true,
 * except in `config/get` with `reveal` (admin scope).
 */
export const ConfigEntry = z.object({
  environment: z.string(),
  key: z.string(),
  /** Per key and environment, 1-based, never reused (deletions are versions too). */
  version: Version,
  value: z.json().optional(),
  masked: z.literal(true).optional(),
  sensitive: z.boolean(),
  description: z.string().optional(),
  updatedAt: IsoTime,
  /** Token name that wrote this version. */
  updatedBy: z.string(),
});
export type ConfigEntry = z.infer<typeof ConfigEntry>;

/** One version in a history: a set (the value as it became) or a deletion (tombstone). */
export const ConfigVersion = z.object({
  environment: z.string(),
  key: z.string(),
  version: Version,
  op: z.enum(['set', 'delete']),
  value: z.json().optional(),
  masked: z.literal(true).optional(),
  sensitive: z.boolean(),
  description: z.string().optional(),
  at: IsoTime,
  by: z.string(),
  /** Event-log sequence number of the change: the point to use in `config/diff`. */
  seq: Seq,
  /** The version a rollback copied. */
  rolledBackFrom: Version.optional(),
  /** Where a promotion copied it from. */
  promotedFrom: z.object({ environment: z.string(), version: Version }).optional(),
});
export type ConfigVersion = z.infer<typeof ConfigVersion>;

export const ConfigEnvironment = z.object({
  name: z.string(),
  description: z.string().optional(),
  createdAt: IsoTime,
  createdBy: z.string(),
  /** Live (not deleted) keys. */
  entryCount: z.number().int().nonnegative(),
  /** Time of the last change to any of its keys (its creation when none). */
  updatedAt: IsoTime,
  /** With `includeEntries`: the live entries, sensitive ones masked. */
  entries: z.array(ConfigEntry).optional(),
});
export type ConfigEnvironment = z.infer<typeof ConfigEnvironment>;

/** One side of an entry in a diff; sensitive values are masked. */
export const ConfigDiffSide = z.object({
  version: Version,
  value: z.json().optional(),
  masked: z.literal(true).optional(),
  sensitive: z.boolean(),
  description: z.string().optional(),
});

export const ConfigDiffEntry = z.object({
  key: z.string(),
  change: z.enum(['added', 'removed', 'changed']),
  /** Absent for `added`. */
  before: ConfigDiffSide.optional(),
  /** Absent for `removed`. */
  after: ConfigDiffSide.optional(),
  /** For `changed`: which parts differ. */
  fields: z.array(z.enum(['value', 'sensitive', 'description'])).optional(),
});
export type ConfigDiffEntry = z.infer<typeof ConfigDiffEntry>;

export const ConfigDiff = z.object({
  entries: z.array(ConfigDiffEntry),
  /** Keys equal on both sides. */
  unchanged: z.number().int().nonnegative(),
});
export type ConfigDiff = z.infer<typeof ConfigDiff>;

/** A point to compare: an environment as of an event-log seq (default: now), or one version of `key`. */
export const ConfigDiffPoint = z
  .object({
    environment: ConfigEnvironmentName,
    /** State as of this event-log sequence number (inclusive); default the latest. */
    seq: Seq.optional(),
    /** A version of the diff's `key` (only with `key`; not with `seq`). */
    version: Version.optional(),
  })
  .strict()
  .refine((p) => p.seq === undefined || p.version === undefined, { message: 'give seq or version, not both', path: ['version'] });

export const ListConfigEnvironments = defineRequest(
  'config/listEnvironments',
  z.object({ includeEntries: z.boolean().default(false) }).strict(),
  z.object({ environments: z.array(ConfigEnvironment) }),
  { kind: 'query', doc: 'Configuration environments (the seeded four and user-added ones), optionally with their entries (sensitive values masked).' },
);

export const CreateConfigEnvironment = defineRequest(
  'config/createEnvironment',
  z.object({ name: ConfigEnvironmentName, description: Description.optional() }).strict(),
  ConfigEnvironment,
  { kind: 'command', doc: 'Add a configuration environment. Duplicate when the name exists.' },
);

export const SetConfig = defineRequest(
  'config/set',
  z
    .object({
      environment: ConfigEnvironmentName,
      key: ConfigKey,
      value: ConfigValue,
      description: Description.optional(),
      /** Default: the current entry's flag, false for a new key. */
      sensitive: z.boolean().optional(),
      /** Check-and-set: the current version the caller saw (0 = the key must not exist). Conflict otherwise. */
      expectedVersion: z.number().int().nonnegative().optional(),
    })
    .strict(),
  z.object({ entry: ConfigEntry, changed: z.boolean() }),
  { kind: 'command', doc: 'Set a key: a new version unless nothing changed (`changed: false`). Conflict when `expectedVersion` is stale.' },
);

export const DeleteConfig = defineRequest(
  'config/delete',
  z.object({ environment: ConfigEnvironmentName, key: ConfigKey, expectedVersion: Version.optional() }).strict(),
  z.object({ environment: z.string(), key: z.string(), version: Version }),
  { kind: 'command', doc: 'Delete a key: appends a tombstone version (history keeps every value).' },
);

export const GetConfig = defineRequest(
  'config/get',
  z
    .object({
      environment: ConfigEnvironmentName,
      key: ConfigKey,
      /** A past version (default the current one). */
      version: Version.optional(),
      /** Return a sensitive value in clear: needs an admin-scope token. */
      reveal: z.boolean().default(false),
    })
    .strict(),
  ConfigEntry,
  { kind: 'query', doc: 'One entry (or one past version); sensitive values masked unless `reveal` with an admin token.' },
);

export const ListConfig = defineRequest(
  'config/list',
  z.object({ environment: ConfigEnvironmentName, prefix: z.string().max(128).optional() }).strict(),
  z.object({ environment: z.string(), entries: z.array(ConfigEntry), seq: Seq }),
  { kind: 'query', doc: "An environment's live entries, sensitive values masked; `seq` is the log position they reflect." },
);

export const ConfigHistory = defineRequest(
  'config/history',
  PageParams.extend({ environment: ConfigEnvironmentName, key: ConfigKey.optional() }).strict(),
  z.object({
    versions: z.array(ConfigVersion),
    /** Pass as `cursor` for the next (older) page; absent on the last page. */
    nextCursor: z.string().optional(),
  }),
  { kind: 'query', doc: 'Versions of one key, or of every key of an environment, newest first, paged; sensitive values masked.' },
);

export const DiffConfig = defineRequest(
  'config/diff',
  z
    .object({
      from: ConfigDiffPoint,
      to: ConfigDiffPoint,
      /** Compare only this key (required when a point names a `version`). */
      key: ConfigKey.optional(),
    })
    .strict()
    .refine((p) => p.key !== undefined || (p.from.version === undefined && p.to.version === undefined), {
      message: 'a version point needs `key`',
      path: ['key'],
    }),
  ConfigDiff,
  { kind: 'query', doc: 'Differences between two versions of a key, an environment at two log positions, or two environments.' },
);

export const RollbackConfig = defineRequest(
  'config/rollback',
  z.object({ environment: ConfigEnvironmentName, key: ConfigKey, version: Version, expectedVersion: Version.optional() }).strict(),
  z.object({ entry: ConfigEntry }),
  { kind: 'command', doc: 'Make a NEW version of a key holding an older version (history is never rewritten).' },
);

export const PromoteConfig = defineRequest(
  'config/promote',
  z
    .object({
      from: ConfigEnvironmentName,
      to: ConfigEnvironmentName,
      /** One key; the whole environment when absent. */
      key: ConfigKey.optional(),
      /** Whole-environment promotion: also delete keys the target has and the source lacks. */
      prune: z.boolean().default(false),
      /** Only answer the diff; change nothing. */
      dryRun: z.boolean().default(false),
    })
    .strict()
    .refine((p) => p.from !== p.to, { message: 'from and to must differ', path: ['to'] }),
  z.object({
    diff: ConfigDiff,
    applied: z.boolean(),
    /** Versions written in the target (one atomic append), when applied. */
    versions: z.array(z.object({ key: z.string(), version: Version })),
  }),
  { kind: 'command', doc: 'Copy a key or a whole environment to another; `dryRun` answers the diff only; applying is one atomic append.' },
);

export const ImportDotenv = defineRequest(
  'config/importDotenv',
  z
    .object({
      environment: ConfigEnvironmentName,
      content: z.string().refine((s) => utf8Length(s) <= MAX_DOTENV_BYTES, { message: `the file is larger than ${MAX_DOTENV_BYTES} bytes` }),
      /** Replace keys that exist with a different value (default false: such keys make the import fail). */
      overwrite: z.boolean().default(false),
      /** Mark the imported keys sensitive (default: keep each existing key's flag, false for new ones). */
      sensitive: z.boolean().optional(),
    })
    .strict(),
  z.object({ added: z.array(z.string()), changed: z.array(z.string()), unchanged: z.array(z.string()) }),
  { kind: 'command', doc: 'Import a `.env` file (values as strings), all or nothing; reports added, changed and unchanged keys.' },
);

export const ExportDotenv = defineRequest(
  'config/exportDotenv',
  z
    .object({
      environment: ConfigEnvironmentName,
      /** Include sensitive values in clear: needs an admin-scope token. Otherwise they are left out. */
      includeSensitive: z.boolean().default(false),
    })
    .strict(),
  z.object({
    content: z.string(),
    /**
     * Keys left out: `sensitive` without `includeSensitive`, or `unrepresentable` (a value holding
     * `'`, `"` and a backtick together, which no dotenv quoting can carry), or `missing` (a sensitive
     * value absent from `config/sensitive.json`, e.g. after that file was restored from an old backup).
     */
    omitted: z.array(z.object({ key: z.string(), reason: z.enum(['sensitive', 'unrepresentable', 'missing']) })),
  }),
  { kind: 'query', doc: 'Export an environment as `.env` text that parses back to the same values (non-string values as JSON text).' },
);

export const DidChangeConfig = defineNotification(
  'config/didChange',
  z.object({
    environment: z.string(),
    key: z.string(),
    version: Version,
    op: z.enum(['set', 'delete']),
    sensitive: z.boolean(),
    /** The new value; absent when sensitive or deleted. */
    value: z.json().optional(),
    /** Event-log sequence number of the change. */
    seq: Seq,
  }),
  'A configuration key changed (set, deleted, rolled back, promoted or imported); sensitive values are not sent.',
);
