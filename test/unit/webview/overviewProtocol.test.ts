import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../webview/protocol/messages';
import { HostToOverview, OverviewSavedState, OverviewToHost } from '../../../webview/protocol/overview';

describe('OverviewToHost (what the least trusted side may say)', () => {
  it('accepts the handshake, refresh and the allowed commands', () => {
    for (const m of [{ type: 'ready' }, { type: 'refresh' }, { type: 'runCommand', command: 'showLog' }]) {
      expect(parseMessage(OverviewToHost, m)).toEqual({ ok: true, message: m });
    }
  });

  it('refuses arbitrary commands, unknown types and junk with a readable error', () => {
    const bad = parseMessage(OverviewToHost, { type: 'runCommand', command: 'workbench.action.terminal.new' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^invalid message \(type runCommand\): command/);
    for (const m of [{ type: 'eval', code: '1' }, null, 'ready', 42, [], { command: 'showLog' }]) {
      expect(parseMessage(OverviewToHost, m).ok).toBe(false);
    }
  });
});

describe('HostToOverview', () => {
  it('accepts a connection change and appended counts', () => {
    expect(parseMessage(HostToOverview, { type: 'connection', state: 'stopped', reason: 'x', failure: true }).ok).toBe(true);
    expect(parseMessage(HostToOverview, { type: 'appended', counts: { default: 3 } }).ok).toBe(true);
  });

  it('refuses a status that does not match DaemonStatus and unknown states', () => {
    expect(parseMessage(HostToOverview, { type: 'status', status: { health: 'ok' }, receivedAt: 1 }).ok).toBe(false);
    expect(parseMessage(HostToOverview, { type: 'connection', state: 'exploded', failure: false }).ok).toBe(false);
    expect(parseMessage(HostToOverview, { type: 'appended', counts: { default: -1 } }).ok).toBe(false);
  });
});

describe('OverviewSavedState', () => {
  it('refuses state saved by another version', () => {
    expect(OverviewSavedState.safeParse({ version: 2 }).success).toBe(false);
    expect(OverviewSavedState.safeParse({ version: 1 }).success).toBe(true);
  });
});
