import * as z from 'zod';
import { IsoTime, Priority } from './common';
import { defineNotification, defineRequest } from './define';

/** `api.request`, `incident.created`: dot-separated segments of letters, digits, `_` and `-`. */
export const EventType = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z][\w-]*(\.[A-Za-z0-9_-]+)*$/, 'event type must be dot-separated words, e.g. "api.request"');

/** A type pattern: an event type where a segment may be `*` (one segment) or a final `#`/`**` (any rest). */
export const EventTypePattern = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^(\*|\*\*|#|[A-Za-z][\w-]*)(\.(\*|[A-Za-z0-9_-]+))*(\.(\*\*|#))?$/,
    'type pattern must be dot-separated words where a segment may be "*" and the last may be "**"',
  );

export const StreamName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_]*$/, 'stream names are lower_snake_case');

/** The stored form of every event, domain events and user events alike. */
export const EventEnvelope = z.object({
  /** UUID; also the idempotency key of `events/publish`. */
  id: z.string(),
  /** Global sequence number in the log, 1-based, gap-free within what retention kept. */
  seq: z.number().int().positive(),
  type: z.string(),
  stream: z.string(),
  /** When the event was appended (ISO-8601, daemon clock). */
  time: IsoTime,
  priority: Priority,
  /** Name of the token that caused it (`owner` for the owner token). */
  actor: z.string(),
  source: z.string().optional(),
  correlationId: z.string().optional(),
  causationId: z.string().optional(),
  schemaVersion: z.number().int().positive(),
  payload: z.unknown(),
  /**
   * Team mode: present on an event this daemon imported from a teammate over Kafka. `daemon` is the
   * id of the daemon that appended it first, `seq` and `time` are its sequence and time there;
   * `seq`/`time` above are where it sits in this daemon's log. Absent on events appended here.
   */
  origin: z.object({ daemon: z.string(), seq: z.number().int().positive(), time: IsoTime }).optional(),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

/** When an event happened where it was first appended: the origin's time for imported events. */
export function eventTime(event: Pick<EventEnvelope, 'time' | 'origin'>): string {
  return event.origin?.time ?? event.time;
}

export const PublishEvent = defineRequest(
  'events/publish',
  z.object({
    type: EventType,
    payload: z.unknown().default(null),
    /** Defaults to the stream whose type patterns match `type`, else `default`. */
    stream: StreamName.optional(),
    priority: Priority.default('normal'),
    source: z.string().max(256).optional(),
    correlationId: z.string().max(256).optional(),
    causationId: z.string().max(256).optional(),
    /** Client-chosen UUID; publishing the same id twice stores the event once (`duplicate: true`). */
    id: z.uuid().optional(),
  }),
  z.object({
    id: z.string(),
    seq: z.number().int().positive(),
    stream: z.string(),
    time: IsoTime,
    /** True when an event with this id was already stored; nothing new was appended. */
    duplicate: z.boolean(),
  }),
  { kind: 'command', doc: 'Append an event; answers after it is durable on disk.' },
);

/** Most events one `events/publishBatch` call may carry. */
export const MAX_PUBLISH_BATCH = 1000;

export const PublishEventBatch = defineRequest(
  'events/publishBatch',
  z.object({
    /** Each item is exactly the params of `events/publish`; appended in this order. */
    events: z.array(PublishEvent.params).min(1).max(MAX_PUBLISH_BATCH),
  }),
  z.object({
    /** One per input event, in input order. */
    results: z.array(PublishEvent.result),
  }),
  {
    kind: 'command',
    doc: `Append up to ${MAX_PUBLISH_BATCH} events in one call, all or nothing and in order; answers after they are durable on disk.`,
  },
);

export const QueryEvents = defineRequest(
  'events/query',
  z
    .object({
      types: z.array(EventTypePattern).max(50).optional(),
      stream: StreamName.optional(),
      /** Inclusive lower bound (ISO-8601). */
      from: IsoTime.optional(),
      /** Exclusive upper bound (ISO-8601). */
      to: IsoTime.optional(),
      /** Only events with seq greater than this. */
      afterSeq: z.number().int().min(0).optional(),
      order: z.enum(['asc', 'desc']).default('asc'),
      limit: z.number().int().min(1).max(1000).default(100),
      /** Opaque cursor from a previous page's `nextCursor`. */
      cursor: z.string().max(200).optional(),
    })
    .refine((p) => !(p.from && p.to) || p.from < p.to, { message: '`from` must be before `to`', path: ['from'] }),
  z.object({
    events: z.array(EventEnvelope),
    /** Present when more events match; pass it as `cursor` to get the next page. */
    nextCursor: z.string().optional(),
  }),
  { kind: 'query', doc: 'Events by type pattern, stream and time range, a page at a time.' },
);

export const StreamInfo = z.object({
  name: z.string(),
  /** Retention in days; null = kept forever. */
  retentionDays: z.number().int().positive().nullable(),
  typePatterns: z.array(z.string()),
  /** Events currently stored in this stream. */
  events: z.number().int().min(0),
  /** Bytes on disk attributed to this stream's records. */
  bytes: z.number().int().min(0),
  lastSeq: z.number().int().min(0),
  lastTime: IsoTime.optional(),
});
export type StreamInfo = z.infer<typeof StreamInfo>;

export const ListStreams = defineRequest('events/streams', z.object({}), z.object({ streams: z.array(StreamInfo) }), {
  kind: 'query',
  doc: 'Streams with retention, type patterns, event counts and bytes.',
});

export const SubscriptionFilter = z.object({
  types: z.array(EventTypePattern).max(50).optional(),
  streams: z.array(StreamName).max(50).optional(),
  /** Only events of this priority or higher. */
  minPriority: Priority.optional(),
});
export type SubscriptionFilter = z.infer<typeof SubscriptionFilter>;

export const Subscribe = defineRequest(
  'events/subscribe',
  SubscriptionFilter.extend({
    /** Deliver stored events with seq > afterSeq first, then live ones (catch-up). Omit for live only. */
    afterSeq: z.number().int().min(0).optional(),
  }),
  z.object({ subscriptionId: z.string(), /** Last seq in the log when the subscription started. */ headSeq: z.number().int().min(0) }),
  { kind: 'query', doc: 'Push matching events to this connection as `events/didAppend` notifications.' },
);

export const Unsubscribe = defineRequest(
  'events/unsubscribe',
  z.object({ subscriptionId: z.string().min(1) }),
  z.object({ ok: z.literal(true) }),
  { kind: 'query', doc: 'Stop a subscription of this connection.' },
);

export const DidAppend = defineNotification(
  'events/didAppend',
  z.object({ subscriptionId: z.string(), event: EventEnvelope }),
  'An event matching one of your subscriptions was appended (or is being caught up).',
);

// ---------------------------------------------------------------- durable subscriptions (issue 8)

/** A condition on one payload field, addressed by a dot path (`user.id`). */
export const PayloadPredicate = z
  .object({
    /** Dot path into the payload, e.g. `status` or `user.id`. */
    path: z.string().min(1).max(200).regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'path must be dot-separated field names, e.g. "user.id"'),
    op: z.enum(['eq', 'neq', 'in', 'exists', 'gt', 'lt']),
    /** Compared value: any JSON for eq/neq, an array for in, a number or string for gt/lt, unused for exists. */
    value: z.unknown().optional(),
  })
  .refine((p) => p.op !== 'in' || Array.isArray(p.value), { message: '"in" needs an array value', path: ['value'] })
  .refine((p) => (p.op !== 'gt' && p.op !== 'lt') || typeof p.value === 'number' || typeof p.value === 'string', {
    message: '"gt"/"lt" need a number or string value',
    path: ['value'],
  })
  .refine((p) => p.op === 'exists' || p.value !== undefined, { message: 'value is required for this op', path: ['value'] });
export type PayloadPredicate = z.infer<typeof PayloadPredicate>;

export const DurableFilter = SubscriptionFilter.extend({
  /** Every predicate must hold for the event to be delivered. */
  where: z.array(PayloadPredicate).max(10).optional(),
});
export type DurableFilter = z.infer<typeof DurableFilter>;

export const BackoffPolicy = z
  .object({
    /** Delay before the second attempt, ms; doubles per attempt. */
    initialMs: z.number().int().min(0).max(3_600_000).default(1000),
    /** Largest delay, ms. */
    maxMs: z.number().int().min(0).max(86_400_000).default(60_000),
    /** Fraction (0..1) of each delay that is random: delay × (1 − jitter × U[0,1)). */
    jitter: z.number().min(0).max(1).default(0.2),
  })
  .refine((b) => b.initialMs <= b.maxMs, { message: 'initialMs must not exceed maxMs', path: ['initialMs'] });
export type BackoffPolicy = z.infer<typeof BackoffPolicy>;

export const SubscriptionName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_.-]*$/, 'subscription names are lower case letters, digits, ".", "_" and "-"');

