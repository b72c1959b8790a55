export { CircuitBreaker, CircuitOpenError } from './breaker';
export type { BreakerConfig, BreakerPermit, BreakerTransitionInfo } from './breaker';
export {
  BULKHEAD_TEMPLATES,
  DEFAULT_POLICY_CONFIG,
  DependencyPolicies,
  NonTransientError,
} from './policies';
export type {
  BulkheadTemplateName,
  DependencyPoliciesOptions,
  DependencyPolicyOverrides,
  ExecuteOptions,
  FaultContext,
  FaultInjector,
  LogFn,
} from './policies';
export { registerResilience } from './register';
export { OutboundHttp } from './outbound';
export type { HttpMethod, OutboundHttpOptions, OutboundRequest, OutboundResponse } from './outbound';
export { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook, verifyWebhookSignature } from './webhookSignature';
export type { VerifyWebhookInput } from './webhookSignature';
