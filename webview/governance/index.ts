// Must stay the first import: see zodConfig.ts.
import '../shared/zodConfig';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import * as z from 'zod';
import { HostToGovernanceDashboard, type GovernanceDashboardToHost } from '../protocol/governanceDashboard';
import { onThemeChange } from '../shared/theme';
import { HostChannel } from '../shared/vscodeApi';
import { readPalette } from './governanceChart';
import { hostTimedOut, initialModel, reduce, viewOf, type GovernanceModel } from './governanceModel';
import { GovernanceDom } from './governanceView';
import { OwaspCategory } from '../../daemon/protocol/governance';

/** How long to wait for the host's first message after `ready` before showing an error, ms. */
const HOST_ANSWER_TIMEOUT_MS = 10_000;
/** "Updated … ago" ticks locally between updates, ms. */
const TICK_MS = 30_000;

function main(): void {
  const root = document.getElementById('app');
  if (!root) return;
  // Everything shown comes from the daemon on `ready`: nothing is worth keeping in the saved state.
  const channel = new HostChannel<GovernanceDashboardToHost, HostToGovernanceDashboard, null>(HostToGovernanceDashboard, z.null());
  let model: GovernanceModel = initialModel();
  const dom = new GovernanceDom(root, {
    onCommand: (command) => channel.post({ type: 'runCommand', command }),
    onRefresh: () => channel.post({ type: 'refresh' }),
    onOpen: (file, category) => {
      const c = OwaspCategory.safeParse(category);
      channel.post({ type: 'openDocument', file, ...(c.success ? { category: c.data } : {}) });
    },
  });
  const render = (withChart: boolean): void => dom.render(viewOf(model, Date.now()), withChart);

  channel.listen((message) => {
    model = reduce(model, message);
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
}

main();
