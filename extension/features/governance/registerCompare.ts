import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { CompareContracts, type ComparisonReport, type CompareDocument } from '../../../daemon/protocol';
import type { DaemonSession } from '../../daemon/connection';
import { Commands, Settings, Views } from '../../ids';
import { buildCompareNodes, buildComparePicks, compareDiagnostics, parseGitRefs, type ComparePick, type CompareNode, type GitRef } from './compareModel';
import { looksLikeSpec, specLanguageOf } from './fixEdits';

const DIAGNOSTIC_SOURCE = 'CogniForge contract';
/** Refs the QuickPick lists (newest first). */
const MAX_REFS = 200;

class CompareTreeProvider implements vscode.TreeDataProvider<CompareNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private nodes: CompareNode[] = [];

  setReport(report: ComparisonReport | undefined): void {
    this.nodes = buildCompareNodes(report);
    this.changed.fire();
  }

  getTreeItem(node: CompareNode): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, node.kind === 'group' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = node.description;
    item.iconPath = new vscode.ThemeIcon(node.icon);
    item.contextValue = `contractChange.${node.kind}`;
    if (node.kind !== 'group') item.tooltip = node.tooltip;
    if (node.kind === 'change' && node.file) {
      const selection = node.range ? new vscode.Range(node.range.start.line, node.range.start.character, node.range.end.line, node.range.end.character) : undefined;
      item.command = { title: 'Open', command: 'vscode.open', arguments: [vscode.Uri.file(node.file), selection ? { selection } : {}] };
    }
    return item;
  }

  getChildren(node?: CompareNode): CompareNode[] {
    if (!node) return this.nodes;
    return node.kind === 'group' ? node.children : [];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Branches and tags of the repository holding `file`; empty when it is not in one or git is missing. */
function gitRefs(file: string, log: vscode.LogOutputChannel): Promise<GitRef[]> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['-c', 'core.fsmonitor=false', 'for-each-ref', '--sort=-creatordate', `--count=${MAX_REFS}`, '--format=%(refname)', 'refs/tags', 'refs/heads', 'refs/remotes'],
      { cwd: dirname(file), timeout: 10_000, windowsHide: true },
      (error, stdout) => {
        if (error) {
          log.info(`Governance: no git refs for ${file}: ${error.message}`);
          resolve([]);
          return;
        }
        resolve(parseGitRefs(stdout));
      },
    );
  });
}

