import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FernetError, type MultiFernet } from '../secrets/fernet';
import type { MasterKeyShare } from '../secrets/masterKeyShare';
import { writeFileAtomicSync } from '../shared/atomicFile';

/** Which value: one version of one key in one environment. */
export interface SensitiveRef {
  environment: string;
  key: string;
  version: number;
}

/**
 * Where the values of sensitive entries live: outside the event log, so `events/query` and
 * `events/subscribe` (open to read-scope tokens) never carry them. The events hold the version only.
 */
export interface SensitiveValueStore {
  /** The value, or undefined when none is stored for the ref. */
  get(ref: SensitiveRef): unknown;
  /** Store values durably; resolves once they are on disk (before the events that refer to them are appended). */
  put(values: { ref: SensitiveRef; value: unknown }[]): Promise<void>;
  /** Drop values no event refers to (a crash between `put` and the append leaves some); answers how many. */
  retainOnly(keep: (ref: SensitiveRef) => boolean): Promise<number>;
}

const SEP = '\u0000';
export const refId = (r: SensitiveRef): string => [r.environment, r.key, String(r.version)].join(SEP);

function parseRefId(id: string): SensitiveRef | undefined {
  const [environment, key, version] = id.split(SEP);
  const n = Number(version);
  return environment && key && Number.isInteger(n) ? { environment, key, version: n } : undefined;
}

/** The file before values were encrypted: kept readable so a start-up migrates it. */
interface PlainFileShape {
  formatVersion: 1;
  values: Record<string, unknown>;
}

/** Each value a Fernet token of its JSON under the vault's master key; `keyCheck` tells a wrong key before anything is read. */
interface EncryptedFileShape {
  formatVersion: 2;
  keyCheck: string;
  values: Record<string, string>;
}

const KEY_CHECK_PLAINTEXT = 'cogniforge-config-sensitive-key-check';

/** What the store needs of the master key: the share the secrets feature fills. */
export type SensitiveKeyRing = Pick<MasterKeyShare, 'fernet' | 'use'>;

export interface FileSensitiveValuesOptions {
  /** The vault's master key. */
  keys: SensitiveKeyRing;
  /** Epoch ms, for Fernet timestamps. */
  now: () => number;
}

/** How the file was found at open: `migrated` counts plaintext values now encrypted, `reencrypted` those moved off an older key. */
export interface OpenReport {
  migrated: number;
  reencrypted: number;
}

function describeRef(id: string): string {
  const ref = parseRefId(id);
  return ref ? `"${ref.key}" version ${ref.version} in "${ref.environment}"` : 'an entry with an unreadable id';
}


/**
 * `<data-dir>/config/sensitive.json`, mode 0600 in a 0700 directory: every value a Fernet token under
 * the local vault's master key, rewritten atomically (temp file, fsync, rename, fsync of the directory).
 * A plaintext file from before encryption is migrated at open; a master-key rotation re-encrypts it.
 * Loaded and decrypted whole at open, so reads never touch the disk.
 */
export class FileSensitiveValues implements SensitiveValueStore {
  private detach: (() => void) | undefined;

  private constructor(
    readonly file: string,
    private readonly options: FileSensitiveValuesOptions,
    private readonly values: Map<string, unknown>,
    private readonly tokens: Map<string, string>,
    readonly opened: OpenReport,
  ) {}

