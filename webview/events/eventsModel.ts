import type { EventEnvelope } from '../../daemon/protocol/events';
import type { ConnectionStateName } from '../protocol/connection';
import {
  EVENTS_RANGES,
  type EventsDashboardCommand,
  type EventsDashboardData,
  type EventsDashboardInspect,
  type EventsDashboardSavedState,
  type EventsRange,
  type HostToEventsDashboard,
} from '../protocol/eventsDashboard';
import { formatCount, formatDuration } from '../protocol/format';

export type Tone = 'ok' | 'warning' | 'error' | 'pending';

export interface EventsDashboardModel {
  readonly connection: ConnectionStateName;
  readonly connectionReason?: string;
  readonly range: EventsRange;
  readonly data?: EventsDashboardData;
  readonly dataError?: string;
  /** The event the inspector shows (or waits for). */
  readonly inspectSeq?: number;
  readonly inspected?: EventsDashboardInspect;
  readonly inspectError?: string;
  readonly hostTimedOut: boolean;
}

export function initialModel(saved: EventsDashboardSavedState | undefined): EventsDashboardModel {
  return { connection: 'connecting', range: saved?.range ?? '1h', inspectSeq: saved?.inspectSeq, hostTimedOut: false };
}

export function reduce(model: EventsDashboardModel, message: HostToEventsDashboard): EventsDashboardModel {
  switch (message.type) {
    case 'connection':
      return { ...model, connection: message.state, connectionReason: message.reason, hostTimedOut: false };
    case 'data':
      return { ...model, data: message, dataError: undefined, range: message.range, hostTimedOut: false };
    case 'inspect':
      return { ...model, inspectSeq: message.event.seq, inspected: message, inspectError: undefined };
    case 'error':
      return message.scope === 'data' ? { ...model, dataError: message.message, hostTimedOut: false } : { ...model, inspectError: message.message, inspected: undefined };
  }
}

export function withRange(model: EventsDashboardModel, range: EventsRange): EventsDashboardModel {
  return { ...model, range };
}

/** The user picked an event: the inspector waits for it (the old one stays greyed out meanwhile). */
export function withInspect(model: EventsDashboardModel, seq: number): EventsDashboardModel {
  return { ...model, inspectSeq: seq, inspectError: undefined };
}

export function hostTimedOut(model: EventsDashboardModel): EventsDashboardModel {
  return model.data || model.dataError ? model : { ...model, hostTimedOut: true };
}

export function toSavedState(model: EventsDashboardModel): EventsDashboardSavedState {
  return model.inspectSeq === undefined ? { version: 1, range: model.range } : { version: 1, range: model.range, inspectSeq: model.inspectSeq };
}

