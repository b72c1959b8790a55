import {
  AuditHistory,
  CompareReports,
  ErrorCode,
  GetOwaspCompliance,
  type AuditFinding,
  type ComparisonReport,
  type ComplianceReport,
  type ResultOf,
} from '../../../daemon/protocol';
import type {
  BreakingState,
  GovernanceDashboardCommand,
  GovernanceDashboardData,
  GovernanceDashboardToHost,
  HostToGovernanceDashboard,
  MatrixRow,
  ScorePoint,
} from '../../../webview/protocol/governanceDashboard';
import type { DaemonSession, Disposable } from '../../daemon/connection';
import type { DaemonState } from '../../daemon/state';
import { Throttle } from '../../shared/throttle';

/** Audits on the score-over-time chart. */
export const HISTORY_POINTS = 200;
/** Changes of the breaking-change report the dashboard lists. */
export const LISTED_CHANGES = 20;
/** Events after which the dashboard reloads. */
const RELOAD_ON = new Set(['governance.auditCompleted', 'governance.compareCompleted', 'governance.breakingChangeDetected']);

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const hasCode = (e: unknown, code: number): boolean => typeof e === 'object' && e !== null && 'code' in e && (e as { code: unknown }).code === code;

/** The matrix rows of a report: one per document, one cell per OWASP category. */
export function matrixRows(report: ComplianceReport, label: (file: string) => string): MatrixRow[] {
  return report.documents.map((d) => ({
    file: d.file,
    label: label(d.file),
    score: d.score,
    findingCount: d.findingCount,
    structureFindings: d.structureFindings,
    cells: d.categories.map((c) => ({
      category: c.category,
      status: c.status === 'fail' ? 'fail' : c.findings.info + c.findings.hint > 0 ? 'partly' : 'pass',
      errors: c.findings.error,
      warnings: c.findings.warn,
      notes: c.findings.info + c.findings.hint,
    })),
  }));
}

/** The score history oldest first (the daemon answers newest first). */
export function scorePoints(entries: ResultOf<typeof AuditHistory>['entries']): ScorePoint[] {
  return entries
    .slice(0, HISTORY_POINTS)
    .reverse()
    .map((e) => ({ auditedAt: e.auditedAt, score: e.score, findingCount: e.findingCount }));
}

const isAbsolute = (name: string): boolean => name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name);

/** `label` shortens a side named by its absolute path (a working-tree file) as the matrix does. */
export function breakingStateOf(report: ComparisonReport | undefined, label: (file: string) => string = (f) => f): BreakingState {
  if (!report) return { status: 'none' };
  const side = (name: string): string => (isAbsolute(name) ? label(name) : name);
  return {
    status: 'report',
    report: {
      comparedAt: report.comparedAt,
      base: side(report.base.name),
      head: side(report.head.name),
      summary: report.summary,
      changes: report.changes.slice(0, LISTED_CHANGES).map((c) => ({
        severity: c.severity,
        rule: c.rule,
        message: c.message,
        ...(c.path !== undefined ? { operation: `${(c.method ?? '').toUpperCase()} ${c.path}`.trim() } : {}),
        clients: (c.clients ?? []).slice(0, 20).map((u) => u.client),
      })),
      changeCount: report.changeCount,
    },
  };
}

export function dashboardData(
  compliance: ResultOf<typeof GetOwaspCompliance>,
  history: ResultOf<typeof AuditHistory>['entries'],
  breaking: BreakingState,
  label: (file: string) => string,
  receivedAt: number,
): GovernanceDashboardData {
  const r = compliance.report;
  return {
    type: 'data',
    audit: r
      ? {
          auditedAt: r.auditedAt,
          score: r.score,
          scoreFormula: r.scoreFormula,
          findingCount: r.findingCount,
          categories: r.categories.map((c) => ({ category: c.category, title: c.title, coverage: c.coverage })),
          rows: matrixRows(r, label).slice(0, 200),
        }
      : null,
    history: scorePoints(history),
    breaking,
    receivedAt,
  };
}

export interface GovernanceDashboardFeedOptions {
  readonly session: DaemonSession;
  readonly channel: { post(message: HostToGovernanceDashboard): boolean; readonly visible: boolean };
  readonly runCommand: (command: GovernanceDashboardCommand) => void;
  /** Open a file, at a finding when one is given. */
  readonly openDocument: (file: string, finding: AuditFinding | undefined) => void;
  /** How the matrix names a document (workspace-relative). */
  readonly label: (file: string) => string;
  readonly log: (level: 'warn' | 'debug', message: string) => void;
  readonly now?: () => number;
  /** At most one reload per this interval while audits complete, ms. */
  readonly refreshMs?: number;
}

