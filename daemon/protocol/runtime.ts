import * as z from 'zod';

/**
 * The runtime file `<dataDir>/daemon.json`, mode 0600, written by a started daemon and removed on a
 * clean stop. Clients find the daemon (port) and authenticate (owner token) through it.
 */
export const RuntimeInfo = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  port: z.number().int().min(1).max(65535),
  /** Owner token: 256 random bits, base64url. */
  token: z.string().min(32),
  protocolVersion: z.string(),
  daemonVersion: z.string(),
  startedAt: z.string(),
});
export type RuntimeInfo = z.infer<typeof RuntimeInfo>;

export const RUNTIME_FILE = 'daemon.json';
/** Held (O_EXCL, contains the pid) while a daemon runs on the data dir. */
export const LOCK_FILE = 'daemon.lock';
/** Default TCP port, the one the original system documented. */
export const DEFAULT_PORT = 5000;
