export { CircuitBreaker, CircuitOpenError } from './breaker';
export type { BreakerConfig, BreakerPermit, BreakerTransitionInfo } from './breaker';
export {
  BULKHEAD_TEMPLATES,
  DEFAULT_POLICY_CONFIG,
  DependencyPolicies,
  KNOWN_DEPENDENCIES,
  KNOWN_DEPENDENCY_PREFIXES,
  NonTransientError,
} from './policies';
export type {
  AfterCall,
  BulkheadTemplateName,
  PolicyCallEvent,
  PolicyObserver,
  DependencyPoliciesOptions,
  DependencyPolicyOverrides,
  ExecuteOptions,
  FaultContext,
  FaultInjector,
  LogFn,
} from './policies';
export { registerResilience } from './register';
export { CHANGE_NOTIFY_INTERVAL_MS, resilienceFeature, type ResilienceFeatureOptions } from './resilienceFeature';
export { ChangeThrottle } from './changeThrottle';
export { PolicyConfigProjection, mergeOverrides } from './configProjection';
export { MAX_REPORTED_POLICIES, REPORT_TTL_MS, ReportedStats } from './reportedStats';
export { OutboundHttp } from './outbound';
export type { HttpMethod, OutboundHttpOptions, OutboundRequest, OutboundResponse } from './outbound';
export { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook, verifyWebhookSignature } from './webhookSignature';
export type { VerifyWebhookInput } from './webhookSignature';
