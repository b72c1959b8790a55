import { existsSync, readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join, resolve } from 'node:path';
import { parse as parseDotEnv } from 'dotenv';
import * as z from 'zod';
import { version as packageVersion } from '../package.json';
import { defaultDataDir } from './client/paths';
import { DEFAULT_PORT, MAX_BATCH, PROTOCOL_VERSION } from './protocol';
import type { LogLevel } from './server/logger';

/** Version of this daemon build (the npm package version). */
export const DAEMON_VERSION: string = packageVersion;

/** Everything the daemon process is configured with, after flags, env and `.env` were merged. */
export interface DaemonConfig {
  /** TCP port; 0 = any free port (the runtime file says which). */
  port: number;
  /** Loopback address to bind. */
  host: string;
  /** Absolute path of the data dir (event log, snapshots, runtime file). */
  dataDir: string;
  /** Largest accepted WebSocket message or HTTP body, bytes. */
  maxMessageBytes: number;
  /** Per-connection token bucket: refill rate (requests/s; 0 = no limit) and bucket size (requests). */
  rateLimit: { perSecond: number; burst: number };
  /** Interval between heartbeat pings, ms; a peer that misses one is terminated. */
  heartbeatMs: number;
  /** A connection whose unsent bytes exceed this is closed as a slow consumer, bytes. */
  maxSendBufferBytes: number;
  /** Share one fdatasync among concurrent appends. Off only for benchmarks. */
  groupCommit: boolean;
  /** fdatasync at all. Off only for benchmarks. */
  fsync: boolean;
  /** Snapshot the projections every this many appended events. */
  snapshotEvery: number;
  logLevel: LogLevel;
  /** Check every handler result against its result schema (a bug becomes InternalError). */
  validateResults: boolean;
}

export type ConfigOutcome =
  | { action: 'run'; config: DaemonConfig }
  | { action: 'help'; text: string }
  | { action: 'version'; text: string };

/** A bad flag or variable. `main` prints the message and exits with code 2. */
export class ConfigError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const MiB = 1024 * 1024;

const LOOPBACK_HINT = (port: number) =>
  `cogniforged only listens on loopback addresses (127.0.0.0/8, ::1, localhost). ` +
  `For remote use, tunnel over SSH instead: ssh -L ${port}:127.0.0.1:${port} host`;

