import * as vscode from 'vscode';
import { HostToOverview, OverviewToHost, type OverviewCommand } from '../../../webview/protocol/overview';
import type { DaemonSession } from '../../daemon/connection';
import { Commands, WebviewPanels } from '../../ids';
import { DashboardHost } from '../../webviews/dashboardHost';
import { OverviewFeed } from './overviewFeed';

/** The only commands the Overview webview may trigger. */
const COMMAND_IDS: Record<OverviewCommand, string> = {
  startDaemon: Commands.startDaemon,
  restartDaemon: Commands.restartDaemon,
  showLog: Commands.showLog,
};

/** The Overview dashboard: daemon health, uptime, event-log size and events per stream, live. */
export function registerOverview(ctx: vscode.ExtensionContext, session: DaemonSession, log: vscode.LogOutputChannel): void {
  const host = new DashboardHost(ctx.extensionUri, log, {
    viewType: WebviewPanels.overview,
    title: 'CogniForge Overview',
    bundle: 'overview',
    styles: ['dashboard.css'],
    toWebview: HostToOverview,
    fromWebview: OverviewToHost,
    createController: (channel) =>
      new OverviewFeed({
        session,
        channel,
        runCommand: (command) => void vscode.commands.executeCommand(COMMAND_IDS[command]),
        log: (level, message) => log[level](message),
      }),
  });
  ctx.subscriptions.push(host, vscode.commands.registerCommand(Commands.openOverview, () => host.show()));
}
