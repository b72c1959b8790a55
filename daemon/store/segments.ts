import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { parseRetentionClassKey } from './streams';

/** Per-stream totals of one segment (or of the whole log). */
export interface StreamTally {
  events: number;
  /** Bytes of frames (header + body). */
  bytes: number;
  lastSeq: number;
  /** Epoch ms of the stream's newest event; 0 when none. */
  lastTime: number;
}

const SEQ_DIGITS = 16;

/** `<class>-<first seq, zero-padded>.seg`: sorting names of one class gives their order. */
export const segmentFileName = (classKey: string, firstSeq: number): string =>
  `${classKey}-${String(firstSeq).padStart(SEQ_DIGITS, '0')}.seg`;

export function parseSegmentFileName(name: string): { classKey: string; retentionDays: number | null; firstSeq: number } | undefined {
  const m = /^(.+)-(\d{16})\.seg$/.exec(name);
  if (!m) return undefined;
  const cls = parseRetentionClassKey(m[1]!);
  if (!cls) return undefined;
  return { classKey: m[1]!, retentionDays: cls.retentionDays, firstSeq: Number(m[2]) };
}

/** What a snapshot remembers about a segment, so start-up need not read records the snapshot covers. */
export const SegmentSummary = z.object({
  /** Bytes of records with seq <= the snapshot seq (all of them, when the summary was written). */
  size: z.number().int().min(0),
  records: z.number().int().min(0),
  lastSeq: z.number().int().min(0),
  firstTime: z.number().optional(),
  newestTime: z.number().optional(),
  /** name → [events, bytes, lastSeq, lastTime ms]. */
  streams: z.record(z.string(), z.tuple([z.number(), z.number(), z.number(), z.number()])),
});
export type SegmentSummary = z.infer<typeof SegmentSummary>;

/** One segment file of one retention class, with the bookkeeping retention and stats need. */
export class Segment {
  /** Committed bytes: every byte below this is a verified, applied record. */
  size = 0;
  records = 0;
  /** 0 while empty (or not yet known during background verification). */
  lastSeq = 0;
  /** Epoch ms of the first and newest record. */
  firstTime: number | undefined;
  newestTime: number | undefined;
  readonly streams = new Map<string, StreamTally>();
  /** False while records before the snapshot are not yet tallied (no summary; background pass pending). */
  statsComplete = true;
  /** Records in [0, preEnd) have seq <= the snapshot seq: they are verified and indexed in the background. */
  preEnd = 0;
  writeHandle: FileHandle | undefined;
  private readHandle: Promise<FileHandle> | undefined;
  dropped = false;

  constructor(
    readonly id: number,
    readonly dir: string,
    readonly file: string,
    readonly classKey: string,
    readonly retentionDays: number | null,
    /** The seq in the file name: no record of this class before it lives in a later file. */
    readonly firstSeqName: number,
  ) {}

  get path(): string {
    return join(this.dir, this.file);
  }

  tally(stream: string, bytes: number, seq: number, time: number): void {
    let t = this.streams.get(stream);
    if (!t) {
      t = { events: 0, bytes: 0, lastSeq: 0, lastTime: 0 };
      this.streams.set(stream, t);
    }
    t.events++;
    t.bytes += bytes;
    if (seq > t.lastSeq) {
      t.lastSeq = seq;
      t.lastTime = time;
    }
  }

  /** A read-only handle, opened on first use and kept until the segment is dropped or the store closes. */
  reader(): Promise<FileHandle> {
    this.readHandle ??= open(this.path, 'r');
    return this.readHandle;
  }

  summary(): SegmentSummary {
    const streams: SegmentSummary['streams'] = {};
    for (const [name, t] of this.streams) streams[name] = [t.events, t.bytes, t.lastSeq, t.lastTime];
    return {
      size: this.size,
      records: this.records,
      lastSeq: this.lastSeq,
      ...(this.firstTime === undefined ? {} : { firstTime: this.firstTime }),
      ...(this.newestTime === undefined ? {} : { newestTime: this.newestTime }),
      streams,
    };
  }

  adoptSummary(s: SegmentSummary): void {
    this.records = s.records;
    this.lastSeq = s.lastSeq;
    this.firstTime = s.firstTime;
    this.newestTime = s.newestTime;
    this.streams.clear();
    for (const [name, [events, bytes, lastSeq, lastTime]] of Object.entries(s.streams)) {
      this.streams.set(name, { events, bytes, lastSeq, lastTime });
    }
  }

  async closeHandles(): Promise<void> {
    const w = this.writeHandle;
    this.writeHandle = undefined;
    const r = this.readHandle;
    this.readHandle = undefined;
    await w?.close();
    // FileHandle.close() waits for reads still running on the handle, so no read lands on a reused fd.
    if (r) await r.then((h) => h.close(), () => undefined);
  }
}

/** fsync a directory so a created, renamed or removed entry survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Some platforms cannot fsync a directory; the entry is then as durable as the OS makes it.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw e;
  } finally {
    await fh?.close();
  }
}
