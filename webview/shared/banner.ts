import { el } from './dom';

/** What a dashboard's banner says: a tone, one line of text and the actions offered (first = primary). */
export interface BannerState<C extends string> {
  readonly tone: string;
  readonly text: string;
  readonly actions: readonly C[];
}

/**
 * The banner every dashboard shows above its content (daemon stopped, connecting, errors): hidden
 * without a state, `role=alert` for errors and `status` otherwise, text via `textContent`, and its
 * action buttons rebuilt only when the list of actions changes (so focus is not lost on every update).
 */
export class Banner<C extends string> {
  readonly element: HTMLElement;
  private readonly text: HTMLElement;
  private readonly actions = el('div', { class: 'banner-actions' });
  private lastActions = '';

  /** `testId` prefixes the e2e hooks: `<testId>-banner`, `<testId>-banner-text`. */
  constructor(
    testId: string,
    private readonly button: (command: C, secondary: boolean) => HTMLElement,
  ) {
    this.element = el('div', { class: 'banner', 'data-testid': `${testId}-banner`, hidden: '' });
    this.text = el('p', { class: 'banner-text', 'data-testid': `${testId}-banner-text` });
    this.element.append(this.text, this.actions);
  }

  render(state: BannerState<C> | null | undefined): void {
    if (!state) {
      this.element.hidden = true;
      return;
    }
    this.element.hidden = false;
    this.element.dataset.tone = state.tone;
    this.element.setAttribute('role', state.tone === 'error' ? 'alert' : 'status');
    this.text.textContent = state.text;
    const key = state.actions.join(',');
    if (key !== this.lastActions) {
      this.lastActions = key;
      this.actions.replaceChildren(...state.actions.map((a, i) => this.button(a, i > 0)));
    }
  }
}
