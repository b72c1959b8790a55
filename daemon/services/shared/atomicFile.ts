import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

let asyncWrites = 0;

/**
 * Write `text` to `path` durably: a temp file beside it, fsync, rename over, fsync the directory.
 * Synchronous, so two writes of one file never interleave and a crash leaves the old or the new file.
 */
export function writeFileAtomicSync(path: string, text: string, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/**
 * `writeFileAtomicSync` off the event loop (the fsyncs run on libuv's pool, so big files do not
 * stall other calls). Callers that write one file more than once chain their writes.
 */
export async function writeFileAtomic(path: string, data: string | readonly Buffer[], mode = 0o600): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-a${++asyncWrites}`;
  const fh = await open(tmp, 'w', mode);
  try {
    const parts = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data;
    const total = parts.reduce((n, p) => n + p.length, 0);
    const { bytesWritten } = await fh.writev(parts as Buffer[]);
    if (bytesWritten !== total) throw new Error(`short write to ${tmp}: ${bytesWritten} of ${total} bytes`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
