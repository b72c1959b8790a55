import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { EventRecord } from '../../store/types';
import type { RabbitMqSettings } from './settings';
import { abortable, tcpProbe, type BrokerTransport } from './transport';
import { aggregateKey, encodeEvent, headersOf } from './wireFormat';

interface Session {
  model: ChannelModel;
  channel: ConfirmChannel;
}

/**
 * RabbitMQ through amqplib: a durable topic exchange, routing key = event type, persistent
 * messages with the event id as message id, and publisher confirms (a batch counts as published
 * once the broker confirmed every message of it). Optionally a durable queue bound with `#` keeps
 * events before any consumer has bound its own.
 */
export class RabbitMqTransport implements BrokerTransport {
  readonly kind = 'rabbitmq' as const;
  readonly target: string;
  private session: Session | undefined;
  private opening: Promise<Session> | undefined;
  private readonly listeners: ((reason: string) => void)[] = [];

  constructor(
    private readonly settings: RabbitMqSettings,
    /** This daemon's id, sent as the `cogniforge-origin` header of every message. */
    private readonly origin: string,
  ) {
    this.target = `${settings.displayUrl} (exchange ${settings.exchange})`;
  }

  async connect(signal: AbortSignal): Promise<void> {
    await this.open(signal);
  }

  async publish(events: readonly EventRecord[], signal: AbortSignal): Promise<void> {
    const { channel } = await this.open(signal);
    for (const event of events) {
      const key = aggregateKey(event);
      // A false return only says the socket buffer is full; amqplib still queues the message, and
      // the confirms below are what count.
      channel.publish(this.settings.exchange, event.type, encodeEvent(event), {
        persistent: true,
        messageId: event.id,
        type: event.type,
        contentType: 'application/json',
        timestamp: Math.floor(Date.parse(event.time) / 1000),
        appId: 'cogniforged',
        headers: headersOf(event, key, this.origin),
      });
    }
    await abortable(channel.waitForConfirms(), signal);
  }

  async reset(): Promise<void> {
    const pending = this.opening;
    this.opening = undefined;
    this.session = undefined;
    const session = await pending?.catch(() => undefined);
    await session?.model.close().catch(() => undefined);
  }

  probe(signal: AbortSignal): Promise<void> {
    const url = new URL(this.settings.url);
    const port = url.port === '' ? (url.protocol === 'amqps:' ? 5671 : 5672) : Number(url.port);
    return tcpProbe([{ host: url.hostname.replace(/^\[|\]$/g, ''), port }], signal);
  }

  onDisconnect(listener: (reason: string) => void): void {
    this.listeners.push(listener);
  }

  close(): Promise<void> {
    return this.reset();
  }

  private open(signal: AbortSignal): Promise<Session> {
    if (this.session) return Promise.resolve(this.session);
    this.opening ??= (async () => {
      const model = await connect(this.settings.url, { timeout: 3_000 });
      try {
        const channel = await model.createConfirmChannel();
        await channel.assertExchange(this.settings.exchange, 'topic', { durable: true });
        if (this.settings.queue !== undefined) {
          await channel.assertQueue(this.settings.queue, { durable: true });
          await channel.bindQueue(this.settings.queue, this.settings.exchange, '#');
        }
        const session: Session = { model, channel };
        // Errors also arrive as 'close'; without a listener they would be thrown as uncaught.
        model.on('error', () => undefined);
        channel.on('error', () => undefined);
        const lost = (what: string) => () => {
          if (this.session !== session) return;
          this.session = undefined;
          this.opening = undefined;
          this.listeners.forEach((l) => l(`RabbitMQ ${what} closed`));
        };
        model.on('close', lost('connection'));
        channel.on('close', lost('channel'));
        this.session = session;
        return session;
      } catch (e) {
        await model.close().catch(() => undefined);
        throw e;
      }
    })();
    const attempt = this.opening;
    attempt.catch(() => {
      if (this.opening === attempt) this.opening = undefined;
    });
    return abortable(attempt, signal);
  }
}
