import type { DependencyStats, DlqEntry, DurableSubscriptionInfo, EventEnvelope, StreamInfo } from '../../../../daemon/protocol';

export const NOW = Date.parse('2026-01-01T12:00:00.000Z');

export const event = (seq: number, over: Partial<EventEnvelope> = {}): EventEnvelope => ({
  id: `id-${seq}`,
  seq,
  type: 'order.placed',
  stream: 'default',
  time: new Date(NOW - 5_000).toISOString(),
  priority: 'normal',
  actor: 'owner',
  schemaVersion: 1,
  payload: { seq },
  ...over,
});

export const stream = (name: string, over: Partial<StreamInfo> = {}): StreamInfo => ({ name, retentionDays: null, typePatterns: [], events: 0, bytes: 0, lastSeq: 0, ...over });

export const subscription = (name: string, over: Partial<DurableSubscriptionInfo> = {}): DurableSubscriptionInfo => ({
  name,
  filter: { types: ['order.*'] },
  ackTimeoutMs: 30_000,
  maxAttempts: 3,
  backoff: { initialMs: 1000, maxMs: 60_000, jitter: 0.2 },
  maxInFlight: 100,
  createdAt: '2026-01-01T11:00:00.000Z',
  createdBy: 'owner',
  checkpoint: 0,
  inFlight: 0,
  lag: 0,
  parked: 0,
  ...over,
});

export const dlqEntry = (id: string, over: Partial<DlqEntry> = {}): DlqEntry => ({
  id,
  subscription: 'billing',
  seq: 7,
  eventId: 'id-7',
  type: 'order.placed',
  stream: 'default',
  reason: 'cannot ship order',
  attempts: 3,
  parkedAt: '2026-01-01T11:59:00.000Z',
  status: 'parked',
  replay: false,
  ...over,
});

// Asserted, not annotated: the resilience protocol is growing fields this view does not read.
export const policy = (dependency: string, state: DependencyStats['breaker']['state'], over: Partial<DependencyStats> = {}): DependencyStats =>
  ({
  dependency,
  config: {
    maxConcurrent: 10,
    maxQueue: 20,
    timeoutMs: 5000,
    retry: { maxRetries: 2, initialDelayMs: 100, maxDelayMs: 1000 },
    breaker: { failureThreshold: 5, halfOpenAfterMs: 30_000, successThreshold: 2 },
  },
  active: 0,
  queued: 0,
  successes: 0,
  failures: 0,
  rejected: 0,
  timedOut: 0,
  shortCircuited: 0,
  retries: 0,
  breaker: { state, consecutiveFailures: 0, halfOpenSuccesses: 0 },
  faultInjection: false,
  ...over,
  }) as DependencyStats;
