import * as vscode from 'vscode';
import {
  AuditContracts,
  HeadersFor,
  ListRateLimitPolicies,
  ListVersions,
  TransitionVersion,
  type AuditFinding,
  type ComplianceReport,
  type FindingSeverity,
  type VersionStatus,
} from '../../../daemon/protocol';
import type { DaemonSession } from '../../daemon/connection';
import { Commands, Settings, Views } from '../../ids';
import { Cancelled, commandErrors, errorText, required } from '../../shared/commandErrors';
import { Throttle } from '../../shared/throttle';
import { computeFixEdit, looksLikeSpec, specLanguageOf } from './fixEdits';
import { buildGovernanceNodes, nextVersionStatus, type GovernanceNode, type RuntimeGovernance } from './governanceTreeModel';

/** Saves in a burst (Save All, format-on-save) start one audit, this long after the last, ms. */
const SAVE_DEBOUNCE_MS = 500;
/** The daemon audits at most this many files per call. */
const MAX_SPECS = 200;
const DIAGNOSTIC_SOURCE = 'CogniForge OWASP';
/** Appended events that change the API Versions or Rate-Limit Policies sections. */
const RUNTIME_EVENTS = new Set([
  'governance.defaultsSeeded',
  'governance.policyCreated',
  'governance.policyUpdated',
  'governance.policyDeleted',
  'governance.versionCreated',
  'governance.versionTransitioned',
]);
/** What the confirmation says each lifecycle state means for clients. */
const TRANSITION_DETAIL: Record<VersionStatus, string> = {
  active: 'The version serves clients normally.',
  deprecated: 'Responses of this version will carry a Deprecation header (and Sunset and Link headers when those dates and links are set).',
  sunset: 'The version reaches its sunset: clients still on it should have moved to its replacement.',
  retired: 'Gateways should answer 410 Gone for this version instead of serving it.',
};
/** A burst of appended events reloads the sections once, this long after the first, ms. */
const RUNTIME_RELOAD_MS = 300;

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
  private report: ComplianceReport | undefined;
  private runtime: RuntimeGovernance | undefined;

  setReport(report: ComplianceReport | undefined): void {
    this.report = report;
    this.rebuild();
  }

  /** Undefined hides the API Versions and Rate-Limit Policies sections (not connected). */
  setRuntime(runtime: RuntimeGovernance | undefined): void {
    this.runtime = runtime;
    this.rebuild();
  }

  private rebuild(): void {
    this.nodes = buildGovernanceNodes(this.report, this.runtime);
    this.changed.fire();
  }

  getTreeItem(node: GovernanceNode): vscode.TreeItem {
    const collapsible =
      node.kind === 'document' || node.kind === 'section'
        ? vscode.TreeItemCollapsibleState.Expanded
        : node.kind === 'category'
          ? vscode.TreeItemCollapsibleState.Collapsed
          : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, collapsible);
    item.id = node.id;
    item.description = node.description;
    item.iconPath = new vscode.ThemeIcon(node.icon);
    if (node.kind !== 'category' && node.kind !== 'section') item.tooltip = node.tooltip;
    if (node.kind === 'version') item.contextValue = node.next ? 'governanceVersion.advanceable' : 'governanceVersion';
    if (node.kind === 'policy') item.contextValue = 'governancePolicy';
    if (node.kind === 'document') item.resourceUri = vscode.Uri.file(node.tooltip);
    if (node.kind === 'summary' && node.command) item.command = { title: node.label, command: node.command };
    if (node.kind === 'finding') {
      item.command = { title: 'Open', command: 'vscode.open', arguments: [vscode.Uri.file(node.file), { selection: toRange(node.range) }] };
    }
    return item;
  }

  getChildren(node?: GovernanceNode): GovernanceNode[] {
    if (!node) return this.nodes;
    return node.kind === 'document' || node.kind === 'category' || node.kind === 'section' ? node.children : [];
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
 * on `Audit Workspace`) or one file (`Audit OpenAPI File`), publishes the findings as diagnostics
 * with quick fixes, and fills the Governance view with the scores and findings by OWASP category,
 * then the API versions (advanced one lifecycle step from their context menu) and rate-limit policies.
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

  const toDiagnostic = (f: AuditFinding): vscode.Diagnostic => {
    const d = new vscode.Diagnostic(toRange(f.range), f.message, SEVERITY[f.severity]);
    d.source = DIAGNOSTIC_SOURCE;
    d.code = `${f.rule} (${f.category})`;
    return d;
  };

  const publish = (report: ComplianceReport): void => {
    findingsByFile.clear();
    for (const f of report.findings) findingsByFile.set(f.file, [...(findingsByFile.get(f.file) ?? []), f]);
    diagnostics.clear();
    for (const [file, findings] of findingsByFile) diagnostics.set(vscode.Uri.file(file), findings.map(toDiagnostic));
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

  // ---- Audit OpenAPI File: one document (and the files it `$ref`s), its diagnostics replaced.

  const { guarded } = commandErrors(log);

  const activeSpec = (): string | undefined => {
    const doc = vscode.window.activeTextEditor?.document;
    if (!doc || doc.uri.scheme !== 'file') return undefined;
    const language = specLanguageOf(doc.languageId, doc.fileName);
    return language && looksLikeSpec(doc.getText(), language) ? doc.uri.fsPath : undefined;
  };

  const auditFile = async (arg: unknown): Promise<void> => {
    if (session.state.kind !== 'connected') {
      void vscode.window.showWarningMessage('CogniForge: the daemon is not connected, so the file cannot be audited.');
      return;
    }
    let file = arg instanceof vscode.Uri && arg.scheme === 'file' ? arg.fsPath : activeSpec();
    if (!file) {
      if (!discovered) await discover();
      if (known.size === 0) {
        void vscode.window.showInformationMessage('CogniForge: no OpenAPI or Swagger documents found in the workspace.');
        return;
      }
      const pick = required(
        await vscode.window.showQuickPick(
          [...known].sort().map((f) => ({ label: vscode.workspace.asRelativePath(f), file: f })),
          { title: 'Audit OpenAPI File', placeHolder: 'The active editor is not an OpenAPI/Swagger document: pick one to audit' },
        ),
      );
      file = pick.file;
    }
    const target = file;
    const name = vscode.workspace.asRelativePath(target);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === target);
    // The daemon reads the file from disk.
    if (open?.isDirty) await open.save();
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `CogniForge: auditing ${name}…` },
      () => session.request(AuditContracts, { paths: [target] }),
    );
    const skipped = report.skipped.find((s) => s.file === target);
    if (skipped) {
      void vscode.window.showWarningMessage(`CogniForge: ${name} was not audited: ${skipped.reason}`);
      return;
    }
    known.add(target);
    const byFile = new Map<string, AuditFinding[]>([[target, []]]);
    for (const f of report.findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
    for (const [f, findings] of byFile) {
      findingsByFile.set(f, findings);
      diagnostics.set(vscode.Uri.file(f), findings.map(toDiagnostic));
    }
    const score = Math.round(report.documents.find((d) => d.file === target)?.score ?? report.score);
    log.info(`Governance: audited ${target}: score ${score}, ${report.findingCount} finding(s)`);
    void vscode.window.showInformationMessage(`CogniForge: ${name}: OWASP score ${score}/100, ${report.findingCount} finding(s).`);
  };

  // ---- API Versions and Rate-Limit Policies sections.

  let runtimeGeneration = 0;
  const loadRuntime = async (): Promise<void> => {
    const gen = ++runtimeGeneration;
    if (session.state.kind !== 'connected') {
      provider.setRuntime(undefined);
      return;
    }
    try {
      const [{ versions }, { policies }] = await Promise.all([session.request(ListVersions, {}), session.request(ListRateLimitPolicies, {})]);
      const headers = new Map(await Promise.all(versions.map(async (v) => [v.version, (await session.request(HeadersFor, { version: v.version })).headers] as const)));
      if (gen === runtimeGeneration) provider.setRuntime({ versions, headers, policies });
    } catch (e) {
      log.warn(`Governance: could not load versions and rate-limit policies: ${errorText(e)}`);
    }
  };
  const runtimeThrottle = new Throttle(() => void loadRuntime(), RUNTIME_RELOAD_MS);

  // The session subscribes only while a listener exists, so a hidden view costs no traffic.
  let appendListener: vscode.Disposable | undefined;
  const followEvents = (visible: boolean): void => {
    if (visible && !appendListener) {
      appendListener = session.onDidAppend((event) => {
        if (RUNTIME_EVENTS.has(event.type)) runtimeThrottle.trigger();
      });
    } else if (!visible && appendListener) {
      appendListener.dispose();
      appendListener = undefined;
    }
  };

  const advanceVersion = async (arg: unknown): Promise<void> => {
    const node = typeof arg === 'object' && arg !== null && (arg as GovernanceNode).kind === 'version' ? (arg as Extract<GovernanceNode, { kind: 'version' }>) : undefined;
    let version: string;
    let status: VersionStatus;
    if (node) {
      ({ version, status } = node);
    } else {
      const { versions } = await session.request(ListVersions, {});
      const movable = versions.filter((v) => nextVersionStatus(v.status));
      if (movable.length === 0) {
        void vscode.window.showInformationMessage('CogniForge: no API version can move on (every version is retired, or none is registered).');
        return;
      }
      const pick = required(
        await vscode.window.showQuickPick(
          movable.map((v) => ({ label: v.version, description: `${v.status} → ${nextVersionStatus(v.status)}`, v })),
          { title: 'Advance Version Lifecycle', placeHolder: 'The API version to move one lifecycle step' },
        ),
      );
      ({ version, status } = pick.v);
    }
    const next = nextVersionStatus(status);
    if (!next) {
      void vscode.window.showInformationMessage(`CogniForge: API version ${version} is retired; it has no further lifecycle state.`);
      return;
    }
    const choice = await vscode.window.showWarningMessage(
      `Move API version ${version} from ${status} to ${next}?`,
      { modal: true, detail: `${TRANSITION_DETAIL[next]} Lifecycle steps go one way: this cannot be undone.` },
      `Mark ${next}`,
    );
    if (choice !== `Mark ${next}`) throw new Cancelled();
    const updated = await session.request(TransitionVersion, { version, to: next });
    log.info(`Governance: API version ${version} moved from ${status} to ${updated.status}`);
    await loadRuntime();
    void vscode.window.showInformationMessage(`CogniForge: API version ${version} is now ${updated.status}.`);
  };

  ctx.subscriptions.push(
    provider,
    view,
    diagnostics,
    { dispose: () => clearTimeout(saveTimer) },
    { dispose: () => runtimeThrottle.dispose() },
    { dispose: () => appendListener?.dispose() },
    view.onDidChangeVisibility(({ visible }) => {
      followEvents(visible);
      if (visible) runtimeThrottle.trigger();
    }),
    session.onDidChangeState(() => void loadRuntime()),
    vscode.commands.registerCommand(Commands.auditFile, guarded('audit the OpenAPI file', auditFile)),
    vscode.commands.registerCommand(Commands.advanceVersion, guarded('advance the API version', advanceVersion)),
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
  followEvents(view.visible);
  void loadRuntime();
}
