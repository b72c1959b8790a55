import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { StoreCorruptionError } from './errors';
import type { FrameHeader } from './framing';
import { checkFrame, findNextValidFrame } from './framing';
import type { Segment, SegmentSummary } from './segments';

/** What start-up learned about one segment that may hold records after the snapshot. */
export interface TailScan {
  segment: Segment;
  fileSize: number;
  /** Absolute offset where verification started (end of what the snapshot covers). */
  start: number;
  /** Bytes [start, fileSize) when kept in memory for the replay; re-read otherwise. */
  buffer: Buffer | undefined;
  /** Records with seq > snapshot seq, in file order: seq, absolute offset, frame end, time (ms). */
  seqs: number[];
  offsets: number[];
  ends: number[];
  /** Header of the last record with seq > snapshot seq. */
  lastTail: FrameHeader | undefined;
  /** A damaged frame at the end of the newest segment of a class: cut there. */
  torn: { offset: number; reason: string } | undefined;
  /** Where the file will be truncated (torn tail or incomplete last round); undefined = keep. */
  cutAt: number | undefined;
  cutReason: string | undefined;
  /** True when the snapshot summary described the bytes before `start`. */
  summarised: boolean;
  /** End of the records with seq <= snapshot seq. */
  preEnd: number;
  /** Header of the newest record read with seq <= snapshot seq (only when the summary was not used). */
  preNewest: FrameHeader | undefined;
  firstTime: number | undefined;
}

export interface ScanInput {
  segment: Segment;
  fileSize: number;
  /** True for the newest segment of its retention class (the only place a torn write can be). */
  newestOfClass: boolean;
  summary: SegmentSummary | undefined;
}

/** Bytes [start, end) of a file (fewer if it is shorter). */
export async function readRange(path: string, start: number, end: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(end - start);
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
      if (bytesRead === 0) return buf.subarray(0, off);
      off += bytesRead;
    }
    return buf;
  } finally {
    await fh?.close();
  }
}

/**
 * Verify every record after the snapshot seq in one segment. Records at or before it are only
 * walked (or skipped entirely when the snapshot summary says where they end); the background pass
 * verifies them. Throws StoreCorruptionError for damage followed by valid data, or for damage in a
 * segment that is not the newest of its class (sealed segments were durable before the next opened).
 */
export async function scanSegment(input: ScanInput, snapshotSeq: number, keepBuffer: boolean): Promise<TailScan> {
  const { segment, fileSize } = input;
  const useSummary = input.summary !== undefined && input.summary.size <= fileSize && segment.firstSeqName <= snapshotSeq;
  const scan = await scanFrom(input, snapshotSeq, useSummary ? input.summary!.size : 0, useSummary, keepBuffer);
  if (scan === 'summary-mismatch') return (await scanFrom(input, snapshotSeq, 0, false, keepBuffer)) as TailScan;
  return scan;
}

async function scanFrom(
  input: ScanInput,
  snapshotSeq: number,
  start: number,
  summarised: boolean,
  keepBuffer: boolean,
): Promise<TailScan | 'summary-mismatch'> {
  const { segment, fileSize } = input;
  const buf = fileSize > start ? await readRange(segment.path, start, fileSize) : Buffer.alloc(0);
  const scan: TailScan = {
    segment,
    fileSize: start + buf.length,
    start,
    buffer: undefined,
    seqs: [],
    offsets: [],
    ends: [],
    lastTail: undefined,
    torn: undefined,
    cutAt: undefined,
    cutReason: undefined,
    summarised,
    preEnd: start,
    preNewest: undefined,
    firstTime: summarised ? input.summary!.firstTime : undefined,
  };
  let pos = 0;
  let prevSeq = summarised ? input.summary!.lastSeq : 0;
  while (pos < buf.length) {
    const c = checkFrame(buf, pos);
    if (c.ok) {
      const h = c.header;
      if (h.seq <= prevSeq) {
        if (summarised && scan.seqs.length === 0) return 'summary-mismatch';
        throw new StoreCorruptionError(segment.path, start + pos, `record seq ${h.seq} is not after the previous record's ${prevSeq}`);
      }
      prevSeq = h.seq;
      scan.firstTime ??= h.time;
      if (h.seq <= snapshotSeq) {
        if (summarised) return 'summary-mismatch';
        scan.preEnd = start + c.end;
        scan.preNewest = h;
      } else {
        scan.seqs.push(h.seq);
        scan.offsets.push(start + pos);
        scan.ends.push(start + c.end);
        scan.lastTail = h;
      }
      pos = c.end;
      continue;
    }
    const next = findNextValidFrame(buf, pos + 1);
    if (next) {
      if (next.header.seq <= snapshotSeq && !summarised) {
        // Damage among records the snapshot already covers: the background pass raises the alert.
        pos = next.offset;
        continue;
      }
      throw new StoreCorruptionError(segment.path, start + pos, `${c.reason}; valid records follow it`);
    }
    if (!input.newestOfClass) {
      throw new StoreCorruptionError(segment.path, start + pos, `${c.reason} in a sealed segment; later segments hold newer records`);
    }
    scan.torn = { offset: start + pos, reason: c.reason };
    break;
  }
  if (keepBuffer) scan.buffer = buf;
  return scan;
}

/**
 * Decide what to cut: a torn frame, and the newest write round when any of its records is missing
 * (a crash between its writes to different class files). Only the newest round can be incomplete:
 * a round is written only after the previous one is durable, and retention never drops a segment
 * holding the newest round.
 */
export function planCuts(scans: TailScan[]): { round: { first: number; last: number } | undefined; cutRound: boolean } {
  for (const s of scans) {
    if (s.torn) {
      s.cutAt = s.torn.offset;
      s.cutReason = `torn final record (${s.torn.reason})`;
    }
  }
  let newest: FrameHeader | undefined;
  for (const s of scans) if (s.lastTail && (!newest || s.lastTail.seq > newest.seq)) newest = s.lastTail;
  if (!newest) return { round: undefined, cutRound: false };
  const { roundFirst, roundLast } = newest;
  let present = 0;
  for (const s of scans) {
    for (let i = s.seqs.length - 1; i >= 0 && s.seqs[i]! >= roundFirst; i--) present++;
  }
  if (present === roundLast - roundFirst + 1) return { round: { first: roundFirst, last: roundLast }, cutRound: false };
  for (const s of scans) {
    let i = s.seqs.length;
    while (i > 0 && s.seqs[i - 1]! >= roundFirst) i--;
    if (i < s.seqs.length) {
      const at = s.offsets[i]!;
      if (s.cutAt === undefined || at < s.cutAt) {
        s.cutAt = at;
        s.cutReason = `incomplete last write (records ${roundFirst}..${roundLast}, never acknowledged)`;
      }
    }
  }
  return { round: { first: roundFirst, last: roundLast }, cutRound: true };
}

/** Drop the records at or after each scan's cut point from its lists. */
export function applyCutsToScans(scans: TailScan[]): void {
  for (const s of scans) {
    if (s.cutAt === undefined) continue;
    let n = s.offsets.length;
    while (n > 0 && s.offsets[n - 1]! >= s.cutAt) n--;
    s.seqs.length = n;
    s.offsets.length = n;
    s.ends.length = n;
  }
}
