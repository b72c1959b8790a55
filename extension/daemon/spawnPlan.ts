import { join } from 'node:path';

/** The daemon settings as the user configured them (`cogniforge.daemon.*`), already defaulted. */
export interface DaemonSettings {
  /** TCP port for a daemon this window starts; 0 lets the OS pick a free one. */
  readonly port: number;
  /** Absolute data dir shared by every window and client. */
  readonly dataDir: string;
  /** Start a daemon when none runs on the data dir. */
  readonly autoStart: boolean;
  /** A `node` binary to run the daemon with; empty = the editor's own runtime. */
  readonly nodePath: string;
}

export interface SpawnPlan {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where the daemon's stdout and stderr go (appended). */
  readonly logFile: string;
}

export interface SpawnPlanInput {
  readonly settings: DaemonSettings;
  /** Absolute path of dist/daemon.js inside the installed extension. */
  readonly daemonScript: string;
  /** `process.execPath` of the extension host: Electron in desktop VS Code, node in code-server. */
  readonly execPath: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** File the spawned daemon's output is appended to, inside the data dir. */
export const DAEMON_LOG_FILE = 'daemon.log';

/**
 * How to start the daemon. In desktop VS Code `execPath` is the Electron binary, which behaves as
 * plain Node only with ELECTRON_RUN_AS_NODE=1; a user-configured node must not inherit that flag
 * (it is meaningless there and would leak into the daemon's own children).
 */
export function computeSpawnPlan(input: SpawnPlanInput): SpawnPlan {
  const { settings } = input;
  const nodePath = settings.nodePath.trim();
  const env: Record<string, string | undefined> = { ...input.env };
  let command: string;
  if (nodePath !== '') {
    command = nodePath;
    delete env.ELECTRON_RUN_AS_NODE;
  } else {
    command = input.execPath;
    env.ELECTRON_RUN_AS_NODE = '1';
  }
  if (!Number.isInteger(settings.port) || settings.port < 0 || settings.port > 65535) {
    throw new RangeError(`cogniforge.daemon.port must be an integer 0..65535, got ${settings.port}`);
  }
  return {
    command,
    args: [input.daemonScript, '--port', String(settings.port), '--data-dir', settings.dataDir],
    env,
    logFile: join(settings.dataDir, DAEMON_LOG_FILE),
  };
}