export const DurableSubscriptionInfo = z.object({
  name: z.string(),
  filter: DurableFilter,
  /** An unacked delivery is redelivered after this long, ms. */
  ackTimeoutMs: z.number().int(),
  /** Deliveries of one event before it is parked in the DLQ. */
  maxAttempts: z.number().int(),
  backoff: z.object({ initialMs: z.number(), maxMs: z.number(), jitter: z.number() }),
  /** Most events read but not yet acked or parked (flow control). */
  maxInFlight: z.number().int(),
  createdAt: IsoTime,
  createdBy: z.string(),
  /** Highest seq below which every matching event was acked or parked, as last persisted. */
  checkpoint: z.number().int().min(0),
  /** Connection id of the attached consumer, if any. */
  consumer: z.string().optional(),
  /** Events the consumer holds or waits to retry right now. */
  inFlight: z.number().int().min(0),
  /**
   * Events in the log after what the subscription has resolved (its consumer's position when
   * attached, else its checkpoint, not counting its own checkpoint event): an upper bound of what
   * is still to deliver; 0 when caught up.
   */
  lag: z.number().int().min(0),
  /** DLQ entries of this subscription that are parked. */
  parked: z.number().int().min(0),
});
export type DurableSubscriptionInfo = z.infer<typeof DurableSubscriptionInfo>;

