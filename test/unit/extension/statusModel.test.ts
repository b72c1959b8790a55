import { describe, expect, it } from 'vitest';
import { Commands } from '../../../extension/ids';
import type { DaemonEndpoint, DaemonState } from '../../../extension/daemon/state';
import { daemonActions, presentStatus } from '../../../extension/daemon/statusModel';

const daemon: DaemonEndpoint = {
  pid: 4242,
  host: '127.0.0.1',
  port: 5000,
  daemonVersion: '0.1.0',
  startedAt: '2026-01-01T10:00:00.000Z',
  dataDir: '/data/cf',
};
const at = (iso: string): number => Date.parse(iso);

describe('presentStatus', () => {
  it.each<[DaemonState, string]>([
    [{ kind: 'connecting' }, '$(sync~spin) CogniForge: connecting'],
    [{ kind: 'starting' }, '$(sync~spin) CogniForge: starting daemon'],
    [{ kind: 'connected', daemon }, '$(pulse) CogniForge: connected'],
    [{ kind: 'reconnecting', daemon }, '$(sync~spin) CogniForge: reconnecting'],
    [{ kind: 'stopped', reason: 'Stopped from this window.', failure: false }, '$(debug-disconnect) CogniForge: stopped'],
  ])('names %o in words', (state, text) => {
    const p = presentStatus(state, at('2026-01-01T10:00:00.000Z'));
    expect(p.text).toBe(text);
    expect(p.text.replace(/^\$\([^)]*\) /, '')).toMatch(/^CogniForge/);
  });

  it('puts port, pid and uptime in the tooltip when connected', () => {
    const p = presentStatus({ kind: 'connected', daemon }, at('2026-01-01T11:02:03.000Z'));
    expect(p.tooltip).toContain('127.0.0.1:5000');
    expect(p.tooltip).toContain('PID: 4242');
    expect(p.tooltip).toContain('Uptime: 1h 2m');
    expect(p.tooltip).toContain('/data/cf');
    expect(p.severity).toBe('normal');
  });

  it('explains a stop and colours only failures as errors', () => {
    const failed = presentStatus({ kind: 'stopped', reason: 'The daemon keeps exiting.', failure: true }, 0);
    expect(failed.tooltip).toContain('The daemon keeps exiting.');
    expect(failed.severity).toBe('error');
    expect(presentStatus({ kind: 'stopped', reason: 'Stopped.', failure: false }, 0).severity).toBe('normal');
    expect(presentStatus({ kind: 'reconnecting', daemon }, 0).severity).toBe('warning');
  });
});

describe('daemonActions', () => {
  const commandsOf = (state: DaemonState): string[] => daemonActions(state).map((a) => a.command);

  it('offers stop and restart when connected, start only when stopped', () => {
    expect(commandsOf({ kind: 'connected', daemon })).toEqual([
      Commands.openOverview,
      Commands.restartDaemon,
      Commands.stopDaemon,
      Commands.showLog,
    ]);
    const stopped = commandsOf({ kind: 'stopped', reason: 'x', failure: true });
    expect(stopped[0]).toBe(Commands.startDaemon);
    expect(stopped).not.toContain(Commands.stopDaemon);
  });

  it('always offers the log', () => {
    for (const state of [{ kind: 'connecting' }, { kind: 'starting' }, { kind: 'reconnecting', daemon }] as DaemonState[]) {
      expect(commandsOf(state)).toContain(Commands.showLog);
    }
  });

  it('labels every action with an icon', () => {
    for (const a of daemonActions({ kind: 'connected', daemon })) expect(a.label).toMatch(/^\$\([a-z-]+\) \S/);
  });
});
