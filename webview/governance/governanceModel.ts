import type { ConnectionStateName } from '../protocol/connection';
import type {
  BreakingState,
  CellStatus,
  GovernanceDashboardCommand,
  GovernanceDashboardData,
  HostToGovernanceDashboard,
  MatrixCell,
  ScorePoint,
} from '../protocol/governanceDashboard';

export type Tone = 'ok' | 'warning' | 'error' | 'pending';

export interface GovernanceModel {
  readonly connection: ConnectionStateName;
  readonly connectionReason?: string;
  readonly data?: GovernanceDashboardData;
  readonly error?: string;
  readonly hostTimedOut: boolean;
}

export function initialModel(): GovernanceModel {
  return { connection: 'connecting', hostTimedOut: false };
}

export function reduce(model: GovernanceModel, message: HostToGovernanceDashboard): GovernanceModel {
  switch (message.type) {
    case 'connection':
      return { ...model, connection: message.state, connectionReason: message.reason, hostTimedOut: false };
    case 'data':
      return { ...model, data: message, error: undefined, hostTimedOut: false };
    case 'error':
      return { ...model, error: message.message, hostTimedOut: false };
  }
}

export function hostTimedOut(model: GovernanceModel): GovernanceModel {
  return model.data || model.error ? model : { ...model, hostTimedOut: true };
}

/** Tone of a 0..100 score: 90 and up is fine, under 70 is bad. */
export function scoreTone(score: number): Tone {
  return score >= 90 ? 'ok' : score >= 70 ? 'warning' : 'error';
}

export function formatScore(score: number): string {
  return Number.isInteger(score) ? String(score) : score.toFixed(1);
}

const CELL_TONE: Record<CellStatus, Tone> = { pass: 'ok', partly: 'warning', fail: 'error' };
const CELL_TEXT: Record<CellStatus, string> = { pass: 'Pass', partly: 'Partly', fail: 'Fail' };

export interface CellView {
  readonly category: string;
  readonly status: CellStatus;
  readonly text: string;
  readonly tone: Tone;
  /** Tooltip and accessible name: the category, the verdict and the counts behind it. */
  readonly label: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function cellView(cell: MatrixCell, title: string, document: string): CellView {
  const counts = [cell.errors > 0 ? plural(cell.errors, 'error') : '', cell.warnings > 0 ? plural(cell.warnings, 'warning') : '', cell.notes > 0 ? plural(cell.notes, 'note') : '']
    .filter((s) => s !== '')
    .join(', ');
  return {
    category: cell.category,
    status: cell.status,
    text: CELL_TEXT[cell.status],
    tone: CELL_TONE[cell.status],
    label: `${document} · ${cell.category} ${title}: ${CELL_TEXT[cell.status].toLowerCase()}${counts ? ` (${counts})` : ' (no findings)'}`,
  };
}

export interface RowView {
  readonly file: string;
  readonly label: string;
  readonly scoreText: string;
  readonly scoreTone: Tone;
  readonly detail: string;
  readonly cells: readonly CellView[];
}

export interface HeaderView {
  readonly category: string;
  readonly title: string;
  /** Shown under the header: every category is only partly judgeable from a contract. */
  readonly note: string;
}

export interface MatrixView {
  readonly headers: readonly HeaderView[];
  readonly rows: readonly RowView[];
  /** Per category over all documents: how many documents fail it. */
  readonly failing: readonly number[];
}

export function matrixView(data: GovernanceDashboardData): MatrixView | undefined {
  const audit = data.audit;
  if (!audit) return undefined;
  const titles = new Map(audit.categories.map((c) => [c.category, c.title]));
  return {
    headers: audit.categories.map((c) => ({ category: c.category, title: c.title, note: c.coverage === 'partial' ? 'partly judgeable from a contract' : 'not judgeable from a contract' })),
    rows: [...audit.rows]
      .sort((a, b) => a.score - b.score || a.label.localeCompare(b.label))
      .map((r) => ({
        file: r.file,
        label: r.label,
        scoreText: formatScore(r.score),
        scoreTone: scoreTone(r.score),
        detail: `${plural(r.findingCount, 'finding')}${r.structureFindings > 0 ? `, ${r.structureFindings} structural` : ''}`,
        cells: r.cells.map((c) => cellView(c, titles.get(c.category) ?? c.category, r.label)),
      })),
    failing: audit.categories.map((c) => audit.rows.filter((r) => r.cells.find((x) => x.category === c.category)?.status === 'fail').length),
  };
}

export interface HistoryChart {
  readonly labels: readonly string[];
  readonly scores: readonly number[];
  /** Accessible summary of the chart. */
  readonly summary: string;
}

/** `11/28 14:05`: audits cluster within days, so the time of day matters; `seconds` for audits minutes apart. */
export function pointLabel(iso: string, seconds = false): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getMonth() + 1}/${d.getDate()} ${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
}

