import { isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_PORT } from '../../daemon/protocol';
import type { DaemonSettings } from './spawnPlan';

/** The `cogniforge.daemon.*` values as the configuration returned them: anything a user may type. */
export interface RawDaemonSettings {
  readonly port?: unknown;
  readonly dataDir?: unknown;
  readonly autoStart?: unknown;
  readonly nodePath?: unknown;
}

export interface ResolvedDaemonSettings {
  readonly settings: DaemonSettings;
  /** One line per value that was invalid and replaced by its default. */
  readonly warnings: string[];
}

/**
 * Defaults and validation of the daemon settings. An empty data dir means the shared default (so
 * every window and the CLI meet on one daemon); `~` expands to the home dir; a relative path is
 * taken from the home dir, never from whatever the extension host's cwd is.
 */
export function resolveDaemonSettings(
  raw: RawDaemonSettings,
  env: { readonly defaultDataDir: string; readonly home: string },
): ResolvedDaemonSettings {
  const warnings: string[] = [];

  let port = DEFAULT_PORT;
  if (raw.port !== undefined) {
    if (typeof raw.port === 'number' && Number.isInteger(raw.port) && raw.port >= 0 && raw.port <= 65535) port = raw.port;
    else warnings.push(`cogniforge.daemon.port must be an integer 0..65535 (got ${JSON.stringify(raw.port)}); using ${DEFAULT_PORT}.`);
  }

  let dataDir = env.defaultDataDir;
  if (typeof raw.dataDir === 'string' && raw.dataDir.trim() !== '') {
    const typed = raw.dataDir.trim();
    const expanded = typed === '~' ? env.home : typed.startsWith('~/') || typed.startsWith('~\\') ? join(env.home, typed.slice(2)) : typed;
    dataDir = isAbsolute(expanded) ? resolve(expanded) : resolve(env.home, expanded);
  } else if (raw.dataDir !== undefined && typeof raw.dataDir !== 'string') {
    warnings.push('cogniforge.daemon.dataDir must be a path; using the default data dir.');
  }

  let autoStart = true;
  if (typeof raw.autoStart === 'boolean') autoStart = raw.autoStart;
  else if (raw.autoStart !== undefined) warnings.push('cogniforge.daemon.autoStart must be true or false; using true.');

  let nodePath = '';
  if (typeof raw.nodePath === 'string') nodePath = raw.nodePath.trim();
  else if (raw.nodePath !== undefined && raw.nodePath !== null) warnings.push('cogniforge.daemon.nodePath must be a path; ignoring it.');

  return { settings: { port, dataDir, autoStart, nodePath }, warnings };
}
