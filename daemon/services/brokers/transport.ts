import { connect } from 'node:net';
import type { EventRecord } from '../../store/types';

/**
 * One broker client as the outbox sees it. Implementations keep at most one connection and one
 * publish outstanding (the outbox never calls `publish` twice at once), so the order of the log is
 * the order on the broker.
 */
export interface BrokerTransport {
  readonly kind: 'kafka' | 'rabbitmq';
  /** Where events go, without credentials (status and logs). */
  readonly target: string;
  /** Open the connection now (the outbox calls it while idle to learn whether the broker is up). */
  connect(signal: AbortSignal): Promise<void>;
  /**
   * Publish the events in this order; resolves once the broker acknowledged every one durably
   * (Kafka acks=all, RabbitMQ publisher confirms). On abort it rejects at once; the broker may
   * still store some of them, which the outbox resends (duplicates keep their event id).
   */
  publish(events: readonly EventRecord[], signal: AbortSignal): Promise<void>;
  /** Drop the connection after a failure so the next call starts clean. */
  reset(): Promise<void>;
  /** Cheap reachability check outside the dependency policy: resolves when a TCP connect succeeds. */
  probe(signal: AbortSignal): Promise<void>;
  /** Called when the client notices a lost connection by itself (RabbitMQ does; Kafka on the next call). */
  onDisconnect(listener: (reason: string) => void): void;
  close(): Promise<void>;
}

/** Reject as soon as `signal` aborts, whatever `promise` does afterwards. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}

/** Resolve when any of `host:port` accepts a TCP connection within `timeoutMs`. */
export async function tcpProbe(addresses: readonly { host: string; port: number }[], signal: AbortSignal, timeoutMs = 1000): Promise<void> {
  let last: Error = new Error('no address to probe');
  for (const { host, port } of addresses) {
    try {
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host, port });
        const done = (e?: Error) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          socket.destroy();
          if (e) reject(e);
          else resolve();
        };
        const onAbort = () => done(new Error('aborted'));
        const timer = setTimeout(() => done(new Error(`${host}:${port} did not accept a connection within ${timeoutMs} ms`)), timeoutMs);
        signal.addEventListener('abort', onAbort, { once: true });
        socket.once('connect', () => done());
        socket.once('error', (e) => done(e));
      });
      return;
    } catch (e) {
      last = e as Error;
    }
  }
  throw last;
}

/** `host:port` (IPv6 in brackets) → parts. */
export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}
