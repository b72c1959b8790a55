import { EventEnvelope } from '../../protocol';
import type { EventRecord } from '../../store/types';

/**
 * How an event looks on a broker, shared by the publishers and by whatever consumes the topics
 * later (team mode): the value is the whole envelope as JSON, the headers repeat what a consumer
 * routes or deduplicates on without parsing the value.
 */

/** Header names (Kafka record headers and AMQP message headers alike). */
export const Headers = {
  eventId: 'cogniforge-event-id',
  eventType: 'cogniforge-event-type',
  stream: 'cogniforge-stream',
  seq: 'cogniforge-seq',
  aggregateId: 'cogniforge-aggregate-id',
  schemaVersion: 'cogniforge-schema-version',
  /** Id of the daemon that appended the event (team mode uses it to skip its own events). */
  origin: 'cogniforge-origin',
  /** Present on a stand-in for an event too large for the broker: the event's size in bytes. */
  truncated: 'cogniforge-truncated',
} as const;

/** Partitions of a topic the daemon creates (keys spread over them; each key keeps its order). */
export const TOPIC_PARTITIONS = 3;

/**
 * Payload fields that name the aggregate an event belongs to, most specific first. Events of one
 * incident, secret, SLO or plan share the key, so Kafka keeps them on one partition, in order.
 */
const AGGREGATE_FIELDS = ['incidentId', 'secretId', 'sloId', 'planId', 'runId', 'backupId', 'scheduleId', 'personId', 'policyId', 'subscription', 'dependency', 'timerId'];
/** Nested objects whose `id` names the aggregate (`{ slo: { id } }`, `{ incident: { id } }`). */
const AGGREGATE_OBJECTS = ['incident', 'secret', 'slo', 'plan', 'run', 'backup', 'schedule', 'person', 'policy'];

const usable = (v: unknown): v is string | number => (typeof v === 'string' && v !== '' && v.length <= 256) || typeof v === 'number';

/**
 * The aggregate id of an event: the first of AGGREGATE_FIELDS in the payload, else the `id` of
 * one of AGGREGATE_OBJECTS, else the payload's own `id`, else the config key
 * (`<environment>/<key>`), else the stream (events with no aggregate stay in stream order).
 */
export function aggregateKey(event: Pick<EventRecord, 'payload' | 'stream'>): string {
  const p = event.payload;
  if (typeof p === 'object' && p !== null && !Array.isArray(p)) {
    const o = p as Record<string, unknown>;
    for (const f of AGGREGATE_FIELDS) if (usable(o[f])) return String(o[f]);
    for (const f of AGGREGATE_OBJECTS) {
      const nested = o[f];
      if (typeof nested === 'object' && nested !== null && usable((nested as Record<string, unknown>).id)) {
        return String((nested as Record<string, unknown>).id);
      }
    }
    if (usable(o.id)) return String(o.id);
    if (usable(o.environment) && usable(o.key)) return `${o.environment}/${o.key}`;
  }
  return event.stream;
}

export function headersOf(event: EventRecord, key: string, origin: string): Record<string, string> {
  return {
    [Headers.origin]: origin,
    [Headers.eventId]: event.id,
    [Headers.eventType]: event.type,
    [Headers.stream]: event.stream,
    [Headers.seq]: String(event.seq),
    [Headers.aggregateId]: key,
    [Headers.schemaVersion]: String(event.schemaVersion),
  };
}

export function encodeEvent(event: EventRecord): Buffer {
  return Buffer.from(JSON.stringify(event), 'utf8');
}

/**
 * Largest message value sent to Kafka, bytes: under the broker's default `message.max.bytes`
 * (1 MiB) with room for key, headers and batch overhead.
 */
export const MAX_KAFKA_VALUE_BYTES = 900 * 1024;

/**
 * The message value of an event, or for one too large for the broker a stand-in: the envelope
 * with `payload: null` and the `cogniforge-truncated` header giving the real size, so the outbox
 * never stalls on it and consumers know to read the event from the daemon (`events/query`).
 */
export function encodeForBroker(event: EventRecord, maxBytes: number): { value: Buffer; truncatedBytes?: number } {
  const value = encodeEvent(event);
  if (value.length <= maxBytes) return { value };
  return { value: encodeEvent({ ...event, payload: null }), truncatedBytes: value.length };
}

/** Parse a message value back into an envelope; throws a clear error for anything else. */
export function decodeEvent(value: Buffer | string): EventRecord {
  let json: unknown;
  try {
    json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    throw new Error('broker message is not JSON');
  }
  const parsed = EventEnvelope.safeParse(json);
  if (!parsed.success) throw new Error(`broker message is not an event envelope: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Kafka topic of a stream: `<prefix><stream>`, e.g. `cogniforge.incident_events`. */
export function topicOf(prefix: string, stream: string): string {
  return `${prefix}${stream}`;
}