  /**
   * Load and decrypt the file. Throws, leaving the file untouched, when the master key does not open
   * it or a value fails its HMAC check (the message names the entry, never the value).
   */
  static async open(dataDir: string, options: FileSensitiveValuesOptions): Promise<FileSensitiveValues> {
    const dir = join(dataDir, 'config');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const file = join(dir, 'sensitive.json');
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const fernet = options.keys.fernet();
    const values = new Map<string, unknown>();
    const tokens = new Map<string, string>();
    const report: OpenReport = { migrated: 0, reencrypted: 0 };
    if (text !== undefined) {
      let parsed: PlainFileShape | EncryptedFileShape;
      try {
        parsed = JSON.parse(text) as PlainFileShape | EncryptedFileShape;
      } catch {
        throw new Error(`${file} is not valid JSON; restore it from a backup (it holds the values of sensitive config entries)`);
      }
      if (parsed.formatVersion === 1) {
        for (const [id, value] of Object.entries(parsed.values ?? {})) {
          values.set(id, value);
          tokens.set(id, fernet.encrypt(JSON.stringify(value), { now: options.now() }));
        }
        report.migrated = values.size;
      } else if (parsed.formatVersion === 2 && typeof parsed.keyCheck === 'string') {
        const stale = openEncrypted(file, parsed, fernet, values, tokens);
        report.reencrypted = stale;
      } else {
        throw new Error(`${file} is not a CogniForge sensitive value file (format 1 or 2); nothing was changed`);
      }
    }
    const store = new FileSensitiveValues(file, options, values, tokens, report);
    if (report.migrated > 0 || report.reencrypted > 0) {
      if (report.reencrypted > 0) for (const [id, token] of tokens) tokens.set(id, fernet.rotate(token));
      store.persist(fernet);
    }
    store.detach = options.keys.use({ name: 'config/sensitive.json', reencrypt: (f) => store.reencrypt(f) });
    return store;
  }

  get(ref: SensitiveRef): unknown {
    return this.values.get(refId(ref));
  }

  put(values: { ref: SensitiveRef; value: unknown }[]): Promise<void> {
    if (values.length === 0) return Promise.resolve();
    const fernet = this.options.keys.fernet();
    for (const v of values) {
      const id = refId(v.ref);
      this.values.set(id, v.value);
      this.tokens.set(id, fernet.encrypt(JSON.stringify(v.value), { now: this.options.now() }));
    }
    this.persist(fernet);
    return Promise.resolve();
  }

  retainOnly(keep: (ref: SensitiveRef) => boolean): Promise<number> {
    let removed = 0;
    for (const id of [...this.values.keys()]) {
      const ref = parseRefId(id);
      if (!ref || !keep(ref)) {
        this.values.delete(id);
        this.tokens.delete(id);
        removed++;
      }
    }
    if (removed > 0) this.persist(this.options.keys.fernet());
    return Promise.resolve(removed);
  }

  /** Stop following master-key rotations (the daemon is closing). */
  close(): void {
    this.detach?.();
    this.detach = undefined;
  }

  /** Every token moved under the primary key of `fernet` (which still opens the older ones), then written. */
  private reencrypt(fernet: MultiFernet): void {
    for (const [id, token] of this.tokens) this.tokens.set(id, fernet.rotate(token));
    this.persist(fernet);
  }

  private persist(fernet: MultiFernet): void {
    const shape: EncryptedFileShape = {
      formatVersion: 2,
      keyCheck: fernet.encrypt(KEY_CHECK_PLAINTEXT, { now: this.options.now() }),
      values: Object.fromEntries(this.tokens),
    };
    // Synchronous, so a rotation and a put never interleave.
    writeFileAtomicSync(this.file, JSON.stringify(shape));
  }
}

/** Decrypt a format-2 file into `values`/`tokens`; answers how many tokens (key check included) are under an older key. */
function openEncrypted(
  file: string,
  parsed: EncryptedFileShape,
  fernet: MultiFernet,
  values: Map<string, unknown>,
  tokens: Map<string, string>,
): number {
  let stale = 0;
  try {
    const check = fernet.decryptWithIndex(parsed.keyCheck);
    if (check.plaintext.toString('utf8') !== KEY_CHECK_PLAINTEXT) throw new FernetError('hmac', 'key check mismatch');
    if (check.keyIndex > 0) stale++;
  } catch (e) {
    if (!(e instanceof FernetError)) throw e;
    throw new Error(`the vault's master key does not open ${file} (wrong key); nothing was changed`);
  }
  for (const [id, token] of Object.entries(parsed.values ?? {})) {
    let opened: { plaintext: Buffer; keyIndex: number };
    try {
      if (typeof token !== 'string') throw new FernetError('malformed', 'Fernet token is not a string');
      opened = fernet.decryptWithIndex(token);
    } catch (e) {
      if (!(e instanceof FernetError)) throw e;
      throw new Error(`${file}: the value of ${describeRef(id)} cannot be read: ${e.message}; nothing was changed`);
    }
    if (opened.keyIndex > 0) stale++;
    values.set(id, JSON.parse(opened.plaintext.toString('utf8')) as unknown);
    tokens.set(id, token);
  }
  return stale;
}
