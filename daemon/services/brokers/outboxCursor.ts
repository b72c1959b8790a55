import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import { writeFileAtomic } from '../shared/atomicFile';

const CursorFile = z.object({
  version: z.literal(1),
  /** Where the events went; a cursor for another destination does not count for this one. */
  target: z.string(),
  /** Newest event sequence number the broker acknowledged. */
  seq: z.number().int().min(0),
  updatedAt: z.string(),
});

export interface CursorLoad {
  cursor: OutboxCursor;
  /** Why the saved cursor was not used (another destination, unreadable file); absent when it was. */
  note?: string;
}

/**
 * The outbox's only state: the last log sequence number the broker acknowledged, in
 * `<dataDir>/broker-outbox.<kind>.json`. Saved by writing a temp file, fsync, rename, fsync of the
 * folder, so after a crash it is either the old or the new value, never torn. Events after it are
 * published again after a restart (at-least-once; they keep their event id).
 */
export class OutboxCursor {
  private current: number;
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    readonly target: string,
    seq: number,
  ) {
    this.current = seq;
  }

  static fileFor(dataDir: string, kind: string): string {
    return join(dataDir, `broker-outbox.${kind}.json`);
  }

  /** Read the cursor of `target`; starts at 0 (the whole log) when there is none for it. */
  static async load(file: string, target: string): Promise<CursorLoad> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { cursor: new OutboxCursor(file, target, 0) };
      throw e;
    }
    let parsed: z.ZodSafeParseResult<z.infer<typeof CursorFile>>;
    try {
      parsed = CursorFile.safeParse(JSON.parse(text));
    } catch {
      parsed = CursorFile.safeParse(undefined);
    }
    if (!parsed.success) {
      return { cursor: new OutboxCursor(file, target, 0), note: `${file} is unreadable; publishing the whole log again (duplicates keep their event ids)` };
    }
    if (parsed.data.target !== target) {
      return {
        cursor: new OutboxCursor(file, target, 0),
        note: `the outbox cursor was for ${parsed.data.target}; publishing the whole log to ${target}`,
      };
    }
    return { cursor: new OutboxCursor(file, target, parsed.data.seq) };
  }

  get seq(): number {
    return this.current;
  }

  /**
   * Make `seq` the durable cursor; `seq` (the getter) moves only once it is on disk, so what it
   * reports survives a crash. Saves are serialized in call order.
   */
  save(seq: number): Promise<void> {
    const next = this.saving.then(async () => {
      await this.write(seq);
      this.current = seq;
    });
    this.saving = next.catch(() => undefined);
    return next;
  }

  private async write(seq: number): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const body = JSON.stringify({ version: 1, target: this.target, seq, updatedAt: new Date().toISOString() }) + '\n';
    await writeFileAtomic(this.file, body);
  }
}
