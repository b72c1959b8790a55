import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FernetError, FernetKeyError, MultiFernet, generateFernetKey, parseFernetKey } from './fernet';
import type { MasterKeyShare } from './masterKeyShare';
import { writeFileAtomic, writeFileAtomicSync } from '../shared/atomicFile';

/** The variables a master key is read from, in order of preference (ours, then the original's). */
export const MASTER_KEY_VARIABLES = ['COGNIFORGE_MASTER_KEY', 'MASTER_ENCRYPTION_KEY'] as const;
export type MasterKeySource = (typeof MASTER_KEY_VARIABLES)[number] | 'key file';

/** Start-up refusal: bad key, wrong key, unreadable vault. The message never contains a key or value. */
export class VaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaultError';
  }
}

/** One encrypted secret version as the vault file stores it. */
export interface VaultEntry {
  secretId: string;
  /** 1-based version number of the secret. */
  version: number;
  /** Fernet token of the value under the current master key. */
  token: string;
}

interface VaultFileShape {
  format: 1;
  /** Fernet token of KEY_CHECK_PLAINTEXT: tells a wrong master key before any entry is touched. */
  keyCheck: string;
  entries: VaultEntry[];
}

const KEY_CHECK_PLAINTEXT = 'cogniforge vault key check';
const LINE_SEPARATOR = Buffer.from(',\n');
const FILE_END = Buffer.from('\n]}\n');
/** Entries per cached block of the file (see `serializeParts`). */
const BLOCK_ENTRIES = 256;
const entryKey = (secretId: string, version: number) => `${secretId}@${version}`;

function parseKeyList(text: string, origin: string): string[] {
  const keys = text
    .split(/[\s,]+/)
    .map((k) => k.trim())
    .filter((k) => k !== '');
  if (keys.length === 0) throw new VaultError(`${origin} is empty; it must hold a Fernet key`);
  keys.forEach((k, i) => {
    try {
      parseFernetKey(k);
    } catch (e) {
      if (!(e instanceof FernetKeyError)) throw e;
      const which = keys.length > 1 ? ` (key ${i + 1} of ${keys.length})` : '';
      throw new VaultError(`${origin} is not a valid Fernet key${which}: ${e.message}`);
    }
  });
  return keys;
}

export interface LocalVaultOptions {
  /** The daemon's data dir; the vault lives in `<dataDir>/vault/`. */
  dataDir: string;
  /** Where COGNIFORGE_MASTER_KEY / MASTER_ENCRYPTION_KEY are read (`process.env` in the daemon). */
  env: Readonly<Record<string, string | undefined>>;
  /** Epoch ms, for Fernet timestamps. */
  now: () => number;
  /** Lends the master key to other stores and asks them to re-encrypt on rotation. */
  keyShare?: MasterKeyShare;
}

/**
 * The local encrypted vault: `<dataDir>/vault/vault.json`, one Fernet token per secret version, under
 * a master key from the environment (a comma-separated list is MultiFernet-style: the first encrypts,
 * all decrypt, and start-up re-encrypts anything under an older one) or from `master.key` (mode 0600),
 * generated once. Every change rewrites the file atomically.
 */
export class LocalVault {
  readonly dir: string;
  readonly file: string;
  readonly keyFile: string;
  private keys: string[];
  private fernet: MultiFernet;
  private readonly entries = new Map<string, VaultEntry>();
  private writing: Promise<unknown> = Promise.resolve();
  private blocks = new Map<VaultEntry, { entries: VaultEntry[]; bytes: Buffer }>();

  private constructor(
    private readonly options: LocalVaultOptions,
    readonly keySource: MasterKeySource,
    keys: string[],
  ) {
    this.dir = join(options.dataDir, 'vault');
    this.file = join(this.dir, 'vault.json');
    this.keyFile = join(this.dir, 'master.key');
    this.keys = keys;
    this.fernet = new MultiFernet(keys);
    options.keyShare?.setKeys(keys);
  }

