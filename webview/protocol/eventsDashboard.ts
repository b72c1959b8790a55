import * as z from 'zod';
import { EventEnvelope } from '../../daemon/protocol/events';
import { ConnectionStateName } from './connection';

/** Messages of the Events dashboard (panel type `cogniforge.eventsDashboard`). */

/** Ranges of the events-per-stream chart. */
export const EventsRange = z.enum(['1h', '6h', '24h']);
export type EventsRange = z.infer<typeof EventsRange>;

/** Length of each range and the bucket size asked of `events/activity`, minutes (60–96 bars each). */
export const EVENTS_RANGES: Readonly<Record<EventsRange, { readonly minutes: number; readonly bucketMinutes: number }>> = {
  '1h': { minutes: 60, bucketMinutes: 1 },
  '6h': { minutes: 360, bucketMinutes: 5 },
  '24h': { minutes: 1440, bucketMinutes: 15 },
};

/** Recent events listed for the inspector. */
export const RECENT_EVENTS = 25;
/** Correlated events shown at most. */
export const MAX_CORRELATED = 50;

const Seq = z.number().int().positive();

export const EventsDashboardConnection = z.object({
  type: z.literal('connection'),
  state: ConnectionStateName,
  /** Why there is no daemon, when `state` is `stopped`. */
  reason: z.string().max(2000).optional(),
});

export const EventsDashboardData = z.object({
  type: z.literal('data'),
  range: EventsRange,
  /** From `events/activity`: oldest bucket first. */
  activity: z.object({
    bucketMinutes: z.number().int().positive(),
    buckets: z.array(z.object({ start: z.string(), counts: z.record(z.string().max(64), z.number().int().min(0)) })).max(2000),
  }),
  /** Every stream name, so a stream without events in the range still has a colour and a legend entry. */
  streams: z.array(z.string().max(64)).max(200),
  dlq: z.object({
    parked: z.number().int().min(0),
    retrying: z.number().int().min(0),
    /** True when there are more than the host counted. */
    more: z.boolean(),
  }),
  subscriptions: z.object({
    count: z.number().int().min(0),
    attached: z.number().int().min(0),
    /** Sum of every subscription's lag (head seq minus checkpoint). */
    lag: z.number().int().min(0),
  }),
  /** Newest first. */
  recent: z.array(EventEnvelope).max(RECENT_EVENTS),
  /** When the host received it, epoch ms. */
  receivedAt: z.number().int().nonnegative(),
});
export type EventsDashboardData = z.infer<typeof EventsDashboardData>;

export const EventsDashboardInspect = z.object({
  type: z.literal('inspect'),
  event: EventEnvelope,
  /** Events sharing its correlation id, caused by it or causing it; oldest first, itself excluded. */
  correlated: z.array(EventEnvelope).max(MAX_CORRELATED),
  /** How many of the newest events were searched for correlated ones. */
  searched: z.number().int().min(0),
});
export type EventsDashboardInspect = z.infer<typeof EventsDashboardInspect>;

export const EventsDashboardError = z.object({
  type: z.literal('error'),
  /** `data`: the figures could not be loaded; `inspect`: the inspected event could not. */
  scope: z.enum(['data', 'inspect']),
  message: z.string().max(2000),
});

export const HostToEventsDashboard = z.discriminatedUnion('type', [EventsDashboardConnection, EventsDashboardData, EventsDashboardInspect, EventsDashboardError]);
export type HostToEventsDashboard = z.infer<typeof HostToEventsDashboard>;

/** Commands the dashboard may ask the host to run: a fixed list, never an arbitrary command id. */
export const EventsDashboardCommand = z.enum(['startDaemon', 'showLog', 'replayEvents', 'showView']);
export type EventsDashboardCommand = z.infer<typeof EventsDashboardCommand>;

export const EventsDashboardToHost = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** After `ready` of a restored panel: what it showed before. */
  z.object({ type: z.literal('restore'), range: EventsRange, inspectSeq: Seq.optional() }),
  z.object({ type: z.literal('setRange'), range: EventsRange }),
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('inspect'), seq: Seq }),
  z.object({ type: z.literal('runCommand'), command: EventsDashboardCommand }),
]);
export type EventsDashboardToHost = z.infer<typeof EventsDashboardToHost>;

/** Kept with `setState`: the range and the inspected event of a restored panel. */
export const EventsDashboardSavedState = z.object({ version: z.literal(1), range: EventsRange, inspectSeq: Seq.optional() });
export type EventsDashboardSavedState = z.infer<typeof EventsDashboardSavedState>;

/** Correlated to `event`: same correlation id, caused by it, or its cause. */
export function isCorrelated(event: EventEnvelope, other: EventEnvelope): boolean {
  if (other.id === event.id) return false;
  if (event.correlationId !== undefined && other.correlationId === event.correlationId) return true;
  if (other.causationId !== undefined && other.causationId === event.id) return true;
  if (event.causationId !== undefined && other.id === event.causationId) return true;
  return event.correlationId !== undefined && (other.id === event.correlationId || other.causationId === event.correlationId);
}
