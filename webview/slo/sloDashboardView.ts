import type { SloDashboardCommand, SloRange } from '../protocol/sloDashboard';
import { SLO_RANGES } from '../protocol/sloDashboard';
import { BurnDownChart, BurnRateChart, EventsChart, LatencyChart, type SloPalette } from './sloCharts';
import type { ChartData, SloDashboardView, Tone } from './sloDashboardModel';
import { Banner } from '../shared/banner';
import { el, type Attrs } from '../shared/dom';

export interface SloDashboardCallbacks {
  onCommand(command: SloDashboardCommand): void;
  onRefresh(): void;
  onRange(range: SloRange): void;
}

const ACTIONS: Record<SloDashboardCommand, { label: string; icon: string }> = {
  startDaemon: { label: 'Start Daemon', icon: 'play' },
  showLog: { label: 'Show Log', icon: 'output' },
  pickSlo: { label: 'Choose an SLO', icon: 'list-selection' },
};

/**
 * The SLO dashboard's DOM: built once, then only text, attributes and chart data change. Text goes
 * in with `textContent`, never as HTML. Every element the e2e suite reads has a `data-testid`.
 */
export class SloDashboardDom {
  private readonly title = el('h1', { 'data-testid': 'slo-title' });
  private readonly subtitle = el('p', { class: 'detail slo-subtitle', 'data-testid': 'slo-subtitle' });
  private readonly status = el('span', { class: 'pill', 'data-testid': 'slo-status', role: 'status' });
  private readonly progress = el('vscode-progress-ring', { 'data-testid': 'slo-loading', 'aria-label': 'Loading' });
  private readonly banner = new Banner<SloDashboardCommand>('slo', (command, secondary) => this.actionButton(command, secondary));
  private readonly cards = el('section', { class: 'cards', 'aria-label': 'SLO figures', 'data-testid': 'slo-cards' });
  private readonly content = el('div', { class: 'slo-content' });
  private readonly alerts = el('ul', { class: 'slo-alerts', 'data-testid': 'slo-alerts' });
  private readonly noAlerts = el('p', { class: 'empty', 'data-testid': 'slo-no-alerts' }, 'No active alerts.');
  private readonly rangeButtons = new Map<SloRange, HTMLElement>();
  private readonly canvases = {
    burnDown: el('canvas', { role: 'img', 'data-testid': 'slo-burndown-chart' }),
    burn: el('canvas', { role: 'img', 'data-testid': 'slo-burnrate-chart' }),
    events: el('canvas', { role: 'img', 'data-testid': 'slo-events-chart' }),
    latency: el('canvas', { role: 'img', 'data-testid': 'slo-latency-chart' }),
  };
  private readonly updated = el('span', { 'data-testid': 'slo-updated' });
  private readonly charts: { burnDown: BurnDownChart; burn: BurnRateChart; events: EventsChart; latency: LatencyChart };