export const CreateDurableSubscription = defineRequest(
  'events/createSubscription',
  z.object({
    name: SubscriptionName,
    filter: DurableFilter.default({}),
    ackTimeoutMs: z.number().int().min(100).max(3_600_000).default(30_000),
    maxAttempts: z.number().int().min(1).max(100).default(5),
    backoff: BackoffPolicy.default({ initialMs: 1000, maxMs: 60_000, jitter: 0.2 }),
    maxInFlight: z.number().int().min(1).max(10_000).default(100),
    /** Start after this seq; default: the head of the log (only new events). 0 = from the beginning. */
    startAfterSeq: z.number().int().min(0).optional(),
    /** `keep`: answer the existing definition when the name exists (no change); `error`: Duplicate. */
    ifExists: z.enum(['error', 'keep']).default('error'),
  }),
  z.object({ subscription: DurableSubscriptionInfo, created: z.boolean() }),
  { kind: 'command', doc: 'Create a durable named subscription (filter, ack timeout, retries with backoff, in-flight window).' },
);

export const ListDurableSubscriptions = defineRequest(
  'events/listSubscriptions',
  z.object({}),
  z.object({ subscriptions: z.array(DurableSubscriptionInfo) }),
  { kind: 'query', doc: 'Durable subscriptions with checkpoint, lag, consumer and DLQ size.' },
);

export const DeleteDurableSubscription = defineRequest(
  'events/deleteSubscription',
  z.object({ name: SubscriptionName }),
  z.object({ ok: z.literal(true) }),
  { kind: 'command', doc: 'Delete a durable subscription, its checkpoint and its DLQ entries; detaches its consumer.' },
);

export const AttachSubscription = defineRequest(
  'events/attach',
  z.object({
    name: SubscriptionName,
    /** Replace the consumer already attached (it stops receiving); otherwise a second attach is refused with Conflict. */
    takeover: z.boolean().default(false),
  }),
  z.object({ subscription: DurableSubscriptionInfo }),
  { kind: 'query', doc: 'Become the consumer of a durable subscription: deliveries arrive as `events/didDeliver` from the checkpoint on.' },
);

export const DetachSubscription = defineRequest(
  'events/detach',
  z.object({ name: SubscriptionName }),
  z.object({ ok: z.literal(true) }),
  { kind: 'query', doc: 'Stop consuming; answers once the checkpoint is durable; unacked deliveries are redelivered to the next consumer.' },
);

export const AckEvent = defineRequest(
  'events/ack',
  z.object({
    name: SubscriptionName,
    seq: z.number().int().positive(),
    /** The delivery's id from `events/didDeliver`; tells a replayed or DLQ-retried copy from the live one. */
    deliveryId: z.string().max(100).optional(),
  }),
  z.object({ /** False when nothing was waiting for this ack (late or duplicate): harmless. */ acked: z.boolean() }),
  { kind: 'command', doc: 'Acknowledge a delivered event; the checkpoint advances past contiguous acks.' },
);

