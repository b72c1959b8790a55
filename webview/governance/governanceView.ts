import type { GovernanceDashboardCommand } from '../protocol/governanceDashboard';
import { Banner } from '../shared/banner';
import { el, type Attrs } from '../shared/dom';
import { ScoreChart, type ScorePalette } from './governanceChart';
import type { GovernanceView, MatrixView } from './governanceModel';

export interface GovernanceCallbacks {
  onCommand(command: GovernanceDashboardCommand): void;
  onRefresh(): void;
  onOpen(file: string, category?: string): void;
}

const ACTIONS: Record<GovernanceDashboardCommand, { label: string; icon: string }> = {
  auditWorkspace: { label: 'Audit Workspace', icon: 'shield' },
  compareContract: { label: 'Compare Contract…', icon: 'git-compare' },
  startDaemon: { label: 'Start Daemon', icon: 'play' },
  showLog: { label: 'Show Log', icon: 'output' },
};

/**
 * The governance dashboard's DOM: built once; the matrix and lists are rebuilt from the view on each
 * render. Text goes in with `textContent`, never as HTML. Elements the e2e suite reads have a `data-testid`.
 */
export class GovernanceDom {
  private readonly score = el('span', { class: 'pill', 'data-testid': 'gov-score', role: 'status' });
  private readonly subtitle = el('p', { class: 'detail gov-subtitle', 'data-testid': 'gov-subtitle' });
  private readonly progress = el('vscode-progress-ring', { 'data-testid': 'gov-loading', 'aria-label': 'Loading' });
  private readonly banner = new Banner<GovernanceDashboardCommand>('gov', (command, secondary) => this.actionButton(command, secondary));
  private readonly content = el('div', { class: 'gov-content' });
  private readonly matrixBox = el('div', { class: 'gov-matrix-box', 'data-testid': 'gov-matrix-box' });
  private readonly canvas = el('canvas', { role: 'img', 'data-testid': 'gov-score-chart' });
  private readonly noHistory = el('p', { class: 'empty', 'data-testid': 'gov-no-history' }, 'No audits yet: the score of each audit shows here.');
  private readonly breakingHeading = el('h2', { id: 'gov-breaking-h' });
  private readonly breakingSummary = el('p', { class: 'gov-breaking-summary', 'data-testid': 'gov-breaking-summary' });
  private readonly breakingEmpty = el('p', { class: 'empty', 'data-testid': 'gov-breaking-empty' });
  private readonly breakingList = el('ul', { class: 'gov-changes', 'data-testid': 'gov-breaking-list' });
  private readonly breakingMore = el('p', { class: 'detail' });
  private readonly updated = el('span', { 'data-testid': 'gov-updated' });
  private readonly chart: ScoreChart;
  private lastMatrix = '';

  constructor(
    root: HTMLElement,
    private readonly callbacks: GovernanceCallbacks,
  ) {
    const refresh = el('vscode-button', { secondary: '', icon: 'refresh', 'data-testid': 'gov-refresh', title: 'Refresh now' }, 'Refresh');
    refresh.addEventListener('click', () => callbacks.onRefresh());
    const audit = this.actionButton('auditWorkspace', false);
    this.content.append(
      el('section', { class: 'gov-matrix-section', 'aria-labelledby': 'gov-matrix-h' }, el('h2', { id: 'gov-matrix-h' }, 'OWASP API Top 10 compliance by document'), this.matrixBox),
      el(
        'div',
        { class: 'gov-grid' },
        el('section', { class: 'gov-chart', 'aria-labelledby': 'gov-chart-h' }, el('h2', { id: 'gov-chart-h' }, 'Score over time'), this.noHistory, el('div', { class: 'chart-box gov-chart-box' }, this.canvas)),
        el('section', { class: 'gov-breaking', 'aria-labelledby': 'gov-breaking-h', 'data-testid': 'gov-breaking' }, this.breakingHeading, this.breakingSummary, this.breakingEmpty, this.breakingList, this.breakingMore),
      ),
    );
    root.replaceChildren(
      el('header', { class: 'top' }, el('div', { class: 'gov-heading' }, el('h1', {}, 'API Governance'), this.subtitle), this.score, this.progress, el('span', { class: 'spacer' }), audit, refresh),
      this.banner.element,
      this.content,
      el('footer', { class: 'footer' }, this.updated),
    );
    this.chart = new ScoreChart(this.canvas);
  }

