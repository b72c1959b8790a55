import type { DaemonStatus } from '../../daemon/protocol/daemon';
import type { ConnectionStateName } from '../protocol/connection';
import { formatBytes, formatCount, formatDuration } from '../protocol/format';
import type { HostToOverview, OverviewCommand, OverviewSavedState } from '../protocol/overview';

/**
 * The Overview dashboard's state and how host messages change it; no DOM, so it is unit-tested.
 * The view (overviewView.ts) only draws what `viewOf` answers.
 */
export interface OverviewModel {
  /** Undefined until the host said which state the connection is in. */
  readonly connection: { readonly state: ConnectionStateName; readonly reason?: string; readonly failure: boolean } | undefined;
  readonly status: DaemonStatus | undefined;
  /** Epoch ms when the host received `status`. */
  readonly receivedAt: number | undefined;
  /** Why the last `daemon/status` poll failed; cleared by the next good one. */
  readonly statusError: string | undefined;
  /** Events appended per stream since `status` was taken. */
  readonly appended: Readonly<Record<string, number>>;
  /** The host sent nothing for too long after `ready`. */
  readonly hostSilent: boolean;
}

export function initialModel(saved?: OverviewSavedState): OverviewModel {
  return {
    connection: undefined,
    status: saved?.status,
    receivedAt: saved?.receivedAt,
    statusError: undefined,
    appended: {},
    hostSilent: false,
  };
}

export function reduce(model: OverviewModel, message: HostToOverview): OverviewModel {
  const heard = { ...model, hostSilent: false };
  switch (message.type) {
    case 'connection':
      return { ...heard, connection: { state: message.state, reason: message.reason, failure: message.failure } };
    case 'status':
      // The snapshot already counts what was appended before it.
      return { ...heard, status: message.status, receivedAt: message.receivedAt, statusError: undefined, appended: {} };
    case 'statusError':
      return { ...heard, statusError: message.message };
    case 'appended': {
      const appended: Record<string, number> = { ...model.appended };
      for (const [stream, n] of Object.entries(message.counts)) appended[stream] = (appended[stream] ?? 0) + n;
      return { ...heard, appended };
    }
  }
}

/** The host did not answer `ready` in time: say so instead of spinning. */
export function hostTimedOut(model: OverviewModel): OverviewModel {
  return model.connection === undefined ? { ...model, hostSilent: true } : model;
}

export function toSavedState(model: OverviewModel): OverviewSavedState {
  return { version: 1, status: model.status, receivedAt: model.receivedAt };
}

export type Tone = 'ok' | 'warning' | 'error' | 'pending';

export interface StreamRow {
  readonly name: string;
  readonly events: number;
  readonly eventsText: string;
  readonly bytesText: string;
}

export interface OverviewView {
  /** Show the progress ring: something is under way that will end in data or in an error. */
  readonly busy: boolean;
  readonly banner: { readonly tone: Exclude<Tone, 'ok' | 'pending'> | 'info'; readonly text: string; readonly actions: readonly OverviewCommand[] } | undefined;
  readonly connectionText: string;
  readonly connectionTone: Tone;
  readonly healthText: string;
  readonly healthTone: Tone;
  readonly problems: readonly string[];
  readonly uptimeText: string;
  readonly logBytesText: string;
  readonly logDetailText: string;
  readonly connectionsText: string;
  /** Most events first. */
  readonly streams: readonly StreamRow[];
  /** The figures are not live (no connection, or the last poll failed). */
  readonly stale: boolean;
  readonly updatedText: string;
  readonly daemonText: string;
}

