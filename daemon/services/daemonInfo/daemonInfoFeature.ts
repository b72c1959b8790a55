import { GetStatus, Initialize, MAX_BATCH, Ping, Shutdown, notifications } from '../../protocol';
import type { DaemonFeature } from '../../server/feature';
import { DaemonInfoService } from './daemonInfoService';

export interface DaemonInfoOptions {
  daemonVersion: string;
  /** Epoch ms the daemon started. */
  startedAt: number;
  /** Reasons the daemon is degraded (every feature's health checks), empty when healthy. */
  problems: () => string[];
}

/** `daemon/initialize`, `daemon/ping`, `daemon/status` (+ `GET /api/daemon/status`), `daemon/shutdown`. */
export function daemonInfoFeature(options: DaemonInfoOptions): DaemonFeature {
  return {
    name: 'daemon',
    projections: [],
    reservedEventTypes: ['daemon.**'],
    register({ router, rest, store, clock, server, config, requestShutdown }) {
      const info = new DaemonInfoService({
        store,
        clock,
        daemonVersion: options.daemonVersion,
        dataDir: config.dataDir,
        pid: process.pid,
        startedAt: options.startedAt,
        maxMessageBytes: config.maxMessageBytes,
        maxBatch: MAX_BATCH,
        methods: () => router.methods(),
        notifications: notifications.map((n) => n.method),
        problems: options.problems,
        connections: () => server.connectionCount,
      });
      router
        .on(Initialize, (p, ctx) => info.initialize(p, ctx.actor, ctx.scope))
        .on(Ping, () => info.ping())
        .on(GetStatus, () => info.status())
        .on(Shutdown, (_p, ctx) => {
          const stop = () => requestShutdown(`daemon/shutdown called by ${ctx.actor}`);
          if (ctx.afterResponse) ctx.afterResponse(stop);
          else stop();
          return { ok: true as const };
        });
      rest.get('/api/daemon/status', GetStatus);
    },
  };
}