/** 127.0.0.0/8, ::1 (also bracketed) and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '[::1]' || h === '0:0:0:0:0:0:0:1') return true;
  return isIPv4(h) && h.startsWith('127.');
}

/** `4194304`, `512KiB`, `4MiB`, `4M`, `1GiB`. */
function parseByteSize(text: string): number | undefined {
  const m = /^(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const factor = unit === 'k' ? 1024 : unit === 'm' ? MiB : unit === 'g' ? 1024 * MiB : 1;
  return Number(m[1]) * factor;
}

const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const byteSize = (min: number, max: number) =>
  z
    .string()
    .transform((s, ctx) => {
      const n = parseByteSize(s);
      if (n === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be a byte count such as 4194304 or 4MiB' });
        return z.NEVER;
      }
      return n;
    })
    .pipe(z.number().min(min, `must be at least ${min} bytes`).max(max, `must be at most ${max} bytes`));

const booleanText = z
  .string()
  .trim()
  .toLowerCase()
  .refine((s) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(s), 'must be true or false')
  .transform((s) => ['1', 'true', 'yes', 'on'].includes(s));

interface OptionSpec {
  flag: string;
  env?: string;
  /** Takes a value (`--port 5000` / `--port=5000`) or is a switch. */
  takesValue: boolean;
  help: string;
  valueName?: string;
}

const OPTIONS = {
  port: { flag: '--port', env: 'COGNIFORGE_PORT', takesValue: true, valueName: 'N', help: `TCP port (default ${DEFAULT_PORT}; 0 = any free port, written to the runtime file)` },
  host: { flag: '--host', env: 'COGNIFORGE_HOST', takesValue: true, valueName: 'ADDR', help: 'loopback address to bind (default 127.0.0.1; 127.0.0.0/8, ::1, localhost only)' },
  dataDir: { flag: '--data-dir', env: 'COGNIFORGE_DATA_DIR', takesValue: true, valueName: 'DIR', help: `event log, snapshots and runtime file (default ${defaultDataDir({}, process.platform)})` },
  maxMessageBytes: { flag: '--max-message-bytes', env: 'COGNIFORGE_MAX_MESSAGE_BYTES', takesValue: true, valueName: 'BYTES', help: 'largest WebSocket message or HTTP body (default 4MiB)' },
  rateLimit: { flag: '--rate-limit', env: 'COGNIFORGE_RATE_LIMIT', takesValue: true, valueName: 'N', help: 'requests per second per connection (default 50000; 0 = unlimited)' },
  rateBurst: { flag: '--rate-burst', env: 'COGNIFORGE_RATE_BURST', takesValue: true, valueName: 'N', help: `requests a connection may send at once above the rate (default max(2 x rate, ${MAX_BATCH}))` },
  heartbeatMs: { flag: '--heartbeat-ms', env: 'COGNIFORGE_HEARTBEAT_MS', takesValue: true, valueName: 'MS', help: 'ping interval; a peer that misses a pong is dropped (default 30000)' },
  maxSendBufferBytes: { flag: '--max-send-buffer-bytes', env: 'COGNIFORGE_MAX_SEND_BUFFER_BYTES', takesValue: true, valueName: 'BYTES', help: 'unsent bytes after which a slow client is disconnected (default 8MiB)' },
  logLevel: { flag: '--log-level', env: 'COGNIFORGE_LOG_LEVEL', takesValue: true, valueName: 'LEVEL', help: 'debug | info | warn | error (default info)' },
  validateResults: { flag: '--validate-results', env: 'COGNIFORGE_VALIDATE_RESULTS', takesValue: false, help: 'check every result against its schema (default on when NODE_ENV is test or development)' },
  snapshotEvery: { flag: '--snapshot-every', env: 'COGNIFORGE_SNAPSHOT_EVERY', takesValue: true, valueName: 'N', help: 'snapshot the projections every N appended events (default 10000)' },
  noGroupCommit: { flag: '--no-group-commit', takesValue: false, help: 'one fdatasync per append (benchmarks only)' },
  noFsync: { flag: '--no-fsync', takesValue: false, help: 'never fdatasync: acknowledged events can be lost (benchmarks only)' },
  help: { flag: '--help', takesValue: false, help: 'show this help' },
  version: { flag: '--version', takesValue: false, help: 'print the version' },
} satisfies Record<string, OptionSpec>;

type OptionName = keyof typeof OPTIONS;

const byFlag = new Map<string, OptionName>(
  Object.entries(OPTIONS).map(([name, spec]) => [spec.flag, name as OptionName]),
);
byFlag.set('-h', 'help');
byFlag.set('-v', 'version');

export function helpText(): string {
  const rows = Object.values(OPTIONS as Record<string, OptionSpec>).map((o) => {
    const left = `  ${o.flag}${o.takesValue ? ` ${o.valueName ?? 'VALUE'}` : ''}`;
    const env = o.env ? ` [env ${o.env}]` : '';
    return `${left.padEnd(34)}${o.help}${env}`;
  });
  return [
    `cogniforged ${DAEMON_VERSION}: the CogniForge daemon (protocol ${PROTOCOL_VERSION})`,
    '',
    'Usage: cogniforged [options]',
    '',
    'Options:',
    ...rows,
    '',
    'Variables may also come from a .env file in the current directory; real environment variables win.',
    'Remote use: the daemon never listens beyond loopback; use ssh -L 5000:127.0.0.1:5000 host.',
  ].join('\n');
}

function readArgv(argv: readonly string[]): { values: Map<OptionName, string>; switches: Set<OptionName> } {
  const values = new Map<OptionName, string>();
  const switches = new Set<OptionName>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const name = byFlag.get(flag);
    if (!name) {
      throw new ConfigError(
        arg.startsWith('-') ? `unknown option ${flag} (see --help)` : `unexpected argument "${arg}" (see --help)`,
      );
    }
    const spec: OptionSpec = OPTIONS[name];
    if (!spec.takesValue) {
      if (eq > 0) throw new ConfigError(`${flag} takes no value`);
      switches.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value (${spec.valueName ?? 'VALUE'})`);
    values.set(name, value);
  }
  return { values, switches };
}

/**
 * Turn command-line arguments (without `node script`) and an environment into a config. Pure: the
 * caller merges `.env` into `env` first (see `loadDotEnv`). Throws ConfigError naming the bad flag or
 * variable.
 */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ConfigOutcome {
  const { values, switches } = readArgv(argv);
  if (switches.has('help')) return { action: 'help', text: helpText() };
  if (switches.has('version')) return { action: 'version', text: `cogniforged ${DAEMON_VERSION} (protocol ${PROTOCOL_VERSION})` };

  /** The flag's value if given, else the env variable's; labelled with where it came from. */
  const raw = (name: OptionName): { value: string; source: string } | undefined => {
    const spec: OptionSpec = OPTIONS[name];
    const fromFlag = values.get(name);
    if (fromFlag !== undefined) return { value: fromFlag, source: spec.flag };
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: spec.env! };
    return undefined;
  };

  function read<T>(name: OptionName, schema: z.ZodType<T, string>, fallback: T): T {
    const r = raw(name);
    if (!r) return fallback;
    const parsed = schema.safeParse(r.value);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => i.message).join('; ');
      throw new ConfigError(`${r.source}: ${why} (got "${r.value}")`);
    }
    return parsed.data;
  }

  const port = read('port', integer(0, 65535), DEFAULT_PORT);
  const host = read('host', z.string().trim().min(1, 'must not be empty'), '127.0.0.1');
  if (!isLoopbackHost(host)) {
    const source = raw('host')!.source;
    throw new ConfigError(`${source}: refusing to listen on "${host}". ${LOOPBACK_HINT(port === 0 ? DEFAULT_PORT : port)}`);
  }
  const dataDirRaw = read('dataDir', z.string().trim().min(1, 'must not be empty'), defaultDataDir(env as NodeJS.ProcessEnv));
  const maxMessageBytes = read('maxMessageBytes', byteSize(1024, 256 * MiB), 4 * MiB);
  const perSecond = read('rateLimit', integer(0, 10_000_000), 50_000);
  const burst = read('rateBurst', integer(1, 10_000_000), Math.max(2 * perSecond, MAX_BATCH));
  const heartbeatMs = read('heartbeatMs', integer(50, 3_600_000), 30_000);
  const maxSendBufferBytes = read('maxSendBufferBytes', byteSize(64 * 1024, 1024 * MiB), 8 * MiB);
  const snapshotEvery = read('snapshotEvery', integer(100, 100_000_000), 10_000);
  const logLevel = read('logLevel', z.enum(['debug', 'info', 'warn', 'error'], 'must be debug, info, warn or error'), 'info');
  const validateDefault = env.NODE_ENV === 'test' || env.NODE_ENV === 'development';
  const validateResults = switches.has('validateResults') ? true : read('validateResults', booleanText, validateDefault);

  return {
    action: 'run',
    config: {
      port,
      host: host === '[::1]' ? '::1' : host,
      dataDir: resolve(dataDirRaw),
      maxMessageBytes,
      rateLimit: { perSecond, burst },
      heartbeatMs,
      maxSendBufferBytes,
      groupCommit: !switches.has('noGroupCommit'),
      fsync: !switches.has('noFsync'),
      snapshotEvery,
      logLevel,
      validateResults,
    },
  };
}

/**
 * The environment with `<cwd>/.env` merged underneath: variables already set in the real environment
 * win. Throws ConfigError when the file exists but cannot be read.
 */
export function loadDotEnv(cwd: string, env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const file = join(cwd, '.env');
  if (!existsSync(file)) return { ...env };
  let parsed: Record<string, string>;
  try {
    parsed = parseDotEnv(readFileSync(file));
  } catch (e) {
    throw new ConfigError(`${file}: cannot read (${(e as Error).message})`);
  }
  return { ...parsed, ...env };
}
