import type { BrokerKind } from '../../protocol';

/** A bad broker setting; start-up stops with this message (it names the variable, never a password). */
export class BrokerSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokerSettingsError';
  }
}

export interface KafkaSettings {
  kind: 'kafka';
  /** `host:port` of the bootstrap brokers. */
  brokers: string[];
  /** Which variable gave them (KAFKA_BROKERS or the original's KAFKA_BOOTSTRAP_SERVERS). */
  brokersVariable: 'KAFKA_BROKERS' | 'KAFKA_BOOTSTRAP_SERVERS';
  /** Topic of a stream = prefix + stream name (`cogniforge.incident_events`). */
  topicPrefix: string;
  clientId: string;
}

export interface RabbitMqSettings {
  kind: 'rabbitmq';
  /** `amqp://user:password@host:port/vhost`; shown only through `displayUrl`. */
  url: string;
  /** The URL with the password replaced, for logs and status. */
  displayUrl: string;
  /** Durable topic exchange the events go to (routing key = event type). */
  exchange: string;
  /**
   * A durable queue bound with `#` that the daemon declares so events are kept even before any
   * consumer binds its own (a topic exchange drops what no queue is bound to). Unset: none.
   */
  queue?: string;
}

export type BrokerSettings = { kind: 'in_memory' } | KafkaSettings | RabbitMqSettings;

export interface OutboxSettings {
  /** Most events in one publish call. */
  batchSize: number;
  /** Per-publish timeout, ms (the dependency policy's timeout is the upper bound). */
  publishTimeoutMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const set = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

/** Accepted spellings of MESSAGE_BROKER (case-insensitive): the seed's three plus `memory`/`none`. */
const KIND_ALIASES: Record<string, BrokerKind> = {
  in_memory: 'in_memory',
  'in-memory': 'in_memory',
  inmemory: 'in_memory',
  memory: 'in_memory',
  none: 'in_memory',
  kafka: 'kafka',
  rabbitmq: 'rabbitmq',
  rabbit: 'rabbitmq',
  amqp: 'rabbitmq',
};

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const NAME = /^[A-Za-z0-9._-]{1,200}$/;

function whole(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = set(env, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new BrokerSettingsError(`${name}: must be a whole number from ${min} to ${max} (got "${text}")`);
  }
  return n;
}

/** Read and check the broker variables. Throws BrokerSettingsError naming the variable. */
export function parseBrokerSettings(env: Env): BrokerSettings {
  const raw = set(env, 'MESSAGE_BROKER');
  const kind: BrokerKind = raw === undefined ? 'in_memory' : (KIND_ALIASES[raw.toLowerCase()] ?? unknownKind(raw));
  if (kind === 'kafka') return kafkaSettings(env);
  if (kind === 'rabbitmq') return rabbitSettings(env);
  return { kind };
}

function unknownKind(raw: string): never {
  throw new BrokerSettingsError(`MESSAGE_BROKER: must be in_memory, kafka or rabbitmq (got "${raw}")`);
}

function kafkaSettings(env: Env): KafkaSettings {
  const brokersVariable = set(env, 'KAFKA_BROKERS') !== undefined ? 'KAFKA_BROKERS' : 'KAFKA_BOOTSTRAP_SERVERS';
  const list = set(env, brokersVariable) ?? '127.0.0.1:9092';
  const brokers = list
    .split(',')
    .map((b) => b.trim().replace(/^(PLAINTEXT|kafka):\/\//i, ''))
    .filter((b) => b !== '');
  for (const b of brokers) {
    const m = HOST_PORT.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new BrokerSettingsError(`${brokersVariable}: each broker must be host:port, comma-separated, such as 127.0.0.1:9092 (got "${b}")`);
    }
  }
  if (brokers.length === 0) throw new BrokerSettingsError(`${brokersVariable}: no broker given`);
  const topicPrefix = set(env, 'KAFKA_TOPIC_PREFIX') ?? 'cogniforge.';
  if (!/^[A-Za-z0-9._-]{0,200}$/.test(topicPrefix)) {
    throw new BrokerSettingsError(`KAFKA_TOPIC_PREFIX: letters, digits, ".", "_" and "-" only (got "${topicPrefix}")`);
  }
  const clientId = set(env, 'KAFKA_CLIENT_ID') ?? 'cogniforged';
  if (!NAME.test(clientId)) throw new BrokerSettingsError(`KAFKA_CLIENT_ID: letters, digits, ".", "_" and "-" only (got "${clientId}")`);
  return { kind: 'kafka', brokers, brokersVariable, topicPrefix, clientId };
}

function rabbitSettings(env: Env): RabbitMqSettings {
  let url = set(env, 'RABBITMQ_URL');
  if (url === undefined) {
    // The original's variables: host and port, with RabbitMQ's default account.
    const host = set(env, 'RABBITMQ_HOST') ?? '127.0.0.1';
    const port = whole(env, 'RABBITMQ_PORT', 5672, 1, 65535);
    const user = encodeURIComponent(set(env, 'RABBITMQ_USER') ?? 'guest');
    const password = encodeURIComponent(set(env, 'RABBITMQ_PASSWORD') ?? 'guest');
    const vhost = encodeURIComponent(set(env, 'RABBITMQ_VHOST') ?? '/');
    url = `amqp://${user}:${password}@${host.includes(':') ? `[${host}]` : host}:${port}/${vhost}`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BrokerSettingsError('RABBITMQ_URL: must be a URL such as amqp://guest:guest@127.0.0.1:5672');
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new BrokerSettingsError(`RABBITMQ_URL: must start with amqp:// or amqps:// (got "${parsed.protocol}//")`);
  }
  const display = new URL(url);
  if (display.password !== '') display.password = '***';
  const exchange = set(env, 'RABBITMQ_EXCHANGE') ?? 'cogniforge.events';
  if (!NAME.test(exchange)) throw new BrokerSettingsError(`RABBITMQ_EXCHANGE: letters, digits, ".", "_" and "-" only (got "${exchange}")`);
  const queue = set(env, 'RABBITMQ_QUEUE');
  if (queue !== undefined && !NAME.test(queue)) {
    throw new BrokerSettingsError(`RABBITMQ_QUEUE: letters, digits, ".", "_" and "-" only (got "${queue}")`);
  }
  return { kind: 'rabbitmq', url, displayUrl: display.toString(), exchange, ...(queue === undefined ? {} : { queue }) };
}

/** Outbox tuning (`COGNIFORGE_BROKER_BATCH`, `COGNIFORGE_BROKER_TIMEOUT_MS`). */
export function parseOutboxSettings(env: Env): OutboxSettings {
  return {
    batchSize: whole(env, 'COGNIFORGE_BROKER_BATCH', 1000, 1, 100_000),
    publishTimeoutMs: whole(env, 'COGNIFORGE_BROKER_TIMEOUT_MS', 10_000, 100, 120_000),
  };
}
