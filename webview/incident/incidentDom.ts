import type { IncidentCommand } from '../protocol/incident';
import type { IncidentView, Tone } from './incidentModel';
import { el, type Attrs } from '../shared/dom';

export interface IncidentCallbacks {
  onCommand(command: IncidentCommand): void;
  onRefresh(): void;
}

const ACTIONS: Record<IncidentCommand, { label: string; icon: string }> = {
  acknowledge: { label: 'Acknowledge', icon: 'eye' },
  resolve: { label: 'Resolve…', icon: 'pass' },
  changeStatus: { label: 'Change Status…', icon: 'arrow-right' },
  changeSeverity: { label: 'Severity…', icon: 'flame' },
  assign: { label: 'Assign…', icon: 'person' },
  addNote: { label: 'Add Note…', icon: 'note' },
  writeReview: { label: 'Write Review…', icon: 'book' },
  showLog: { label: 'Show Log', icon: 'output' },
};

/**
 * The incident panel's DOM. Every text goes in with `textContent`, never as HTML (titles, notes and
 * reviews are user input). Elements the e2e suite reads carry a `data-testid`.
 */
export class IncidentDom {
  private readonly heading = el('h1', { 'data-testid': 'incident-heading' });
  private readonly severity = el('span', { class: 'pill', 'data-testid': 'incident-severity' });
  private readonly status = el('span', { class: 'pill', 'data-testid': 'incident-status', role: 'status' });
  private readonly banner = el('div', { class: 'banner', 'data-testid': 'incident-banner', hidden: '' });
  private readonly bannerText = el('p', { class: 'banner-text' });
  private readonly bannerActions = el('div', { class: 'banner-actions' });
  private readonly actions = el('div', { class: 'banner-actions', 'data-testid': 'incident-actions' });
  private readonly tta = el('span', { class: 'value', 'data-testid': 'incident-tta' });
  private readonly ttr = el('span', { class: 'value', 'data-testid': 'incident-ttr' });
  private readonly fields = el('tbody', { 'data-testid': 'incident-fields' });
  private readonly description = el('p', { 'data-testid': 'incident-description' });
  private readonly rootCause = el('p', { 'data-testid': 'incident-root-cause' });
  private readonly resolution = el('p', { 'data-testid': 'incident-resolution' });
  private readonly timeline = el('tbody', { 'data-testid': 'incident-timeline' });
  private readonly review = el('section', { 'data-testid': 'incident-review', 'aria-labelledby': 'review-heading' });
  private readonly sloImpact = el('tbody', { 'data-testid': 'incident-slo-impact' });
  private readonly sloImpactSection = el(
    'section',
    { 'aria-labelledby': 'slo-impact-heading', hidden: '' },
    el('h2', { id: 'slo-impact-heading' }, 'Error budget consumed'),
    el(
      'table',
      { 'aria-labelledby': 'slo-impact-heading' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'SLO'), el('th', { scope: 'col' }, 'During the incident'), el('th', { scope: 'col' }, 'Budget'))),
      this.sloImpact,
    ),
  );
  private readonly body = el('div', { hidden: '' });
  private lastActions = '';

  constructor(
    root: HTMLElement,
    private readonly callbacks: IncidentCallbacks,
  ) {
    const refresh = el('vscode-button', { secondary: '', icon: 'refresh', 'data-testid': 'incident-refresh', title: 'Refresh now' }, 'Refresh');
    refresh.addEventListener('click', () => callbacks.onRefresh());
    this.banner.append(this.bannerText, this.bannerActions);
    const logButton = this.button('showLog', true);
    this.bannerActions.append(logButton);
    this.body.append(
      el('div', { class: 'top' }, this.actions),
      el('section', { class: 'cards', 'aria-label': 'Response times' }, this.card('Time to acknowledge', this.tta), this.card('Time to resolve', this.ttr)),
      el('section', { class: 'cards', 'aria-label': 'What happened' }, this.card('Description', this.description), this.card('Root cause', this.rootCause), this.card('Resolution', this.resolution)),
      el('table', {}, el('caption', {}, 'Fields'), this.fields),
      this.sloImpactSection,
      el('h2', { id: 'timeline-heading' }, 'Timeline'),
      el(
        'table',
        { 'aria-labelledby': 'timeline-heading' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'When'), el('th', { scope: 'col' }, 'Who'), el('th', { scope: 'col' }, 'What'))),
        this.timeline,
      ),
      this.review,
    );
    root.replaceChildren(
      el('header', { class: 'top' }, this.heading, this.severity, this.status, el('span', { class: 'spacer' }), refresh),
      this.banner,
      this.body,
    );
  }

  showError(message: string): void {
    this.banner.hidden = false;
    this.banner.dataset.tone = 'error';
    this.banner.setAttribute('role', 'alert');
    this.bannerText.textContent = message;
  }

  render(view: IncidentView): void {
    document.getElementById('app')?.setAttribute('aria-busy', 'false');
    this.banner.hidden = !view.reviewNeeded;
    if (view.reviewNeeded) {
      this.banner.dataset.tone = 'info';
      this.banner.setAttribute('role', 'status');
      this.bannerText.textContent = 'A post-incident review is required before this incident can be closed.';
    }
    this.body.hidden = false;
    this.heading.textContent = view.heading;
    this.severity.textContent = view.severity;
    this.setTone(this.severity, view.severityTone);
    this.status.textContent = view.status;
    this.setTone(this.status, view.statusTone);
    const key = view.actions.join(',');
    if (key !== this.lastActions) {
      this.lastActions = key;
      this.actions.replaceChildren(...view.actions.map((a, i) => this.button(a, i > 0)));
    }
    this.tta.textContent = view.timeToAcknowledge;
    this.ttr.textContent = view.timeToResolve;
    this.fields.replaceChildren(...view.fields.map(([k, v]) => el('tr', {}, el('th', { scope: 'row' }, k), el('td', {}, v))));
    this.description.textContent = view.description;
    this.rootCause.textContent = view.rootCause;
    this.resolution.textContent = view.resolution;
    this.sloImpactSection.hidden = view.sloImpact.length === 0;
    this.sloImpact.replaceChildren(
      ...view.sloImpact.map((r) => {
        const budget = el('td', { class: 'pill' }, r.budget);
        this.setTone(budget, r.tone);
        return el('tr', {}, el('th', { scope: 'row' }, r.sloId), el('td', {}, r.events), budget);
      }),
    );
    this.timeline.replaceChildren(
      ...view.timeline.map((t) => el('tr', { 'data-kind': t.kind }, el('td', { title: t.at }, t.ago), el('td', {}, t.actor), el('td', {}, t.text))),
    );
    const review = view.review;
    if (!review) {
      this.review.replaceChildren(el('h2', { id: 'review-heading' }, 'Post-incident review'), el('p', { class: 'empty' }, 'No review yet.'));
      return;
    }
    this.review.replaceChildren(
      el('h2', { id: 'review-heading' }, 'Post-incident review'),
      el('p', { class: 'empty' }, review.meta),
      ...review.sections.flatMap((s) => [el('h3', {}, s.title), el('p', {}, s.text)]),
      el('h3', {}, 'Action items'),
      review.actionItems.length === 0
        ? el('p', { class: 'empty' }, 'None.')
        : el(
            'table',
            { 'data-testid': 'incident-action-items' },
            el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Done'), el('th', { scope: 'col' }, 'Owner'), el('th', { scope: 'col' }, 'Due'), el('th', { scope: 'col' }, 'What'))),
            el('tbody', {}, ...review.actionItems.map((a) => el('tr', {}, el('td', {}, a.done ? 'yes' : 'no'), el('td', {}, a.owner), el('td', {}, a.due), el('td', {}, a.description)))),
          ),
    );
  }

  private card(title: string, value: HTMLElement): HTMLElement {
    return el('div', { class: 'card' }, el('h2', {}, title), value);
  }

  private button(command: IncidentCommand, secondary: boolean): HTMLElement {
    const { label, icon } = ACTIONS[command];
    const attrs: Attrs = { icon, 'data-command': command };
    if (secondary) attrs['secondary'] = '';
    const button = el('vscode-button', attrs, label);
    button.addEventListener('click', () => this.callbacks.onCommand(command));
    return button;
  }

  private setTone(node: HTMLElement, tone: Tone): void {
    node.dataset.tone = tone;
  }
}
