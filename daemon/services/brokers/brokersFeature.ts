import { DidChangeBroker, GetBrokerStatus, type BrokerStatus } from '../../protocol';
import type { DaemonFeature, TeamShare } from '../../server/feature';
import type { EventRecord } from '../../store/types';
import { loadDaemonId } from '../team/identity';
import { checkTeamSettings } from '../team/settings';
import { TeamImporter } from '../team/teamImporter';
import { KafkaTransport } from './kafkaTransport';
import { BrokerOutbox } from './outbox';
import { OutboxCursor } from './outboxCursor';
import { RabbitMqTransport } from './rabbitMqTransport';
import { parseBrokerSettings, parseOutboxSettings } from './settings';
import type { BrokerTransport } from './transport';

export interface BrokersFeatureOptions {
  /** Where MESSAGE_BROKER and the broker addresses are read from. */
  env: Readonly<Record<string, string | undefined>>;
  /** What every feature shares with teammates (team mode reads those topics). */
  shares?: () => readonly TeamShare[];
}

/**
 * `MESSAGE_BROKER=in_memory|kafka|rabbitmq`: with a broker, every event appended to the log is
 * published to it by the outbox (see BrokerOutbox); `brokers/status` and `GET /api/brokers/status`
 * show how far it got, `brokers/didChange` tells every connection when the broker goes up or down.
 * A bad setting stops the daemon at start with a message naming the variable.
 */
export function brokersFeature(options: BrokersFeatureOptions): DaemonFeature {
  let outbox: BrokerOutbox | undefined;
  let team: TeamImporter | undefined;
  return {
    name: 'brokers',
    projections: [],
    reservedEventTypes: [],
    async register({ router, rest, store, clock, log, server, config, policies, addHealthCheck }) {
      const settings = parseBrokerSettings(options.env);
      const tuning = parseOutboxSettings(options.env);
      const teamMode = checkTeamSettings(options.env, settings);
      if (settings.kind === 'in_memory') {
        const since = new Date(clock.now()).toISOString();
        router.on(GetBrokerStatus, (): BrokerStatus => ({
          kind: 'in_memory',
          connected: true,
          outboxLag: 0,
          lastPublishedSeq: store.lastSeq,
          headSeq: store.lastSeq,
          publishedSinceStart: 0,
          since,
        }));
      } else {
        const daemonId = await loadDaemonId(config.dataDir, options.env);
        const tooLarge = (e: EventRecord, bytes: number) =>
          log.warn(`brokers: event ${e.seq} (${e.type}, ${bytes} bytes) is larger than Kafka accepts; sent without its payload, with the cogniforge-truncated header (read it with events/query)`);
        const transport: BrokerTransport =
          settings.kind === 'kafka' ? new KafkaTransport(settings, daemonId, tooLarge) : new RabbitMqTransport(settings, daemonId);
        const { cursor, note } = await OutboxCursor.load(OutboxCursor.fileFor(config.dataDir, settings.kind), transport.target);
        if (note) log.warn(`brokers: ${note}`);
        const dependency = settings.kind;
        const o = new BrokerOutbox({
          store,
          transport,
          cursor,
          clock,
          batchSize: tuning.batchSize,
          publishTimeoutMs: tuning.publishTimeoutMs,
          runPolicy: (fn, opts) => policies.execute(dependency, fn, opts),
          resetBreaker: (reason) => policies.resetBreaker(dependency, reason),
          log: (level, message) => log[level](message),
          onChange: () => server.notifyAll(DidChangeBroker, status()),
        });
        outbox = o;
        log.info(`brokers: daemon ${daemonId} publishes every event to ${settings.kind} at ${transport.target}, from sequence ${cursor.seq + 1}`);
        if (teamMode && settings.kind === 'kafka') {
          const t = new TeamImporter({
            settings,
            daemonId,
            store,
            shares: options.shares?.() ?? [],
            clock,
            log: (level, message) => log[level](message),
            onChange: () => server.notifyAll(DidChangeBroker, status()),
          });
          team = t;
          addHealthCheck(() => {
            const s = t.status();
            return s.consuming || s.lastError === undefined ? [] : [`team mode: not reading teammates' events (${s.lastError.message})`];
          });
        }
        const status = (): BrokerStatus => ({ ...o.status(), ...(team ? { team: team.status() } : {}) });
        router.on(GetBrokerStatus, status);
        addHealthCheck(() => {
          const s = o.status();
          return s.connected || s.lastError === undefined
            ? []
            : [`message broker ${s.kind} unreachable since ${s.since} (${s.lastError.message}); ${s.outboxLag} event(s) wait in the outbox`];
        });
      }
      rest.get('/api/brokers/status', GetBrokerStatus);
    },
    start() {
      outbox?.start();
      team?.start();
    },
    async close() {
      await team?.close();
      await outbox?.close();
    },
  };
}
