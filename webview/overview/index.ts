// Must stay the first import: see zodConfig.ts.
import '../shared/zodConfig';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import { HostToOverview, OverviewSavedState, type OverviewToHost } from '../protocol/overview';
import { HostChannel } from '../shared/vscodeApi';
import { onThemeChange, readChartTheme } from '../shared/theme';
import { hostTimedOut, initialModel, reduce, toSavedState, viewOf, type OverviewModel } from './overviewModel';
import { OverviewDom } from './overviewView';

/** How long to wait for the host's first message after `ready` before showing an error, ms. */
const HOST_ANSWER_TIMEOUT_MS = 10_000;
/** The uptime and "updated … ago" tick locally between polls, ms. */
const TICK_MS = 1_000;

function main(): void {
  const root = document.getElementById('app');
  if (!root) return;
  const channel = new HostChannel<OverviewToHost, HostToOverview, OverviewSavedState>(HostToOverview, OverviewSavedState);
  let model: OverviewModel = initialModel(channel.restore());

  const dom = new OverviewDom(root, {
    onCommand: (command) => channel.post({ type: 'runCommand', command }),
    onRefresh: () => channel.post({ type: 'refresh' }),
  });
  const render = (): void => dom.render(viewOf(model, Date.now()));

  channel.listen((message) => {
    const before = model.status;
    model = reduce(model, message);
    if (model.status !== before) channel.save(toSavedState(model));
    render();
  });
  onThemeChange(() => dom.retheme((chart) => chart.applyTheme(readChartTheme())));
  setInterval(render, TICK_MS);
  setTimeout(() => {
    model = hostTimedOut(model);
    render();
  }, HOST_ANSWER_TIMEOUT_MS);

  render();
  channel.post({ type: 'ready' });
}

main();