  /** Resolve the master key, check it against an existing vault, and load the entries. Throws VaultError. */
  static open(options: LocalVaultOptions): LocalVault {
    const dir = join(options.dataDir, 'vault');
    const file = join(dir, 'vault.json');
    const keyFile = join(dir, 'master.key');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const vaultExists = existsSync(file);

    let source: MasterKeySource | undefined;
    let keys: string[] | undefined;
    for (const name of MASTER_KEY_VARIABLES) {
      const value = options.env[name];
      if (value !== undefined && value.trim() !== '') {
        keys = parseKeyList(value, `the variable ${name}`);
        source = name;
        break;
      }
    }
    if (!keys) {
      source = 'key file';
      if (existsSync(keyFile)) {
        keys = parseKeyList(readFileSync(keyFile, 'utf8'), `the key file ${keyFile}`);
      } else if (vaultExists) {
        throw new VaultError(
          `the vault ${file} exists but there is no master key: set COGNIFORGE_MASTER_KEY or restore ${keyFile}; nothing was changed`,
        );
      } else {
        keys = [generateFernetKey()];
        writeFileAtomicSync(keyFile, keys[0] + '\n');
      }
    }
    const vault = new LocalVault(options, source!, keys);
    if (vaultExists) vault.load();
    else vault.persist();
    return vault;
  }

  private load(): void {
    let shape: VaultFileShape;
    try {
      shape = JSON.parse(readFileSync(this.file, 'utf8')) as VaultFileShape;
    } catch (e) {
      throw new VaultError(`the vault ${this.file} is unreadable (${(e as Error).message}); nothing was changed`);
    }
    if (shape.format !== 1 || typeof shape.keyCheck !== 'string' || !Array.isArray(shape.entries)) {
      throw new VaultError(`the vault ${this.file} is not a CogniForge vault file (format 1); nothing was changed`);
    }
    let keyIndex: number;
    try {
      const opened = this.fernet.decryptWithIndex(shape.keyCheck);
      if (opened.plaintext.toString('utf8') !== KEY_CHECK_PLAINTEXT) throw new FernetError('hmac', 'key check mismatch');
      keyIndex = opened.keyIndex;
    } catch (e) {
      if (!(e instanceof FernetError)) throw e;
      throw new VaultError(
        `the master key from ${this.describeSource()} does not open the vault ${this.file} (wrong key); nothing was changed`,
      );
    }
    for (const entry of shape.entries) this.entries.set(entryKey(entry.secretId, entry.version), { ...entry });
    // Older keys still listed (MultiFernet-style rotation through the variable, or a rotation cut
    // short by a crash): finish the move to the primary key so no old ciphertext stays on disk.
    if (this.keys.length > 1 || keyIndex > 0) this.reencryptAll();
  }

  private describeSource(): string {
    return this.keySource === 'key file' ? `the key file ${this.keyFile}` : `the variable ${this.keySource}`;
  }

  /** Encrypt and store values, then make the file durable. Call BEFORE appending the event that refers to them. */
  put(values: readonly { secretId: string; version: number; value: string }[]): void {
    for (const v of values) {
      this.entries.set(entryKey(v.secretId, v.version), {
        secretId: v.secretId,
        version: v.version,
        token: this.fernet.encrypt(v.value, { now: this.options.now() }),
      });
    }
    this.persist();
  }

  /**
   * `put` with the file written off the event loop; resolves once the file is durable. Writes are
   * chained, each one writing the state as it is when it starts, so the last write holds every put.
   */
  putAsync(values: readonly { secretId: string; version: number; value: string }[]): Promise<void> {
    for (const v of values) {
      this.entries.set(entryKey(v.secretId, v.version), {
        secretId: v.secretId,
        version: v.version,
        token: this.fernet.encrypt(v.value, { now: this.options.now() }),
      });
    }
    const write = this.writing.then(() => writeFileAtomic(this.file, this.serializeParts()));
    this.writing = write.catch(() => undefined);
    return write;
  }

  /** Erase one version from disk (a destroyed version). */
  removeVersion(secretId: string, version: number): boolean {
    const removed = this.entries.delete(entryKey(secretId, version));
    if (removed) this.persist();
    return removed;
  }

  has(secretId: string, version: number): boolean {
    return this.entries.has(entryKey(secretId, version));
  }

  /** The plaintext of a version; throws when absent or when the token fails its HMAC check. */
  read(secretId: string, version: number): string {
    const entry = this.entries.get(entryKey(secretId, version));
    if (!entry) throw new VaultError(`the vault has no entry for ${secretId} version ${version}`);
    return this.fernet.decrypt(entry.token).toString('utf8');
  }