/** Spec files in the workspace, for when no OpenAPI file is active. */
async function pickSpecFile(log: vscode.LogOutputChannel): Promise<string | undefined> {
  const glob = vscode.workspace.getConfiguration().get<string>(Settings.governanceSpecGlob) || '**/*.{yaml,yml,json}';
  const uris = await vscode.workspace.findFiles(glob, '**/{node_modules,.git}/**', 2_000);
  const specs: string[] = [];
  for (const uri of uris) {
    const language = specLanguageOf('', uri.fsPath);
    if (!language || uri.scheme !== 'file') continue;
    try {
      if (looksLikeSpec(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)), language)) specs.push(uri.fsPath);
    } catch (e) {
      log.warn(`Governance: could not read ${uri.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (specs.length === 0) {
    void vscode.window.showInformationMessage('CogniForge: no OpenAPI or Swagger document found in the workspace to compare.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    specs.map((file) => ({ label: vscode.workspace.asRelativePath(file), file })),
    { title: 'Compare API Contract: which contract?', placeHolder: 'Pick the OpenAPI/Swagger file to compare' },
  );
  return picked?.file;
}

/**
 * `CogniForge: Compare API Contract with…`: the active OpenAPI file (or one picked from the
 * workspace) against a git branch or tag, or another file; the changes go to the API Contract
 * Changes view (grouped by severity, a click opens the line) and the breaking ones and warnings to
 * the Problems panel.
 */
export function registerCompare(ctx: vscode.ExtensionContext, session: DaemonSession, log: vscode.LogOutputChannel): void {
  const provider = new CompareTreeProvider();
  const view = vscode.window.createTreeView(Views.contractChanges, { treeDataProvider: provider });
  const diagnostics = vscode.languages.createDiagnosticCollection('cogniforge-contract');

  const show = (report: ComparisonReport): void => {
    provider.setReport(report);
    view.message = undefined;
    diagnostics.clear();
    for (const [file, entries] of compareDiagnostics(report)) {
      diagnostics.set(
        vscode.Uri.file(file),
        entries.map((e) => {
          const d = new vscode.Diagnostic(
            new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character),
            e.message,
            e.severity === 'breaking' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information,
          );
          d.source = DIAGNOSTIC_SOURCE;
          d.code = e.code;
          return d;
        }),
      );
    }
  };

  const compare = async (arg?: unknown): Promise<void> => {
    if (session.state.kind !== 'connected') {
      void vscode.window.showWarningMessage('CogniForge: the daemon is not connected, so the API contract cannot be compared.');
      return;
    }
    let head: string | undefined;
    if (arg instanceof vscode.Uri && arg.scheme === 'file') head = arg.fsPath;
    const active = vscode.window.activeTextEditor?.document;
    if (!head && active && active.uri.scheme === 'file') {
      const language = specLanguageOf(active.languageId, active.fileName);
      if (language && looksLikeSpec(active.getText(), language)) head = active.uri.fsPath;
    }
    head ??= await pickSpecFile(log);
    if (!head) return;
    const headFile = head;

    const refs = await gitRefs(headFile, log);
    const pick = await vscode.window.showQuickPick<ComparePick>(buildComparePicks(refs), {
      title: `Compare ${vscode.workspace.asRelativePath(headFile)} with…`,
      placeHolder: refs.length > 0 ? 'A branch or tag (the file as it is there), or another file' : 'Not in a git repository: pick another file',
      matchOnDescription: true,
    });
    if (!pick) return;
    let base: CompareDocument;
    let baseLabel: string;
    if (pick.action === 'revision') {
      base = { revision: pick.revision };
      baseLabel = pick.revision;
    } else {
      const chosen = await vscode.window.showOpenDialog({
        canSelectMany: false,
        openLabel: 'Compare with',
        title: 'The older contract to compare with',
        defaultUri: vscode.Uri.file(dirname(headFile)),
        filters: { 'OpenAPI / Swagger': ['yaml', 'yml', 'json'] },
      });
      if (!chosen?.[0]) return;
      base = { path: chosen[0].fsPath };
      baseLabel = vscode.workspace.asRelativePath(chosen[0]);
    }

    const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === headFile);
    if (doc?.isDirty) await doc.save();
    try {
      const report = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `CogniForge: comparing ${vscode.workspace.asRelativePath(headFile)} with ${baseLabel}…` },
        () => session.request(CompareContracts, { base, head: { path: headFile } }),
      );
      show(report);
      log.info(`Governance: compared ${headFile} with ${report.base.name}: ${report.summary.breaking} breaking, ${report.summary.warning} warnings, ${report.summary.info} info`);
      await vscode.commands.executeCommand(`${Views.contractChanges}.focus`);
      const text = `CogniForge: ${report.summary.breaking} breaking change(s), ${report.summary.warning} warning(s), ${report.summary.info} info against ${report.base.name}.`;
      if (report.breaking) void vscode.window.showWarningMessage(text);
      else void vscode.window.showInformationMessage(text);
    } catch (e) {
      const text = `CogniForge: could not compare ${vscode.workspace.asRelativePath(headFile)} with ${baseLabel}: ${e instanceof Error ? e.message : String(e)}`;
      log.error(text);
      const choice = await vscode.window.showErrorMessage(text, 'Show Log');
      if (choice === 'Show Log') log.show();
    }
  };

  ctx.subscriptions.push(provider, view, diagnostics, vscode.commands.registerCommand(Commands.compareContract, compare));
}
