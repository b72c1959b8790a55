/**
 * The event-sourced store: an append-only, checksummed event log with group commit, projection
 * snapshots in lowdb, retention by whole segments, and crash recovery.
 *
 * On disk, under `<dataDir>`:
 * - `log/<class>-<first seq, 16 digits>.seg`: segments. Streams with equal retention share a class
 *   (`keep`, `r7d`, `r14d`, ...); one global seq runs across all classes. Frames: see framing.ts.
 * - `snapshots/projections.json`: `{ seq, projections: { [name]: state }, log }`, replaced atomically.
 *
 * Guarantees: `append` resolves only after its bytes are fdatasync'ed, and only then are projections
 * applied and listeners called; a multi-event append is all-or-nothing across restarts; a torn end is
 * cut at start-up; damage followed by valid records stops start-up with StoreCorruptionError and
 * changes nothing; damage in records the snapshot covers is found in the background and raises a
 * `system.alert` event.
 *
 * Memory: the index (seq, time, type, stream, priority, file offset per event) and the id set are in
 * memory for every stored event; the events themselves only for the newest `eventCacheSize`
 * (default 200,000). Queries over those never touch the disk; older events are read by offset.
 */
import { FileEventStore } from './fileEventStore';
import type { OpenStoreOptions } from './fileEventStore';

export { FileEventStore } from './fileEventStore';
export type { OpenStoreOptions, StoreDiagnostics, StoreIoHooks } from './fileEventStore';
export { StoreCorruptionError } from './errors';
export { DEFAULT_STREAMS, DEFAULT_STREAM_NAME, compileTypePattern, matchesAnyTypePattern, matchesTypePattern } from './streams';
export type * from './types';

/**
 * Open (or create) the store in `options.dataDir`: load the snapshot into `options.projections`,
 * verify and replay the log after it, and start background verification of older segments.
 * Rejects with StoreCorruptionError when the log is damaged in a way that needs a human.
 */
export async function openStore(options: OpenStoreOptions): Promise<FileEventStore> {
  const store = new FileEventStore(options);
  await store.open();
  return store;
}
