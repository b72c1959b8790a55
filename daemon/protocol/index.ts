/**
 * The method and notification tables: every request and notification the daemon serves, declared
 * once in its domain file. The server routes from this table, the README's method reference is
 * generated from it, and the client takes its types from it.
 */
import type { AnyNotificationType, AnyRequestType } from './define';
import * as daemon from './daemon';
import * as events from './events';
import * as resilience from './resilience';
import * as scheduler from './scheduler';

export * from './common';
export * from './define';
export * from './errors';
export * from './jsonrpc';
export * from './daemon';
export * from './events';
export * from './runtime';
export * from './resilience';
export * from './scheduler';

export const requests: readonly AnyRequestType[] = [
  daemon.Initialize,
  daemon.Ping,
  daemon.GetStatus,
  daemon.Shutdown,
  daemon.CreateToken,
  daemon.ListTokens,
  daemon.RevokeToken,
  events.PublishEvent,
  events.QueryEvents,
  events.ListStreams,
  events.Subscribe,
  events.Unsubscribe,
  scheduler.ListTimers,
  resilience.ListPolicies,
];

export const notifications: readonly AnyNotificationType[] = [events.DidAppend, daemon.DidShutdown];

export const requestByMethod: ReadonlyMap<string, AnyRequestType> = new Map(requests.map((r) => [r.method, r]));
