import { homedir } from 'node:os';
import * as vscode from 'vscode';
import { connect, defaultDataDir, runtimeUrl } from '../../daemon/client';
import type { RuntimeInfo } from '../../daemon/protocol';
import { Commands, ContextKeys, DAEMON_SETTINGS_SECTION, Settings } from '../ids';
import type { Connector } from './connection';
import { launchDetached, readLogTail, runtimeProbe } from './processes';
import { resolveDaemonSettings } from './settingsModel';
import { computeSpawnPlan, type DaemonSettings } from './spawnPlan';
import type { DaemonState } from './state';
import { DaemonStatusBar, pickDaemonAction } from './statusBar';
import { DaemonSupervisor, type LogFn } from './supervisor';

const relativeKey = (id: string): string => id.slice(DAEMON_SETTINGS_SECTION.length + 1);

/**
 * The daemon feature: supervisor, status bar, context keys, commands and the one place that tells
 * the user when the daemon fails. Nothing here waits on I/O: call `start()` on the returned
 * supervisor after activation returned.
 */
export function registerDaemon(ctx: vscode.ExtensionContext, log: vscode.LogOutputChannel): DaemonSupervisor {
  const logFn: LogFn = (level, message) => log[level](message);
  let warned = '';
  const readSettings = (): DaemonSettings => {
    const config = vscode.workspace.getConfiguration(DAEMON_SETTINGS_SECTION);
    const { settings, warnings } = resolveDaemonSettings(
      {
        port: config.get(relativeKey(Settings.port)),
        dataDir: config.get(relativeKey(Settings.dataDir)),
        autoStart: config.get(relativeKey(Settings.autoStart)),
        nodePath: config.get(relativeKey(Settings.nodePath)),
      },
      { defaultDataDir: defaultDataDir(), home: homedir() },
    );
    // Settings are read on every start; log a bad value once, not on each read.
    const text = warnings.join(' ');
    if (text !== '' && text !== warned) log.warn(text);
    warned = text;
    return settings;
  };

  const daemonScript = vscode.Uri.joinPath(ctx.extensionUri, 'dist', 'daemon.js').fsPath;
  const clientVersion = String((ctx.extension.packageJSON as { version?: unknown }).version ?? '0.0.0');
  const connector: Connector = (info: RuntimeInfo) =>
    connect({
      url: runtimeUrl(info),
      token: info.token,
      clientName: 'cogniforge-vscode',
      clientVersion,
      log: (level, message) => log[level](`client: ${message}`),
    });

  const supervisor = new DaemonSupervisor({
    settings: readSettings,
    planFor: (settings) => computeSpawnPlan({ settings, daemonScript, execPath: process.execPath, env: process.env }),
    probe: runtimeProbe,
    launch: launchDetached,
    connect: connector,
    readLogTail: (file) => readLogTail(file),
    log: logFn,
  });
  ctx.subscriptions.push(supervisor);

  const statusBar = new DaemonStatusBar(supervisor.state);
  ctx.subscriptions.push(statusBar);

  const reportFailure = async (reason: string): Promise<void> => {
    const choice = await vscode.window.showErrorMessage(reason, 'Show Log', 'Start Daemon');
    if (choice === 'Show Log') log.show();
    else if (choice === 'Start Daemon') await vscode.commands.executeCommand(Commands.startDaemon);
  };

  const applyState = (state: DaemonState, previous: DaemonState | undefined): void => {
    statusBar.update(state);
    void vscode.commands.executeCommand('setContext', ContextKeys.connected, state.kind === 'connected');
    void vscode.commands.executeCommand('setContext', ContextKeys.connectionState, state.kind);
    if (state.kind === 'stopped' && state.failure && previous?.kind !== 'stopped') void reportFailure(state.reason);
  };
  let previous: DaemonState | undefined;
  applyState(supervisor.state, undefined);
  ctx.subscriptions.push(
    supervisor.onDidChangeState((state) => {
      applyState(state, previous);
      previous = state;
    }),
  );

  const withProgress = (title: string, task: () => Promise<void>): Thenable<void> =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, task);

  ctx.subscriptions.push(
    vscode.commands.registerCommand(Commands.startDaemon, async () => {
      const s = supervisor.state;
      if (s.kind === 'connected') {
        void vscode.window.showInformationMessage(
          `The CogniForge daemon is already running (pid ${s.daemon.pid}, port ${s.daemon.port}).`,
        );
        return;
      }
      await withProgress('Starting the CogniForge daemon', () => supervisor.start({ userInitiated: true }));
    }),
    vscode.commands.registerCommand(Commands.stopDaemon, async () => {
      await withProgress('Stopping the CogniForge daemon', () => supervisor.stop());
    }),
    vscode.commands.registerCommand(Commands.restartDaemon, async () => {
      await withProgress('Restarting the CogniForge daemon', () => supervisor.restart());
    }),
    vscode.commands.registerCommand(Commands.showLog, () => log.show()),
    vscode.commands.registerCommand(Commands.showDaemonActions, () => pickDaemonAction(supervisor.state)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(Settings.dataDir)) {
        log.info('The data dir setting changed; looking for the daemon there');
        void supervisor.reconnect();
      } else if (e.affectsConfiguration(Settings.autoStart)) {
        const s = supervisor.state;
        if (readSettings().autoStart && s.kind === 'stopped' && !s.failure) void supervisor.start();
      } else if (e.affectsConfiguration(Settings.port) || e.affectsConfiguration(Settings.nodePath)) {
        log.info('Port and node path apply the next time this window starts a daemon (Restart Daemon applies them now).');
      }
    }),
  );
  return supervisor;
}
