import * as vscode from 'vscode';
import { CreateSlo, DeleteSlo, DidAlertSlo, DidChangeSlo, ErrorCode, ExportSlos, GetSlo, ImportSlos, ListSlos, UpdateSlo, isRpcError, type SloStatus } from '../../../daemon/protocol';
import { HostToSloDashboard, SloDashboardToHost, type SloDashboardCommand } from '../../../webview/protocol/sloDashboard';
import type { DaemonSession } from '../../daemon/connection';
import { Commands, Views, WebviewPanels } from '../../ids';
import { Throttle } from '../../shared/throttle';
import { DashboardHost } from '../../webviews/dashboardHost';
import { SloDashboardFeed } from './sloDashboardFeed';
import { buildSloNodes, pageAlertMessage, sortWorstFirst, statusBarView, worstSlo, type NodeIcon, type SloNode } from './sloTreeModel';
import { sloFilePath, sloImportMode } from './sloFiles';
import { runCreateSloWizard } from './sloWizard';
import { objectiveHint, parseObjective } from './sloWizardModel';

/** At most one `slo/list` per this interval while sample flushes stream `slo/didChange`, ms. */
const REFRESH_INTERVAL_MS = 1_500;
/** The incidents feature's command; offered on page alerts only when it is registered. */
const CREATE_INCIDENT_COMMAND = 'cogniforge.createIncident';

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function themeIcon(icon: NodeIcon): vscode.ThemeIcon {
  return new vscode.ThemeIcon(icon.id, icon.color === undefined ? undefined : new vscode.ThemeColor(icon.color));
}

