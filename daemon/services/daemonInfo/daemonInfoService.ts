import {
  ErrorCode,
  PROTOCOL_VERSION,
  RpcError,
  type DaemonStatus,
  type Initialize,
  type ParsedParamsOf,
  type ResultOf,
  type Scope,
} from '../../protocol';
import type { Clock } from '../shared/clock';
import type { EventStore } from '../../store/types';

export interface DaemonInfoDeps {
  store: EventStore;
  clock: Clock;
  daemonVersion: string;
  dataDir: string;
  pid: number;
  /** Epoch ms the daemon started. */
  startedAt: number;
  maxMessageBytes: number;
  maxBatch: number;
  /** Methods this daemon serves (read when asked: features register after construction). */
  methods: () => string[];
  notifications: readonly string[];
  /** Reasons the daemon is degraded, empty when healthy. */
  problems: () => string[];
  connections: () => number;
}

const major = (version: string): string => version.split('.')[0];

/** `daemon/initialize`, `daemon/ping` and `daemon/status`. */
export class DaemonInfoService {
  constructor(private readonly deps: DaemonInfoDeps) {}

  initialize(params: ParsedParamsOf<typeof Initialize>, actor: string, scope: Scope): ResultOf<typeof Initialize> {
    if (major(params.protocolVersion) !== major(PROTOCOL_VERSION)) {
      throw new RpcError(
        ErrorCode.UnsupportedProtocolVersion,
        `Protocol ${params.protocolVersion} is not supported; this daemon speaks ${PROTOCOL_VERSION}`,
        { supported: [PROTOCOL_VERSION], requested: params.protocolVersion },
      );
    }
    return {
      protocolVersion: PROTOCOL_VERSION,
      daemonVersion: this.deps.daemonVersion,
      actor,
      scope,
      capabilities: {
        methods: this.deps.methods(),
        notifications: [...this.deps.notifications],
        maxMessageBytes: this.deps.maxMessageBytes,
        maxBatch: this.deps.maxBatch,
      },
      serverTime: new Date(this.deps.clock.now()).toISOString(),
    };
  }

  ping(): { time: string } {
    return { time: new Date(this.deps.clock.now()).toISOString() };
  }

  status(): DaemonStatus {
    const { store, clock } = this.deps;
    const stats = store.stats();
    const problems = this.deps.problems();
    return {
      health: problems.length === 0 ? 'ok' : 'degraded',
      problems,
      version: this.deps.daemonVersion,
      protocolVersion: PROTOCOL_VERSION,
      pid: this.deps.pid,
      startedAt: new Date(this.deps.startedAt).toISOString(),
      uptimeMs: Math.max(0, Math.floor(clock.now() - this.deps.startedAt)),
      dataDir: this.deps.dataDir,
      eventLog: {
        bytes: stats.bytes,
        events: stats.events,
        segments: stats.segments,
        lastSeq: stats.lastSeq,
        snapshotSeq: stats.snapshotSeq,
      },
      streams: stats.streams.map(({ name, events, bytes }) => ({ name, events, bytes })),
      connections: this.deps.connections(),
    };
  }
}
