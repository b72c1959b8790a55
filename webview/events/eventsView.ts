import { EVENTS_RANGES, type EventsDashboardCommand, type EventsRange } from '../protocol/eventsDashboard';
import { Banner } from '../shared/banner';
import { el, type Attrs } from '../shared/dom';
import { ActivityBarChart, type EventsPalette } from './eventsChart';
import type { ActivityChart, EventRow, EventsDashboardView } from './eventsModel';

export interface EventsDashboardCallbacks {
  onCommand(command: EventsDashboardCommand): void;
  onRefresh(): void;
  onRange(range: EventsRange): void;
  onInspect(seq: number): void;
}

const ACTIONS: Record<EventsDashboardCommand, { label: string; icon: string }> = {
  startDaemon: { label: 'Start Daemon', icon: 'play' },
  showLog: { label: 'Show Log', icon: 'output' },
  replayEvents: { label: 'Replay Events…', icon: 'history' },
  showView: { label: 'Show Events View', icon: 'list-tree' },
};

/**
 * The Events dashboard's DOM: built once, then only text, attributes, rows and chart data change.
 * Text goes in with `textContent`, never as HTML. Every element the e2e suite reads has a `data-testid`.
 */
export class EventsDashboardDom {
  private readonly progress = el('vscode-progress-ring', { 'data-testid': 'events-loading', 'aria-label': 'Loading' });
  private readonly banner = new Banner<EventsDashboardCommand>('events', (command, secondary) => this.actionButton(command, secondary));
  private readonly content = el('div', { class: 'events-content' });
  private readonly cards = el('section', { class: 'cards', 'aria-label': 'Event figures', 'data-testid': 'events-cards' });
  private readonly canvas = el('canvas', { role: 'img', 'data-testid': 'events-activity-chart' });
  private readonly chartEmpty = el('p', { class: 'empty', 'data-testid': 'events-activity-empty', hidden: '' });
  private readonly recent = el('ul', { class: 'event-rows', 'data-testid': 'events-recent' });
  private readonly noRecent = el('p', { class: 'empty', 'data-testid': 'events-no-recent' }, 'No events in the log yet.');
  private readonly inspectorTitle = el('h2', { id: 'events-inspector-h', 'data-testid': 'events-inspector-title' });
  private readonly inspectorError = el('p', { class: 'inspector-error', role: 'alert', 'data-testid': 'events-inspector-error', hidden: '' });
  private readonly fields = el('dl', { class: 'event-fields', 'data-testid': 'events-inspector-fields' });
  private readonly json = el('pre', { class: 'event-json', tabindex: '0', 'aria-label': 'The event as JSON', 'data-testid': 'events-inspector-json' });
  private readonly correlatedNote = el('p', { class: 'detail', 'data-testid': 'events-correlated-note' });
  private readonly correlated = el('ul', { class: 'event-rows', 'data-testid': 'events-correlated' });
  private readonly inspectorBody = el('div', { class: 'inspector-body' });
  private readonly inspector = el('section', { class: 'inspector', 'aria-labelledby': 'events-inspector-h', 'data-testid': 'events-inspector' });
  private readonly updated = el('span', { 'data-testid': 'events-updated' });
  private readonly rangeButtons = new Map<EventsRange, HTMLElement>();
  private readonly chart: ActivityBarChart;