/** A bucket's label: local time of day. */
export function bucketLabel(startMs: number): string {
  const d = new Date(startMs);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

export interface StreamSeries {
  readonly stream: string;
  readonly counts: readonly number[];
  readonly total: number;
}

export interface ActivityChart {
  readonly labels: readonly string[];
  /** Streams with at least one event in the range, busiest first. */
  readonly series: readonly StreamSeries[];
  /** The chart in words, for screen readers (the canvas's aria-label). */
  readonly summary: string;
}

/** Events per stream per bucket, one series per stream that had any. */
export function activityChartOf(data: EventsDashboardData): ActivityChart {
  const { buckets, bucketMinutes } = data.activity;
  const names = new Set(data.streams);
  for (const b of buckets) for (const s of Object.keys(b.counts)) names.add(s);
  const series = [...names]
    .map((stream) => {
      const counts = buckets.map((b) => b.counts[stream] ?? 0);
      return { stream, counts, total: counts.reduce((n, c) => n + c, 0) };
    })
    .filter((s) => s.total > 0)
    .sort((a, b) => b.total - a.total || a.stream.localeCompare(b.stream));
  const total = series.reduce((n, s) => n + s.total, 0);
  const summary =
    total === 0
      ? `No events in the last ${data.range}.`
      : `${formatCount(total)} events in the last ${data.range} in ${bucketMinutes}-minute buckets: ${series.map((s) => `${s.stream} ${formatCount(s.total)}`).join(', ')}.`;
  return { labels: buckets.map((b) => bucketLabel(Date.parse(b.start))), series, summary };
}

export interface Card {
  readonly key: 'events' | 'dlq' | 'subscriptions' | 'lag';
  readonly title: string;
  readonly value: string;
  readonly detail: string;
  readonly tone: Tone;
}

export interface EventRow {
  readonly seq: number;
  readonly type: string;
  readonly stream: string;
  readonly when: string;
  readonly selected: boolean;
}

export interface InspectorView {
  /** `order.placed #42`, or a hint when nothing is inspected. */
  readonly title: string;
  readonly pending: boolean;
  readonly error?: string;
  /** Envelope fields other than the payload, as label/value pairs. */
  readonly fields: readonly { readonly label: string; readonly value: string }[];
  /** The whole event as indented JSON. */
  readonly json: string;
  readonly correlated: readonly EventRow[];
  /** What the correlated list means and how far it looked. */
  readonly correlatedNote: string;
}

export interface EventsDashboardView {
  readonly busy: boolean;
  readonly banner?: { readonly tone: 'error' | 'info'; readonly text: string; readonly actions: readonly EventsDashboardCommand[] };
  readonly hasData: boolean;
  readonly stale: boolean;
  readonly cards: readonly Card[];
  readonly recent: readonly EventRow[];
  readonly inspector: InspectorView;
  readonly updatedText: string;
}

const ago = (iso: string, nowMs: number): string => {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? iso : `${formatDuration(Math.max(0, nowMs - at))} ago`;
};

const rowOf = (e: EventEnvelope, nowMs: number, selected: number | undefined): EventRow => ({
  seq: e.seq,
  type: e.type,
  stream: e.stream,
  when: ago(e.time, nowMs),
  selected: e.seq === selected,
});

function inspectorOf(model: EventsDashboardModel, nowMs: number): InspectorView {
  const empty = { fields: [], json: '', correlated: [], correlatedNote: '' };
  if (model.inspectSeq === undefined) return { ...empty, title: 'Pick an event to inspect it', pending: false };
  if (model.inspectError) return { ...empty, title: `Event #${model.inspectSeq}`, pending: false, error: model.inspectError };
  const shown = model.inspected;
  if (!shown) return { ...empty, title: `Event #${model.inspectSeq}`, pending: true };
  const e = shown.event;
  const fields = [
    { label: 'Sequence', value: String(e.seq) },
    { label: 'Id', value: e.id },
    { label: 'Stream', value: e.stream },
    { label: 'Time', value: `${e.time} (${ago(e.time, nowMs)})` },
    { label: 'Priority', value: e.priority },
    { label: 'Actor', value: e.actor },
    ...(e.source !== undefined ? [{ label: 'Source', value: e.source }] : []),
    { label: 'Correlation id', value: e.correlationId ?? '—' },
    { label: 'Causation id', value: e.causationId ?? '—' },
    { label: 'Schema version', value: String(e.schemaVersion) },
  ];
  const hasIds = e.correlationId !== undefined || e.causationId !== undefined;
  const n = shown.correlated.length;
  const correlatedNote = !hasIds && n === 0
    ? 'This event has no correlation or causation id; no other event names it as its cause.'
    : n === 0
      ? `No correlated event among the newest ${formatCount(shown.searched)}.`
      : `${formatCount(n)} correlated event${n === 1 ? '' : 's'} (same correlation id, its cause, or caused by it) among the newest ${formatCount(shown.searched)}.`;
  return {
    title: `${e.type} #${e.seq}`,
    pending: shown.event.seq !== model.inspectSeq,
    fields,
    json: JSON.stringify(e, null, 2),
    correlated: shown.correlated.map((c) => rowOf(c, nowMs, undefined)),
    correlatedNote,
  };
}

export function viewOf(model: EventsDashboardModel, nowMs: number): EventsDashboardView {
  const connected = model.connection === 'connected';
  const data = model.data;
  let banner: EventsDashboardView['banner'];
  if (model.connection === 'stopped') {
    banner = { tone: 'error', text: `The CogniForge daemon is not running${model.connectionReason ? `: ${model.connectionReason}` : '.'}`, actions: ['startDaemon', 'showLog'] };
  } else if (!connected) {
    banner = { tone: 'info', text: `Daemon ${model.connection}… the figures below are the last ones received.`, actions: ['showLog'] };
  } else if (model.dataError) {
    banner = { tone: 'error', text: model.dataError, actions: ['showLog'] };
  } else if (model.hostTimedOut && !data) {
    banner = { tone: 'error', text: 'The extension did not answer. The event figures could not be loaded.', actions: ['showLog'] };
  }
  const inspector = inspectorOf(model, nowMs);
  if (!data) {
    return { busy: connected && !model.dataError && !model.hostTimedOut, banner, hasData: false, stale: false, cards: [], recent: [], inspector, updatedText: '' };
  }
  const total = data.activity.buckets.reduce((n, b) => n + Object.values(b.counts).reduce((m, c) => m + c, 0), 0);
  const perMinute = total / EVENTS_RANGES[data.range].minutes;
  const { dlq, subscriptions } = data;
  const cards: Card[] = [
    {
      key: 'events',
      title: `Events (last ${data.range})`,
      value: formatCount(total),
      detail: total === 0 ? 'nothing appended in this range' : `${perMinute >= 10 ? formatCount(perMinute) : perMinute.toFixed(1)} per minute on average`,
      tone: 'pending',
    },
    {
      key: 'dlq',
      title: 'Dead letters',
      value: `${formatCount(dlq.parked)}${dlq.more ? '+' : ''}`,
      detail: dlq.retrying > 0 ? `parked · ${formatCount(dlq.retrying)} being retried` : dlq.parked === 0 ? 'no event is parked' : 'parked after their last retry',
      tone: dlq.parked > 0 ? 'warning' : 'ok',
    },
    {
      key: 'subscriptions',
      title: 'Subscriptions',
      value: formatCount(subscriptions.count),
      detail: subscriptions.count === 0 ? 'no durable subscription yet' : `${formatCount(subscriptions.attached)} with a consumer attached`,
      tone: subscriptions.count > subscriptions.attached ? 'warning' : 'pending',
    },
    {
      key: 'lag',
      title: 'Subscription lag',
      value: formatCount(subscriptions.lag),
      detail: 'events past the checkpoints (head minus checkpoint, summed)',
      tone: 'pending',
    },
  ];
  return {
    busy: false,
    banner,
    hasData: true,
    stale: !connected,
    cards,
    recent: data.recent.map((e) => rowOf(e, nowMs, model.inspectSeq)),
    inspector,
    updatedText: `Updated ${formatDuration(Math.max(0, nowMs - data.receivedAt))} ago`,
  };
}
