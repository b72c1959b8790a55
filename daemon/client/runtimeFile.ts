import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTIME_FILE, RuntimeInfo } from '../protocol';

/** Path of the runtime file a daemon on `dataDir` writes (`<dataDir>/daemon.json`). */
export function runtimeFilePath(dataDir: string): string {
  return join(dataDir, RUNTIME_FILE);
}

/**
 * The runtime file of the daemon on `dataDir`, or undefined when there is none or it is not a valid
 * runtime file (half-written, from another version, hand-edited). Callers treat both as "not running":
 * a daemon that is starting rewrites the file atomically, so the next read sees the whole thing.
 */
export function readRuntimeFile(dataDir: string): RuntimeInfo | undefined {
  let text: string;
  try {
    text = readFileSync(runtimeFilePath(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = RuntimeInfo.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Whether a process with this pid exists. Signal 0 checks without signalling; EPERM means it exists
 * but belongs to another user, which still counts as alive.
 */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The ws URL of the daemon a runtime file describes. */
export function runtimeUrl(info: RuntimeInfo): string {
  const host = info.host.includes(':') ? `[${info.host}]` : info.host;
  return `ws://${host}:${info.port}/rpc`;
}
