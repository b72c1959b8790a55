import { Kafka, Partitioners, logLevel, type Admin, type Producer, type TopicMessages } from 'kafkajs';
import type { EventRecord } from '../../store/types';
import type { KafkaSettings } from './settings';
import { abortable, splitHostPort, tcpProbe, type BrokerTransport } from './transport';
import { Headers, MAX_KAFKA_VALUE_BYTES, TOPIC_PARTITIONS, aggregateKey, encodeForBroker, headersOf, topicOf } from './wireFormat';

/** Bytes of event JSON per produce request (Kafka refuses record batches over message.max.bytes, 1 MB by default). */
const MAX_REQUEST_BYTES = 512 * 1024;

/** Split in order into runs of at most `maxBytes` of JSON (an event bigger than that goes alone). */
function* chunksOf(events: readonly EventRecord[], maxBytes: number): Generator<EventRecord[]> {
  let chunk: EventRecord[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = JSON.stringify(event.payload ?? null).length + 512;
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(event);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}


/**
 * Kafka through kafkajs: one topic per stream (`<prefix><stream>`, created on first use), message
 * key = the aggregate id, headers with the event id and type, acks=all, and an idempotent producer
 * with one request in flight (kafkajs numbers idempotent batches per partition only correctly
 * without concurrent sends). After any failure the producer is dropped and a new one (new producer
 * id) is made, so an abandoned send can never interleave with the next one.
 */
export class KafkaTransport implements BrokerTransport {
  readonly kind = 'kafka' as const;
  readonly target: string;
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  private readonly knownTopics = new Set<string>();

  constructor(
    private readonly settings: KafkaSettings,
    /** This daemon's id, sent as the `cogniforge-origin` header of every message. */
    private readonly origin: string,
    /** Told about each event sent as a stand-in because it is too large for the broker. */
    private readonly onTruncated?: (event: EventRecord, bytes: number) => void,
    private readonly partitions = TOPIC_PARTITIONS,
  ) {
    this.target = `${settings.brokers.join(',')} (topics ${settings.topicPrefix}<stream>)`;
    this.kafka = new Kafka({
      clientId: settings.clientId,
      brokers: settings.brokers,
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      // The outbox retries (with backoff, through the dependency policy); kafkajs only smooths over
      // a leader move. It would otherwise log every refused connection.
      retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1_000 },
      logLevel: logLevel.NOTHING,
    });
  }

  async connect(signal: AbortSignal): Promise<void> {
    await this.ensureProducer(signal);
  }

  async publish(events: readonly EventRecord[], signal: AbortSignal): Promise<void> {
    const producer = await this.ensureProducer(signal);
    const topics = new Set(events.map((e) => topicOf(this.settings.topicPrefix, e.stream)));
    const missing = [...topics].filter((t) => !this.knownTopics.has(t));
    if (missing.length > 0) await abortable(this.createTopics(missing), signal);
    // One request after the other, each under the broker's default record-batch limit (1 MB).
    for (const chunk of chunksOf(events, MAX_REQUEST_BYTES)) {
      const byTopic = new Map<string, TopicMessages>();
      for (const event of chunk) {
        const topic = topicOf(this.settings.topicPrefix, event.stream);
        let entry = byTopic.get(topic);
        if (!entry) {
          entry = { topic, messages: [] };
          byTopic.set(topic, entry);
        }
        const key = aggregateKey(event);
        const { value, truncatedBytes } = encodeForBroker(event, MAX_KAFKA_VALUE_BYTES);
        const headers = headersOf(event, key, this.origin);
        if (truncatedBytes !== undefined) {
          headers[Headers.truncated] = String(truncatedBytes);
          this.onTruncated?.(event, truncatedBytes);
        }
        entry.messages.push({ key, value, headers, timestamp: String(Date.parse(event.time)) });
      }
      await abortable(producer.sendBatch({ topicMessages: [...byTopic.values()], acks: -1, timeout: 10_000 }), signal);
    }
  }

  async reset(): Promise<void> {
    const pending = this.connecting;
    this.connecting = undefined;
    this.producer = undefined;
    const producer = await pending?.catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
  }

  probe(signal: AbortSignal): Promise<void> {
    return tcpProbe(this.settings.brokers.map(splitHostPort), signal);
  }

  onDisconnect(): void {
    // kafkajs reports a lost broker on the next request; the outbox learns it from that failure.
  }

  close(): Promise<void> {
    return this.reset();
  }

  private ensureProducer(signal: AbortSignal): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1_000 },
      });
      try {
        await producer.connect();
      } catch (e) {
        await producer.disconnect().catch(() => undefined);
        throw e;
      }
      this.producer = producer;
      return producer;
    })();
    const attempt = this.connecting;
    attempt.catch(() => {
      if (this.connecting === attempt) this.connecting = undefined;
    });
    return abortable(attempt, signal);
  }

  private async createTopics(topics: string[]): Promise<void> {
    await createMissingTopics(this.kafka, topics, this.partitions);
    topics.forEach((t) => this.knownTopics.add(t));
  }
}

/**
 * Create those of `topics` that do not exist yet, with `partitions` partitions. The outbox and team
 * mode's reader both call it; one racing the other (or a teammate) is fine.
 */
export async function createMissingTopics(kafka: Kafka, topics: readonly string[], partitions: number): Promise<void> {
  const admin: Admin = kafka.admin({ retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1_000 } });
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const create = topics.filter((t) => !existing.has(t));
    if (create.length === 0) return;
    try {
      await admin.createTopics({ topics: create.map((topic) => ({ topic, numPartitions: partitions })), waitForLeaders: true });
    } catch (e) {
      // Created by someone else between the list and the create.
      if (!/already exists/i.test((e as Error).message)) throw e;
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
