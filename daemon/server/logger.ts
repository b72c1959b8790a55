import type { Clock } from '../services/shared/clock';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Extra fields of a log line. Never put request params or event payloads here: they may hold secrets. */
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether a level would be written (skip building expensive messages). */
  enabled(level: LogLevel): boolean;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function formatValue(v: string | number | boolean): string {
  return typeof v === 'string' && /^[\w./:@-]+$/.test(v) ? v : JSON.stringify(v);
}

/**
 * One line per entry: `2026-11-27T17:14:00.000Z INFO listening on ws://127.0.0.1:5000/rpc port=5000`.
 * Newlines in messages are escaped so every entry stays one line.
 */
export function createLogger(options: { level: LogLevel; clock: Clock; write: (line: string) => void }): Logger {
  const min = RANK[options.level];
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    let line = `${new Date(options.clock.now()).toISOString()} ${level.toUpperCase()} ${msg.replace(/\r?\n/g, '\\n')}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${formatValue(v)}`;
    }
    options.write(line + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (level) => RANK[level] >= min,
  };
}

/** A logger that drops everything (unit tests that do not look at logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  enabled: () => false,
};
