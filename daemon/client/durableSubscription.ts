import {
  AckEvent,
  AttachSubscription,
  CreateDurableSubscription,
  DetachSubscription,
  DidDeliver,
  NackEvent,
  type AnyNotificationType,
  type AnyRequestType,
  type DurableFilter,
  type EventEnvelope,
  type NotificationParamsOf,
  type ParamsOf,
  type ResultOf,
} from '../protocol';

/** What a durable handler learns about a delivery besides the event. */
export interface DeliveryInfo {
  /** 1 for the first delivery of this copy; higher after a nack or an ack timeout. */
  readonly attempt: number;
  /** True for copies sent by `events/replay`. */
  readonly replay: boolean;
  /** Set when the copy comes from a DLQ retry. */
  readonly dlqEntryId?: string;
  readonly deliveryId: string;
}

/** Resolve to ack; throw (or reject) to nack with the error's message as the reason. */
export type DurableHandler = (event: EventEnvelope, info: DeliveryInfo) => unknown;

export interface DurableSubscribeOptions {
  /** Used when the subscription is created; an existing definition is kept as it is. */
  ackTimeoutMs?: number;
  maxAttempts?: number;
  /** ms, ms, fraction 0..1 */
  backoff?: { initialMs?: number; maxMs?: number; jitter?: number };
  maxInFlight?: number;
  /** Start after this seq when created (default: only new events). */
  startAfterSeq?: number;
  /** Replace a consumer already attached elsewhere (default false: Conflict). Re-attaching after a reconnect always takes over. */
  takeover?: boolean;
  /** Hears failed acks/nacks and refused re-attaches (the daemon redelivers what was not acked). */
  onError?: (error: Error) => void;
}

/** A durable subscription this client consumes. */
export interface DurableSubscription {
  readonly name: string;
  /** Stop consuming (the definition and checkpoint stay; unacked events go to the next consumer). Safe to call twice. */
  dispose(): Promise<void>;
}

/** The slice of DaemonClient a durable consumer needs (keeps this file free of a runtime import cycle). */
export interface DurableClient {
  request<T extends AnyRequestType>(type: T, params: ParamsOf<T>): Promise<ResultOf<T>>;
  onNotification<T extends AnyNotificationType>(type: T, callback: (params: NotificationParamsOf<T>) => void): { dispose(): void };
  onStateChange(callback: (state: 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped') => void): { dispose(): void };
}

const toError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/**
 * Create (if absent) and attach a durable subscription, run `handler` for each delivery, ack when
 * it resolves and nack when it throws. After a reconnect it re-attaches (taking over its own stale
 * attachment); the daemon redelivers whatever was not acked, so handlers must tolerate duplicates.
 */
export async function subscribeDurable(
  client: DurableClient,
  name: string,
  filter: DurableFilter,
  handler: DurableHandler,
  options: DurableSubscribeOptions = {},
): Promise<DurableSubscription> {
  const report = (e: unknown) => options.onError?.(toError(e));
  let disposed = false;
  let attached = false;
  const deliveries = client.onNotification(DidDeliver, (p) => {
    if (p.subscription !== name || disposed) return;
    const info: DeliveryInfo = { attempt: p.attempt, replay: p.replay, deliveryId: p.deliveryId, ...(p.dlqEntryId ? { dlqEntryId: p.dlqEntryId } : {}) };
    void (async () => {
      let failure: Error | undefined;
      try {
        await handler(p.event, info);
      } catch (e) {
        failure = toError(e);
      }
      if (disposed) return;
      try {
        if (failure) await client.request(NackEvent, { name, seq: p.event.seq, deliveryId: p.deliveryId, reason: (failure.message || 'handler failed').slice(0, 2000) });
        else await client.request(AckEvent, { name, seq: p.event.seq, deliveryId: p.deliveryId });
      } catch (e) {
        report(e);
      }
    })();
  });
  const states = client.onStateChange((state) => {
    if (state !== 'connected' || !attached || disposed) return;
    client.request(AttachSubscription, { name, takeover: true }).catch(report);
  });
  try {
    await client.request(CreateDurableSubscription, {
      name,
      filter,
      ifExists: 'keep',
      ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.backoff !== undefined ? { backoff: options.backoff } : {}),
      ...(options.maxInFlight !== undefined ? { maxInFlight: options.maxInFlight } : {}),
      ...(options.startAfterSeq !== undefined ? { startAfterSeq: options.startAfterSeq } : {}),
    });
    await client.request(AttachSubscription, { name, takeover: options.takeover ?? false });
    attached = true;
  } catch (e) {
    deliveries.dispose();
    states.dispose();
    throw e;
  }
  return {
    name,
    async dispose() {
      if (disposed) return;
      disposed = true;
      deliveries.dispose();
      states.dispose();
      await client.request(DetachSubscription, { name }).catch(report);
    },
  };
}
