import { open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import { Low } from 'lowdb';
import * as z from 'zod';
import { SegmentSummary, fsyncDir } from './segments';

/** `<dataDir>/snapshots/projections.json`. `log` is ours: it lets start-up skip what the snapshot covers. */
export const SnapshotFile = z.object({
  /** Last seq applied to every projection in `projections`. */
  seq: z.number().int().min(0),
  projections: z.record(z.string(), z.unknown()),
  log: z
    .object({
      /** First seq of the newest write round at snapshot time (retention never drops that round). */
      lastRoundFirst: z.number().int().min(0),
      segments: z.record(z.string(), SegmentSummary),
    })
    .optional(),
});
export type SnapshotFile = z.infer<typeof SnapshotFile>;

/**
 * A lowdb adapter that replaces the file atomically AND durably: write a temp file, fdatasync it,
 * rename over the target, fsync the directory. lowdb's own TextFile (steno) renames without
 * syncing, so a power cut could leave an empty snapshot behind the rename. The text is produced
 * synchronously when `write` is called, so the state captured is the state at that instant.
 */
export class DurableJsonFile<T> implements Adapter<T> {
  constructor(
    private readonly path: string,
    private readonly sync: boolean,
  ) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return JSON.parse(text) as T;
  }

  write(data: T): Promise<void> {
    const text = JSON.stringify(data);
    return this.persist(text);
  }

  private async persist(text: string): Promise<void> {
    const dir = dirname(this.path);
    const tmp = join(dir, `.${basename(this.path)}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text, 'utf8');
      if (this.sync) await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    if (this.sync) await fsyncDir(dir);
  }
}

export type SnapshotLoad = { kind: 'none' } | { kind: 'ok'; snapshot: SnapshotFile } | { kind: 'invalid'; reason: string };

/** Reads and writes the projection snapshot through lowdb. One write at a time (callers serialise). */
export class SnapshotStore {
  private readonly db: Low<SnapshotFile | null>;

  constructor(
    readonly path: string,
    sync: boolean,
  ) {
    this.db = new Low<SnapshotFile | null>(new DurableJsonFile<SnapshotFile | null>(path, sync), null);
  }

  async load(): Promise<SnapshotLoad> {
    try {
      await this.db.read();
    } catch (e) {
      return { kind: 'invalid', reason: `cannot be read or parsed (${(e as Error).message})` };
    }
    if (this.db.data === null) return { kind: 'none' };
    const parsed = SnapshotFile.safeParse(this.db.data);
    if (!parsed.success) return { kind: 'invalid', reason: `has an unexpected shape (${parsed.error.issues[0]?.message ?? 'invalid'})` };
    return { kind: 'ok', snapshot: parsed.data };
  }

  /** Serialises `data` synchronously (see DurableJsonFile), then replaces the file. */
  save(data: SnapshotFile): Promise<void> {
    this.db.data = data;
    const written = this.db.write();
    // The text is already produced; do not keep the projection states alive until the next save.
    this.db.data = null;
    return written;
  }
}
