import { startDaemon, type RunningDaemon } from './app';
import { runGate } from './cli/gate';
import { ConfigError, DAEMON_VERSION, loadDotEnv, parseConfig } from './config';
import { PROTOCOL_VERSION } from './protocol';
import { createLogger, type Logger } from './server/logger';
import { DataDirLockedError, acquireDataDirLock, removeRuntimeFile, writeRuntimeFile, type DataDirLock } from './server/runtimeFiles';
import { PortInUseError } from './server/server';
import { systemClock } from './services/shared/clock';

/**
 * `cogniforged`: flags/env → data-dir lock → store → server → runtime file. Exit codes: 0 clean stop,
 * 1 could not start (lock held, port taken, store unreadable), 2 bad flags or variables.
 */
async function main(): Promise<number> {
  if (process.argv[2] === 'gate') {
    const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text);
    const code = await runGate(process.argv.slice(3), loadDotEnv(process.cwd(), process.env), { stdout: write(process.stdout), stderr: write(process.stderr) });
    // process.exit does not wait for piped output (asynchronous on macOS): drain both streams first.
    await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((done) => s.write('', () => done()))));
    return code;
  }
  let outcome: ReturnType<typeof parseConfig>;
  let env: Record<string, string | undefined>;
  try {
    env = loadDotEnv(process.cwd(), process.env);
    outcome = parseConfig(process.argv.slice(2), env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`cogniforged: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
  if (outcome.action !== 'run') {
    process.stdout.write(outcome.text + '\n');
    return 0;
  }
  const config = outcome.config;
  // A parent that dies closes our stderr pipe: writes then fail with EPIPE. Without this handler the
  // failed write is an uncaught exception whose log line fails again, in a loop that never stops.
  let stderrOpen = true;
  process.stderr.on('error', () => {
    stderrOpen = false;
  });
  const log = createLogger({
    level: config.logLevel,
    clock: systemClock,
    write: (line) => {
      if (stderrOpen) process.stderr.write(line);
    },
  });

  let lock: DataDirLock;
  try {
    lock = acquireDataDirLock(config.dataDir);
  } catch (e) {
    log.error(e instanceof DataDirLockedError ? e.message : `cannot lock the data dir ${config.dataDir}: ${(e as Error).message}`);
    return 1;
  }

  let daemon: RunningDaemon | undefined;
  let stopping = false;
  const shutdown = (reason: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    const finish = () => {
      removeRuntimeFile(config.dataDir);
      lock.release();
      process.exit(exitCode);
    };
    if (!daemon) return finish();
    daemon.stop(reason).then(finish, (e: unknown) => {
      log.error(`error while stopping: ${(e as Error).stack ?? String(e)}`);
      exitCode = 1;
      finish();
    });
  };
  installProcessHandlers(log, shutdown, () => stopping);

  try {
    daemon = await startDaemon(config, { log, env, onShutdownRequested: (reason) => shutdown(reason) });
  } catch (e) {
    lock.release();
    if (e instanceof PortInUseError) {
      log.error(`port ${e.port} is in use; choose another with --port or COGNIFORGE_PORT`);
    } else {
      log.error(`cannot start: ${(e as Error).message}`);
    }
    return 1;
  }

  try {
    writeRuntimeFile(config.dataDir, {
      pid: process.pid,
      host: config.host,
      port: daemon.port,
      token: daemon.ownerToken,
      protocolVersion: PROTOCOL_VERSION,
      daemonVersion: DAEMON_VERSION,
      startedAt: new Date(daemon.startedAt).toISOString(),
    });
  } catch (e) {
    log.error(`cannot write the runtime file in ${config.dataDir}: ${(e as Error).message}`);
    shutdown('runtime file not written', 1);
    return new Promise<number>(() => undefined);
  }
  const urlHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  log.info(`listening on ws://${urlHost}:${daemon.port}/rpc`, {
    version: DAEMON_VERSION,
    pid: process.pid,
    dataDir: config.dataDir,
    fsync: config.fsync,
    groupCommit: config.groupCommit,
  });
  // Keep running until a signal or daemon/shutdown calls process.exit.
  return new Promise<number>(() => undefined);
}

function installProcessHandlers(log: Logger, shutdown: (reason: string, exitCode?: number) => void, isStopping: () => boolean): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (isStopping()) {
        log.warn(`${signal} again while stopping: exiting now`);
        process.exit(1);
      }
      shutdown(signal);
    });
  }
  process.on('unhandledRejection', (reason) => {
    log.error(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  });
  process.on('uncaughtException', (e) => {
    log.error(`uncaught exception: ${e.stack ?? e.message}`);
    // Acknowledged writes are durable, so stopping is safe; carrying on with unknown state is not.
    shutdown('uncaught exception', 1);
  });
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`cogniforged: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
