import { formatDuration } from '../../webview/protocol/format';
import { Commands, type CommandId } from '../ids';
import type { DaemonState } from './state';

/** What the status bar item shows for a state; the vscode layer maps `severity` to theme colours. */
export interface StatusPresentation {
  /** Starts with an icon, then "CogniForge: <state in words>". */
  readonly text: string;
  readonly tooltip: string;
  readonly severity: 'normal' | 'warning' | 'error';
}

const ICONS: Record<DaemonState['kind'], string> = {
  connecting: '$(sync~spin)',
  starting: '$(sync~spin)',
  connected: '$(pulse)',
  reconnecting: '$(sync~spin)',
  stopped: '$(debug-disconnect)',
};

const WORDS: Record<DaemonState['kind'], string> = {
  connecting: 'connecting',
  starting: 'starting daemon',
  connected: 'connected',
  reconnecting: 'reconnecting',
  stopped: 'stopped',
};

export function presentStatus(state: DaemonState, nowMs: number): StatusPresentation {
  const text = `${ICONS[state.kind]} CogniForge: ${WORDS[state.kind]}`;
  const lines: string[] = [];
  switch (state.kind) {
    case 'connecting':
      lines.push('CogniForge daemon: looking for a running daemon…');
      break;
    case 'starting':
      lines.push('CogniForge daemon: starting a daemon for this data dir…');
      break;
    case 'connected':
    case 'reconnecting': {
      const d = state.daemon;
      const started = Date.parse(d.startedAt);
      const uptime = Number.isNaN(started) ? '—' : formatDuration(Math.max(0, nowMs - started));
      lines.push(
        state.kind === 'connected' ? 'CogniForge daemon: connected' : 'CogniForge daemon: connection lost, reconnecting…',
        `Address: ${d.host}:${d.port}`,
        `PID: ${d.pid}`,
        `Uptime: ${uptime}`,
        `Version: ${d.daemonVersion}`,
        `Data dir: ${d.dataDir}`,
      );
      break;
    }
    case 'stopped':
      lines.push('CogniForge daemon: stopped', state.reason);
      break;
  }
  lines.push('', 'Click for daemon actions');
  // Colour only what needs the user: a failure, or a connection that is down right now.
  const severity = state.kind === 'stopped' && state.failure ? 'error' : state.kind === 'reconnecting' ? 'warning' : 'normal';
  return { text, tooltip: lines.join('\n'), severity };
}

/** One entry of the status bar's QuickPick. */
export interface DaemonAction {
  readonly command: CommandId;
  /** With a leading `$(icon)`. */
  readonly label: string;
  readonly detail?: string;
}

const OPEN_OVERVIEW: DaemonAction = { command: Commands.openOverview, label: '$(dashboard) Open Overview Dashboard' };
const SHOW_LOG: DaemonAction = { command: Commands.showLog, label: '$(output) Show Log' };
const RESTART: DaemonAction = { command: Commands.restartDaemon, label: '$(debug-restart) Restart Daemon' };
const STOP: DaemonAction = {
  command: Commands.stopDaemon,
  label: '$(debug-stop) Stop Daemon',
  detail: 'Stops the daemon for every window that shares it',
};
const START: DaemonAction = { command: Commands.startDaemon, label: '$(play) Start Daemon' };

/** Actions that make sense in a state, most useful first. */
export function daemonActions(state: DaemonState): DaemonAction[] {
  switch (state.kind) {
    case 'connected':
      return [OPEN_OVERVIEW, RESTART, STOP, SHOW_LOG];
    case 'stopped':
      return [START, SHOW_LOG, OPEN_OVERVIEW];
    case 'connecting':
    case 'starting':
    case 'reconnecting':
      return [SHOW_LOG, OPEN_OVERVIEW, RESTART, STOP];
  }
}
