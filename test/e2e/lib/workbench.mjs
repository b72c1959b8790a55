// Helpers that drive the real VS Code workbench (code-server) through Playwright. Selectors follow
// the VS Code 1.100 DOM: the quick input widget, the activity bar's tab list, status bar items, and
// webviews as `iframe.webview` (host) → `iframe#active-frame` (the extension's document).
import { waitFor } from './processes.mjs';

const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_BOX = `${QUICK_INPUT} .quick-input-box input`;
const QUICK_INPUT_ROWS = `${QUICK_INPUT} .quick-input-list .monaco-list-row`;
const STATUS_ITEMS = '#workbench\\.parts\\.statusbar .statusbar-item';

/** Theme name → the class VS Code puts on `.monaco-workbench` and on a webview's `<body>`. */
export const THEMES = {
  'Default Light Modern': { label: 'Light Modern', workbench: 'vs', webview: 'vscode-light' },
  'Default Dark Modern': { label: 'Dark Modern', workbench: 'vs-dark', webview: 'vscode-dark' },
  'Default High Contrast': { label: 'Dark High Contrast', workbench: 'hc-black', webview: 'vscode-high-contrast' },
};

/** @param {import('playwright-core').Page} page */
export function workbenchHelpers(page) {
  async function closeQuickInput() {
    if (await page.locator(QUICK_INPUT).isVisible()) {
      await page.keyboard.press('Escape');
      await page.locator(QUICK_INPUT).waitFor({ state: 'hidden' });
    }
  }

  /** Opens the Command Palette (F1) and returns its input box. */
  async function openCommandPalette() {
    await closeQuickInput();
    // Keyboard shortcuts go to the focused part; the workbench must have focus, not the URL bar.
    await page.locator('.monaco-workbench').focus();
    await page.keyboard.press('F1');
    const input = page.locator(QUICK_INPUT_BOX);
    await input.waitFor({ state: 'visible' });
    return input;
  }

  /**
   * Runs a command by its full palette title, e.g. `CogniForge: Open Overview Dashboard`. Picks the
   * row whose label is exactly the title, so `Start Daemon` never runs `Restart Daemon`.
   * @param {string} title
   */
  async function runCommand(title) {
    // A part that takes focus late (a terminal opening, a webview loading) closes the palette; retry.
    for (let attempt = 1; ; attempt++) {
      try {
        const input = await openCommandPalette();
        await input.fill(`>${title}`, { timeout: 3_000 });
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
    await pickQuickInputItem(title, 'command');
  }

  /**
   * In an open quick pick, moves the focus to the row labelled exactly `label` and accepts it. The
   * list re-renders while it filters, so rows are not clicked: the keyboard moves the focus.
   */
  async function pickQuickInputItem(label, what = 'item') {
    const wanted = exactText(label);
    const rowLabel = page.locator(`${QUICK_INPUT_ROWS} .label-name`, { hasText: wanted }).first();
    try {
      await rowLabel.waitFor({ state: 'visible', timeout: 10_000 });
    } catch {
      const offered = await page.locator(`${QUICK_INPUT_ROWS} .label-name`).allTextContents();
      await closeQuickInput();
      throw new Error(`${what} "${label}" is not in the quick pick (it offered: ${offered.slice(0, 8).join(' | ') || 'nothing'})`);
    }
    // `.first()`: a row reused from a pick with `detail` keeps a hidden second `.label-name`.
    const focusedLabel = page.locator(`${QUICK_INPUT_ROWS}.focused .label-name`).first();
    for (let step = 0; ; step++) {
      const text = (await focusedLabel.textContent({ timeout: 5_000 }).catch(() => null)) ?? '';
      if (wanted.test(text.trim())) break;
      if (step >= 30) {
        await closeQuickInput();
        throw new Error(`could not focus ${what} "${label}" in the quick pick (focus stayed on "${text}")`);
      }
      await page.keyboard.press('ArrowDown');
    }
    const typed = await page.locator(QUICK_INPUT_BOX).inputValue();
    await page.keyboard.press('Enter');
    // Accepting closes the quick pick, or replaces it with the next one (a command that asks).
    await waitFor(
      async () => !(await page.locator(QUICK_INPUT).isVisible()) || (await page.locator(QUICK_INPUT_BOX).inputValue()) !== typed,
      { timeoutMs: 10_000, what: `the quick pick to accept "${label}"` },
    );
  }

  /**
   * Switches the color theme through "Preferences: Color Theme" (code-server does not watch the user
   * settings.json for outside edits) and waits until the workbench and every live webview use it.
   * @param {keyof typeof THEMES} theme
   */
  async function setTheme(theme) {
    const classes = THEMES[theme];
    if (!classes) throw new Error(`unknown theme "${theme}"; use one of ${Object.keys(THEMES).join(', ')}`);
    await runCommand('Preferences: Color Theme');
    await page.locator(QUICK_INPUT_BOX).fill(classes.label);
    await pickQuickInputItem(classes.label, 'theme');
    await page.locator(`.monaco-workbench.${classes.workbench}`).waitFor({ state: 'attached', timeout: 15_000 });
    // Webviews get the theme through a message from VS Code; wait for it before any screenshot.
    await waitFor(
      async () => {
        for (const frame of page.frames()) {
          if (!frame.url().includes('/webview/browser/pre/')) continue;
          const body = await frame.evaluate(() => (document.body ? document.body.className : null)).catch(() => null);
          if (body !== null && /vscode-(light|dark|high-contrast)/.test(body) && !body.split(/\s+/).includes(classes.webview)) return false;
        }
        return true;
      },
      { timeoutMs: 10_000, what: `webviews to switch to ${theme}` },
    );
  }

  /**
   * Opens an activity-bar view container by its title (the entry's aria-label) unless it is open.
   * @param {string} title
   * @returns the side bar part showing it
   */
  async function openActivityContainer(title) {
    // The label carries the keybinding when there is one ("Search (Ctrl+Shift+F)") and a view's
    // badge when one is set ("CogniForge - 1 open SEV1/SEV2 incident").
    const label = `a.action-label[aria-label="${title}"], a.action-label[aria-label^="${title} ("], a.action-label[aria-label^="${title} - "]`;
    const entry = page.locator('.part.activitybar .action-item[role="tab"]').filter({ has: page.locator(label) });
    await entry.waitFor({ state: 'visible' });
    if ((await entry.getAttribute('aria-selected')) !== 'true') await entry.click();
    const sidebar = page.locator('#workbench\\.parts\\.sidebar');
    await sidebar.locator('.composite.title h2', { hasText: new RegExp(exactText(title).source, 'i') }).waitFor({ state: 'visible' });
    return sidebar;
  }

  /** The status bar items whose text contains `match` (string or RegExp). */
  function statusBarItem(match) {
    return page.locator(STATUS_ITEMS).filter({ hasText: match });
  }

  /**
   * Waits until a status bar item's text matches every pattern given (strings are substrings).
   * @param {string | RegExp | Array<string | RegExp>} text
   * @param {{ timeoutMs?: number }} [options]
   * @returns {Promise<string>} the item's text
   */
  async function waitForStatusBar(text, { timeoutMs = 30_000 } = {}) {
    const patterns = Array.isArray(text) ? text : [text];
    const matches = (s) => patterns.every((p) => (typeof p === 'string' ? s.includes(p) : p.test(s)));
    let seen = [];
    try {
      return await waitFor(
        async () => {
          seen = (await page.locator(STATUS_ITEMS).evaluateAll((items) => items.map((i) => (i.textContent ?? '').trim() || (i.getAttribute('aria-label') ?? '')))).filter(Boolean);
          return seen.find(matches);
        },
        { timeoutMs, intervalMs: 200, what: `a status bar item matching ${patterns.map(String).join(' and ')}` },
      );
    } catch (error) {
      throw new Error(`${error.message}; status bar shows: ${seen.join(' | ')}`);
    }
  }

  /**
   * The document of a webview panel (the frame the extension's HTML runs in), found by the panel
   * title VS Code gives the inner frame.
   * @param {string} title
   * @returns {Promise<import('playwright-core').Frame>}
   */
  async function webviewFrame(title, { timeoutMs = 20_000 } = {}) {
    return waitFor(
      async () => {
        for (const host of await page.locator('iframe.webview').elementHandles()) {
          const hostFrame = await host.contentFrame();
          const inner = hostFrame && (await hostFrame.$(`iframe#active-frame[title="${title.replace(/"/g, '\\"')}"]`));
          const frame = inner && (await inner.contentFrame());
          if (frame && (await frame.evaluate(() => document.readyState !== 'loading'))) return frame;
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 200, what: `the webview "${title}"` },
    );
  }

  /** Closes every editor (and any open quick input): a clean slate between scenarios. */
  async function closeAllEditors() {
    await closeQuickInput();
    await runCommand('View: Close All Editors');
  }

  /**
   * Opens the CogniForge container, expands the view titled `title` and folds every other view, so
   * the tree (which renders only the rows in view) has the whole side bar.
   * @param {string} title
   * @returns the view's pane
   */
  async function focusView(title) {
    const sidebar = await openActivityContainer('CogniForge');
    const pane = sidebar.locator('.pane').filter({ has: page.locator('.pane-header h3.title', { hasText: exactText(title) }) });
    await pane.waitFor({ state: 'visible' });
    const header = pane.locator('.pane-header');
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    // One at a time: folding a view changes which headers match, so a list taken up front goes stale.
    const others = sidebar.locator('.pane-header[aria-expanded="true"]').filter({ hasNot: page.locator('h3.title', { hasText: exactText(title) }) });
    for (let i = 0; i < 10 && (await others.count()) > 0; i++) await others.first().click();
    return pane;
  }

  return { openCommandPalette, runCommand, pickQuickInputItem, setTheme, openActivityContainer, focusView, statusBarItem, waitForStatusBar, webviewFrame, closeQuickInput, closeAllEditors };
}

function exactText(text) {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}
