import { describe, expect, it } from 'vitest';
import { BrokerSettingsError, parseBrokerSettings, parseOutboxSettings } from '../../../../daemon/services/brokers/settings';
import { aggregateKey, decodeEvent, encodeEvent, encodeForBroker, headersOf, topicOf } from '../../../../daemon/services/brokers/wireFormat';
import type { EventRecord } from '../../../../daemon/store/types';

describe('parseBrokerSettings', () => {
  it('defaults to the embedded log only', () => {
    expect(parseBrokerSettings({})).toEqual({ kind: 'in_memory' });
    expect(parseBrokerSettings({ MESSAGE_BROKER: ' In_Memory ' })).toEqual({ kind: 'in_memory' });
  });

  it('refuses an unknown MESSAGE_BROKER with a message naming the variable and the choices', () => {
    expect(() => parseBrokerSettings({ MESSAGE_BROKER: 'redis' })).toThrow(BrokerSettingsError);
    expect(() => parseBrokerSettings({ MESSAGE_BROKER: 'redis' })).toThrow('MESSAGE_BROKER: must be in_memory, kafka or rabbitmq (got "redis")');
  });

  it('reads KAFKA_BROKERS, or the original KAFKA_BOOTSTRAP_SERVERS, with the topic prefix', () => {
    expect(parseBrokerSettings({ MESSAGE_BROKER: 'kafka', KAFKA_BROKERS: '127.0.0.1:9092, localhost:9094' })).toEqual({
      kind: 'kafka',
      brokers: ['127.0.0.1:9092', 'localhost:9094'],
      brokersVariable: 'KAFKA_BROKERS',
      topicPrefix: 'cogniforge.',
      clientId: 'cogniforged',
    });
    expect(parseBrokerSettings({ MESSAGE_BROKER: 'kafka', KAFKA_BOOTSTRAP_SERVERS: 'PLAINTEXT://10.0.0.1:9092', KAFKA_TOPIC_PREFIX: 'team-a.' })).toMatchObject({
      brokers: ['10.0.0.1:9092'],
      brokersVariable: 'KAFKA_BOOTSTRAP_SERVERS',
      topicPrefix: 'team-a.',
    });
    expect(() => parseBrokerSettings({ MESSAGE_BROKER: 'kafka', KAFKA_BROKERS: 'localhost' })).toThrow(/KAFKA_BROKERS: each broker must be host:port.*"localhost"/);
    expect(() => parseBrokerSettings({ MESSAGE_BROKER: 'kafka', KAFKA_TOPIC_PREFIX: 'a b' })).toThrow(/KAFKA_TOPIC_PREFIX/);
  });

  it('reads RABBITMQ_URL, or builds it from the original RABBITMQ_HOST and RABBITMQ_PORT, and never shows the password', () => {
    const fromUrl = parseBrokerSettings({ MESSAGE_BROKER: 'rabbitmq', RABBITMQ_URL: 'amqp://app:s3cret@127.0.0.1:5673/prod', RABBITMQ_QUEUE: 'all-events' });
    expect(fromUrl).toMatchObject({ kind: 'rabbitmq', url: 'amqp://app:s3cret@127.0.0.1:5673/prod', exchange: 'cogniforge.events', queue: 'all-events' });
    expect(fromUrl.kind === 'rabbitmq' && fromUrl.displayUrl).toBe('amqp://app:***@127.0.0.1:5673/prod');
    expect(parseBrokerSettings({ MESSAGE_BROKER: 'rabbitmq', RABBITMQ_HOST: 'localhost', RABBITMQ_PORT: '5679' })).toMatchObject({
      url: 'amqp://guest:guest@localhost:5679/%2F',
    });
    expect(() => parseBrokerSettings({ MESSAGE_BROKER: 'rabbitmq', RABBITMQ_URL: 'http://x' })).toThrow(/RABBITMQ_URL: must start with amqp/);
    expect(() => parseBrokerSettings({ MESSAGE_BROKER: 'rabbitmq', RABBITMQ_PORT: '99999' })).toThrow(/RABBITMQ_PORT: must be a whole number from 1 to 65535/);
  });

  it('reads the outbox tuning and refuses values out of range', () => {
    expect(parseOutboxSettings({})).toEqual({ batchSize: 1000, publishTimeoutMs: 10_000 });
    expect(parseOutboxSettings({ COGNIFORGE_BROKER_BATCH: '64' }).batchSize).toBe(64);
    expect(() => parseOutboxSettings({ COGNIFORGE_BROKER_BATCH: '0' })).toThrow(/COGNIFORGE_BROKER_BATCH/);
  });
});

const event = (payload: unknown, stream = 'default'): EventRecord => ({
  id: '0b7e6c1e-8a43-4a59-9d0c-1f1e0c4b8a11',
  seq: 7,
  type: 'incident.created',
  stream,
  time: '2026-01-02T03:04:05.000Z',
  priority: 'high',
  actor: 'owner',
  schemaVersion: 1,
  payload,
});

describe('wire format', () => {
  it('keys an event by its aggregate so each incident, secret and SLO stays in order', () => {
    expect(aggregateKey(event({ id: 'inc-1', title: 't' }))).toBe('inc-1');
    expect(aggregateKey(event({ incidentId: 'inc-2', id: 'note-9' }))).toBe('inc-2');
    expect(aggregateKey(event({ secretId: 'sec-1', version: 2 }))).toBe('sec-1');
    expect(aggregateKey(event({ slo: { id: 'slo-1', name: 'api' } }))).toBe('slo-1');
    expect(aggregateKey(event({ environment: 'prod', key: 'DB_HOST' }))).toBe('prod/DB_HOST');
    expect(aggregateKey(event({ anything: true }, 'api_events'))).toBe('api_events');
    expect(aggregateKey(event(null, 'system_events'))).toBe('system_events');
  });

  it('sends an event larger than the limit as a stand-in without its payload, saying how large it was', () => {
    const small = event({ id: 'inc-1' });
    expect(encodeForBroker(small, 10_000)).toEqual({ value: encodeEvent(small) });
    const large = event({ id: 'inc-1', blob: 'x'.repeat(20_000) });
    const out = encodeForBroker(large, 10_000);
    expect(out.truncatedBytes).toBe(encodeEvent(large).length);
    expect(decodeEvent(out.value)).toEqual({ ...large, payload: null });
  });

  it('round-trips the envelope and names the event in the headers', () => {
    const e = event({ id: 'inc-1' });
    expect(decodeEvent(encodeEvent(e))).toEqual(e);
    expect(headersOf(e, 'inc-1', 'laptop-a1b2c3')).toEqual({
      'cogniforge-origin': 'laptop-a1b2c3',
      'cogniforge-event-id': e.id,
      'cogniforge-event-type': 'incident.created',
      'cogniforge-stream': 'default',
      'cogniforge-seq': '7',
      'cogniforge-aggregate-id': 'inc-1',
      'cogniforge-schema-version': '1',
    });
    expect(topicOf('cogniforge.', 'incident_events')).toBe('cogniforge.incident_events');
    expect(() => decodeEvent('{"id":1}')).toThrow(/not an event envelope/);
    expect(() => decodeEvent('nope')).toThrow(/not JSON/);
  });
});
