/**
 * The CogniForge client library (Node): finds the daemon through its runtime file, connects with the
 * token, initializes, reconnects with backoff, and is typed from daemon/protocol. The extension and
 * users' services import this and daemon/protocol, nothing else of the daemon.
 */
export {
  DaemonClient,
  batchCall,
  connect,
  type BatchCall,
  type BatchOutcome,
  type BatchResults,
  type ClientState,
  type ConnectOptions,
  type DaemonClientOptions,
  type Disposable,
  type InitializeResult,
  type LogLevel,
  type RequestOptions,
  type StateChange,
} from './daemonClient';
export { ClientError, isClientError, type ClientErrorKind } from './clientError';
export { DEFAULT_RECONNECT, backoffDelay, type ReconnectOptions } from './backoff';
export { isRetrySafe } from './retryRule';
export { validateResult } from './resultValidation';
export { isPidAlive, readRuntimeFile, runtimeFilePath, runtimeUrl } from './runtimeFile';
export { defaultDataDir } from './paths';
export type { SubscribeFilter, Subscription } from './subscription';
export { subscribeDurable, type DeliveryInfo, type DurableHandler, type DurableSubscribeOptions, type DurableSubscription } from './durableSubscription';
export { liveConfig, type LiveConfig, type LiveConfigChange, type LiveConfigOptions } from './liveConfig';
export {
  SloRecorder,
  classifyFlushError,
  createSloRecorder,
  rejectedSampleIndexes,
  type FlushFailure,
  type SloRecorderOptions,
  type SloRecorderStats,
  type SloRequestSample,
  type SloTransport,
} from './sloRecorder';
export {
  ABANDONED_STATUS,
  collapseIds,
  routeTemplate,
  sloMiddleware,
  type RequestRecorder,
  type RouteAwareRequest,
  type SloMiddleware,
  type SloMiddlewareOptions,
} from './sloMiddleware';
export { BULKHEAD_TEMPLATES, PolicyBuilder, policyBuilder, type CallResult, type PolicyBuilderOptions, type ServicePolicyOptions } from './policies';