  render(view: GovernanceView, withChart: boolean): void {
    document.getElementById('app')?.setAttribute('aria-busy', String(view.busy));
    this.progress.hidden = !view.busy;
    this.score.textContent = `OWASP score ${view.scoreText}`;
    this.score.dataset.tone = view.scoreTone;
    this.subtitle.textContent = view.subtitle;
    this.banner.render(view.banner);
    this.content.classList.toggle('stale', view.stale);
    this.renderMatrix(view);
    const b = view.breaking;
    this.breakingHeading.textContent = b.heading;
    this.breakingSummary.hidden = b.summary === undefined;
    this.breakingSummary.textContent = b.summary ?? '';
    this.breakingSummary.dataset.tone = b.tone;
    this.breakingEmpty.hidden = b.empty === undefined;
    this.breakingEmpty.textContent = b.empty ?? '';
    this.breakingList.replaceChildren(
      ...b.items.map((i) => el('li', { 'data-tone': i.tone }, el('span', { class: 'gov-change-text' }, i.text), el('span', { class: 'detail' }, i.detail))),
    );
    this.breakingMore.hidden = b.more === undefined;
    this.breakingMore.textContent = b.more ?? '';
    this.noHistory.hidden = view.history.scores.length > 0;
    this.canvas.setAttribute('aria-label', view.history.summary);
    if (withChart) this.chart.update(view.history.labels, view.history.scores);
    this.updated.textContent = view.updatedText;
  }

  retheme(palette: ScorePalette): void {
    this.chart.applyTheme(palette);
  }

  private renderMatrix(view: GovernanceView): void {
    const key = JSON.stringify([view.matrix, view.matrixEmpty]);
    if (key === this.lastMatrix) return;
    this.lastMatrix = key;
    if (!view.matrix) {
      this.matrixBox.replaceChildren(el('p', { class: 'empty', 'data-testid': 'gov-matrix-empty' }, view.matrixEmpty ?? ''));
      return;
    }
    this.matrixBox.replaceChildren(this.table(view.matrix));
  }

  private table(m: MatrixView): HTMLElement {
    const head = el(
      'tr',
      {},
      el('th', { scope: 'col' }, 'Document'),
      el('th', { scope: 'col', class: 'num' }, 'Score'),
      ...m.headers.map((h, i) =>
        el('th', { scope: 'col', class: 'gov-cat', title: `${h.category} ${h.title} (${h.note}); failing in ${m.failing[i]} document(s)` }, h.category),
      ),
    );
    const rows = m.rows.map((r) => {
      const open = el('a', { href: '#', class: 'gov-doc', 'data-testid': 'gov-doc', title: `Open ${r.file}` }, r.label);
      open.addEventListener('click', (e) => {
        e.preventDefault();
        this.callbacks.onOpen(r.file);
      });
      return el(
        'tr',
        { 'data-testid': 'gov-row' },
        el('th', { scope: 'row' }, open, el('span', { class: 'detail gov-doc-detail' }, r.detail)),
        el('td', { class: 'num' }, el('span', { class: 'gov-score', 'data-tone': r.scoreTone }, r.scoreText)),
        ...r.cells.map((c) => {
          const cell = el('button', { class: 'gov-cell', 'data-status': c.status, 'data-tone': c.tone, 'data-testid': `gov-cell-${c.category}`, title: c.label, 'aria-label': c.label }, c.text);
          cell.addEventListener('click', () => this.callbacks.onOpen(r.file, c.category));
          return el('td', {}, cell);
        }),
      );
    });
    return el(
      'table',
      { class: 'gov-matrix', 'data-testid': 'gov-matrix' },
      el('caption', {}, 'Pass: no finding · Partly: only info or hint findings · Fail: an error or warning. Click a document or cell to open it.'),
      el('thead', {}, head),
      el('tbody', {}, ...rows),
    );
  }

  private actionButton(command: GovernanceDashboardCommand, secondary: boolean): HTMLElement {
    const { label, icon } = ACTIONS[command];
    const attrs: Attrs = { icon, 'data-testid': `gov-action-${command}` };
    if (secondary) attrs.secondary = '';
    const button = el('vscode-button', attrs, label);
    button.addEventListener('click', () => this.callbacks.onCommand(command));
    return button;
  }
}


