import { describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../../daemon/protocol/daemon';
import { hostTimedOut, initialModel, reduce, toSavedState, viewOf, type OverviewModel } from '../../../webview/overview/overviewModel';

const status = (over: Partial<DaemonStatus> = {}): DaemonStatus => ({
  health: 'ok',
  problems: [],
  version: '0.1.0',
  protocolVersion: '1.0',
  pid: 42,
  startedAt: '2026-01-01T10:00:00.000Z',
  uptimeMs: 60_000,
  dataDir: '/data/cf',
  eventLog: { bytes: 1536, events: 10, segments: 1, lastSeq: 10, snapshotSeq: 0 },
  streams: [
    { name: 'default', events: 3, bytes: 500 },
    { name: 'api_requests', events: 7, bytes: 1036 },
  ],
  connections: 2,
  ...over,
});

const T0 = 1_000_000;
const connected = (m: OverviewModel = initialModel()): OverviewModel =>
  reduce(reduce(m, { type: 'connection', state: 'connected', failure: false }), { type: 'status', status: status(), receivedAt: T0 });

describe('overview model', () => {
  it('waits (busy, no banner) until the host speaks', () => {
    const v = viewOf(initialModel(), T0);
    expect(v.busy).toBe(true);
    expect(v.banner).toBeUndefined();
    expect(v.connectionText).toBe('waiting');
  });

  it('shows an error instead of spinning when the host never answers', () => {
    const v = viewOf(hostTimedOut(initialModel()), T0);
    expect(v.busy).toBe(false);
    expect(v.banner).toMatchObject({ tone: 'error', actions: ['showLog'] });
  });

  it('shows live figures when connected', () => {
    const v = viewOf(connected(), T0 + 5_000);
    expect(v).toMatchObject({
      busy: false,
      banner: undefined,
      connectionText: 'connected',
      connectionTone: 'ok',
      healthText: 'ok',
      healthTone: 'ok',
      uptimeText: '1m 5s',
      logBytesText: '1.5 KiB',
      logDetailText: '10 events · 1 segment',
      connectionsText: '2',
      stale: false,
      updatedText: 'Updated 5s ago',
    });
    expect(v.streams.map((s) => [s.name, s.events])).toEqual([
      ['api_requests', 7],
      ['default', 3],
    ]);
  });

  it('adds appended events to their streams until the next status', () => {
    let m = connected();
    m = reduce(m, { type: 'appended', counts: { default: 5, security: 1 } });
    m = reduce(m, { type: 'appended', counts: { default: 1 } });
    let v = viewOf(m, T0);
    expect(v.streams.map((s) => [s.name, s.events])).toEqual([
      ['default', 9],
      ['api_requests', 7],
      ['security', 1],
    ]);
    expect(v.logDetailText).toBe('17 events · 1 segment');
    m = reduce(m, { type: 'status', status: status(), receivedAt: T0 + 2000 });
    v = viewOf(m, T0 + 2000);
    expect(v.streams.find((s) => s.name === 'default')?.events).toBe(3);
  });

  it('reports degraded health with its problems', () => {
    const m = reduce(connected(), { type: 'status', status: status({ health: 'degraded', problems: ['segment 2 corrupt'] }), receivedAt: T0 });
    const v = viewOf(m, T0);
    expect(v.healthText).toBe('degraded');
    expect(v.healthTone).toBe('warning');
    expect(v.problems).toEqual(['segment 2 corrupt']);
  });

  it('explains a stopped daemon with actions, and marks the data stale', () => {
    const m = reduce(connected(), { type: 'connection', state: 'stopped', reason: 'The daemon exited unexpectedly.', failure: true });
    const v = viewOf(m, T0);
    expect(v.banner).toEqual({ tone: 'error', text: 'The daemon exited unexpectedly.', actions: ['startDaemon', 'showLog'] });
    expect(v.healthText).toBe('down');
    expect(v.uptimeText).toBe('—');
    expect(v.stale).toBe(true);
    expect(v.busy).toBe(false);
  });

  it('shows a poll error as an error banner, not a spinner', () => {
    const m = reduce(connected(), { type: 'statusError', message: 'timed out' });
    const v = viewOf(m, T0);
    expect(v.banner?.tone).toBe('error');
    expect(v.banner?.text).toContain('timed out');
    expect(v.busy).toBe(false);
    expect(v.stale).toBe(true);
    expect(viewOf(reduce(m, { type: 'status', status: status(), receivedAt: T0 }), T0).banner).toBeUndefined();
  });

  it('keeps the last figures, marked stale, while reconnecting', () => {
    const m = reduce(connected(), { type: 'connection', state: 'reconnecting', failure: false });
    const v = viewOf(m, T0 + 60_000);
    expect(v.banner?.tone).toBe('warning');
    expect(v.logBytesText).toBe('1.5 KiB');
    expect(v.uptimeText).toBe('1m');
    expect(v.stale).toBe(true);
  });

  it('restores the last status from saved state', () => {
    const saved = toSavedState(connected());
    const v = viewOf(initialModel(saved), T0 + 1000);
    expect(v.logBytesText).toBe('1.5 KiB');
    expect(v.busy).toBe(true);
    expect(v.stale).toBe(true);
  });

  it('has an empty stream list when nothing is stored', () => {
    const m = reduce(connected(), { type: 'status', status: status({ streams: [] }), receivedAt: T0 });
    expect(viewOf(m, T0).streams).toEqual([]);
  });
});
