import { crc32 } from 'node:zlib';

/**
 * On-disk record framing. Every event is one frame:
 *
 * | offset | size | field                                                       |
 * |--------|------|-------------------------------------------------------------|
 * | 0      | 4    | magic `0x31454643` (resynchronisation point after damage)   |
 * | 4      | 4    | body length in bytes                                        |
 * | 8      | 4    | CRC-32 of bytes 12 .. end of body                           |
 * | 12     | 8    | seq (f64)                                                   |
 * | 20     | 8    | time, epoch ms (f64)                                        |
 * | 28     | 4    | seq - first seq of the write round                          |
 * | 32     | 4    | last seq of the write round - seq                           |
 * | 36     | 2    | key length k                                                |
 * | 38     | 1    | priority rank (0 low .. 3 critical)                         |
 * | 39     | 1    | reserved, 0                                                 |
 * | 40     | k    | key: `type \n stream \n id`, UTF-8                          |
 * | 40 + k | n    | the EventRecord as UTF-8 JSON                               |
 *
 * All integers little-endian; body length = k + n. seq, time, round bounds and the key live outside
 * the JSON so start-up can walk, check and index the log without parsing JSON (parsing is the
 * dominant cost of reading a log). A write round (one group commit) may span several
 * retention-class files; the round bounds let recovery see that a round is incomplete and cut it
 * whole, which is what makes a multi-event append atomic across files.
 */
export const FRAME_MAGIC = 0x31454643;
export const FRAME_HEADER_BYTES = 40;
/** A single event larger than this is refused: it keeps a damaged length field from claiming the whole disk. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAGIC_BYTES = Buffer.alloc(4);
MAGIC_BYTES.writeUInt32LE(FRAME_MAGIC, 0);

export interface FrameHeader {
  bodyLength: number;
  keyLength: number;
  priority: number;
  seq: number;
  time: number;
  roundFirst: number;
  roundLast: number;
}

export interface EncodedEvent {
  seq: number;
  /** Epoch ms. */
  time: number;
  priority: number;
  /** `type \n stream \n id`. */
  key: string;
  keyBytes: number;
  json: string;
  jsonBytes: number;
}

/** Bytes the frame of an encoded event occupies. */
export const frameSize = (e: EncodedEvent): number => FRAME_HEADER_BYTES + e.keyBytes + e.jsonBytes;

/** The index key of an event: type, stream and id, which never contain a newline before the id. */
export const frameKey = (type: string, stream: string, id: string): string => `${type}\n${stream}\n${id}`;

/** Encode consecutive frames into one buffer (one write syscall per file per round). */
export function encodeFrames(events: readonly EncodedEvent[], roundFirst: number, roundLast: number): Buffer {
  let total = 0;
  for (const e of events) total += frameSize(e);
  const buf = Buffer.allocUnsafe(total);
  let off = 0;
  for (const e of events) {
    buf.writeUInt32LE(FRAME_MAGIC, off);
    buf.writeUInt32LE(e.keyBytes + e.jsonBytes, off + 4);
    buf.writeDoubleLE(e.seq, off + 12);
    buf.writeDoubleLE(e.time, off + 20);
    buf.writeUInt32LE(e.seq - roundFirst, off + 28);
    buf.writeUInt32LE(roundLast - e.seq, off + 32);
    buf.writeUInt16LE(e.keyBytes, off + 36);
    buf[off + 38] = e.priority;
    buf[off + 39] = 0;
    const keyAt = off + FRAME_HEADER_BYTES;
    buf.write(e.key, keyAt, 'utf8');
    const end = keyAt + e.keyBytes + buf.write(e.json, keyAt + e.keyBytes, 'utf8');
    buf.writeUInt32LE(crc32(buf.subarray(off + 12, end)), off + 8);
    off = end;
  }
  return buf;
}

export type FrameCheck =
  | { ok: true; header: FrameHeader; end: number }
  | { ok: false; reason: string; /** True when the frame runs past the end of the data (a torn write). */ incomplete: boolean };

/** Read a frame header at `off` without verifying the checksum (used to hop over records already covered). */
export function readHeader(buf: Buffer, off: number): FrameCheck {
  if (buf.length - off < FRAME_HEADER_BYTES) return { ok: false, reason: 'incomplete frame header', incomplete: true };
  if (buf.readUInt32LE(off) !== FRAME_MAGIC) return { ok: false, reason: 'bad frame marker', incomplete: false };
  const bodyLength = buf.readUInt32LE(off + 4);
  if (bodyLength > MAX_BODY_BYTES) return { ok: false, reason: `implausible record length ${bodyLength}`, incomplete: false };
  const end = off + FRAME_HEADER_BYTES + bodyLength;
  if (end > buf.length) return { ok: false, reason: 'incomplete frame (file ends inside the record)', incomplete: true };
  const seq = buf.readDoubleLE(off + 12);
  const time = buf.readDoubleLE(off + 20);
  const roundFirst = seq - buf.readUInt32LE(off + 28);
  const roundLast = seq + buf.readUInt32LE(off + 32);
  const keyLength = buf.readUInt16LE(off + 36);
  const priority = buf[off + 38]!;
  if (!Number.isSafeInteger(seq) || seq < 1 || !Number.isFinite(time) || keyLength > bodyLength || priority > 3) {
    return { ok: false, reason: 'implausible header fields', incomplete: false };
  }
  return { ok: true, header: { bodyLength, keyLength, priority, seq, time, roundFirst, roundLast }, end };
}

/** Read and verify a frame (header and checksum) at `off`. */
export function checkFrame(buf: Buffer, off: number): FrameCheck {
  const h = readHeader(buf, off);
  if (!h.ok) return h;
  if (crc32(buf.subarray(off + 12, h.end)) !== buf.readUInt32LE(off + 8)) {
    return { ok: false, reason: 'checksum mismatch', incomplete: false };
  }
  return h;
}

/** The JSON text of the verified frame at `off`. */
export const frameJson = (buf: Buffer, off: number, end: number): string =>
  buf.toString('utf8', off + FRAME_HEADER_BYTES + buf.readUInt16LE(off + 36), end);

/** Type, stream and id of the verified frame at `off`, without parsing its JSON. */
export function readFrameKey(buf: Buffer, off: number): { type: string; stream: string; id: string } {
  const at = off + FRAME_HEADER_BYTES;
  const key = buf.toString('utf8', at, at + buf.readUInt16LE(off + 36));
  const a = key.indexOf('\n');
  const b = key.indexOf('\n', a + 1);
  return { type: key.slice(0, a), stream: key.slice(a + 1, b), id: key.slice(b + 1) };
}

/**
 * Offset of the next frame after `from` that verifies, or -1. Used after damage to tell a torn tail
 * (nothing valid follows) from a corrupt record in the middle (valid data follows).
 */
export function findNextValidFrame(buf: Buffer, from: number): { offset: number; header: FrameHeader } | undefined {
  let at = from;
  for (;;) {
    const idx = buf.indexOf(MAGIC_BYTES, at);
    if (idx < 0) return undefined;
    const c = checkFrame(buf, idx);
    if (c.ok) return { offset: idx, header: c.header };
    at = idx + 1;
  }
}
