/**
 * The method and notification tables: every request and notification the daemon serves, declared
 * once in its domain file. The server routes from this table, the README's method reference is
 * generated from it, and the client takes its types from it.
 */
import type { AnyNotificationType, AnyRequestType } from './define';
import * as daemon from './daemon';
import * as events from './events';
import * as governance from './governance';
import * as incidents from './incidents';
import * as resilience from './resilience';
import * as scheduler from './scheduler';
import * as secrets from './secrets';
import * as slo from './slo';

export * from './common';
export * from './define';
export * from './errors';
export * from './jsonrpc';
export * from './daemon';
export * from './events';
export * from './governance';
export * from './incidents';
export * from './runtime';
export * from './resilience';
export * from './scheduler';
export * from './secrets';
export * from './slo';

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
  slo.ListSlos, slo.GetSlo, slo.CreateSlo, slo.UpdateSlo, slo.DeleteSlo, slo.RecordSample, slo.RecordSampleBatch, slo.SloSeries, slo.ListSloAlerts,
  resilience.ListPolicies,
  secrets.CreateSecret,
  secrets.ListSecrets,
  secrets.GetSecret,
  secrets.RotateSecret,
  secrets.RollbackSecret,
  secrets.RevealSecret,
  secrets.DeleteSecret,
  secrets.SecretsAuditRequest,
  secrets.VerifySecretsAudit,
  secrets.RotateMasterKey,
  incidents.CreateIncident,
  incidents.TransitionIncident,
  incidents.AssignIncident,
  incidents.AddIncidentNote,
  incidents.SetIncidentSeverity,
  incidents.ListIncidents,
  incidents.GetIncident,
  incidents.GetIncidentMetrics,
  incidents.SubmitReview,
  incidents.GetReview,
  governance.CheckUrl,
  governance.CheckPassword,
  governance.ListRateLimitPolicies,
  governance.CreateRateLimitPolicy,
  governance.UpdateRateLimitPolicy,
  governance.DeleteRateLimitPolicy,
  governance.CheckRateLimit,
  governance.ListVersions,
  governance.CreateVersion,
  governance.TransitionVersion,
  governance.HeadersFor,
  governance.GetGovernanceDashboard,
];

export const notifications: readonly AnyNotificationType[] = [events.DidAppend, daemon.DidShutdown, incidents.DidChangeIncident, slo.DidChangeSlo, slo.DidAlertSlo];

export const requestByMethod: ReadonlyMap<string, AnyRequestType> = new Map(requests.map((r) => [r.method, r]));
