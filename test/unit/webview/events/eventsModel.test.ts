import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../../daemon/protocol';
import { EventsDashboardSavedState, EventsDashboardToHost, isCorrelated, type EventsDashboardData } from '../../../../webview/protocol/eventsDashboard';
import { activityChartOf, hostTimedOut, initialModel, reduce, toSavedState, viewOf, withInspect } from '../../../../webview/events/eventsModel';

const NOW = Date.parse('2026-01-01T12:00:00.000Z');

const event = (seq: number, over: Partial<EventEnvelope> = {}): EventEnvelope => ({
  id: `id-${seq}`,
  seq,
  type: 'order.placed',
  stream: 'default',
  time: '2026-01-01T11:59:50.000Z',
  priority: 'normal',
  actor: 'owner',
  schemaVersion: 1,
  payload: { n: seq },
  ...over,
});

const data = (over: Partial<EventsDashboardData> = {}): EventsDashboardData => ({
  type: 'data',
  range: '1h',
  activity: {
    bucketMinutes: 1,
    buckets: [
      { start: '2026-01-01T11:58:00.000Z', counts: { default: 3, api_events: 1 } },
      { start: '2026-01-01T11:59:00.000Z', counts: { api_events: 2 } },
    ],
  },
  streams: ['api_events', 'default', 'security_events'],
  dlq: { parked: 2, retrying: 0, more: false },
  subscriptions: { count: 2, attached: 1, lag: 7 },
  recent: [event(2), event(1)],
  receivedAt: NOW - 10_000,
  ...over,
});

describe('activityChartOf', () => {
  it('gives one series per stream with events, busiest first, and says it in words', () => {
    const chart = activityChartOf(data());
    expect(chart.series).toEqual([
      { stream: 'api_events', counts: [1, 2], total: 3 },
      { stream: 'default', counts: [3, 0], total: 3 },
    ]);
    expect(chart.labels).toHaveLength(2);
    expect(chart.summary).toBe('6 events in the last 1h in 1-minute buckets: api_events 3, default 3.');
    expect(activityChartOf(data({ activity: { bucketMinutes: 1, buckets: [] } })).summary).toBe('No events in the last 1h.');
  });
});

describe('viewOf', () => {
  it('shows cards for events, dead letters, subscriptions and lag', () => {
    const view = viewOf(reduce(initialModel(undefined), data()), NOW);
    expect(view.cards.map((c) => [c.key, c.value, c.tone])).toEqual([
      ['events', '6', 'pending'],
      ['dlq', '2', 'warning'],
      ['subscriptions', '2', 'warning'],
      ['lag', '7', 'pending'],
    ]);
    expect(view.recent.map((r) => r.seq)).toEqual([2, 1]);
    expect(view.updatedText).toBe('Updated 10s ago');
    expect(view.inspector.title).toBe('Pick an event to inspect it');
  });

  it('shows the inspected event, its correlated events and its JSON; greys out while another loads', () => {
    let model = reduce(initialModel(undefined), data());
    model = withInspect(model, 2);
    expect(viewOf(model, NOW).inspector).toMatchObject({ title: 'Event #2', pending: true, json: '' });
    model = reduce(model, { type: 'inspect', event: event(2, { correlationId: 'c-1' }), correlated: [event(1, { correlationId: 'c-1' })], searched: 2 });
    const view = viewOf(model, NOW);
    expect(view.inspector).toMatchObject({ title: 'order.placed #2', pending: false });
    expect(view.inspector.fields).toContainEqual({ label: 'Correlation id', value: 'c-1' });
    expect(JSON.parse(view.inspector.json)).toMatchObject({ seq: 2, payload: { n: 2 } });
    expect(view.inspector.correlatedNote).toBe('1 correlated event (same correlation id, its cause, or caused by it) among the newest 2.');
    expect(view.recent.find((r) => r.seq === 2)?.selected).toBe(true);
    expect(viewOf(withInspect(model, 1), NOW).inspector.pending).toBe(true);
    expect(toSavedState(model)).toEqual({ version: 1, range: '1h', inspectSeq: 2 });
  });

  it('shows an inspect error in the inspector and a data error in the banner', () => {
    const connected = reduce(initialModel(undefined), { type: 'connection', state: 'connected' });
    let model = withInspect(reduce(connected, data()), 9);
    model = reduce(model, { type: 'error', scope: 'inspect', message: 'Event #9 is not in the log.' });
    expect(viewOf(model, NOW).inspector).toMatchObject({ error: 'Event #9 is not in the log.' });
    model = reduce(model, { type: 'error', scope: 'data', message: 'Could not load: boom' });
    expect(viewOf(model, NOW).banner).toEqual({ tone: 'error', text: 'Could not load: boom', actions: ['showLog'] });
  });

  it('offers to start the daemon when it is stopped, and never spins forever', () => {
    const stopped = reduce(initialModel(undefined), { type: 'connection', state: 'stopped', reason: 'stopped by user' });
    expect(viewOf(stopped, NOW).banner).toMatchObject({ tone: 'error', actions: ['startDaemon', 'showLog'] });
    const waiting = reduce(initialModel(undefined), { type: 'connection', state: 'connected' });
    expect(viewOf(waiting, NOW).busy).toBe(true);
    expect(viewOf(hostTimedOut(waiting), NOW)).toMatchObject({ busy: false, banner: { tone: 'error' } });
  });
});

describe('events dashboard protocol', () => {
  it('finds correlated events by correlation id, cause and effect', () => {
    const e = event(5, { correlationId: 'c-1', causationId: 'id-4' });
    expect(isCorrelated(e, event(1, { correlationId: 'c-1' }))).toBe(true);
    expect(isCorrelated(e, event(4))).toBe(true);
    expect(isCorrelated(e, event(6, { causationId: 'id-5' }))).toBe(true);
    expect(isCorrelated(e, event(7))).toBe(false);
    expect(isCorrelated(e, e)).toBe(false);
  });

  it('refuses webview messages outside the fixed list', () => {
    expect(EventsDashboardToHost.safeParse({ type: 'runCommand', command: 'workbench.action.quit' }).success).toBe(false);
    expect(EventsDashboardToHost.safeParse({ type: 'inspect', seq: -1 }).success).toBe(false);
    expect(EventsDashboardToHost.safeParse({ type: 'setRange', range: '7d' }).success).toBe(false);
    expect(EventsDashboardSavedState.safeParse({ version: 1, range: '6h', inspectSeq: 3 }).success).toBe(true);
  });
});
