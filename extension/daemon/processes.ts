import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RuntimeInfo } from '../../daemon/protocol';
import { isPidAlive, runtimeFilePath } from '../../daemon/client';
import type { SpawnPlan } from './spawnPlan';
import type { DaemonExit, LaunchedDaemon, RuntimeProbe } from './supervisor';

/**
 * The runtime file, read without blocking the extension host (every extension shares its event
 * loop). A missing, half-written or foreign file reads as "no daemon".
 */
export async function readRuntimeInfo(dataDir: string): Promise<RuntimeInfo | undefined> {
  let text: string;
  try {
    text = await readFile(runtimeFilePath(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = RuntimeInfo.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const runtimeProbe: RuntimeProbe = { read: readRuntimeInfo, isPidAlive };

/**
 * Start the daemon detached, in its own process group, with its output appended to the plan's log
 * file: it must outlive this window, so other windows keep using it, and must not be tied to our
 * stdio. Resolves once the OS started the process (rejects when e.g. the node binary is missing).
 */
export async function launchDetached(plan: SpawnPlan): Promise<LaunchedDaemon> {
  await mkdir(dirname(plan.logFile), { recursive: true, mode: 0o700 });
  const out = await open(plan.logFile, 'a', 0o600);
  try {
    await out.write(`\n--- ${new Date().toISOString()} started by the CogniForge extension ---\n`);
    const child = spawn(plan.command, [...plan.args], {
      detached: true,
      stdio: ['ignore', out.fd, out.fd],
      env: { ...plan.env },
      windowsHide: true,
    });
    const exited = new Promise<DaemonExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (e) => resolve({ code: null, signal: null, error: e.message }));
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    return { pid: child.pid, exited };
  } finally {
    // The child holds its own copy of the descriptor.
    await out.close();
  }
}

/** The last `maxLines` lines of a text file (reads at most its last 16 KiB); empty when unreadable. */
export async function readLogTail(file: string, maxLines = 20): Promise<string[]> {
  const tailBytes = 16 * 1024;
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, tailBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split(/\r?\n/);
    if (size > length) lines.shift();
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-maxLines);
  } finally {
    await handle.close();
  }
}
