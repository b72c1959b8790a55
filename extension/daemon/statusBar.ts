import * as vscode from 'vscode';
import { Commands } from '../ids';
import type { Disposable } from './connection';
import type { DaemonState } from './state';
import { daemonActions, presentStatus } from './statusModel';

/** How often the tooltip's uptime is refreshed while connected, ms. */
const TOOLTIP_REFRESH_MS = 30_000;

/** The status bar item: the state in words, details in the tooltip, actions on click. */
export class DaemonStatusBar implements Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly timer: ReturnType<typeof setInterval>;
  private state: DaemonState;

  constructor(initial: DaemonState) {
    this.item = vscode.window.createStatusBarItem('cogniforge.daemonStatus', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'CogniForge Daemon';
    this.item.command = Commands.showDaemonActions;
    this.state = initial;
    this.render();
    this.item.show();
    this.timer = setInterval(() => {
      if (this.state.kind === 'connected') this.render();
    }, TOOLTIP_REFRESH_MS);
  }

  update(state: DaemonState): void {
    this.state = state;
    this.render();
  }

  dispose(): void {
    clearInterval(this.timer);
    this.item.dispose();
  }

  private render(): void {
    const p = presentStatus(this.state, Date.now());
    this.item.text = p.text;
    this.item.tooltip = p.tooltip;
    this.item.accessibilityInformation = { label: p.text.replace(/^\$\([^)]*\)\s*/, ''), role: 'button' };
    this.item.backgroundColor =
      p.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : p.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
  }
}

/** The QuickPick behind the status bar item: the actions that fit the current state. */
export async function pickDaemonAction(state: DaemonState): Promise<void> {
  const items = daemonActions(state).map((a) => ({ label: a.label, detail: a.detail, command: a.command }));
  const picked = await vscode.window.showQuickPick(items, {
    title: `CogniForge: ${presentStatus(state, Date.now()).text.replace(/^\$\([^)]*\)\s*CogniForge:\s*/, 'daemon ')}`,
    placeHolder: 'Choose a daemon action',
  });
  if (picked) await vscode.commands.executeCommand(picked.command);
}
