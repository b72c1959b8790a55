import * as vscode from 'vscode';
import { AuditContracts, type AuditFinding, type ComplianceReport, type FindingSeverity } from '../../../daemon/protocol';
import type { DaemonSession } from '../../daemon/connection';
import { Commands, Settings, Views } from '../../ids';
import { computeFixEdit, looksLikeSpec, specLanguageOf } from './fixEdits';
import { buildGovernanceNodes, type GovernanceNode } from './governanceTreeModel';

/** Saves in a burst (Save All, format-on-save) start one audit, this long after the last, ms. */
const SAVE_DEBOUNCE_MS = 500;
/** The daemon audits at most this many files per call. */
const MAX_SPECS = 200;
const DIAGNOSTIC_SOURCE = 'CogniForge OWASP';

const SEVERITY: Record<FindingSeverity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warn: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

function toRange(r: AuditFinding['range']): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

class GovernanceTreeProvider implements vscode.TreeDataProvider<GovernanceNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private nodes: GovernanceNode[] = [];

  setReport(report: ComplianceReport | undefined): void {
    this.nodes = buildGovernanceNodes(report);
    this.changed.fire();
  }

  getTreeItem(node: GovernanceNode): vscode.TreeItem {
    const collapsible =
      node.kind === 'document' ? vscode.TreeItemCollapsibleState.Expanded : node.kind === 'category' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, collapsible);
    item.id = node.id;
    item.description = node.description;
    item.iconPath = new vscode.ThemeIcon(node.icon);
    if (node.kind !== 'category') item.tooltip = node.tooltip;
    if (node.kind === 'document') item.resourceUri = vscode.Uri.file(node.tooltip);
    if (node.kind === 'finding') {
      item.command = { title: 'Open', command: 'vscode.open', arguments: [vscode.Uri.file(node.file), { selection: toRange(node.range) }] };
    }
    return item;
  }

  getChildren(node?: GovernanceNode): GovernanceNode[] {
    if (!node) return this.nodes;
    return node.kind === 'document' || node.kind === 'category' ? node.children : [];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Quick fixes for the findings whose fix is mechanical, computed on the document's current text. */
class FindingFixProvider implements vscode.CodeActionProvider {
  constructor(private readonly findingsFor: (uri: vscode.Uri) => readonly AuditFinding[]) {}

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const language = specLanguageOf(document.languageId, document.fileName);
    if (!language) return [];
    const findings = this.findingsFor(document.uri);
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
      const finding = findings.find((f) => f.fix && f.message === diagnostic.message && toRange(f.range).isEqual(diagnostic.range));
      if (!finding?.fix) continue;
      const edit = computeFixEdit(document.getText(), language, finding.fix);
      if (!edit) continue;
      const action = new vscode.CodeAction(finding.fix.title, vscode.CodeActionKind.QuickFix);
      action.edit = new vscode.WorkspaceEdit();
      action.edit.replace(document.uri, new vscode.Range(document.positionAt(edit.offset), document.positionAt(edit.offset + edit.length)), edit.newText);
      action.diagnostics = [diagnostic];
      action.isPreferred = true;
      actions.push(action);
    }
    return actions;
  }
}

/**
 * Governance: audits the workspace's OpenAPI/Swagger files (once connected, on save of a spec, and
 * on `Audit API Contracts`), publishes the findings as diagnostics with quick fixes, and fills the
 * Governance view with the scores and findings by OWASP category.
 */
