import { chmod, mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

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

interface FileShape {
  formatVersion: 1;
  values: Record<string, unknown>;
}

/**
 * `<data-dir>/config/sensitive.json`, mode 0600 in a 0700 directory, rewritten atomically (temp file,
 * fsync, rename, fsync of the directory). Loaded whole at start, so reads never touch the disk.
 */
export class FileSensitiveValues implements SensitiveValueStore {
  private constructor(
    private readonly file: string,
    private readonly values: Map<string, unknown>,
  ) {}

  static async open(dataDir: string): Promise<FileSensitiveValues> {
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
    const values = new Map<string, unknown>();
    if (text !== undefined) {
      let parsed: FileShape;
      try {
        parsed = JSON.parse(text) as FileShape;
      } catch {
        throw new Error(`${file} is not valid JSON; restore it from a backup (it holds the values of sensitive config entries)`);
      }
      for (const [id, value] of Object.entries(parsed.values ?? {})) values.set(id, value);
    }
    return new FileSensitiveValues(file, values);
  }

  get(ref: SensitiveRef): unknown {
    return this.values.get(refId(ref));
  }

  async put(values: { ref: SensitiveRef; value: unknown }[]): Promise<void> {
    if (values.length === 0) return;
    for (const v of values) this.values.set(refId(v.ref), v.value);
    await this.persist();
  }

  async retainOnly(keep: (ref: SensitiveRef) => boolean): Promise<number> {
    let removed = 0;
    for (const id of [...this.values.keys()]) {
      const ref = parseRefId(id);
      if (!ref || !keep(ref)) {
        this.values.delete(id);
        removed++;
      }
    }
    if (removed > 0) await this.persist();
    return removed;
  }

  private async persist(): Promise<void> {
    const shape: FileShape = { formatVersion: 1, values: Object.fromEntries(this.values) };
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(shape));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
    const dir = await open(join(this.file, '..'), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