  constructor(
    root: HTMLElement,
    private readonly callbacks: SloDashboardCallbacks,
  ) {
    const refresh = el('vscode-button', { secondary: '', icon: 'refresh', 'data-testid': 'slo-refresh', title: 'Refresh now' }, 'Refresh');
    refresh.addEventListener('click', () => callbacks.onRefresh());
    const other = el('vscode-button', { secondary: '', icon: 'list-selection', 'data-testid': 'slo-pick', title: 'Show another SLO' }, 'Other SLO…');
    other.addEventListener('click', () => callbacks.onCommand('pickSlo'));
    const ranges = el('div', { class: 'slo-ranges', role: 'group', 'aria-label': 'Time range of the events chart' });
    for (const range of Object.keys(SLO_RANGES) as SloRange[]) {
      const button = el('vscode-button', { secondary: '', 'data-testid': `slo-range-${range}`, 'aria-pressed': 'false' }, range);
      button.addEventListener('click', () => callbacks.onRange(range));
      this.rangeButtons.set(range, button);
      ranges.append(button);
    }
    const chartSection = (id: string, heading: string, canvas: HTMLCanvasElement, ...extra: HTMLElement[]): HTMLElement =>
      el('section', { class: 'slo-chart', 'aria-labelledby': id }, el('div', { class: 'slo-chart-head' }, el('h2', { id }, heading), ...extra), el('div', { class: 'chart-box slo-chart-box' }, canvas));
    this.content.append(
      this.cards,
      el('div', { class: 'slo-grid' }, chartSection('slo-burndown-h', 'Error budget remaining over the window', this.canvases.burnDown), chartSection('slo-burn-h', 'Burn rate per window vs. alert thresholds', this.canvases.burn)),
      chartSection('slo-events-h', 'Good and bad events', this.canvases.events, ranges),
      chartSection('slo-latency-h', 'Latency over time (p50, p95, p99)', this.canvases.latency),
      el('section', { class: 'slo-alerts-section', 'aria-labelledby': 'slo-alerts-h' }, el('h2', { id: 'slo-alerts-h' }, 'Active alerts'), this.noAlerts, this.alerts),
    );
    root.replaceChildren(
      el('header', { class: 'top' }, el('div', { class: 'slo-heading' }, this.title, this.subtitle), this.status, this.progress, el('span', { class: 'spacer' }), other, refresh),
      this.banner.element,
      this.content,
      el('footer', { class: 'footer' }, this.updated),
    );
    this.charts = { burnDown: new BurnDownChart(this.canvases.burnDown), burn: new BurnRateChart(this.canvases.burn), events: new EventsChart(this.canvases.events), latency: new LatencyChart(this.canvases.latency) };
  }

  render(view: SloDashboardView, range: SloRange, charts: ChartData | undefined): void {
    document.getElementById('app')?.setAttribute('aria-busy', String(view.busy));
    this.progress.hidden = !view.busy;
    this.title.textContent = view.title;
    this.subtitle.textContent = view.subtitle;
    this.status.textContent = view.statusText;
    this.setTone(this.status, view.statusTone);
    this.banner.render(view.banner);
    this.content.hidden = !view.hasData;
    this.content.classList.toggle('stale', view.stale);
    this.cards.replaceChildren(
      ...view.cards.map((c) =>
        el('article', { class: 'card', 'data-testid': `slo-card-${c.key}` }, el('h2', {}, c.title), el('span', { class: 'value', 'data-tone': c.tone }, c.value), el('span', { class: 'detail' }, c.detail)),
      ),
    );
    this.noAlerts.hidden = view.alerts.length > 0;
    this.alerts.replaceChildren(...view.alerts.map((a) => el('li', { 'data-severity': a.severity, 'data-tone': a.severity === 'page' ? 'error' : 'warning' }, a.text)));
    for (const [r, button] of this.rangeButtons) {
      button.toggleAttribute('secondary', r !== range);
      button.setAttribute('aria-pressed', String(r === range));
    }
    this.updated.textContent = view.updatedText;
    if (charts) {
      this.canvases.burnDown.setAttribute('aria-label', charts.summaries.burnDown);
      this.canvases.burn.setAttribute('aria-label', charts.summaries.burn);
      this.canvases.events.setAttribute('aria-label', charts.summaries.events);
      this.canvases.latency.setAttribute('aria-label', charts.summaries.latency);
      this.charts.burnDown.update(charts.burnDown.labels, charts.burnDown.percent);
      this.charts.burn.update(charts.burn.windows, charts.burn.rates, charts.burn.page, charts.burn.ticket);
      this.charts.events.update(charts.events.labels, charts.events.good, charts.events.bad);
      const l = charts.latency;
      this.charts.latency.update(l.labels, l.p50, l.p95, l.p99, l.thresholdMs);
    }
  }

  retheme(palette: SloPalette): void {
    this.charts.burnDown.applyTheme(palette);
    this.charts.burn.applyTheme(palette);
    this.charts.events.applyTheme(palette);
    this.charts.latency.applyTheme(palette);
  }

  private actionButton(command: SloDashboardCommand, secondary: boolean): HTMLElement {
    const { label, icon } = ACTIONS[command];
    const attrs: Attrs = { icon, 'data-testid': `slo-action-${command}` };
    if (secondary) attrs.secondary = '';
    const button = el('vscode-button', attrs, label);
    button.addEventListener('click', () => this.callbacks.onCommand(command));
    return button;
  }

  private setTone(node: HTMLElement, tone: Tone): void {
    node.dataset.tone = tone;
  }
}
