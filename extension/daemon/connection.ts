import type {
  AnyNotificationType,
  AnyRequestType,
  EventEnvelope,
  NotificationParamsOf,
  ParamsOf,
  ResultOf,
  RuntimeInfo,
  SubscriptionFilter,
} from '../../daemon/protocol';
import type { DaemonState } from './state';

export interface Disposable {
  dispose(): void;
}

/** The client library's connection states. */
export type ClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped';

/**
 * What the supervisor needs from one daemon connection: the part of `DaemonClient` it uses. Kept as an
 * interface so the supervision logic is unit-tested against a fake, without sockets or processes.
 */
export interface RpcConnection {
  readonly state: ClientState;
  request<T extends AnyRequestType>(type: T, params: ParamsOf<T>): Promise<ResultOf<T>>;
  onNotification<T extends AnyNotificationType>(type: T, cb: (params: NotificationParamsOf<T>) => void): Disposable;
  subscribe(filter: SubscriptionFilter, onEvent: (event: EventEnvelope) => void): Promise<{ dispose(): Promise<void> }>;
  onStateChange(cb: (state: ClientState) => void): Disposable;
  close(): Promise<void>;
}

/** Opens, starts and initializes a connection to the daemon a runtime file describes. */
export type Connector = (info: RuntimeInfo) => Promise<RpcConnection>;

/**
 * What features see of the daemon: requests, notifications and appended events that survive
 * reconnects and daemon restarts, and the connection state. Features never hold a client themselves.
 */
export interface DaemonSession {
  readonly state: DaemonState;
  onDidChangeState(cb: (state: DaemonState) => void): Disposable;
  /** Rejects with DaemonUnavailableError when there is no connection. */
  request<T extends AnyRequestType>(type: T, params: ParamsOf<T>): Promise<ResultOf<T>>;
  /** Listens across reconnects: the listener is attached to every connection this session opens. */
  onNotification<T extends AnyNotificationType>(type: T, cb: (params: NotificationParamsOf<T>) => void): Disposable;
  /**
   * Every event appended to the log. The session subscribes on the daemon only while at least one
   * listener exists, so a hidden view costs no traffic.
   */
  onDidAppend(cb: (event: EventEnvelope) => void): Disposable;
}

/** A request was made while no daemon connection is up. */
export class DaemonUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DaemonUnavailableError';
  }
}
