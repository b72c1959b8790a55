/**
 * The method and notification tables: every request and notification the daemon serves, declared
 * once in its domain file. The server routes from this table, the README's method reference is
 * generated from it, and the client takes its types from it.
 */
import type { AnyNotificationType, AnyRequestType } from './define';
import * as brokers from './brokers';
import * as chaos from './chaos';
import * as config from './config';
import * as daemon from './daemon';
import * as dr from './dr';
import * as events from './events';
import * as governance from './governance';
import * as incidents from './incidents';
import * as oncall from './oncall';
import * as resilience from './resilience';
import * as scheduler from './scheduler';
import * as secrets from './secrets';
import * as slo from './slo';

export * from './chaos';
export * from './brokers';
export * from './common';
export * from './config';
export * from './define';
export * from './errors';
export * from './jsonrpc';
export * from './daemon';
export * from './dr';
export * from './events';
export * from './governance';
export * from './incidents';
export * from './oncall';
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
  events.PublishEventBatch,
  events.QueryEvents,
  events.ListStreams,
  events.Subscribe,
  events.Unsubscribe,
  events.CreateDurableSubscription, events.ListDurableSubscriptions, events.DeleteDurableSubscription, events.AttachSubscription, events.DetachSubscription, events.AckEvent, events.NackEvent, events.ListDlq, events.GetDlqEntry, events.RetryDlq, events.DiscardDlq, events.ReplayEvents, events.StateAt, events.ListCommands, events.StreamActivity,
  scheduler.ListTimers,
  brokers.GetBrokerStatus,
  slo.ListSlos, slo.GetSlo, slo.CreateSlo, slo.UpdateSlo, slo.DeleteSlo, slo.RecordSample, slo.RecordSampleBatch, slo.SloSeries, slo.ListSloAlerts, slo.BudgetConsumed, slo.Gate, slo.ImportSlos, slo.ExportSlos, slo.RouteUsage,
  resilience.ListPolicies, resilience.ConfigurePolicy, resilience.ResetBreaker, resilience.ReportStats,
  chaos.StartChaos, chaos.StopChaos, chaos.ListChaos,
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
  secrets.ListSecretsBackends,
  secrets.UpdateSecret,
  secrets.SetSecretHook,
  secrets.DueForRotation,
  secrets.RotateManySecrets,
  secrets.SecretHistory,
  secrets.DeleteSecretVersion,
  secrets.UndeleteSecretVersion,
  secrets.DestroySecretVersion,
  secrets.RestorePreviousSecret,
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
  incidents.DraftReview,
  incidents.GetIncidentSloImpact,
  oncall.ListPeople, oncall.UpsertPerson, oncall.DeletePerson, oncall.ListSchedules, oncall.UpsertSchedule, oncall.DeleteSchedule, oncall.AddOverride, oncall.RemoveOverride, oncall.WhoIsOnCall, oncall.GetOncallSchedule, oncall.ListEscalationPolicies, oncall.UpsertEscalationPolicy,
  dr.ListPlans, dr.GetPlan, dr.CreatePlan, dr.UpdatePlan, dr.DeletePlan, dr.StartRun, dr.CompleteManualStep, dr.AbortRun, dr.ListRuns, dr.GetRun, dr.GetDrStatus, dr.RegisterBackup, dr.VerifyBackup, dr.ListBackups, dr.DeleteBackup,
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
  governance.AuditContracts,
  governance.AuditHistory,
  governance.GetOwaspCompliance,
  governance.CompareContracts,
  governance.CompareReports,
  governance.SetNotificationChannels,
  governance.GetNotificationChannels,
  governance.ListDeprecationPolicies,
  governance.CreateDeprecationPolicy,
  governance.UpdateDeprecationPolicy,
  governance.DeleteDeprecationPolicy,
  config.ListConfigEnvironments, config.CreateConfigEnvironment, config.SetConfig, config.DeleteConfig, config.GetConfig, config.ListConfig, config.ConfigHistory, config.DiffConfig, config.RollbackConfig, config.PromoteConfig, config.ImportDotenv, config.ExportDotenv,
];

export const notifications: readonly AnyNotificationType[] = [brokers.DidChangeBroker, resilience.DidChangeResilience, chaos.DidChangeChaos, dr.DidProgressDr, dr.DidChangeDr, events.DidAppend, events.DidDeliver, daemon.DidShutdown, incidents.DidChangeIncident, oncall.DidChangeOncall, oncall.DidEscalateIncident, slo.DidChangeSlo, slo.DidAlertSlo, slo.DidNoticeSlo, config.DidChangeConfig, governance.DidDetectBreakingChange];

export const requestByMethod: ReadonlyMap<string, AnyRequestType> = new Map(requests.map((r) => [r.method, r]));
