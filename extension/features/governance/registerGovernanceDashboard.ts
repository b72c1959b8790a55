import * as vscode from 'vscode';
import {
  GovernanceDashboardToHost,
  HostToGovernanceDashboard,
  type GovernanceDashboardCommand,
} from '../../../webview/protocol/governanceDashboard';
import type { DaemonSession } from '../../daemon/connection';
import { Commands, WebviewPanels } from '../../ids';
import { DashboardHost } from '../../webviews/dashboardHost';
import { GovernanceDashboardFeed } from './governanceDashboardFeed';

/**
 * The governance dashboard (`CogniForge: Open Governance Dashboard`): the OWASP compliance matrix
 * per document, the score over time and the latest breaking-change report.
 */
export function registerGovernanceDashboard(ctx: vscode.ExtensionContext, session: DaemonSession, log: vscode.LogOutputChannel): void {
  const run = (id: string): void => {
    vscode.commands.executeCommand(id).then(undefined, (e: unknown) => log.warn(`Governance dashboard: ${id} failed: ${e instanceof Error ? e.message : String(e)}`));
  };
  const commands: Record<GovernanceDashboardCommand, () => void> = {
    auditWorkspace: () => run(Commands.auditContracts),
    compareContract: () => run(Commands.compareContract),
    startDaemon: () => run(Commands.startDaemon),
    showLog: () => log.show(),
  };
  const host = new DashboardHost(ctx.extensionUri, log, {
    viewType: WebviewPanels.governanceDashboard,
    title: 'CogniForge Governance',
    bundle: 'governance',
    styles: ['dashboard.css', 'governanceDashboard.css'],
    toWebview: HostToGovernanceDashboard,
    fromWebview: GovernanceDashboardToHost,
    createController: (channel) => {
      const feed = new GovernanceDashboardFeed({
        session,
        channel,
        runCommand: (command) => commands[command](),
        openDocument: (file, finding) => {
          const selection = finding
            ? new vscode.Range(finding.range.start.line, finding.range.start.character, finding.range.end.line, finding.range.end.character)
            : undefined;
          vscode.window.showTextDocument(vscode.Uri.file(file), { selection, preview: false }).then(undefined, (e: unknown) => {
            void vscode.window.showErrorMessage(`CogniForge: could not open ${file}: ${e instanceof Error ? e.message : String(e)}`);
          });
        },
        label: (file) => vscode.workspace.asRelativePath(file, false),
        log: (level, text) => log[level](text),
      });
      return {
        onReady: () => feed.onReady(),
        onVisibilityChange: (visible) => feed.onVisibilityChange(visible),
        onMessage: (m) => feed.onMessage(m),
        dispose: () => feed.dispose(),
      };
    },
  });
  ctx.subscriptions.push(host, vscode.commands.registerCommand(Commands.openGovernanceDashboard, () => host.show()));
}