  /** Version numbers stored for a secret, ascending. */
  versionsOf(secretId: string): number[] {
    return [...this.entries.values()].filter((e) => e.secretId === secretId).map((e) => e.version).sort((a, b) => a - b);
  }

  /** Drop every version of a secret from disk. */
  remove(secretId: string): number {
    let removed = 0;
    for (const [k, e] of this.entries) {
      if (e.secretId === secretId) {
        this.entries.delete(k);
        removed++;
      }
    }
    if (removed > 0) this.persist();
    return removed;
  }

  /** Drop entries of secrets no event refers to (written before an append that then failed, or deleted). */
  retainOnly(isReferenced: (secretId: string, version: number) => boolean): number {
    let removed = 0;
    for (const [k, e] of this.entries) {
      if (!isReferenced(e.secretId, e.version)) {
        this.entries.delete(k);
        removed++;
      }
    }
    if (removed > 0) this.persist();
    return removed;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Re-encrypt the whole vault under a fresh master key. The key file first lists the new and the old
   * key (so a crash at any point leaves a key that opens the vault), then the vault is rewritten, then
   * the old key is dropped. A key from the environment cannot be rewritten by the daemon.
   */
  rotateMasterKey(): { reencrypted: number } {
    if (this.keySource !== 'key file') {
      throw new VaultError(
        `the master key comes from ${this.keySource}: set it to "<new key>,<old key>" and restart; start-up re-encrypts the vault under the new key`,
      );
    }
    const next = [generateFernetKey(), ...this.keys];
    writeFileAtomicSync(this.keyFile, next.join('\n') + '\n');
    this.keys = next;
    this.fernet = new MultiFernet(next);
    this.options.keyShare?.setKeys(next);
    return { reencrypted: this.reencryptAll() };
  }

  /** Everything under the primary key, the file rewritten, older keys forgotten (and removed from the key file). */
  private reencryptAll(): number {
    for (const [k, e] of this.entries) this.entries.set(k, { ...e, token: this.fernet.rotate(e.token) });
    this.persist();
    // Other stores under the same key move too while the old key still opens them.
    this.options.keyShare?.reencryptUsers(this.fernet);
    this.keys = [this.keys[0]!];
    this.fernet = new MultiFernet(this.keys);
    this.options.keyShare?.setKeys(this.keys);
    if (this.keySource === 'key file') writeFileAtomicSync(this.keyFile, this.keys[0] + '\n');
    return this.entries.size;
  }

  private persist(): void {
    writeFileAtomicSync(this.file, this.serialize());
  }

  /**
   * The file text, one entry per line in insertion order. Each entry's line is kept (entries are
   * replaced, never mutated), so rewriting a big vault after a small change costs a join, not a
   * re-serialisation: bulk rotation rewrites the file once per chunk.
   */
  private serialize(): string {
    return Buffer.concat(this.serializeParts()).toString('utf8');
  }

  /**
   * The file as a few large buffers: entries in blocks of BLOCK_ENTRIES, each block's bytes kept
   * while its entries are the same objects. A bulk rotation appends entries at the end, so a rewrite
   * rebuilds only the last block or two; the event loop compares references instead of copying bytes.
   */
  private serializeParts(): Buffer[] {
    const keyCheck = this.fernet.encrypt(KEY_CHECK_PLAINTEXT, { now: this.options.now() });
    const parts: Buffer[] = [Buffer.from(`{"format":1,"keyCheck":${JSON.stringify(keyCheck)},"entries":[\n`)];
    const all = [...this.entries.values()];
    const blocks = new Map<VaultEntry, { entries: VaultEntry[]; bytes: Buffer }>();
    for (let i = 0; i < all.length; i += BLOCK_ENTRIES) {
      const entries = all.slice(i, i + BLOCK_ENTRIES);
      const last = i + BLOCK_ENTRIES >= all.length;
      const cached = this.blocks.get(entries[0]!);
      const same = cached !== undefined && cached.entries.length === entries.length && cached.entries.every((e, j) => e === entries[j]);
      const block = same
        ? cached
        : { entries, bytes: Buffer.from(entries.map((e) => JSON.stringify({ secretId: e.secretId, version: e.version, token: e.token })).join(',\n')) };
      blocks.set(entries[0]!, block);
      parts.push(block.bytes);
      if (!last) parts.push(LINE_SEPARATOR);
    }
    this.blocks = blocks;
    parts.push(FILE_END);
    return parts;
  }
}
