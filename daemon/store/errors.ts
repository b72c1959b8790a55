/**
 * The event log holds a damaged record that is followed by valid data (or records that acknowledged
 * writes depend on are missing). Start-up stops with this error and changes nothing on disk, so the
 * operator can restore or inspect the file.
 */
export class StoreCorruptionError extends Error {
  constructor(
    /** Absolute path of the damaged segment file (or of the log directory when a whole range is missing). */
    readonly file: string,
    /** Byte offset of the damaged record in `file`. */
    readonly offset: number,
    readonly reason: string,
  ) {
    super(
      `Event log is corrupt: ${file} at byte offset ${offset}: ${reason}, and valid records follow it. ` +
        'Nothing was changed on disk. Restore the file from a backup, or move it aside to start without it.',
    );
    this.name = 'StoreCorruptionError';
  }
}
