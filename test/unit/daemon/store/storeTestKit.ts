import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import type { FileEventStore, OpenStoreOptions } from '../../../../daemon/store';
import { DEFAULT_STREAMS, openStore } from '../../../../daemon/store';
import { readHeader } from '../../../../daemon/store/framing';
import type { EventRecord, Projection } from '../../../../daemon/store/types';

/** Counts events per type and remembers the last seq: enough to see replay and snapshot restore. */
export class CountingProjection implements Projection {
  counts: Record<string, number> = {};
  lastSeq = 0;
  applied = 0;

  constructor(readonly name = 'counting') {}

  apply(event: EventRecord): void {
    this.counts[event.type] = (this.counts[event.type] ?? 0) + 1;
    this.lastSeq = event.seq;
    this.applied++;
  }

  snapshot(): unknown {
    return { counts: this.counts, lastSeq: this.lastSeq };
  }

  restore(state: unknown): void {
    const s = state as { counts: Record<string, number>; lastSeq: number };
    this.counts = { ...s.counts };
    this.lastSeq = s.lastSeq;
  }

  reset(): void {
    this.counts = {};
    this.lastSeq = 0;
  }

  total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}

export interface Harness {
  dir: string;
  clock: ManualClock;
  logs: { level: string; message: string }[];
  open(extra?: Partial<OpenStoreOptions>): Promise<FileEventStore>;
  /** Remove `dir` at cleanup too. */
  track(dir: string): void;
  cleanup(): Promise<void>;
}

export async function makeHarness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'cf-store-'));
  const clock = new ManualClock();
  const logs: { level: string; message: string }[] = [];
  const opened: FileEventStore[] = [];
  const extraDirs: string[] = [];
  return {
    dir,
    clock,
    logs,
    async open(extra = {}) {
      const store = await openStore({
        dataDir: dir,
        clock,
        streams: DEFAULT_STREAMS,
        projections: [],
        log: (level, message) => logs.push({ level, message }),
        ...extra,
      });
      opened.push(store);
      return store;
    },
    track(d) {
      extraDirs.push(d);
    },
    async cleanup() {
      for (const s of opened) await s.close();
      for (const d of [dir, ...extraDirs]) await rm(d, { recursive: true, force: true });
    },
  };
}

export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'log'))).filter((f) => f.endsWith('.seg')).sort();
}

/** sha256 of every file under log/ and snapshots/, to prove start-up changed nothing. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const sub of ['log', 'snapshots']) {
    for (const f of await readdir(join(dir, sub))) {
      out[`${sub}/${f}`] = createHash('sha256').update(await readFile(join(dir, sub, f))).digest('hex');
    }
  }
  return out;
}

export async function readAll(store: FileEventStore, afterSeq = 0): Promise<EventRecord[]> {
  const out: EventRecord[] = [];
  for await (const e of store.readFrom(afterSeq)) out.push(e);
  return out;
}

/** Offsets of the frames in a segment file. */
export async function framesOf(path: string): Promise<{ offset: number; end: number; seq: number }[]> {
  const buf = await readFile(path);
  const out: { offset: number; end: number; seq: number }[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const h = readHeader(buf, pos);
    if (!h.ok) break;
    out.push({ offset: pos, end: h.end, seq: h.header.seq });
    pos = h.end;
  }
  return out;
}

/** Copy the data dir as the disk holds it right now: what a crash (kill -9) leaves behind. */
export async function crashImage(dir: string): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), 'cf-crash-'));
  await cp(dir, copy, { recursive: true });
  return copy;
}