/** Builds TreeItems from the model's nodes; all the deciding happens in sloTreeModel.ts. */
class SloTreeProvider implements vscode.TreeDataProvider<SloNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  statuses: readonly SloStatus[] = [];

  setStatuses(statuses: readonly SloStatus[]): void {
    this.statuses = statuses;
    this.changed.fire();
  }

  getTreeItem(node: SloNode): vscode.TreeItem {
    const collapsible = node.kind === 'slo' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, collapsible);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.iconPath = themeIcon(node.icon);
    if (node.kind !== 'burnWindow') item.contextValue = node.contextValue;
    if (node.kind === 'alert') item.command = { command: Commands.openSloDashboard, title: 'Open SLO Dashboard', arguments: [node.sloId] };
    return item;
  }

  getChildren(node?: SloNode): SloNode[] {
    if (!node) return buildSloNodes(this.statuses, Date.now());
    return node.kind === 'slo' ? [...node.children] : [];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** What a command receives: a tree row, an id (status bar, notification, alert row) or nothing (palette). */
type SloTarget = SloNode | string | undefined;

/**
 * SLOs: the tree, the status bar item, the dashboard, page-alert notifications and the commands to
 * create, edit, delete, import and export SLOs.
 */
export function registerSlo(ctx: vscode.ExtensionContext, session: DaemonSession, log: vscode.LogOutputChannel): void {
  const provider = new SloTreeProvider();
  const view = vscode.window.createTreeView(Views.slo, { treeDataProvider: provider, showCollapseAll: true });
  const statusItem = vscode.window.createStatusBarItem('cogniforge.sloStatus', vscode.StatusBarAlignment.Left, 90);
  statusItem.name = 'CogniForge SLOs';
  let generation = 0;

  const showError = async (text: string): Promise<void> => {
    log.error(text);
    const choice = await vscode.window.showErrorMessage(text, 'Show Log');
    if (choice === 'Show Log') log.show();
  };

  const refresh = async (): Promise<void> => {
    const gen = ++generation;
    if (session.state.kind !== 'connected') {
      view.message = undefined;
      provider.setStatuses([]);
      statusItem.hide();
      return;
    }
    try {
      const { slos } = await session.request(ListSlos, {});
      if (gen !== generation) return;
      view.message = undefined;
      provider.setStatuses(slos);
      const bar = statusBarView(slos);
      if (!bar) {
        statusItem.hide();
        return;
      }
      statusItem.text = bar.text;
      statusItem.tooltip = bar.tooltip;
      statusItem.command = { command: Commands.openSloDashboard, title: 'Open SLO Dashboard', arguments: [bar.sloId] };
      statusItem.backgroundColor = bar.tone === 'none' ? undefined : new vscode.ThemeColor(`statusBarItem.${bar.tone}Background`);
      statusItem.show();
    } catch (e) {
      if (gen !== generation) return;
      log.warn(`SLOs view: slo/list failed: ${errorText(e)}`);
      view.message = `Could not list the SLOs: ${errorText(e)}`;
    }
  };
  const throttle = new Throttle(() => void refresh(), REFRESH_INTERVAL_MS);

  const feeds = new Set<SloDashboardFeed>();
  let nextSloId: string | undefined;
  const dashboardCommands: Record<SloDashboardCommand, () => void> = {
    startDaemon: () => void vscode.commands.executeCommand(Commands.startDaemon),
    showLog: () => log.show(),
    pickSlo: () => void vscode.commands.executeCommand(Commands.openSloDashboard),
  };
  const host = new DashboardHost(ctx.extensionUri, log, {
    viewType: WebviewPanels.sloDashboard,
    title: 'CogniForge SLO Dashboard',
    bundle: 'slo',
    styles: ['dashboard.css', 'sloDashboard.css'],
    toWebview: HostToSloDashboard,
    fromWebview: SloDashboardToHost,
    createController: (channel) => {
      const feed = new SloDashboardFeed({
        session,
        channel,
        sloId: nextSloId,
        defaultSloId: async () => worstSlo((await session.request(ListSlos, {})).slos)?.slo.id,
        runCommand: (command) => dashboardCommands[command](),
        log: (level, text) => log[level](text),
      });
      nextSloId = undefined;
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

  /** Resolves a command's target to an SLO, asking with a QuickPick (worst first) when none was given. */
  const pickSlo = async (target: SloTarget, placeHolder: string): Promise<SloStatus | undefined> => {
    const id = typeof target === 'string' ? target : target?.sloId;
    if (id !== undefined) {
      const known = provider.statuses.find((s) => s.slo.id === id || s.slo.aliases.includes(id));
      if (known) return known;
      try {
        return await session.request(GetSlo, { id });
      } catch (e) {
        await showError(`Could not find SLO "${id}": ${errorText(e)}`);
        return undefined;
      }
    }
    if (session.state.kind !== 'connected') {
      await showError('The CogniForge daemon is not connected, so there are no SLOs to choose from.');
      return undefined;
    }
    const { slos } = await session.request(ListSlos, {});
    if (slos.length === 0) {
      const choice = await vscode.window.showInformationMessage('There are no SLOs yet.', 'Create SLO');
      if (choice === 'Create SLO') await vscode.commands.executeCommand(Commands.createSlo);
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      sortWorstFirst(slos).map((s) => ({
        label: s.slo.name,
        description: s.slo.id,
        detail: `${s.status} · ${buildSloNodes([s], Date.now())[0]?.description ?? ''}`,
        status: s,
      })),
      { placeHolder, matchOnDescription: true },
    );
    return picked?.status;
  };

  const openDashboard = async (target: SloTarget): Promise<void> => {
    const status = await pickSlo(target, 'Open the dashboard of which SLO?');
    if (!status) return;
    const open = [...feeds].at(-1);
    if (open) open.select(status.slo.id);
    else nextSloId = status.slo.id;
    host.show();
  };

  const editSlo = async (target: SloTarget): Promise<void> => {
    const status = await pickSlo(target, 'Edit which SLO?');
    if (!status) return;
    const { id, name } = status.slo;
    const field = await vscode.window.showQuickPick(
      [
        { label: 'Name', description: name, field: 'name' as const },
        { label: 'Objective', description: String(status.slo.objective), field: 'objective' as const },
      ],
      { placeHolder: `Change what of "${name}"?` },
    );
    if (!field) return;
    const value = await vscode.window.showInputBox({
      title: `Edit SLO "${name}": ${field.label.toLowerCase()}`,
      value: field.description,
      prompt: field.field === 'objective' ? 'Share of good events, strictly between 0 and 1 (0.999 or 99.9%).' : 'Display name of the SLO.',
      validateInput: (text) => {
        if (field.field === 'name') return text.trim() === '' ? 'The name cannot be empty.' : text.length > 200 ? 'At most 200 characters.' : undefined;
        const parsed = parseObjective(text);
        return parsed.ok ? { message: objectiveHint(parsed.value, status.slo.windowDays), severity: vscode.InputBoxValidationSeverity.Info } : parsed.message;
      },
    });
    if (value === undefined) return;
    const objective = parseObjective(value);
    try {
      if (field.field === 'name') await session.request(UpdateSlo, { id, name: value.trim() });
      else if (objective.ok) await session.request(UpdateSlo, { id, objective: objective.value });
      void refresh();
    } catch (e) {
      await showError(`Could not update SLO "${name}": ${errorText(e)}`);
    }
  };

  const deleteSlo = async (target: SloTarget): Promise<void> => {
    const status = await pickSlo(target, 'Delete which SLO?');
    if (!status) return;
    const choice = await vscode.window.showWarningMessage(
      `Delete SLO "${status.slo.name}"?`,
      { modal: true, detail: 'Its counters and alerts are deleted with it. This cannot be undone.' },
      'Delete',
    );
    if (choice !== 'Delete') return;
    try {
      await session.request(DeleteSlo, { id: status.slo.id });
      void refresh();
    } catch (e) {
      await showError(`Could not delete SLO "${status.slo.name}": ${errorText(e)}`);
    }
  };

  /** A file named by a command argument (path string or Uri), or undefined when the dialog should ask. */
  const fileArgument = (arg: unknown): vscode.Uri | undefined => {
    if (arg instanceof vscode.Uri) return arg;
    const path = sloFilePath(arg, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
    return path === undefined ? undefined : vscode.Uri.file(path);
  };

  /**
   * `target` may also be `{ sloId, file }` (a keybinding's single `args` value), so a script can
   * export without the dialog.
   */
  const exportSlo = async (target: SloTarget, file?: unknown): Promise<void> => {
    file ??= typeof target === 'object' && target !== null ? (target as { file?: unknown }).file : undefined;
    const status = await pickSlo(target, 'Export which SLO as OpenSLO?');
    if (!status) return;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const uri =
      fileArgument(file) ??
      (await vscode.window.showSaveDialog({
        title: `Export SLO "${status.slo.name}" as OpenSLO`,
        defaultUri: folder ? vscode.Uri.joinPath(folder, `${status.slo.id}.openslo.yaml`) : undefined,
        filters: { 'OpenSLO YAML': ['yaml', 'yml'] },
        saveLabel: 'Export',
      }));
    if (!uri) return;
    try {
      const { yaml } = await session.request(ExportSlos, { ids: [status.slo.id] });
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(yaml));
      const choice = await vscode.window.showInformationMessage(`Exported SLO "${status.slo.name}" to ${vscode.workspace.asRelativePath(uri)}.`, 'Open File');
      if (choice === 'Open File') await vscode.window.showTextDocument(uri);
    } catch (e) {
      await showError(`Could not export SLO "${status.slo.name}": ${errorText(e)}`);
    }
  };

  /** `fileArg`: a path or Uri, or `{ file, mode }` (a keybinding's single `args` value); the dialog asks without one. */
  const importSlos = async (fileArg?: unknown, options?: unknown): Promise<void> => {
    if (typeof fileArg === 'object' && fileArg !== null && !(fileArg instanceof vscode.Uri)) {
      options ??= fileArg;
      fileArg = (fileArg as { file?: unknown }).file;
    }
    const given = fileArgument(fileArg);
    const [uri] = given
      ? [given]
      : ((await vscode.window.showOpenDialog({
        title: 'Import OpenSLO File',
        canSelectMany: false,
        filters: { 'OpenSLO YAML': ['yaml', 'yml'] },
        openLabel: 'Import',
      })) ?? []);
    if (!uri) return;
    const file = vscode.workspace.asRelativePath(uri);
    const mode = sloImportMode(options);
    try {
      const { slos, replaced } = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Importing SLOs from ${file}` },
        async () => {
          const yaml = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
          return session.request(ImportSlos, { yaml, mode });
        },
      );
      void refresh();
      const names = slos.map((s) => s.name).join(', ');
      const verb = replaced.length === 0 ? 'Imported' : `Imported (${replaced.length} replaced)`;
      void vscode.window.showInformationMessage(slos.length === 0 ? `${file} holds no SLO.` : `${verb} ${slos.length} SLO${slos.length === 1 ? '' : 's'} from ${file}: ${names}.`);
    } catch (e) {
      // An id that exists: offer to redefine the SLOs from the file (still all or nothing).
      if (mode === 'create' && isRpcError(e) && e.code === ErrorCode.Duplicate) {
        log.warn(`Import of ${file}: ${errorText(e)}`);
        const choice = await vscode.window.showWarningMessage(`Could not import ${file}: ${errorText(e)}`, 'Replace Existing SLOs');
        if (choice === 'Replace Existing SLOs') await importSlos(uri, { mode: 'replace' });
        return;
      }
      await showError(`Could not import ${file}: ${errorText(e)}`);
    }
  };

  const createSlo = async (): Promise<void> => {
    if (session.state.kind !== 'connected') {
      await showError('Cannot create an SLO: the CogniForge daemon is not connected.');
      return;
    }
    const existing = new Set(provider.statuses.flatMap((s) => [s.slo.id, ...s.slo.aliases]));
    const spec = await runCreateSloWizard(existing);
    if (!spec) return;
    try {
      const created = await session.request(CreateSlo, spec);
      void refresh();
      const choice = await vscode.window.showInformationMessage(`Created SLO "${created.name}" (${created.id}).`, 'Open Dashboard');
      if (choice === 'Open Dashboard') await openDashboard(created.id);
    } catch (e) {
      await showError(`Could not create SLO "${spec.name}": ${errorText(e)}`);
    }
  };

  const onAlert = async (state: 'fired' | 'resolved', alert: Parameters<typeof pageAlertMessage>[1]): Promise<void> => {
    const slo = provider.statuses.find((s) => s.slo.id === alert.sloId)?.slo;
    const name = slo?.name;
    const text = pageAlertMessage(state, alert, name);
    if (text === undefined) return;
    log.warn(text);
    // Offered only when the incidents feature registered its command: absent, never broken.
    const canCreateIncident = (await vscode.commands.getCommands(true)).includes(CREATE_INCIDENT_COMMAND);
    const actions = canCreateIncident ? ['Open Dashboard', 'Create Incident'] : ['Open Dashboard'];
    const choice = await vscode.window.showWarningMessage(text, ...actions);
    if (choice === 'Open Dashboard') await openDashboard(alert.sloId);
    if (choice === 'Create Incident') {
      // The incidents wizard's pre-fill shape (title, severity, sloIds, services, description).
      await vscode.commands.executeCommand(CREATE_INCIDENT_COMMAND, {
        title: `SLO ${name ?? alert.sloId} burning its error budget`,
        severity: 'SEV2',
        sloIds: [alert.sloId],
        services: slo ? [slo.service] : [],
        description: text,
      });
    }
  };

  ctx.subscriptions.push(
    provider,
    view,
    statusItem,
    host,
    { dispose: () => throttle.dispose() },
    session.onDidChangeState(() => void refresh()),
    session.onNotification(DidChangeSlo, () => throttle.trigger()),
    session.onNotification(DidAlertSlo, (p) => {
      throttle.trigger();
      void onAlert(p.state, p.alert);
    }),
    vscode.commands.registerCommand(Commands.refreshSlos, () => refresh()),
    vscode.commands.registerCommand(Commands.openSloDashboard, (target?: SloTarget) => openDashboard(target)),
    vscode.commands.registerCommand(Commands.createSlo, () => createSlo()),
    vscode.commands.registerCommand(Commands.importSlo, (file?: unknown, options?: unknown) => importSlos(file, options)),
    vscode.commands.registerCommand(Commands.editSlo, (target?: SloTarget) => editSlo(target)),
    vscode.commands.registerCommand(Commands.deleteSlo, (target?: SloTarget) => deleteSlo(target)),
    vscode.commands.registerCommand(Commands.exportSlo, (target?: SloTarget, file?: unknown) => exportSlo(target, file)),
  );
  void refresh();
}
