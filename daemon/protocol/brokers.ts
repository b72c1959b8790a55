import * as z from 'zod';
import { IsoTime } from './common';
import { defineNotification, defineRequest } from './define';

/**
 * The message-broker adapter: the embedded event log stays the source of truth and an outbox (a
 * durable cursor over the log) publishes every appended event to Kafka or RabbitMQ in log order.
 * Chosen at start with `MESSAGE_BROKER`; these are its read-only status and its change notification.
 */

/** `in_memory`: the embedded log only (nothing is published) · `kafka` · `rabbitmq`. */
export const BrokerKind = z.enum(['in_memory', 'kafka', 'rabbitmq']);
export type BrokerKind = z.infer<typeof BrokerKind>;

/** Team mode: what this daemon reads from its teammates' daemons. */
export const TeamStatus = z.object({
  /** This daemon's id (`COGNIFORGE_DAEMON_ID`, or the one kept in `<data-dir>/daemon-id`). */
  daemonId: z.string(),
  /** Kafka topics read for teammates' events. */
  topics: z.array(z.string()),
  /** Kafka consumer group of this daemon (one per daemon, so each reads every event). */
  group: z.string(),
  /** Joined the group and reading; false while the broker is unreachable. */
  consuming: z.boolean(),
  /** Teammates' events applied here since the daemon started (redeliveries of one already stored not counted). */
  imported: z.number().int().min(0),
  /** Teammates' events not applied since start: not shared (a local-vault secret) or not an event envelope. */
  skipped: z.number().int().min(0),
  /** Daemons whose events were read since start, with the newest one seen. */
  teammates: z.array(z.object({ daemonId: z.string(), events: z.number().int().min(0), lastEventAt: IsoTime })),
  lastImportAt: IsoTime.optional(),
  lastError: z.object({ message: z.string(), at: IsoTime }).optional(),
});
export type TeamStatus = z.infer<typeof TeamStatus>;

export const BrokerStatus = z.object({
  kind: BrokerKind,
  /**
   * Where events go, without credentials: `127.0.0.1:9092 (topics cogniforge.<stream>)` or
   * `amqp://127.0.0.1:5672/ (exchange cogniforge.events)`; absent for in_memory.
   */
  target: z.string().optional(),
  /** The last call to the broker succeeded (always true for in_memory). */
  connected: z.boolean(),
  /** Events appended to the log that the broker has not acknowledged yet. */
  outboxLag: z.number().int().min(0),
  /** Sequence number of the newest event the broker acknowledged (the durable outbox cursor). */
  lastPublishedSeq: z.number().int().min(0),
  /** Sequence number of the newest event in the log. */
  headSeq: z.number().int().min(0),
  /** Events published since the daemon started (duplicates after a crash count again). */
  publishedSinceStart: z.number().int().min(0),
  /** The latest failure talking to the broker; kept after a recovery so it can still be read. */
  lastError: z.object({ message: z.string(), at: IsoTime }).optional(),
  /** When `connected` last changed (ISO-8601); the daemon's start until the first call. */
  since: IsoTime,
  /** Present in team mode (`COGNIFORGE_TEAM=on`). */
  team: TeamStatus.optional(),
});
export type BrokerStatus = z.infer<typeof BrokerStatus>;

export const GetBrokerStatus = defineRequest('brokers/status', z.object({}), BrokerStatus, {
  kind: 'query',
  doc: 'The message broker the outbox publishes to: kind, connected, outbox lag in events, last published sequence, last error.',
});

export const DidChangeBroker = defineNotification(
  'brokers/didChange',
  BrokerStatus,
  'The broker connection went up or down (sent to every connection, with the full status).',
);
