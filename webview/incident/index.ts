// Must stay the first import: see zodConfig.ts.
import '../shared/zodConfig';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { HostToIncident, IncidentSavedState, type IncidentToHost } from '../protocol/incident';
import { HostChannel } from '../shared/vscodeApi';
import { IncidentDom } from './incidentDom';
import { incidentView } from './incidentModel';

/** The "… ago" column ticks locally between updates, ms. */
const TICK_MS = 5_000;

function main(): void {
  const root = document.getElementById('app');
  if (!root) return;
  const channel = new HostChannel<IncidentToHost, HostToIncident, IncidentSavedState>(HostToIncident, IncidentSavedState);
  let saved = channel.restore();
  const dom = new IncidentDom(root, {
    onCommand: (command) => channel.post({ type: 'runCommand', command }),
    onRefresh: () => channel.post({ type: 'refresh' }),
  });
  const render = (): void => {
    if (saved?.incident) dom.render(incidentView(saved.incident, saved.review, Date.now(), saved.sloImpact));
  };

  channel.listen((message) => {
    if (message.type === 'error') {
      dom.showError(message.message);
      return;
    }
    saved = { version: 1, incidentId: message.incident.id, incident: message.incident, review: message.review, sloImpact: message.sloImpact };
    channel.save(saved);
    render();
  });
  setInterval(render, TICK_MS);
  render();
  channel.post({ type: 'ready' });
  // A panel restored after a reload knows its incident; the host does not.
  if (saved) channel.post({ type: 'select', id: saved.incidentId });
}

main();
