import * as vscode from 'vscode';
import { ListStreams, type StreamInfo } from '../../../daemon/protocol';
import type { DaemonSession } from '../../daemon/connection';
import { Commands, Views } from '../../ids';
import { Throttle } from '../../shared/throttle';
import { buildStreamNodes, type EventsNode } from './eventsTreeModel';

/** At most one `events/streams` refresh per this interval while events pour in, ms. */
const REFRESH_INTERVAL_MS = 1_000;

/** Builds TreeItems from the model's nodes; all the deciding happens in eventsTreeModel.ts. */
class EventsTreeProvider implements vscode.TreeDataProvider<EventsNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private streams: readonly StreamInfo[] = [];

  setStreams(streams: readonly StreamInfo[]): void {
    this.streams = streams;
    this.changed.fire();
  }

  getTreeItem(node: EventsNode): vscode.TreeItem {
    if (node.kind === 'stream') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = node.id;
      item.description = node.description;
      item.tooltip = node.tooltip;
      item.contextValue = node.contextValue;
      item.iconPath = new vscode.ThemeIcon('database');
      return item;
    }
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = `${node.label}: ${node.description}`;
    item.iconPath = new vscode.ThemeIcon(node.icon);
    return item;
  }

  getChildren(node?: EventsNode): EventsNode[] {
    if (!node) return buildStreamNodes(this.streams, Date.now());
    return node.kind === 'stream' ? [...node.children] : [];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/**
 * Events & Resilience view: the event log's streams with their counts, refreshed when the
 * connection changes and (throttled) when events are appended while the view is visible.
 */
export function registerEvents(ctx: vscode.ExtensionContext, session: DaemonSession, log: vscode.LogOutputChannel): void {
  const provider = new EventsTreeProvider();
  const view = vscode.window.createTreeView(Views.events, { treeDataProvider: provider });
  let generation = 0;

  const refresh = async (): Promise<void> => {
    const gen = ++generation;
    if (session.state.kind !== 'connected') {
      view.message = undefined;
      provider.setStreams([]);
      return;
    }
    try {
      const { streams } = await session.request(ListStreams, {});
      if (gen !== generation) return;
      view.message = undefined;
      provider.setStreams(streams);
    } catch (e) {
      if (gen !== generation) return;
      const text = e instanceof Error ? e.message : String(e);
      log.warn(`Events view: events/streams failed: ${text}`);
      view.message = `Could not list the event streams: ${text}`;
    }
  };
  const throttle = new Throttle(() => void refresh(), REFRESH_INTERVAL_MS);

  let appendListener: vscode.Disposable | undefined;
  const followAppends = (visible: boolean): void => {
    if (visible && !appendListener) appendListener = session.onDidAppend(() => throttle.trigger());
    if (!visible && appendListener) {
      appendListener.dispose();
      appendListener = undefined;
    }
  };
  followAppends(view.visible);

  ctx.subscriptions.push(
    provider,
    view,
    { dispose: () => throttle.dispose() },
    { dispose: () => appendListener?.dispose() },
    view.onDidChangeVisibility(({ visible }) => {
      followAppends(visible);
      if (visible) throttle.trigger();
    }),
    session.onDidChangeState(() => void refresh()),
    vscode.commands.registerCommand(Commands.refreshEvents, () => refresh()),
  );
  void refresh();
}