export const NackEvent = defineRequest(
  'events/nack',
  z.object({
    name: SubscriptionName,
    seq: z.number().int().positive(),
    deliveryId: z.string().max(100).optional(),
    reason: z.string().max(2000).default('nacked'),
  }),
  z.object({ nacked: z.boolean(), /** True when this failure used the last attempt and the event went to the DLQ. */ parked: z.boolean() }),
  { kind: 'command', doc: 'Reject a delivered event: retried with backoff, parked in the DLQ after maxAttempts.' },
);

export const DidDeliver = defineNotification(
  'events/didDeliver',
  z.object({
    subscription: z.string(),
    /** Pass back in ack/nack. */
    deliveryId: z.string(),
    /** 1 for the first delivery of this copy. */
    attempt: z.number().int().positive(),
    /** True for copies sent by `events/replay`. */
    replay: z.boolean(),
    /** Id of the DLQ entry when this copy comes from `events/dlqRetry`. */
    dlqEntryId: z.string().optional(),
    event: EventEnvelope,
  }),
  'An event for the durable subscription this connection consumes; ack or nack it.',
);

export const DlqEntry = z.object({
  id: z.string(),
  subscription: z.string(),
  /** Seq of the parked event. */
  seq: z.number().int().positive(),
  eventId: z.string(),
  type: z.string(),
  stream: z.string(),
  /** The last failure: the nack reason or `ack timeout after N ms`. */
  reason: z.string(),
  /** Deliveries made before it was parked (all parks added up). */
  attempts: z.number().int().min(1),
  parkedAt: IsoTime,
  /** `parked`: waiting; `retrying`: handed back to the consumer; `delivered`: a retry was acked. */
  status: z.enum(['parked', 'retrying', 'delivered']),
  replay: z.boolean(),
});
export type DlqEntry = z.infer<typeof DlqEntry>;

export const ListDlq = defineRequest(
  'events/dlqList',
  z.object({
    subscription: SubscriptionName.optional(),
    status: z.enum(['parked', 'retrying', 'delivered', 'all']).default('parked'),
    limit: z.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(200).optional(),
  }),
  z.object({ entries: z.array(DlqEntry), nextCursor: z.string().optional() }),
  { kind: 'query', doc: 'Dead-letter entries, oldest first, a page at a time.' },
);

export const GetDlqEntry = defineRequest(
  'events/dlqGet',
  z.object({ id: z.string().min(1).max(100) }),
  z.object({ entry: DlqEntry, event: EventEnvelope.optional() }),
  { kind: 'query', doc: 'One dead-letter entry with its event (absent when retention dropped it).' },
);

export const RetryDlq = defineRequest(
  'events/dlqRetry',
  z
    .object({
      ids: z.array(z.string().min(1).max(100)).min(1).max(1000).optional(),
      /** Retry every parked entry (of `subscription` when given). */
      all: z.boolean().optional(),
      subscription: SubscriptionName.optional(),
    })
    .refine((p) => (p.ids !== undefined) !== (p.all === true), { message: 'give either ids or all: true', path: ['ids'] }),
  z.object({
    /** Entries handed back to their consumer. */
    retried: z.array(z.string()),
    /** Entries already retrying or delivered: not delivered again (the idempotency guard). */
    skipped: z.array(z.string()),
  }),
  { kind: 'command', doc: 'Hand parked events back to their subscription once each; a second retry of an entry is skipped.' },
);

export const DiscardDlq = defineRequest(
  'events/dlqDiscard',
  z.object({ ids: z.array(z.string().min(1).max(100)).min(1).max(1000) }),
  z.object({ discarded: z.array(z.string()) }),
  { kind: 'command', doc: 'Drop dead-letter entries for good.' },
);

