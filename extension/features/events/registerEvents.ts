import * as vscode from 'vscode';
import { DidChangeBroker, DidChangeChaos, DidChangeResilience, GetBrokerStatus, DiscardDlq, ListChaos, ListDlq, ListDurableSubscriptions, ListPolicies, ListStreams, ResetBreaker, RetryDlq, StopChaos, type DlqEntry } from '../../../daemon/protocol';
import { EventsDashboardToHost, HostToEventsDashboard, type EventsDashboardCommand } from '../../../webview/protocol/eventsDashboard';
import type { DaemonSession } from '../../daemon/connection';
import { Commands, Views, WebviewPanels } from '../../ids';
import { Cancelled, commandErrors, errorText, required } from '../../shared/commandErrors';
import { Throttle } from '../../shared/throttle';
import { DashboardHost } from '../../webviews/dashboardHost';
import { EventsDashboardFeed } from './eventsDashboardFeed';
import { buildEventsTree, discardQuestion, headSeqOf, type EventsNode, type EventsTreeInput, type Loaded, type NodeIcon, type SectionNode } from './eventsTreeModel';
import { EventTail, parseTypePatterns } from './eventTail';
import { runChaosFlow } from './chaosFlow';
import { runReplayFlow } from './replayFlow';

/** At most one reload of the daemon lists per this interval while events pour in, ms. */
const REFRESH_INTERVAL_MS = 1_000;
/** At most one tree repaint per this interval for the live tail, ms. */
const TAIL_REPAINT_MS = 250;
/** Bulkhead usage changes without events: reload this often while the view is visible, ms. */
const POLL_MS = 10_000;
/** Dead letters listed in the view. */
const DLQ_LIMIT = 200;

function themeIcon(icon: NodeIcon): vscode.ThemeIcon {
  return new vscode.ThemeIcon(icon.id, icon.color === undefined ? undefined : new vscode.ThemeColor(icon.color));
}

const settled = <T>(r: PromiseSettledResult<T>): Loaded<T> => (r.status === 'fulfilled' ? { ok: true, value: r.value } : { ok: false, error: errorText(r.reason) });

type Lists = Omit<EventsTreeInput, 'tail' | 'nowMs'>;

