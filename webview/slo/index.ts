// Must stay the first import: see zodConfig.ts.
import '../shared/zodConfig';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import { HostToSloDashboard, SloDashboardSavedState, type SloDashboardToHost } from '../protocol/sloDashboard';
import { onThemeChange } from '../shared/theme';
import { HostChannel } from '../shared/vscodeApi';
import { readPalette } from './sloCharts';
import { chartDataOf, hostTimedOut, initialModel, reduce, toSavedState, viewOf, withRange, type ChartData, type SloDashboardModel } from './sloDashboardModel';
import { SloDashboardDom } from './sloDashboardView';

/** How long to wait for the host's first message after `ready` before showing an error, ms. */
const HOST_ANSWER_TIMEOUT_MS = 10_000;
/** "Updated … ago" and the exhaustion countdown tick locally between updates, ms. */
const TICK_MS = 5_000;

function main(): void {
  const root = document.getElementById('app');
  if (!root) return;
  const channel = new HostChannel<SloDashboardToHost, HostToSloDashboard, SloDashboardSavedState>(HostToSloDashboard, SloDashboardSavedState);
  const saved = channel.restore();
  let model: SloDashboardModel = initialModel(saved);
  let charts: ChartData | undefined;

  const save = (): void => {
    const state = toSavedState(model);
    if (state) channel.save(state);
  };
  const dom = new SloDashboardDom(root, {
    onCommand: (command) => channel.post({ type: 'runCommand', command }),
    onRefresh: () => channel.post({ type: 'refresh' }),
    onRange: (range) => {
      model = withRange(model, range);
      save();
      render(false);
      channel.post({ type: 'setRange', range });
    },
  });
  function render(withCharts: boolean): void {
    dom.render(viewOf(model, Date.now()), model.range, withCharts ? charts : undefined);
  }

  channel.listen((message) => {
    model = reduce(model, message);
    if (message.type === 'data') {
      charts = chartDataOf(message);
      save();
    }
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
  if (saved) channel.post({ type: 'restore', sloId: saved.sloId, range: saved.range });
}

main();