const NO_VALUE = '—';
const plural = (n: number, word: string): string => `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;

export function viewOf(model: OverviewModel, nowMs: number): OverviewView {
  const { status, connection } = model;
  const state = connection?.state;
  const live = state === 'connected' && model.statusError === undefined && status !== undefined;

  let banner: OverviewView['banner'];
  if (model.hostSilent) {
    banner = {
      tone: 'error',
      text: 'The CogniForge extension did not answer this dashboard. Reload the window; if that does not help, the log says why.',
      actions: ['showLog'],
    };
  } else if (state === 'connecting') {
    banner = { tone: 'info', text: 'Connecting to the CogniForge daemon…', actions: [] };
  } else if (state === 'starting') {
    banner = { tone: 'info', text: 'Starting the CogniForge daemon…', actions: ['showLog'] };
  } else if (state === 'reconnecting') {
    banner = {
      tone: 'warning',
      text: 'Lost the connection to the daemon; reconnecting. The figures below are the last ones received.',
      actions: ['showLog', 'restartDaemon'],
    };
  } else if (state === 'stopped') {
    banner = {
      tone: connection?.failure ? 'error' : 'warning',
      text: connection?.reason ?? 'The CogniForge daemon is not running.',
      actions: ['startDaemon', 'showLog'],
    };
  } else if (state === 'connected' && model.statusError !== undefined) {
    banner = { tone: 'error', text: `Could not read the daemon status: ${model.statusError}`, actions: ['restartDaemon', 'showLog'] };
  }

  const busy =
    (!model.hostSilent && connection === undefined) ||
    state === 'connecting' ||
    state === 'starting' ||
    (state === 'connected' && status === undefined && model.statusError === undefined);

  const connectionText = model.hostSilent ? 'no answer' : (state ?? 'waiting');
  const connectionTone: Tone =
    state === 'connected' ? 'ok' : state === 'reconnecting' ? 'warning' : state === 'stopped' || model.hostSilent ? 'error' : 'pending';

  let healthText = NO_VALUE;
  let healthTone: Tone = 'pending';
  if (state === 'stopped' || model.hostSilent) {
    healthText = 'down';
    healthTone = 'error';
  } else if (status) {
    healthText = status.health;
    healthTone = !live ? 'warning' : status.health === 'ok' ? 'ok' : 'warning';
  }

  const uptimeText =
    status && model.receivedAt !== undefined && state === 'connected'
      ? formatDuration(status.uptimeMs + Math.max(0, nowMs - model.receivedAt))
      : status && state === 'reconnecting'
        ? formatDuration(status.uptimeMs)
        : NO_VALUE;

  const counts = new Map<string, { events: number; bytes: number | undefined }>();
  for (const s of status?.streams ?? []) counts.set(s.name, { events: s.events, bytes: s.bytes });
  for (const [name, n] of Object.entries(model.appended)) {
    const row = counts.get(name);
    counts.set(name, { events: (row?.events ?? 0) + n, bytes: row?.bytes });
  }
  const streams = [...counts.entries()]
    .map(([name, c]) => ({
      name,
      events: c.events,
      eventsText: formatCount(c.events),
      bytesText: c.bytes === undefined ? NO_VALUE : formatBytes(c.bytes),
    }))
    .sort((a, b) => b.events - a.events || a.name.localeCompare(b.name));
  const appendedTotal = Object.values(model.appended).reduce((a, b) => a + b, 0);

  return {
    busy,
    banner,
    connectionText,
    connectionTone,
    healthText,
    healthTone,
    problems: status?.problems ?? [],
    uptimeText,
    logBytesText: status ? formatBytes(status.eventLog.bytes) : NO_VALUE,
    logDetailText: status
      ? `${plural(status.eventLog.events + appendedTotal, 'event')} · ${plural(status.eventLog.segments, 'segment')}`
      : '',
    connectionsText: status ? formatCount(status.connections) : NO_VALUE,
    streams,
    stale: !live,
    updatedText:
      model.receivedAt === undefined ? 'No data yet' : `Updated ${formatDuration(Math.max(0, nowMs - model.receivedAt))} ago`,
    daemonText: status ? `daemon ${status.version} · protocol ${status.protocolVersion} · pid ${status.pid} · ${status.dataDir}` : '',
  };
}