export function registerGovernance(ctx: vscode.ExtensionContext, session: DaemonSession, log: vscode.LogOutputChannel): void {
  const provider = new GovernanceTreeProvider();
  const view = vscode.window.createTreeView(Views.governance, { treeDataProvider: provider });
  const diagnostics = vscode.languages.createDiagnosticCollection('cogniforge-owasp');
  const findingsByFile = new Map<string, AuditFinding[]>();
  const known = new Set<string>();
  let discovered = false;
  let generation = 0;
  let saveTimer: NodeJS.Timeout | undefined;

  const publish = (report: ComplianceReport): void => {
    findingsByFile.clear();
    for (const f of report.findings) findingsByFile.set(f.file, [...(findingsByFile.get(f.file) ?? []), f]);
    diagnostics.clear();
    for (const [file, findings] of findingsByFile) {
      diagnostics.set(
        vscode.Uri.file(file),
        findings.map((f) => {
          const d = new vscode.Diagnostic(toRange(f.range), f.message, SEVERITY[f.severity]);
          d.source = DIAGNOSTIC_SOURCE;
          d.code = `${f.rule} (${f.category})`;
          return d;
        }),
      );
    }
    provider.setReport(report);
    view.message = report.skipped.length > 0 ? `${report.skipped.length} file(s) skipped: ${report.skipped.map((s) => `${s.file} (${s.reason})`).join('; ')}` : undefined;
  };

  const discover = async (): Promise<void> => {
    const glob = vscode.workspace.getConfiguration().get<string>(Settings.governanceSpecGlob) || '**/*.{yaml,yml,json}';
    const uris = await vscode.workspace.findFiles(glob, '**/{node_modules,.git}/**', 2_000);
    for (const uri of uris) {
      if (known.size >= MAX_SPECS) break;
      const language = specLanguageOf('', uri.fsPath);
      if (!language || uri.scheme !== 'file') continue;
      try {
        if (looksLikeSpec(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)), language)) known.add(uri.fsPath);
      } catch (e) {
        log.warn(`Governance: could not read ${uri.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    discovered = true;
  };

  /** Audits every known spec; resolves to the report, or undefined when there is nothing to audit. */
  const audit = async (): Promise<ComplianceReport | undefined> => {
    const gen = ++generation;
    if (!discovered) await discover();
    if (known.size === 0) {
      diagnostics.clear();
      provider.setReport(undefined);
      return undefined;
    }
    const report = await session.request(AuditContracts, { paths: [...known].slice(0, MAX_SPECS) });
    if (gen === generation) publish(report);
    log.info(`Governance: audited ${report.documents.length} document(s), score ${report.score}, ${report.findingCount} finding(s)`);
    return report;
  };

  const auditQuietly = (why: string): void => {
    if (session.state.kind !== 'connected') return;
    audit().catch((e: unknown) => {
      const text = e instanceof Error ? e.message : String(e);
      log.warn(`Governance: audit (${why}) failed: ${text}`);
      view.message = `The API contract audit failed: ${text}`;
    });
  };

  const onSave = (doc: vscode.TextDocument): void => {
    if (!vscode.workspace.getConfiguration().get<boolean>(Settings.governanceAuditOnSave, true)) return;
    const language = specLanguageOf(doc.languageId, doc.fileName);
    if (!language || doc.uri.scheme !== 'file') return;
    const isSpec = looksLikeSpec(doc.getText(), language);
    if (!isSpec && !known.has(doc.uri.fsPath)) return;
    if (isSpec) known.add(doc.uri.fsPath);
    else known.delete(doc.uri.fsPath);
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => auditQuietly(`save of ${doc.fileName}`), SAVE_DEBOUNCE_MS);
  };

  const auditCommand = async (): Promise<void> => {
    if (session.state.kind !== 'connected') {
      void vscode.window.showWarningMessage('CogniForge: the daemon is not connected, so the API contracts cannot be audited.');
      return;
    }
    discovered = false;
    known.clear();
    try {
      const report = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'CogniForge: auditing API contracts…' },
        () => audit(),
      );
      if (!report) void vscode.window.showInformationMessage('CogniForge: no OpenAPI or Swagger documents found in the workspace.');
      else void vscode.window.showInformationMessage(`CogniForge: OWASP score ${Math.round(report.score)}/100, ${report.findingCount} finding(s) in ${report.documents.length} document(s).`);
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      log.error(`Governance: audit failed: ${text}`);
      void vscode.window.showErrorMessage(`CogniForge: the API contract audit failed: ${text}`);
    }
  };

  ctx.subscriptions.push(
    provider,
    view,
    diagnostics,
    { dispose: () => clearTimeout(saveTimer) },
    vscode.languages.registerCodeActionsProvider(
      [{ scheme: 'file', language: 'yaml' }, { scheme: 'file', language: 'json' }, { scheme: 'file', language: 'jsonc' }],
      new FindingFixProvider((uri) => findingsByFile.get(uri.fsPath) ?? []),
      { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
    ),
    vscode.workspace.onDidSaveTextDocument(onSave),
    session.onDidChangeState((state) => {
      if (state.kind === 'connected') auditQuietly('connected');
    }),
    vscode.commands.registerCommand(Commands.auditContracts, auditCommand),
  );
  auditQuietly('activation');
}
