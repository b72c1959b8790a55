import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_FILE, RUNTIME_FILE, RuntimeInfo } from '../protocol';

/** Another daemon holds the data dir. */
export class DataDirLockedError extends Error {
  constructor(
    readonly pid: number,
    readonly dataDir: string,
  ) {
    super(`another cogniforged (pid ${pid}) is running on ${dataDir}`);
    this.name = 'DataDirLockedError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export interface DataDirLock {
  /** Remove the lock file (only if it is still ours). Safe to call twice. */
  release(): void;
}

/**
 * Take `<dataDir>/daemon.lock` (created O_EXCL, holding our pid). A lock whose pid is alive means
 * another daemon runs there: DataDirLockedError. A lock left by a dead process is taken over.
 */
export function acquireDataDirLock(dataDir: string, pid = process.pid): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${pid}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e;
      const holder = readPid(path);
      if (holder !== undefined && holder !== pid && isAlive(holder)) throw new DataDirLockedError(holder, dataDir);
      // Stale (dead pid, our own pid from a previous life, or a half-written file): take it over.
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      if (readPid(path) !== pid) return;
      try {
        unlinkSync(path);
      } catch {
        // Already gone: nothing to release.
      }
    },
  };
}

/** Write `<dataDir>/daemon.json` atomically (temp file + rename) with mode 0600. */
export function writeRuntimeFile(dataDir: string, info: RuntimeInfo): string {
  const checked = RuntimeInfo.parse(info);
  const path = join(dataDir, RUNTIME_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    unlinkSync(tmp);
  } catch {
    // No leftover temp file.
  }
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(checked, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return path;
}

/** Remove the runtime file if it still describes this process. */
export function removeRuntimeFile(dataDir: string, pid = process.pid): void {
  const path = join(dataDir, RUNTIME_FILE);
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown };
    if (info.pid !== pid) return;
    unlinkSync(path);
  } catch {
    // Missing or unreadable: nothing of ours to remove.
  }
}
