// Must stay the first import: see zodConfig.ts.
import '../shared/zodConfig';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import { EventsDashboardSavedState, HostToEventsDashboard, type EventsDashboardToHost } from '../protocol/eventsDashboard';
import { onThemeChange } from '../shared/theme';
import { HostChannel } from '../shared/vscodeApi';
import { readPalette } from './eventsChart';
import { activityChartOf, hostTimedOut, initialModel, reduce, toSavedState, viewOf, withInspect, withRange, type ActivityChart, type EventsDashboardModel } from './eventsModel';
import { EventsDashboardDom } from './eventsView';

/** How long to wait for the host's first message after `ready` before showing an error, ms. */
const HOST_ANSWER_TIMEOUT_MS = 10_000;
/** "… ago" texts tick locally between updates, ms. */
const TICK_MS = 5_000;

function main(): void {
  const root = document.getElementById('app');
  if (!root) return;
  const channel = new HostChannel<EventsDashboardToHost, HostToEventsDashboard, EventsDashboardSavedState>(HostToEventsDashboard, EventsDashboardSavedState);
  const saved = channel.restore();
  let model: EventsDashboardModel = initialModel(saved);
  let chart: ActivityChart | undefined;

  const save = (): void => channel.save(toSavedState(model));
  const dom = new EventsDashboardDom(root, {
    onCommand: (command) => channel.post({ type: 'runCommand', command }),
    onRefresh: () => channel.post({ type: 'refresh' }),
    onRange: (range) => {
      model = withRange(model, range);
      save();
      render(false);
      channel.post({ type: 'setRange', range });
    },
    onInspect: (seq) => {
      model = withInspect(model, seq);
      save();
      render(false);
      channel.post({ type: 'inspect', seq });
    },
  });
  function render(withChart: boolean): void {
    dom.render(viewOf(model, Date.now()), model.range, withChart ? chart : undefined);
  }

  channel.listen((message) => {
    model = reduce(model, message);
    if (message.type === 'data') chart = activityChartOf(message);
    if (message.type === 'data' || message.type === 'inspect') save();
    render(message.type === 'data');
  });
  onThemeChange(() => dom.retheme(readPalette()));
  setInterval(() => render(false), TICK_MS);
  setTimeout(() => {
    model = hostTimedOut(model);
    render(false);
  }, HOST_ANSWER_TIMEOUT_MS);

  render(false);
  channel.post({ type: 'ready' });
  if (saved) channel.post({ type: 'restore', range: saved.range, inspectSeq: saved.inspectSeq });
}

main();
