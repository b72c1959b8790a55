import { ConfigHistory, DidChangeConfig, GetConfig, ListConfig, type ConfigEntry, type NotificationParamsOf } from '../protocol';
import type { DaemonClient, Disposable } from './daemonClient';

export interface LiveConfigOptions {
  environment: string;
  /**
   * Hold sensitive values in clear too (each is fetched with `config/get` + `reveal`, which needs an
   * admin-scope token). Without it a sensitive key reads as undefined; its changes are still reported.
   */
  reveal?: boolean;
  /** Where refresh failures go (they are retried on the next reconnect). */
  onError?: (error: Error) => void;
}

/** One change of a key as the live getter saw it. */
export interface LiveConfigChange {
  environment: string;
  key: string;
  /** The key's new version (for a deletion, its tombstone version). */
  version: number;
  op: 'set' | 'delete';
  sensitive: boolean;
  /** New value; undefined for a deletion or a sensitive value without `reveal`. */
  value: unknown;
  /** Value before the change, as the getter held it. */
  previous: unknown;
}

/** A local, always-current copy of one environment's configuration. */
export interface LiveConfig extends Disposable {
  readonly environment: string;
  /** The current value, synchronously from the local copy; undefined when absent (or sensitive without `reveal`). */
  get<T = unknown>(key: string): T | undefined;
  get<T>(key: string, fallback: T): T;
  has(key: string): boolean;
  /** The entry as the daemon described it (version, who, when, sensitive). */
  entry(key: string): ConfigEntry | undefined;
  keys(): string[];
  /** Every value as a plain object. */
  toObject(): Record<string, unknown>;
  /** Called after each change the getter applies, in the order it applies them. */
  onChange(callback: (change: LiveConfigChange) => void): Disposable;
  /** Fetch the whole environment again now (also done on every reconnect). */
  refresh(): Promise<void>;
}

interface Known {
  version: number;
  /** Event-log position of the version, to tell a deletion from a newer write after a refresh. */
  seq: number;
  entry?: ConfigEntry;
}

/**
 * Keep one environment's configuration in memory and current, so a service picks up a change
 * without a restart: `config/didChange` notifications apply as they arrive (a notification never
 * replaces a newer version), and after every reconnect the environment is fetched again, which
 * covers changes made while the connection (or the daemon) was down.
 *
 * ```ts
 * const cfg = await liveConfig(client, { environment: 'production' });
 * const timeout = cfg.get('timeout_ms', 3000);
 * cfg.onChange((c) => log(`${c.key} is now ${String(c.value)}`));
 * ```
 */
export async function liveConfig(client: DaemonClient, options: LiveConfigOptions): Promise<LiveConfig> {
  const live = new LiveConfigImpl(client, options);
  try {
    await live.refresh();
  } catch (e) {
    live.dispose();
    throw e;
  }
  live.loaded = true;
  return live;
}

class LiveConfigImpl implements LiveConfig {
  readonly environment: string;
  loaded = false;
  private readonly known = new Map<string, Known>();
  private readonly listeners = new Set<(change: LiveConfigChange) => void>();
  private readonly disposables: Disposable[] = [];
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private disposed = false;

  constructor(
    private readonly client: DaemonClient,
    private readonly options: LiveConfigOptions,
  ) {
    this.environment = options.environment;
    // Listen before the first fetch, so nothing that changes during it is missed.
    this.disposables.push(
      client.onNotification(DidChangeConfig, (n) => {
        if (n.environment === this.environment) void this.onNotification(n);
      }),
      client.onStateChange((state) => {
        if (state === 'connected' && this.loaded) this.refresh().catch((e: unknown) => this.fail(e));
      }),
    );
  }

  get<T>(key: string, fallback?: T): T | undefined {
    const value = this.known.get(key)?.entry?.value;
    return value === undefined ? fallback : (value as T);
  }

  has(key: string): boolean {
    return this.known.get(key)?.entry !== undefined;
  }

  entry(key: string): ConfigEntry | undefined {
    return this.known.get(key)?.entry;
  }

  keys(): string[] {
    return [...this.known].filter(([, k]) => k.entry).map(([key]) => key).sort();
  }

  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.keys().map((k) => [k, this.get(k)]));
  }

  onChange(callback: (change: LiveConfigChange) => void): Disposable {
    this.listeners.add(callback);
    return { dispose: () => void this.listeners.delete(callback) };
  }

  /** One fetch at a time; a request during a fetch runs one more after it (the first may predate a change). */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    const run = async () => {
      do {
        this.refreshAgain = false;
        await this.fetchAll();
      } while (this.refreshAgain && !this.disposed);
    };
    this.refreshing = run().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  dispose(): void {
    this.disposed = true;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.listeners.clear();
  }

  private async fetchAll(): Promise<void> {
    const listed = await this.client.request(ListConfig, { environment: this.environment });
    const entries = await Promise.all(listed.entries.map((e) => (e.masked && this.options.reveal ? this.reveal(e.key, e.version) : e)));
    if (this.disposed) return;
    const present = new Set<string>();
    for (const entry of entries) {
      present.add(entry.key);
      this.apply(entry.key, { version: entry.version, seq: listed.seq, entry }, entry.sensitive);
    }
    for (const [key, k] of [...this.known]) {
      // Absent from a listing that is newer than what we hold: deleted while we were not listening.
      if (present.has(key) || !k.entry || k.seq > listed.seq) continue;
      const tombstone = await this.tombstoneVersion(key, k.version);
      this.apply(key, { version: tombstone, seq: listed.seq }, k.entry.sensitive);
    }
  }

  private async onNotification(n: NotificationParamsOf<typeof DidChangeConfig>): Promise<void> {
    if (n.version <= (this.known.get(n.key)?.version ?? 0)) return;
    try {
      let entry: ConfigEntry | undefined;
      if (n.op === 'set') {
        entry =
          n.sensitive && this.options.reveal
            ? await this.reveal(n.key, n.version)
            : await this.client.request(GetConfig, { environment: this.environment, key: n.key, version: n.version });
      }
      if (!this.disposed) this.apply(n.key, { version: n.version, seq: n.seq, entry }, n.sensitive);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Take a newer version of a key, and tell listeners once the first load is done. */
  private apply(key: string, next: Known, sensitive: boolean): void {
    const current = this.known.get(key);
    if (current && current.version >= next.version) return;
    this.known.set(key, next);
    if (!this.loaded) return;
    const change: LiveConfigChange = {
      environment: this.environment,
      key,
      version: next.version,
      op: next.entry ? 'set' : 'delete',
      sensitive,
      value: next.entry?.value,
      previous: current?.entry?.value,
    };
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (e) {
        this.fail(e);
      }
    }
  }

  private reveal(key: string, version: number): Promise<ConfigEntry> {
    return this.client.request(GetConfig, { environment: this.environment, key, version, reveal: true });
  }

  private async tombstoneVersion(key: string, lastKnown: number): Promise<number> {
    const h = await this.client.request(ConfigHistory, { environment: this.environment, key, limit: 1 });
    return h.versions[0]?.version ?? lastKnown + 1;
  }

  private fail(e: unknown): void {
    const error = e instanceof Error ? e : new Error(String(e));
    if (this.options.onError) this.options.onError(error);
  }
}