export const ReplayEvents = defineRequest(
  'events/replay',
  z
    .object({
      name: SubscriptionName,
      /** Inclusive seq range. */
      fromSeq: z.number().int().positive().optional(),
      toSeq: z.number().int().positive().optional(),
      /** Inclusive / exclusive time range (ISO-8601). */
      from: IsoTime.optional(),
      to: IsoTime.optional(),
      /** Narrow the subscription's own filter further. */
      types: z.array(EventTypePattern).max(50).optional(),
      streams: z.array(StreamName).max(50).optional(),
    })
    .refine((p) => p.fromSeq !== undefined || p.from !== undefined, { message: 'give fromSeq or from', path: ['fromSeq'] })
    .refine((p) => p.fromSeq === undefined || p.toSeq === undefined || p.fromSeq <= p.toSeq, { message: 'fromSeq must not exceed toSeq', path: ['fromSeq'] })
    .refine((p) => !(p.from && p.to) || p.from < p.to, { message: '`from` must be before `to`', path: ['from'] }),
  z.object({
    replayId: z.string(),
    /** Events of the range that match both filters and will be delivered with `replay: true`. */
    count: z.number().int().min(0),
  }),
  { kind: 'command', doc: 'Re-deliver a filtered range of the log to the subscription’s attached consumer (marked replay).' },
);

export const StateAt = defineRequest(
  'events/stateAt',
  z
    .object({
      /** A feature name (`incidents`, `slo`) for all its projections, or one projection name. */
      projection: z.string().min(1).max(64),
      seq: z.number().int().min(0).optional(),
      at: IsoTime.optional(),
    })
    .refine((p) => (p.seq === undefined) !== (p.at === undefined), { message: 'give exactly one of seq or at', path: ['seq'] }),
  z.object({
    /** Last seq applied. */
    seq: z.number().int().min(0),
    eventsApplied: z.number().int().min(0),
    /** False when retention already dropped events before `seq`: the rebuilt state misses them. */
    complete: z.boolean(),
    projections: z.array(z.object({ name: z.string(), state: z.unknown() })),
  }),
  // Admin: it exposes raw projection state (token and secret metadata included), not a curated view.
  { kind: 'query', scope: 'admin', doc: 'A projection rebuilt from the log up to a seq or time (read-only; refused past 250,000 events).' },
);

export const CommandRecord = z.object({
  /** Position in the daemon's command history (increasing, restarts at 1 with the daemon). */
  id: z.number().int().positive(),
  method: z.string(),
  actor: z.string(),
  startedAt: IsoTime,
  durationMs: z.number().min(0),
  outcome: z.enum(['ok', 'error']),
  /** Error code name (`NotFound`) when the outcome is error. */
  errorCode: z.string().optional(),
  /** Seqs of the events the command's actor appended while it ran (at most 100). */
  eventSeqs: z.array(z.number().int().positive()),
  /** False when another command of the same actor overlapped: eventSeqs may include its events. */
  eventsExact: z.boolean(),
});
export type CommandRecord = z.infer<typeof CommandRecord>;

export const ListCommands = defineRequest(
  'events/commands',
  z.object({
    method: z.string().max(128).optional(),
    actor: z.string().max(128).optional(),
    limit: z.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(200).optional(),
  }),
  z.object({ commands: z.array(CommandRecord), nextCursor: z.string().optional() }),
  { kind: 'query', doc: 'Recent commands (newest first) with outcome and the events they appended; in memory since the daemon started.' },
);

// ---------------------------------------------------------------- stream activity (issue 8, editor)

/** Minutes of per-minute counts the daemon keeps for `events/activity`. */
export const ACTIVITY_WINDOW_MINUTES = 1440;

export const ActivityBucket = z.object({
  /** Bucket start (ISO-8601, a multiple of bucketMinutes since the epoch). */
  start: IsoTime,
  /** Events appended in the bucket per stream; streams without events are left out. */
  counts: z.record(z.string(), z.number().int().positive()),
});
export type ActivityBucket = z.infer<typeof ActivityBucket>;

export const StreamActivity = defineRequest(
  'events/activity',
  z.object({
    /** How far back from now, minutes; at most what the daemon keeps (1440). */
    minutes: z.number().int().min(1).max(ACTIVITY_WINDOW_MINUTES).default(60),
    /** Bucket size, minutes. */
    bucketMinutes: z.number().int().min(1).max(240).default(1),
    /** Only these streams; default every stream. */
    streams: z.array(StreamName).max(50).optional(),
  }),
  z.object({
    bucketMinutes: z.number().int().positive(),
    /** Oldest first, every bucket of the range (empty ones included); the last one holds now. */
    buckets: z.array(ActivityBucket),
  }),
  { kind: 'query', doc: 'Events appended per stream per time bucket over the last day (from memory, by append time).' },
);