/** Builds TreeItems from the model's nodes; all the deciding happens in eventsTreeModel.ts. */
class EventsTreeProvider implements vscode.TreeDataProvider<EventsNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: SectionNode[] = [];
  lists: Lists | undefined;

  constructor(private readonly tail: EventTail) {}

  /** New daemon lists, or undefined when disconnected (the tree empties and the welcome shows). */
  setLists(lists: Lists | undefined): void {
    this.lists = lists;
    this.rebuild();
  }

  rebuild(): void {
    this.roots = this.lists ? buildEventsTree({ ...this.lists, tail: this.tail.snapshot(), nowMs: Date.now() }) : [];
    this.changed.fire();
  }

  getTreeItem(node: EventsNode): vscode.TreeItem {
    const collapsible =
      node.kind === 'section'
        ? node.expanded
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed
        : node.kind === 'stream'
          ? vscode.TreeItemCollapsibleState.Collapsed
          : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, collapsible);
    item.id = node.id;
    switch (node.kind) {
      case 'detail':
        item.description = node.description;
        item.tooltip = `${node.label}: ${node.description}`;
        item.iconPath = new vscode.ThemeIcon(node.icon);
        return item;
      case 'stream':
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.contextValue = node.contextValue;
        item.iconPath = new vscode.ThemeIcon('database');
        return item;
      case 'message':
        item.tooltip = node.tooltip;
        item.iconPath = themeIcon(node.icon);
        return item;
      default:
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.iconPath = themeIcon(node.icon);
        if (node.contextValue !== undefined) item.contextValue = node.contextValue;
        if (node.kind === 'tailEvent') item.command = { command: Commands.inspectEvent, title: 'Inspect Event', arguments: [node.seq] };
        if (node.kind === 'dlqEntry') item.command = { command: Commands.inspectEvent, title: 'Inspect Event', arguments: [node.entry.seq] };
        return item;
    }
  }

  getChildren(node?: EventsNode): EventsNode[] {
    if (!node) return this.roots;
    if (node.kind === 'section') return [...node.children];
    return node.kind === 'stream' ? [...node.children] : [];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/**
 * Events & Resilience: the view (streams, live tail, dead letters, subscriptions, dependencies),
 * the Events dashboard with its inspector, and the commands on them (retry/discard dead letters,
 * pause/filter the tail, replay).
 */
export function registerEvents(ctx: vscode.ExtensionContext, session: DaemonSession, log: vscode.LogOutputChannel): void {
  const tail = new EventTail();
  const provider = new EventsTreeProvider(tail);
  const view = vscode.window.createTreeView(Views.events, { treeDataProvider: provider, showCollapseAll: true });
  const { fail, guarded } = commandErrors(log);
  let generation = 0;

  const refresh = async (): Promise<void> => {
    const gen = ++generation;
    if (session.state.kind !== 'connected') {
      view.badge = undefined;
      provider.setLists(undefined);
      return;
    }
    const [streams, subscriptions, parked, retrying, policies, chaos, broker] = await Promise.allSettled([
      session.request(ListStreams, {}).then((r) => r.streams),
      session.request(ListDurableSubscriptions, {}).then((r) => r.subscriptions),
      session.request(ListDlq, { status: 'parked', limit: DLQ_LIMIT }),
      session.request(ListDlq, { status: 'retrying', limit: DLQ_LIMIT }),
      session.request(ListPolicies, {}).then((r) => r.policies),
      session.request(ListChaos, { limit: 50 }).then((r) => r.experiments),
      session.request(GetBrokerStatus, {}),
    ]);
    if (gen !== generation) return;
    for (const r of [streams, subscriptions, parked, retrying, policies, chaos]) {
      if (r.status === 'rejected') log.warn(`Events view: a list failed to load: ${errorText(r.reason)}`);
    }
    const dlq: Lists['dlq'] =
      parked.status === 'fulfilled' && retrying.status === 'fulfilled'
        ? { ok: true, value: { entries: [...parked.value.entries, ...retrying.value.entries], more: parked.value.nextCursor !== undefined } }
        : { ok: false, error: errorText(parked.status === 'rejected' ? parked.reason : (retrying as PromiseRejectedResult).reason) };
    const loadedStreams = settled(streams);
    provider.setLists({
      streams: loadedStreams,
      subscriptions: settled(subscriptions),
      dlq,
      policies: settled(policies),
      chaos: settled(chaos),
      ...(broker.status === 'fulfilled' ? { broker: broker.value } : {}),
      headSeq: loadedStreams.ok ? headSeqOf(loadedStreams.value) : undefined,
    });
    const parkedCount = parked.status === 'fulfilled' ? parked.value.entries.length : 0;
    view.badge = parkedCount > 0 ? { value: parkedCount, tooltip: `${parkedCount} dead letter${parkedCount === 1 ? '' : 's'} parked` } : undefined;
  };
  const throttle = new Throttle(() => void refresh(), REFRESH_INTERVAL_MS);
  const repaint = new Throttle(() => provider.rebuild(), TAIL_REPAINT_MS);

  // Only while the view is visible: a hidden view costs no traffic.
  let appendListener: vscode.Disposable | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;
  const follow = (visible: boolean): void => {
    if (visible && !appendListener) {
      appendListener = session.onDidAppend((event) => {
        if (tail.push(event)) repaint.trigger();
        throttle.trigger();
      });
      poll = setInterval(() => throttle.trigger(), POLL_MS);
    }
    if (!visible && appendListener) {
      appendListener.dispose();
      appendListener = undefined;
      clearInterval(poll);
      poll = undefined;
    }
  };
  follow(view.visible);

  // ------------------------------------------------------------------ dashboard
  const feeds = new Set<EventsDashboardFeed>();
  let nextInspect: number | undefined;
  const dashboardCommands: Record<EventsDashboardCommand, () => void> = {
    startDaemon: () => void vscode.commands.executeCommand(Commands.startDaemon),
    showLog: () => log.show(),
    replayEvents: () => void vscode.commands.executeCommand(Commands.replayEvents),
    showView: () => void vscode.commands.executeCommand(`${Views.events}.focus`),
  };
  const host = new DashboardHost(ctx.extensionUri, log, {
    viewType: WebviewPanels.eventsDashboard,
    title: 'CogniForge Events',
    bundle: 'events',
    styles: ['dashboard.css', 'eventsDashboard.css'],
    toWebview: HostToEventsDashboard,
    fromWebview: EventsDashboardToHost,
    createController: (channel) => {
      const feed = new EventsDashboardFeed({
        session,
        channel,
        inspectSeq: nextInspect,
        runCommand: (command) => dashboardCommands[command](),
        log: (level, text) => log[level](text),
      });
      nextInspect = undefined;
      feeds.add(feed);
      return {
        onReady: () => feed.onReady(),
        onVisibilityChange: (visible) => feed.onVisibilityChange(visible),
        onMessage: (m) => feed.onMessage(m),
        dispose: () => {
          feeds.delete(feed);
          feed.dispose();
        },
      };
    },
  });

  const openDashboard = (inspectSeq?: number): void => {
    const open = [...feeds].at(-1);
    if (open && inspectSeq !== undefined) void open.inspect(inspectSeq);
    else nextInspect = inspectSeq;
    host.show();
  };

  const inspectEvent = async (arg: unknown): Promise<void> => {
    let seq = typeof arg === 'number' ? arg : undefined;
    if (seq === undefined) {
      const text = required(
        await vscode.window.showInputBox({
          title: 'Inspect Event',
          prompt: 'Sequence number of the event to inspect.',
          validateInput: (t) => (/^\d+$/.test(t.trim()) && Number(t) > 0 ? undefined : 'A whole number from 1 on.'),
        }),
      );
      seq = Number(text.trim());
    }
    openDashboard(seq);
  };

  // ------------------------------------------------------------------ dead letters
  const isDlqNode = (arg: unknown): arg is { kind: 'dlqEntry'; entry: DlqEntry } => typeof arg === 'object' && arg !== null && (arg as { kind?: unknown }).kind === 'dlqEntry';

  /** The entry a command acts on: the row it was invoked on, or one picked from the parked entries. */
  const dlqTarget = async (arg: unknown, placeHolder: string): Promise<DlqEntry> => {
    if (isDlqNode(arg)) return arg.entry;
    const { entries } = await session.request(ListDlq, { status: 'parked', limit: DLQ_LIMIT });
    if (entries.length === 0) {
      void vscode.window.showInformationMessage('There are no parked dead letters.');
      throw new Cancelled();
    }
    const picked = required(
      await vscode.window.showQuickPick(
        entries.map((entry) => ({ label: entry.type, description: `#${entry.seq} · ${entry.subscription} · ${entry.attempts} attempts`, detail: entry.reason, entry })),
        { placeHolder, matchOnDescription: true, matchOnDetail: true },
      ),
    );
    return picked.entry;
  };

  const retryDeadLetter = async (arg: unknown): Promise<void> => {
    const entry = await dlqTarget(arg, 'Retry which dead letter?');
    const { retried } = await session.request(RetryDlq, { ids: [entry.id] });
    void refresh();
    if (retried.length === 0) void vscode.window.showInformationMessage(`Dead letter "${entry.type}" (seq ${entry.seq}) is already being retried or was delivered.`);
    else void vscode.window.showInformationMessage(`Handed "${entry.type}" (seq ${entry.seq}) back to ${entry.subscription}.`);
  };

  const retryAllDeadLetters = async (): Promise<void> => {
    const { retried, skipped } = await session.request(RetryDlq, { all: true });
    void refresh();
    void vscode.window.showInformationMessage(
      retried.length === 0 ? 'No parked dead letters to retry.' : `Handed ${retried.length} dead letter${retried.length === 1 ? '' : 's'} back to their subscriptions${skipped.length > 0 ? ` (${skipped.length} already retrying)` : ''}.`,
    );
  };

  const discardDeadLetter = async (arg: unknown): Promise<void> => {
    const entry = await dlqTarget(arg, 'Discard which dead letter?');
    const { message, detail } = discardQuestion(entry);
    const choice = await vscode.window.showWarningMessage(message, { modal: true, detail }, 'Discard');
    if (choice !== 'Discard') return;
    await session.request(DiscardDlq, { ids: [entry.id] });
    void refresh();
  };

  // ------------------------------------------------------------------ chaos and breakers
  const nodeField = (arg: unknown, kind: string, field: string): string | undefined =>
    typeof arg === 'object' && arg !== null && (arg as { kind?: unknown }).kind === kind ? String((arg as Record<string, unknown>)[field]) : undefined;

  const stopExperiment = async (arg: unknown): Promise<void> => {
    let id = nodeField(arg, 'experiment', 'experimentId');
    if (id === undefined) {
      const { experiments } = await session.request(ListChaos, { state: 'running', limit: 100 });
      if (experiments.length === 0) {
        void vscode.window.showInformationMessage('No chaos experiment is running.');
        throw new Cancelled();
      }
      const picked = required(
        await vscode.window.showQuickPick(
          experiments.map((e) => ({ label: `${e.fault} on ${e.dependency}`, description: `ends ${e.endsAt}`, id: e.id })),
          { placeHolder: 'Stop which chaos experiment?' },
        ),
      );
      id = picked.id;
    }
    const { experiment } = await session.request(StopChaos, { id });
    void refresh();
    const r = experiment.results;
    void vscode.window.showInformationMessage(`Stopped ${experiment.fault} on ${experiment.dependency}: ${r.callsAffected} of ${r.calls} calls affected, ${r.callerErrors} caller errors, ${r.breakerTrips} breaker trips.`);
  };

  const resetBreaker = async (arg: unknown): Promise<void> => {
    let dependency = nodeField(arg, 'dependency', 'dependency');
    if (dependency === undefined) {
      const { policies } = await session.request(ListPolicies, {});
      const open = policies.filter((p) => p.breaker.state !== 'closed');
      if (open.length === 0) {
        void vscode.window.showInformationMessage('Every circuit is closed.');
        throw new Cancelled();
      }
      dependency = required(await vscode.window.showQuickPick(open.map((p) => ({ label: p.dependency, description: p.breaker.state }) ), { placeHolder: 'Close which circuit?' })).label;
    }
    const { changed } = await session.request(ResetBreaker, { dependency, reason: 'reset from the editor' });
    void refresh();
    void vscode.window.showInformationMessage(changed ? `Closed the circuit of ${dependency}.` : `The circuit of ${dependency} was already closed.`);
  };

  // ------------------------------------------------------------------ live tail
  const filterTail = async (): Promise<void> => {
    const current = tail.snapshot().patterns.join(', ');
    const text = required(
      await vscode.window.showInputBox({
        title: 'Filter Live Tail by Type',
        prompt: 'Type patterns, comma-separated: "order.*" (one segment), "api.**" (any rest). Empty shows every type.',
        value: current,
        validateInput: (t) => {
          const parsed = parseTypePatterns(t);
          return parsed.ok ? undefined : parsed.message;
        },
      }),
    );
    const parsed = parseTypePatterns(text);
    if (!parsed.ok) return;
    tail.setPatterns(parsed.patterns);
    provider.rebuild();
  };

  const tailCommand = (fn: () => void) => () => {
    fn();
    provider.rebuild();
  };

  ctx.subscriptions.push(
    provider,
    view,
    host,
    { dispose: () => throttle.dispose() },
    { dispose: () => repaint.dispose() },
    { dispose: () => appendListener?.dispose() },
    { dispose: () => clearInterval(poll) },
    view.onDidChangeVisibility(({ visible }) => {
      follow(visible);
      if (visible) throttle.trigger();
    }),
    session.onDidChangeState(() => void refresh()),
    session.onNotification(DidChangeChaos, () => throttle.trigger()),
    session.onNotification(DidChangeResilience, () => throttle.trigger()),
    session.onNotification(DidChangeBroker, () => throttle.trigger()),
    vscode.commands.registerCommand(Commands.stopChaosExperiment, guarded('stop the chaos experiment', stopExperiment)),
    vscode.commands.registerCommand(Commands.resetBreaker, guarded('reset the circuit breaker', resetBreaker)),
    vscode.commands.registerCommand(Commands.startChaosExperiment, async (arg: unknown) => {
      try {
        const started = await runChaosFlow(session, nodeField(arg, 'dependency', 'dependency'));
        if (started) void refresh();
      } catch (e) {
        await fail('start the chaos experiment', e);
      }
    }),
    vscode.commands.registerCommand(Commands.refreshEvents, () => refresh()),
    vscode.commands.registerCommand(Commands.openEventsDashboard, () => openDashboard()),
    vscode.commands.registerCommand(Commands.inspectEvent, guarded('inspect the event', inspectEvent)),
    vscode.commands.registerCommand(Commands.pauseEventTail, tailCommand(() => tail.pause())),
    vscode.commands.registerCommand(Commands.resumeEventTail, tailCommand(() => tail.resume())),
    vscode.commands.registerCommand(Commands.clearEventTail, tailCommand(() => tail.clear())),
    vscode.commands.registerCommand(Commands.filterEventTail, guarded('filter the live tail', filterTail)),
    vscode.commands.registerCommand(Commands.retryDeadLetter, guarded('retry the dead letter', retryDeadLetter)),
    vscode.commands.registerCommand(Commands.retryAllDeadLetters, guarded('retry the dead letters', retryAllDeadLetters)),
    vscode.commands.registerCommand(Commands.discardDeadLetter, guarded('discard the dead letter', discardDeadLetter)),
    vscode.commands.registerCommand(Commands.replayEvents, async (arg: unknown) => {
      const name = typeof arg === 'object' && arg !== null && (arg as { kind?: unknown }).kind === 'subscription' ? (arg as { name: string }).name : undefined;
      try {
        await runReplayFlow(session, name);
        void refresh();
      } catch (e) {
        await fail('replay the events', e);
      }
    }),
  );
  void refresh();
}
