import { z } from 'zod';
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
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

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