export function historyChart(history: readonly ScorePoint[]): HistoryChart {
  const scores = history.map((p) => p.score);
  const summary =
    history.length === 0
      ? 'No audits yet.'
      : `${plural(history.length, 'audit')}; score from ${formatScore(scores[0]!)} to ${formatScore(scores.at(-1)!)}, lowest ${formatScore(Math.min(...scores))}, highest ${formatScore(Math.max(...scores))}.`;
  let labels = history.map((p) => pointLabel(p.auditedAt));
  // Audits within one minute (a save, then another) would share a label: tell them apart by the second.
  if (new Set(labels).size < labels.length) labels = history.map((p) => pointLabel(p.auditedAt, true));
  return { labels, scores, summary };
}

export interface BreakingView {
  readonly heading: string;
  /** Shown instead of a list when there is no report. */
  readonly empty?: string;
  readonly tone: Tone;
  readonly summary?: string;
  readonly items: readonly { readonly tone: Tone; readonly text: string; readonly detail: string }[];
  readonly more?: string;
}

const CHANGE_TONE = { breaking: 'error', warning: 'warning', info: 'pending' } as const;

export function breakingView(state: BreakingState): BreakingView {
  const heading = 'Latest breaking-change report';
  if (state.status === 'unavailable') return { heading, empty: state.reason, tone: 'pending', items: [] };
  if (state.status === 'none') {
    return { heading, empty: 'No contract has been compared yet. Run "CogniForge: Compare API Contract with…" to check a change for breaking changes.', tone: 'pending', items: [] };
  }
  const r = state.report;
  const s = r.summary;
  return {
    heading,
    tone: s.breaking > 0 ? 'error' : s.warning > 0 ? 'warning' : 'ok',
    summary: `${r.base} → ${r.head}, ${pointLabel(r.comparedAt)}: ${plural(s.breaking, 'breaking change')}, ${plural(s.warning, 'warning')}, ${s.info} info.`,
    items: r.changes.map((c) => ({
      tone: CHANGE_TONE[c.severity],
      text: `${c.severity === 'breaking' ? 'Breaking' : c.severity === 'warning' ? 'Warning' : 'Info'}: ${c.message}`,
      detail: [c.operation, c.rule, c.clients.length > 0 ? `used by ${c.clients.join(', ')}` : ''].filter((x) => x).join(' · '),
    })),
    more: r.changeCount > r.changes.length ? `and ${r.changeCount - r.changes.length} more` : undefined,
  };
}

export interface Banner {
  readonly tone: 'error' | 'warning' | 'info';
  readonly text: string;
  readonly actions: readonly GovernanceDashboardCommand[];
}

export interface GovernanceView {
  readonly busy: boolean;
  readonly stale: boolean;
  readonly banner?: Banner;
  readonly scoreText: string;
  readonly scoreTone: Tone;
  readonly subtitle: string;
  readonly matrix?: MatrixView;
  /** Shown when there is no audit yet. */
  readonly matrixEmpty?: string;
  readonly history: HistoryChart;
  readonly breaking: BreakingView;
  readonly updatedText: string;
}

function agoText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return 'just now';
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min ago` : `${Math.round(m / 60)} h ago`;
}

export function viewOf(model: GovernanceModel, now: number): GovernanceView {
  const data = model.data;
  const connected = model.connection === 'connected';
  let banner: Banner | undefined;
  if (model.connection === 'stopped') {
    banner = { tone: 'error', text: `The CogniForge daemon is not running${model.connectionReason ? `: ${model.connectionReason}` : '.'}`, actions: ['startDaemon', 'showLog'] };
  } else if (!connected) {
    banner = { tone: 'info', text: 'Connecting to the CogniForge daemon…', actions: ['showLog'] };
  } else if (model.error) {
    banner = { tone: 'error', text: model.error, actions: ['showLog'] };
  } else if (model.hostTimedOut) {
    banner = { tone: 'error', text: 'The dashboard got no answer from the extension. Reload the window or look at the log.', actions: ['showLog'] };
  }
  const audit = data?.audit;
  return {
    busy: !data && !model.error && !model.hostTimedOut && model.connection !== 'stopped',
    stale: data !== undefined && !connected,
    banner,
    scoreText: audit ? `${formatScore(audit.score)}/100` : '—',
    scoreTone: audit ? scoreTone(audit.score) : 'pending',
    subtitle: audit
      ? `${plural(audit.rows.length, 'document')}, ${plural(audit.findingCount, 'finding')} · audited ${pointLabel(audit.auditedAt)}`
      : 'OWASP API Security Top 10 (2023) compliance of your API contracts',
    matrix: data ? matrixView(data) : undefined,
    matrixEmpty: data && !audit ? 'No API contract has been audited yet. Audit the workspace to see each document against the 10 OWASP categories.' : undefined,
    history: historyChart(data?.history ?? []),
    breaking: breakingView(data?.breaking ?? { status: 'none' }),
    updatedText: data ? `Updated ${agoText(now - data.receivedAt)}` : '',
  };
}
