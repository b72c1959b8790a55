import type { OverviewCommand } from '../protocol/overview';
import type { OverviewView, StreamRow, Tone } from './overviewModel';
import { StreamsChart } from './streamsChart';
import { Banner } from '../shared/banner';
import { el, type Attrs } from '../shared/dom';

export interface OverviewCallbacks {
  onCommand(command: OverviewCommand): void;
  onRefresh(): void;
}

const ACTIONS: Record<OverviewCommand, { label: string; icon: string }> = {
  startDaemon: { label: 'Start Daemon', icon: 'play' },
  restartDaemon: { label: 'Restart Daemon', icon: 'debug-restart' },
  showLog: { label: 'Show Log', icon: 'output' },
};

/**
 * The Overview's DOM: built once, then only text, attributes and the chart change, so focus and
 * screen-reader position survive the 2-second refreshes. Text goes in with `textContent`, never as
 * HTML. Every element the e2e suite reads has a `data-testid`.
 */
export class OverviewDom {
  private readonly progress = el('vscode-progress-ring', { 'data-testid': 'overview-loading', 'aria-label': 'Loading' });
  private readonly connection = el('span', { class: 'pill', 'data-testid': 'overview-connection', role: 'status' });
  private readonly banner = new Banner<OverviewCommand>('overview', (command, secondary) => this.actionButton(command, secondary));
  private readonly health = el('span', { class: 'value', 'data-testid': 'overview-health' });
  private readonly problems = el('ul', { class: 'problems', 'data-testid': 'overview-problems' });
  private readonly uptime = el('span', { class: 'value', 'data-testid': 'overview-uptime' });
  private readonly logBytes = el('span', { class: 'value', 'data-testid': 'overview-log-bytes' });
  private readonly logDetail = el('span', { class: 'detail', 'data-testid': 'overview-log-events' });
  private readonly connections = el('span', { class: 'value', 'data-testid': 'overview-connections' });
  private readonly cards = el('section', { class: 'cards', 'aria-label': 'Daemon figures' });
  private readonly chartBox = el('div', { class: 'chart-box' });
  private readonly canvas = el('canvas', { 'data-testid': 'overview-streams-chart', role: 'img' });
  private readonly emptyStreams = el('p', { class: 'empty', 'data-testid': 'overview-streams-empty', hidden: '' }, 'No events stored yet.');
  private readonly tableBody = el('tbody');
  private readonly updated = el('span', { 'data-testid': 'overview-updated' });
  private readonly daemon = el('span', { class: 'detail', 'data-testid': 'overview-daemon' });
  private readonly chart: StreamsChart;
  private lastRows = '';

  constructor(
    root: HTMLElement,
    private readonly callbacks: OverviewCallbacks,
  ) {
    const refresh = el('vscode-button', { secondary: '', icon: 'refresh', 'data-testid': 'overview-refresh', title: 'Refresh now' }, 'Refresh');
    refresh.addEventListener('click', () => callbacks.onRefresh());

    this.cards.append(
      this.card('heart', 'Health', this.health, this.problems),
      this.card('clock', 'Uptime', this.uptime),
      this.card('database', 'Event log', this.logBytes, this.logDetail),
      this.card('plug', 'Connections', this.connections),
    );
    this.chartBox.append(this.canvas);
    const table = el(
      'table',
      { class: 'streams-table', 'data-testid': 'overview-streams-table' },
      el('caption', {}, 'Events per stream'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Stream'), el('th', { scope: 'col' }, 'Events'), el('th', { scope: 'col' }, 'Size'))),
      this.tableBody,
    );
    root.replaceChildren(
      el(
        'header',
        { class: 'top' },
        el('h1', {}, 'CogniForge Overview'),
        this.connection,
        this.progress,
        el('span', { class: 'spacer' }),
        refresh,
      ),
      this.banner.element,
      this.cards,
      el(
        'section',
        { class: 'streams', 'aria-labelledby': 'streams-heading' },
        el('h2', { id: 'streams-heading' }, 'Events per stream'),
        this.emptyStreams,
        this.chartBox,
        el('details', { class: 'streams-details' }, el('summary', {}, 'Show as table'), table),
      ),
      el('footer', { class: 'footer' }, this.updated, this.daemon),
    );
    this.chart = new StreamsChart(this.canvas, this.chartBox);
  }

  render(view: OverviewView): void {
    document.getElementById('app')?.setAttribute('aria-busy', String(view.busy));
    this.progress.hidden = !view.busy;

    this.connection.textContent = view.connectionText;
    this.setTone(this.connection, view.connectionTone);

    this.banner.render(view.banner);

    this.health.textContent = view.healthText;
    this.setTone(this.health, view.healthTone);
    this.problems.replaceChildren(...view.problems.map((p) => el('li', {}, p)));
    this.uptime.textContent = view.uptimeText;
    this.logBytes.textContent = view.logBytesText;
    this.logDetail.textContent = view.logDetailText;
    this.connections.textContent = view.connectionsText;
    this.cards.classList.toggle('stale', view.stale);
    this.chartBox.classList.toggle('stale', view.stale);

    this.renderStreams(view.streams);
    this.updated.textContent = view.updatedText;
    this.daemon.textContent = view.daemonText;
  }

  /** Re-read the theme colours into the chart (the CSS re-themes everything else by itself). */
  retheme(apply: (chart: StreamsChart) => void): void {
    apply(this.chart);
  }

  private renderStreams(rows: readonly StreamRow[]): void {
    const key = rows.map((r) => `${r.name}:${r.events}:${r.bytesText}`).join('|');
    if (key === this.lastRows) return;
    this.lastRows = key;
    this.emptyStreams.hidden = rows.length > 0;
    this.chartBox.hidden = rows.length === 0;
    this.canvas.setAttribute('aria-label', `Bar chart of events per stream: ${rows.map((r) => `${r.name} ${r.eventsText}`).join(', ') || 'none'}`);
    this.tableBody.replaceChildren(
      ...rows.map((r) =>
        el('tr', { 'data-stream': r.name }, el('th', { scope: 'row' }, r.name), el('td', { class: 'num' }, r.eventsText), el('td', { class: 'num' }, r.bytesText)),
      ),
    );
    this.chart.update(rows);
  }

  private card(icon: string, title: string, ...content: HTMLElement[]): HTMLElement {
    return el('article', { class: 'card' }, el('h2', {}, el('vscode-icon', { name: icon, 'aria-hidden': 'true' }), ` ${title}`), ...content);
  }

  private actionButton(command: OverviewCommand, secondary: boolean): HTMLElement {
    const { label, icon } = ACTIONS[command];
    const attrs: Attrs = { icon, 'data-testid': `overview-action-${command}` };
    if (secondary) attrs.secondary = '';
    const button = el('vscode-button', attrs, label);
    button.addEventListener('click', () => this.callbacks.onCommand(command));
    return button;
  }

  private setTone(node: HTMLElement, tone: Tone): void {
    node.dataset.tone = tone;
  }
}