  constructor(
    root: HTMLElement,
    private readonly callbacks: EventsDashboardCallbacks,
  ) {
    const refresh = el('vscode-button', { secondary: '', icon: 'refresh', 'data-testid': 'events-refresh', title: 'Refresh now' }, 'Refresh');
    refresh.addEventListener('click', () => callbacks.onRefresh());
    const replay = el('vscode-button', { secondary: '', icon: 'history', 'data-testid': 'events-replay', title: 'Re-deliver a range of events to a subscription' }, 'Replay Events…');
    replay.addEventListener('click', () => callbacks.onCommand('replayEvents'));
    const ranges = el('div', { class: 'events-ranges', role: 'group', 'aria-label': 'Time range of the chart' });
    for (const range of Object.keys(EVENTS_RANGES) as EventsRange[]) {
      const button = el('vscode-button', { secondary: '', 'data-testid': `events-range-${range}`, 'aria-pressed': 'false' }, range);
      button.addEventListener('click', () => callbacks.onRange(range));
      this.rangeButtons.set(range, button);
      ranges.append(button);
    }
    this.inspectorBody.append(
      this.fields,
      el('h3', {}, 'Correlated events'),
      this.correlatedNote,
      this.correlated,
      el('h3', {}, 'JSON'),
      this.json,
    );
    this.inspector.append(this.inspectorTitle, this.inspectorError, this.inspectorBody);
    this.content.append(
      this.cards,
      el(
        'section',
        { class: 'events-chart', 'aria-labelledby': 'events-activity-h' },
        el('div', { class: 'events-chart-head' }, el('h2', { id: 'events-activity-h' }, 'Events per stream'), ranges),
        el('div', { class: 'chart-box events-chart-box' }, this.canvas),
        this.chartEmpty,
      ),
      el(
        'div',
        { class: 'events-grid' },
        el('section', { class: 'recent', 'aria-labelledby': 'events-recent-h' }, el('h2', { id: 'events-recent-h' }, 'Newest events'), this.noRecent, this.recent),
        this.inspector,
      ),
    );
    root.replaceChildren(
      el('header', { class: 'top' }, el('h1', {}, 'Events'), this.progress, el('span', { class: 'spacer' }), replay, refresh),
      this.banner.element,
      this.content,
      el('footer', { class: 'footer' }, this.updated),
    );
    this.chart = new ActivityBarChart(this.canvas);
  }

  render(view: EventsDashboardView, range: EventsRange, chart: ActivityChart | undefined): void {
    document.getElementById('app')?.setAttribute('aria-busy', String(view.busy));
    this.progress.hidden = !view.busy;
    this.banner.render(view.banner);
    this.content.hidden = !view.hasData;
    this.content.classList.toggle('stale', view.stale);
    this.cards.replaceChildren(
      ...view.cards.map((c) =>
        el('article', { class: 'card', 'data-testid': `events-card-${c.key}` }, el('h2', {}, c.title), el('span', { class: 'value', 'data-tone': c.tone }, c.value), el('span', { class: 'detail' }, c.detail)),
      ),
    );
    for (const [r, button] of this.rangeButtons) {
      button.toggleAttribute('secondary', r !== range);
      button.setAttribute('aria-pressed', String(r === range));
    }
    this.noRecent.hidden = view.recent.length > 0;
    this.recent.replaceChildren(...view.recent.map((r) => this.row(r, 'recent')));

    const ins = view.inspector;
    this.inspectorTitle.textContent = ins.title;
    this.inspector.classList.toggle('stale', ins.pending);
    this.inspectorError.hidden = ins.error === undefined;
    this.inspectorError.textContent = ins.error ?? '';
    this.inspectorBody.hidden = ins.json === '';
    this.fields.replaceChildren(...ins.fields.flatMap((f) => [el('dt', {}, f.label), el('dd', {}, f.value)]));
    this.json.textContent = ins.json;
    this.correlatedNote.textContent = ins.correlatedNote;
    this.correlated.replaceChildren(...ins.correlated.map((r) => this.row(r, 'correlated')));

    this.updated.textContent = view.updatedText;
    if (chart) {
      this.canvas.setAttribute('aria-label', chart.summary);
      this.chartEmpty.hidden = chart.series.length > 0;
      this.chartEmpty.textContent = chart.summary;
      this.chart.update(chart);
    }
  }

  retheme(palette: EventsPalette): void {
    this.chart.applyTheme(palette);
  }

  private row(r: EventRow, list: string): HTMLElement {
    const attrs: Attrs = { class: 'event-row', type: 'button', 'data-testid': `events-${list}-row`, 'data-seq': String(r.seq), title: `Inspect ${r.type} #${r.seq}` };
    if (r.selected) attrs['aria-current'] = 'true';
    const button = el('button', attrs, el('span', { class: 'seq' }, `#${r.seq}`), el('span', { class: 'type' }, r.type), el('span', { class: 'stream' }, r.stream), el('span', { class: 'when' }, r.when));
    button.addEventListener('click', () => this.callbacks.onInspect(r.seq));
    return el('li', {}, button);
  }

  private actionButton(command: EventsDashboardCommand, secondary: boolean): HTMLElement {
    const { label, icon } = ACTIONS[command];
    const attrs: Attrs = { icon, 'data-testid': `events-action-${command}` };
    if (secondary) attrs.secondary = '';
    const button = el('vscode-button', attrs, label);
    button.addEventListener('click', () => this.callbacks.onCommand(command));
    return button;
  }
}