/**
 * Feeds one governance dashboard: the latest compliance report as a matrix, the score history and the
 * latest breaking-change report, when it is ready and again (throttled) when an audit or comparison
 * completes. Nothing runs while hidden.
 */
export class GovernanceDashboardFeed implements Disposable {
  private active = false;
  private generation = 0;
  /** The report whose documents the webview shows: the only files it may ask to open. */
  private shown: ComplianceReport | null = null;
  private readonly throttle: Throttle;
  private readonly listeners: Disposable[];
  private appendListener: Disposable | undefined;

  constructor(private readonly opts: GovernanceDashboardFeedOptions) {
    this.throttle = new Throttle(() => void this.load(), opts.refreshMs ?? 1_000);
    this.listeners = [opts.session.onDidChangeState((state) => this.onState(state))];
  }

  onReady(): void {
    this.active = true;
    this.postConnection(this.opts.session.state);
    this.appendListener ??= this.opts.session.onDidAppend((event) => {
      if (this.active && RELOAD_ON.has(event.type)) this.throttle.trigger();
    });
    void this.load();
  }

  onVisibilityChange(visible: boolean): void {
    // Becoming visible reloads the webview, whose `ready` re-activates the feed.
    if (visible) return;
    this.active = false;
    this.appendListener?.dispose();
    this.appendListener = undefined;
  }

  onMessage(msg: Exclude<GovernanceDashboardToHost, { type: 'ready' }>): void {
    switch (msg.type) {
      case 'refresh':
        void this.load();
        break;
      case 'openDocument': {
        const doc = this.shown?.documents.find((d) => d.file === msg.file);
        if (!doc) {
          this.opts.log('warn', `Governance dashboard: refused to open ${msg.file}: not a document of the report shown`);
          return;
        }
        const finding = msg.category === undefined ? undefined : this.shown!.findings.find((f) => f.file === doc.file && f.category === msg.category);
        this.opts.openDocument(doc.file, finding);
        break;
      }
      case 'runCommand':
        this.opts.runCommand(msg.command);
        break;
    }
  }

  dispose(): void {
    this.active = false;
    this.throttle.dispose();
    this.appendListener?.dispose();
    for (const l of this.listeners) l.dispose();
  }

  private onState(state: DaemonState): void {
    if (!this.active) return;
    this.postConnection(state);
    if (state.kind === 'connected') void this.load();
  }

  private postConnection(state: DaemonState): void {
    this.opts.channel.post({ type: 'connection', state: state.kind, reason: state.kind === 'stopped' ? state.reason : undefined });
  }

  /** The latest breaking-change report, or why there is none. */
  private async breaking(): Promise<BreakingState> {
    try {
      const { reports } = await this.opts.session.request(CompareReports, { limit: 1 });
      return breakingStateOf(reports[0], this.opts.label);
    } catch (e) {
      if (hasCode(e, ErrorCode.MethodNotFound)) return { status: 'unavailable', reason: 'This daemon does not keep breaking-change reports.' };
      return { status: 'unavailable', reason: `Could not load the latest comparison: ${errorText(e)}` };
    }
  }

  /** Fetch everything the dashboard shows; a newer load wins over an older one still in flight. */
  async load(): Promise<void> {
    if (!this.active || this.opts.session.state.kind !== 'connected') return;
    const gen = ++this.generation;
    try {
      const [compliance, history, breaking] = await Promise.all([
        this.opts.session.request(GetOwaspCompliance, {}),
        this.opts.session.request(AuditHistory, { limit: HISTORY_POINTS }),
        this.breaking(),
      ]);
      if (gen !== this.generation || !this.active) return;
      this.shown = compliance.report;
      this.opts.channel.post(dashboardData(compliance, history.entries, breaking, this.opts.label, (this.opts.now ?? Date.now)()));
    } catch (e) {
      if (gen !== this.generation) return;
      this.opts.log('warn', `Governance dashboard: loading failed: ${errorText(e)}`);
      this.opts.channel.post({ type: 'error', message: `Could not load the governance data: ${errorText(e)}` });
    }
  }
}
