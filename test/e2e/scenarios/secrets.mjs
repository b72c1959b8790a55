// Issue 6's real-editor checks: a secret and a config value created through the daemon show in the
// Secrets & Config view (the value masked or shown, never the secret's), rotating the secret from its
// context menu makes a new version in the daemon, and the view reads well in a light and a dark theme.
import assert from 'node:assert/strict';

export const name = 'secrets: config entry and secret in the view, rotate, roll back and reveal from the context menu, light and dark, create from the palette, delete with confirmation';

const SECRET = { name: 'e2e_payment_api_key', type: 'api_key', environment: 'staging' };
const CONFIG = { environment: 'staging', key: 'E2E_CHECKOUT_TIMEOUT_MS', value: 2500 };
const TYPED = { name: 'e2e_typed_webhook_secret', environment: 'staging', value: 'E2E-typed-value-7f3a' };

/** @param {any} ctx see test/e2e/run.mjs */
export async function run(ctx) {
  const { page } = ctx;

  // A fresh secret (an earlier run's one goes first) and a config value, as a script would set them.
  const { secrets: before } = await ctx.rpc('secrets/list', { environment: SECRET.environment });
  for (const old of before.filter((s) => s.name === SECRET.name)) await ctx.rpc('secrets/delete', { id: old.id });
  const created = await ctx.rpc('secrets/create', { ...SECRET, rotation: { policy: 'monthly' } });
  assert.equal(created.currentVersion, 1);
  await ctx.rpc('config/set', { ...CONFIG });

  // Room for the rows: every other view folds.
  const pane = await ctx.focusView('Secrets & Config');
  const row = (label) => pane.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${label}$`) }) });

  // Configuration → staging → the entry, its JSON value shown.
  const staging = row('staging');
  await staging.waitFor({ state: 'visible', timeout: 15_000 });
  if ((await staging.getAttribute('aria-expanded')) === 'false') await staging.locator('.monaco-tl-twistie').click();
  const entry = row(CONFIG.key);
  await entry.locator('.label-description').filter({ hasText: `= ${CONFIG.value}` }).waitFor({ state: 'visible', timeout: 15_000 });

  // The secret's row: environment, backend and version 1; never a value.
  const secretRow = row(SECRET.name);
  const description = secretRow.locator('.label-description');
  await description.filter({ hasText: 'staging · local · v1 · rotates in' }).waitFor({ state: 'visible', timeout: 15_000 });
  await ctx.screenshot('secrets-view-created');

  // Rotate from the row's context menu: a modal asks first, then the row moves to version 2.
  await dismissToasts(page);
  await secretRow.click({ button: 'right' });
  await chooseMenuItem(page, 'Rotate Secret');
  const dialog = page.locator('.monaco-dialog-box', { hasText: `Rotate secret "${SECRET.name}" (staging)?` });
  await dialog.waitFor({ state: 'visible' });
  await ctx.screenshot('secrets-rotate-confirm');
  await dialog.locator('.monaco-button', { hasText: /^Rotate$/ }).click();
  await page.locator('.notification-toast', { hasText: `Secret "${SECRET.name}" rotated: now version 2.` }).waitFor({ state: 'visible', timeout: 15_000 });
  await description.filter({ hasText: '· v2 ·' }).waitFor({ state: 'visible', timeout: 15_000 });
  const rotated = await ctx.rpc('secrets/get', { id: created.id });
  assert.equal(rotated.currentVersion, 2, 'the daemon has the new version');
  assert.deepEqual(
    rotated.versions.map((v) => [v.version, v.state]),
    [
      [1, 'previous'],
      [2, 'current'],
    ],
  );

  // The versions under the row.
  if ((await secretRow.getAttribute('aria-expanded')) === 'false') await secretRow.locator('.monaco-tl-twistie').click();
  await row('v2').locator('.label-description').filter({ hasText: /^current$/ }).waitFor({ state: 'visible', timeout: 15_000 });
  await row('v1').locator('.label-description').filter({ hasText: /^previous · grace \d+h left$/ }).waitFor({ state: 'visible' });

  // Roll back from the context menu: v1's value becomes the new current version 3.
  await dismissToasts(page);
  await secretRow.click({ button: 'right' });
  await chooseMenuItem(page, 'Roll Back Secret');
  await ctx.pickQuickInputItem('v1', 'version to roll back to');
  await page.locator('.notification-toast', { hasText: `Secret "${SECRET.name}" rolled back: version 3 holds the value of v1.` }).waitFor({ state: 'visible', timeout: 15_000 });
  await description.filter({ hasText: '· v3 ·' }).waitFor({ state: 'visible', timeout: 15_000 });
  const [v1, v3] = await Promise.all([ctx.rpc('secrets/reveal', { id: created.id, version: 1 }), ctx.rpc('secrets/reveal', { id: created.id, version: 3 })]);
  assert.equal(v3.value, v1.value, 'the rollback made a new version holding the old value');

  // Reveal from the context menu: the value goes to the clipboard (never into the workbench) and the
  // daemon's audit records the reveal under the extension's token.
  await dismissToasts(page);
  const auditBefore = (await ctx.rpc('secrets/audit', { secretId: created.id })).entries.length;
  await secretRow.click({ button: 'right' });
  const revealItem = page.locator('.context-view .monaco-menu .action-item', { has: page.locator('.action-label', { hasText: /^Reveal Secret/ }) });
  // As chooseMenuItem does: hover until focused, then Enter (a click on a menu item was lost in a full run).
  await revealItem.waitFor({ state: 'visible' });
  await revealItem.hover();
  await page.locator('.context-view .monaco-menu .action-item.focused', { hasText: /^Reveal Secret/ }).waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await page.locator('.context-view .monaco-menu').waitFor({ state: 'hidden' });
  await page.locator('.notification-toast', { hasText: `The value of "${SECRET.name}" v3 is on the clipboard` }).waitFor({ state: 'visible', timeout: 15_000 });
  const audit = (await ctx.rpc('secrets/audit', { secretId: created.id })).entries;
  assert.equal(audit.length, auditBefore + 1, 'one audit entry for the reveal');
  assert.equal(audit[0].action, 'revealed');
  assert.equal(await page.getByText(v3.value).count(), 0, 'the secret value is nowhere in the workbench');
  await ctx.screenshot('secrets-revealed');

  // A change made elsewhere shows up live (config/didChange).
  await ctx.rpc('config/set', { ...CONFIG, value: 3000 });
  await entry.locator('.label-description').filter({ hasText: '= 3000' }).waitFor({ state: 'visible', timeout: 15_000 });

  // The entry's history: pick the first version, a diff editor compares it with the current one.
  await dismissToasts(page);
  await entry.click({ button: 'right' });
  await chooseMenuItem(page, 'Show Config History');
  await ctx.pickQuickInputItem('v1', 'version');
  const diffTab = page.locator('.tabs-container .tab', { hasText: `${CONFIG.key}: v1 ↔ v2 (current)` });
  await diffTab.waitFor({ state: 'visible', timeout: 15_000 });
  const diff = page.locator('.monaco-diff-editor');
  await diff.locator('.editor.original .view-lines', { hasText: '2500' }).waitFor({ state: 'visible', timeout: 15_000 });
  await diff.locator('.editor.modified .view-lines', { hasText: '3000' }).waitFor({ state: 'visible', timeout: 15_000 });
  await ctx.screenshot('secrets-config-history-diff');

  // Roll back from the diff editor's title bar: the version the diff shows is offered first, a modal confirms.
  await page.locator('.editor-actions .action-label[aria-label="Roll Back Config Value…"]').first().click();
  await ctx.pickQuickInputItem('v1 (shown in the diff)', 'version');
  const rollbackConfirm = page.locator('.monaco-dialog-box', { hasText: `Roll back ${CONFIG.environment} / ${CONFIG.key} to v1?` });
  await rollbackConfirm.waitFor({ state: 'visible' });
  await ctx.screenshot('secrets-config-rollback-confirm');
  await rollbackConfirm.locator('.monaco-button', { hasText: /^Roll Back$/ }).click();
  await entry.locator('.label-description').filter({ hasText: '= 2500' }).waitFor({ state: 'visible', timeout: 15_000 });
  const rolledBack = await ctx.rpc('config/get', { environment: CONFIG.environment, key: CONFIG.key });
  assert.equal(rolledBack.value, 2500, 'the daemon holds v1 again');
  assert.ok(rolledBack.version >= 3, 'as a new version');
  await ctx.closeAllEditors();

  // Two environments side by side in the diff editor, as sorted KEY=value text.
  await ctx.runCommand('CogniForge: Compare Config Environments…');
  await quickInputStep(ctx, 'Compare Config Environments (1/2)', 'staging');
  await quickInputStep(ctx, 'Compare staging with…', 'production');
  await page.locator('.tabs-container .tab', { hasText: 'Config staging ↔ production' }).waitFor({ state: 'visible', timeout: 15_000 });
  const envDiff = page.locator('.monaco-diff-editor');
  await envDiff.locator('.editor.original .view-lines', { hasText: `${CONFIG.key}=2500` }).waitFor({ state: 'visible', timeout: 15_000 });
  await envDiff.locator('.editor.modified .view-lines', { hasText: '# production' }).waitFor({ state: 'visible', timeout: 15_000 });
  await ctx.screenshot('secrets-config-compare-environments');
  await ctx.closeAllEditors();

  await ctx.runCommand('Notifications: Clear All Notifications');
  for (const [theme, shot, workbenchClass] of [
    ['Default Light Modern', 'secrets-view-light', 'vs'],
    ['Default Dark Modern', 'secrets-view-dark', 'vs-dark'],
  ]) {
    await ctx.setTheme(theme);
    await page.locator(`.monaco-workbench.${workbenchClass}`).waitFor({ state: 'attached' });
    await secretRow.waitFor({ state: 'visible' });
    await ctx.screenshot(shot);
  }

  await ctx.rpc('secrets/delete', { id: created.id });
  await secretRow.waitFor({ state: 'detached', timeout: 15_000 });

  // Create Secret from the palette: name, type, environment, backend, rotation, a typed value.
  const { secrets: leftovers } = await ctx.rpc('secrets/list', { environment: TYPED.environment });
  for (const old of leftovers.filter((s) => s.name === TYPED.name)) await ctx.rpc('secrets/delete', { id: old.id });
  await ctx.runCommand('Notifications: Clear All Notifications');
  await ctx.runCommand('CogniForge: Create Secret');
  await quickInputStep(ctx, 'Create Secret (1/6)', TYPED.name, { pick: false });
  await quickInputStep(ctx, 'Create Secret (2/6)', 'webhook secret');
  await quickInputStep(ctx, 'Create Secret (3/6)', TYPED.environment);
  await quickInputStep(ctx, 'Create Secret (4/6)', 'local');
  await quickInputStep(ctx, 'Create Secret (5/6)', 'Weekly');
  await quickInputStep(ctx, 'Create Secret (6/6)', 'Enter the value');
  const password = page.locator('.quick-input-widget .quick-input-box input[type=password]');
  await password.waitFor({ state: 'visible', timeout: 10_000 });
  await password.fill(TYPED.value);
  await ctx.screenshot('secrets-create-value-masked');
  await password.press('Enter');
  await page.locator('.notification-toast', { hasText: `Secret "${TYPED.name}" created in ${TYPED.environment} (local).` }).waitFor({ state: 'visible', timeout: 15_000 });
  const typedRow = row(TYPED.name);
  await typedRow.locator('.label-description').filter({ hasText: `${TYPED.environment} · local · v1 · rotates in 6d` }).waitFor({ state: 'visible', timeout: 15_000 });
  const made = (await ctx.rpc('secrets/list', { environment: TYPED.environment })).secrets.find((s) => s.name === TYPED.name);
  assert.equal(made.type, 'webhook_secret');
  assert.deepEqual(made.rotation, { policy: 'weekly' });
  assert.equal((await ctx.rpc('secrets/reveal', { id: made.id })).value, TYPED.value, 'the typed value reached the vault');
  assert.ok(!(await pane.textContent()).includes(TYPED.value), 'the value never shows in the view');

  // Delete from the palette (the row's context menu has it too): the confirmation names the secret and its environment.
  await ctx.runCommand('Notifications: Clear All Notifications');
  await ctx.runCommand('CogniForge: Delete Secret');
  await quickInputStep(ctx, 'Which secret to delete?', TYPED.name);
  const confirm = page.locator('.monaco-dialog-box', { hasText: `Delete secret "${TYPED.name}" in environment "${TYPED.environment}"?` });
  await confirm.waitFor({ state: 'visible' });
  await ctx.screenshot('secrets-delete-confirm');
  await confirm.locator('.monaco-button', { hasText: /^Delete$/ }).click();
  await typedRow.waitFor({ state: 'detached', timeout: 15_000 });
  const after = (await ctx.rpc('secrets/list', { environment: TYPED.environment })).secrets;
  assert.ok(!after.some((s) => s.name === TYPED.name), 'the daemon deleted it');
  const [lastAudit] = (await ctx.rpc('secrets/audit', { secretId: made.id, limit: 1 })).entries;
  assert.equal(lastAudit.action, 'deleted');
}

/**
 * One step of a multi-step command: wait for the quick input titled `title`, type `text` and take it
 * (for a pick, once the typed text has filtered the focused row to it).
 */
async function quickInputStep(ctx, title, text, { pick = true } = {}) {
  const { page } = ctx;
  await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 10_000 });
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill(text);
  if (pick) {
    const focused = page.locator('.quick-input-widget .quick-input-list .monaco-list-row.focused .label-name').first();
    await ctx.waitFor(async () => ((await focused.textContent().catch(() => '')) ?? '').includes(text), { what: `"${text}" to be focused in ${title}` });
  }
  await input.press('Enter');
}

/** Chooses an entry of the open context menu; a click while the menu still animates in can be lost, so hover and Enter. */
async function chooseMenuItem(page, label) {
  const item = page.locator('.context-view .monaco-menu .action-item', { has: page.locator('.action-label', { hasText: new RegExp(`^${label}$`) }) });
  await item.waitFor({ state: 'visible' });
  await item.hover();
  await page.locator('.context-view .monaco-menu .action-item.focused', { hasText: label }).waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await page.locator('.context-view .monaco-menu').waitFor({ state: 'hidden' });
}

/** An open toast keeps a list focus that stops menus and pickers from taking the keyboard. */
async function dismissToasts(page) {
  for (const close of await page.locator('.notification-toast .codicon-notifications-clear').all()) {
    await close.click({ force: true }).catch(() => undefined);
  }
  await page.locator('.notification-toast').first().waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
}
