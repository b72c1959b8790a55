// Issue 5's incidents in the real editor: create an incident through the Command Palette wizard,
// see its row under its severity, acknowledge it inline, change its status through the QuickPick
// that offers only the allowed next states, check through the daemon that each move was stamped
// with who and when, open its detail, resolve it, and close it, writing the review the SEV2 needs.
import assert from 'node:assert/strict';

export const name = 'incidents: create from the palette, acknowledge inline, change status, detail, review, close';

const VIEW_TITLE = 'Incidents & On-call';
const TITLE = 'E2E checkout returns 502';
const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_BOX = `${QUICK_INPUT} .quick-input-box input`;
const QUICK_INPUT_ROWS = `${QUICK_INPUT} .quick-input-list .monaco-list-row`;
/** The lifecycle table of daemon/protocol/incidents.ts for the states this scenario passes. */
const NEXT_FROM_ACKNOWLEDGED = ['investigating', 'identified', 'resolving', 'resolved'];

/** @param {any} ctx see test/e2e/run.mjs */
export async function run(ctx) {
  const { page } = ctx;
  const started = Date.now();

  // Room for the incidents and their timelines: every other view folds.
  const pane = await ctx.focusView('Incidents & On-call');
  const body = pane.locator('.pane-body');

  // Nothing open yet: the welcome says so and offers to create one.
  const { incidents: before } = await ctx.rpc('incidents/list', { statuses: ['detected', 'acknowledged', 'investigating', 'identified', 'resolving'] });
  if (before.length === 0) {
    const welcome = body.locator('.welcome-view-content').filter({ hasText: 'No open incidents' });
    await welcome.waitFor({ state: 'visible' });
    assert.ok((await welcome.locator('a, .monaco-button').filter({ hasText: 'Create Incident' }).count()) > 0, 'the welcome offers Create Incident');
    await ctx.screenshot('welcome');
  }

  // Create through the palette: the wizard validates as it goes.
  await ctx.runCommand('CogniForge: Create Incident');
  const input = page.locator(QUICK_INPUT_BOX);
  await input.waitFor({ state: 'visible' });
  await input.fill('   ');
  await page.locator(`${QUICK_INPUT} .quick-input-message`, { hasText: 'Give the incident a title' }).waitFor({ state: 'visible' });
  await ctx.screenshot('create-title-validation');
  await input.fill(TITLE);
  await acceptInput(ctx, TITLE);
  const severities = await quickPickLabels(page);
  assert.deepEqual(severities, ['SEV1', 'SEV2', 'SEV3', 'SEV4'], 'the severity step offers SEV1..SEV4');
  await pickByFilter(ctx, 'SEV2');
  await input.fill('checkout, payments');
  await acceptInput(ctx, 'checkout, payments');
  await input.fill('Customers see 502 on checkout since the last deploy');
  await acceptInput(ctx, 'Customers see 502 on checkout since the last deploy');

  // The daemon has it; the view shows its row under SEV2 with status and age.
  const created = await ctx.waitFor(
    async () => (await ctx.rpc('incidents/list', { statuses: ['detected'] })).incidents.find((i) => i.title === TITLE),
    { what: `the daemon to list "${TITLE}"` },
  );
  assert.equal(created.severity, 'SEV2');
  assert.deepEqual(created.services, ['checkout', 'payments']);
  const rowLabel = `${created.number} ${TITLE}`;
  const row = body.locator('.monaco-list-row').filter({ hasText: rowLabel });
  await row.waitFor({ state: 'visible' });
  await body.locator('.monaco-list-row').filter({ hasText: 'SEV2 · Major' }).waitFor({ state: 'visible' });
  await row.filter({ hasText: /detected · \d+s/ }).waitFor({ state: 'visible' });
  // The view badge counts open SEV1/SEV2 incidents.
  await page.locator('.part.activitybar .action-item[role="tab"] .badge-content').filter({ hasText: /^\d+$/ }).first().waitFor({ state: 'visible' });
  ctx.log(`created ${created.number} (${created.severity})`);
  await ctx.screenshot('incident-row');

  // Acknowledge from the row's inline action.
  await row.hover();
  await row.locator('.actions .action-label[aria-label="Acknowledge Incident"]').click();
  await row.filter({ hasText: /acknowledged · / }).waitFor({ state: 'visible' });
  ctx.log(`${created.number} acknowledged inline`);

  // Change status from the context menu: only the allowed next states are offered.
  await openContextMenu(page, row, 'Change Incident Status…');
  await page.locator(QUICK_INPUT_ROWS).first().waitFor({ state: 'visible' });
  assert.deepEqual(await quickPickLabels(page), NEXT_FROM_ACKNOWLEDGED, 'Change Status offers exactly the allowed next states');
  await ctx.screenshot('change-status-pick');
  await pickByFilter(ctx, 'investigating');
  await row.filter({ hasText: /investigating · / }).waitFor({ state: 'visible' });

  // The daemon recorded each move with who and when.
  const recorded = await ctx.rpc('incidents/get', { id: created.number });
  assert.equal(recorded.status, 'investigating');
  assert.ok(recorded.acknowledgedAt && Date.parse(recorded.acknowledgedAt) >= started - 1_000, 'acknowledgedAt is stamped during this run');
  const moves = recorded.timeline.filter((e) => e.kind === 'transition');
  assert.deepEqual(
    moves.map((e) => [e.from, e.to]),
    [
      ['detected', 'acknowledged'],
      ['acknowledged', 'investigating'],
    ],
  );
  for (const m of moves) {
    assert.ok(m.actor.length > 0, 'each move names who made it');
    assert.ok(Date.parse(m.at) >= started - 1_000 && Date.parse(m.at) <= Date.now(), `each move says when (${m.at})`);
  }
  ctx.log(`timeline: ${moves.map((m) => `${m.text} by ${m.actor} at ${m.at}`).join('; ')}`);

  // Expanding the row shows the timeline.
  await row.locator('.monaco-tl-twistie').click();
  await body.locator('.monaco-list-row').filter({ hasText: 'acknowledged → investigating' }).waitFor({ state: 'visible' });
  await ctx.screenshot('incident-timeline');

  // Open its detail: in the light theme, switched before the panel opens (a webview that takes the
  // focus while the theme picker is open closes the picker, which reverts the theme).
  await ctx.closeAllEditors();
  await ctx.setTheme('Default Light Modern');
  await openContextMenu(page, row, 'Open Incident');
  let detail = await openDetail(ctx);
  await detail.getByTestId('incident-heading').filter({ hasText: rowLabel }).waitFor({ state: 'visible' });
  await detail.getByTestId('incident-timeline').filter({ hasText: 'acknowledged → investigating' }).waitFor({ state: 'visible' });
  assert.match(await text(detail, 'incident-tta'), /^\d+s$/, 'the panel shows the time to acknowledge');
  assert.equal(await text(detail, 'incident-ttr'), '—', 'not resolved yet');
  assert.match(await text(detail, 'incident-status'), /investigating/);
  await detail.getByTestId('incident-banner').filter({ hasText: 'review is required' }).waitFor({ state: 'visible' });

  // The panel's buttons act on the incident it shows: a note from there lands on its timeline.
  await detail.locator('vscode-button[data-command="addNote"]').click();
  await input.waitFor({ state: 'visible' });
  await input.fill('Rollback started by the e2e run');
  await acceptInput(ctx, 'Rollback started by the e2e run');
  await detail.getByTestId('incident-timeline').filter({ hasText: 'Rollback started by the e2e run' }).waitFor({ state: 'visible' });
  await assertTheme(page, detail, 'vs', 'vscode-light');
  await ctx.screenshot('view-and-detail-light');

  await row.click();
  await ctx.setTheme('Default Dark Modern');
  detail = await openDetail(ctx);
  await detail.getByTestId('incident-timeline').filter({ hasText: 'Rollback started by the e2e run' }).waitFor({ state: 'visible' });
  await assertTheme(page, detail, 'vs-dark', 'vscode-dark');
  await ctx.screenshot('view-and-detail-dark');

  // Resolve inline: it asks for the resolution and the root cause.
  await row.hover();
  await row.locator('.actions .action-label[aria-label="Resolve Incident"]').click();
  await input.waitFor({ state: 'visible' });
  await acceptInput(ctx, '');
  await page.locator(`${QUICK_INPUT} .quick-input-message`, { hasText: 'The resolution is required' }).waitFor({ state: 'visible' });
  await input.fill('Rolled back the deploy');
  await acceptInput(ctx, 'Rolled back the deploy');
  await input.fill('Connection pool size halved by a config change');
  await acceptInput(ctx, 'Connection pool size halved by a config change');
  await ctx.waitFor(async () => (await ctx.rpc('incidents/get', { id: created.number })).status === 'resolved', { what: `${created.number} to be resolved` });

  // Close it: a SEV2 needs its review first, and the warning offers to write it.
  const resolvedGroup = body.locator('.monaco-list-row').filter({ hasText: 'Recently resolved' });
  await resolvedGroup.waitFor({ state: 'visible' });
  if ((await resolvedGroup.getAttribute('aria-expanded')) === 'false') await resolvedGroup.click();
  const resolvedRow = body.locator('.monaco-list-row').filter({ hasText: rowLabel });
  await resolvedRow.filter({ hasText: /resolved .* ago/ }).waitFor({ state: 'visible' });
  await openContextMenu(page, resolvedRow, 'Change Incident Status…');
  assert.deepEqual(await quickPickLabels(page), ['closed', 'investigating'], 'a resolved incident can be closed or reopened');
  await pickByFilter(ctx, 'closed');
  const toast = page.locator('.notification-toast').filter({ hasText: 'write its post-incident review before closing it' });
  await toast.waitFor({ state: 'visible' });
  await ctx.screenshot('review-required');
  await toast.locator('.monaco-button', { hasText: 'Write Review' }).click();
  // A first review starts from the daemon's draft: the timeline is already in "what happened".
  await input.waitFor({ state: 'visible' });
  await ctx.waitFor(async () => ((await input.inputValue()).includes('Timeline:') ? true : undefined), { what: 'the review draft in the first input' });
  const drafted = await input.inputValue();
  assert.ok(drafted.includes(created.number) && drafted.includes('detected → acknowledged'), `the draft names the incident and its moves: ${drafted.slice(0, 200)}`);
  for (const answer of ['A config change halved the DB pool', '30% of checkouts failed for 40 minutes', 'Fast rollback', 'Canary the config', 'Config is code']) {
    await input.waitFor({ state: 'visible' });
    await input.fill(answer);
    await acceptInput(ctx, answer);
  }
  await input.fill('alice | 2026-13-01 | Add a canary');
  await page.locator(`${QUICK_INPUT} .quick-input-message`, { hasText: 'is not a date' }).waitFor({ state: 'visible' });
  await input.fill('alice | 2026-12-01 | Add a canary for config changes');
  await acceptInput(ctx, 'alice | 2026-12-01 | Add a canary for config changes');
  // The next prompt of the same step lists the item: only then is Enter on an empty line "finish".
  await page.locator(`${QUICK_INPUT} .quick-input-message`, { hasText: '1 so far' }).waitFor({ state: 'visible' });
  await acceptInput(ctx, '');

  const closed = await ctx.waitFor(
    async () => {
      const inc = await ctx.rpc('incidents/get', { id: created.number });
      return inc.status === 'closed' ? inc : undefined;
    },
    { what: `${created.number} to be closed after its review` },
  );
  assert.ok(closed.hasReview);
  const review = await ctx.rpc('reviews/get', { incidentId: created.number });
  assert.equal(review.actionItems[0].owner, 'alice');
  await resolvedRow.filter({ hasText: /closed .* ago/ }).waitFor({ state: 'visible' });
  const detailAfter = await openDetail(ctx);
  await detailAfter.getByTestId('incident-status').filter({ hasText: 'closed' }).waitFor({ state: 'visible' });
  await detailAfter.getByTestId('incident-action-items').filter({ hasText: 'Add a canary for config changes' }).waitFor({ state: 'visible' });
  await detailAfter.getByTestId('incident-resolution').filter({ hasText: 'Rolled back the deploy' }).waitFor({ state: 'visible' });
  await ctx.screenshot('closed-with-review');

  // On call now: per role who and until when, the next 7 days under each role.
  for (const handle of ['alice', 'bob']) await ctx.rpc('oncall/upsertPerson', { handle, name: handle.toUpperCase(), timeZone: 'UTC', contacts: [] });
  const today = new Date().toISOString().slice(0, 10);
  await ctx.rpc('oncall/upsertSchedule', {
    role: 'primary',
    layers: [{ name: 'daily', members: ['alice', 'bob'], startDate: today, handoffTime: '00:00', timeZone: 'UTC', turn: { count: 1, unit: 'days' } }],
  });
  const { oncall } = await ctx.rpc('oncall/whoIsOnCall', { role: 'primary' });
  assert.equal(oncall[0].person, 'alice', 'the first turn of the rotation is alice');
  const oncallRow = body.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: /^On call now$/ }) });
  await oncallRow.waitFor({ state: 'visible', timeout: 15_000 });
  const primaryRow = body.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: /^primary$/ }) });
  await primaryRow.locator('.label-description').filter({ hasText: /^alice until .* \(\d/ }).waitFor({ state: 'visible' });
  await primaryRow.locator('.monaco-tl-twistie').click();
  const segments = body.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: /^(alice|bob)$/ }) });
  await ctx.waitFor(async () => (await segments.count()) >= 2, { what: 'the turns under primary' });
  // The status bar counts open SEV1/SEV2 incidents.
  const sev1 = await ctx.rpc('incidents/create', { title: 'E2E status bar check', severity: 'SEV1', detectedBy: { kind: 'monitor', name: 'e2e' } });
  const urgent = (await ctx.rpc('incidents/list', { statuses: ['detected', 'acknowledged', 'investigating', 'identified', 'resolving'], severities: ['SEV1', 'SEV2'] })).incidents.length;
  const bar = page.locator('.statusbar-item', { hasText: `${urgent} SEV1/SEV2` });
  await bar.waitFor({ state: 'visible', timeout: 15_000 });
  await ctx.screenshot('on-call-now');
  await ctx.rpc('incidents/transition', { id: sev1.id, to: 'resolved' });
  await bar.waitFor({ state: 'hidden', timeout: 15_000 });
  await ctx.rpc('oncall/deleteSchedule', { role: 'primary' });
  await oncallRow.waitFor({ state: 'detached', timeout: 15_000 });
}

/** Presses Enter in the quick input and waits until it moved on (closed or replaced by the next step). */
async function acceptInput(ctx, typed) {
  const { page } = ctx;
  const input = page.locator(QUICK_INPUT_BOX);
  const title = await page.locator(`${QUICK_INPUT} .quick-input-title`).textContent().catch(() => '');
  await page.keyboard.press('Enter');
  await ctx.waitFor(
    async () => {
      if (!(await page.locator(QUICK_INPUT).isVisible())) return true;
      const nowTitle = await page.locator(`${QUICK_INPUT} .quick-input-title`).textContent().catch(() => '');
      const message = await page.locator(`${QUICK_INPUT} .quick-input-message`).textContent().catch(() => '');
      return nowTitle !== title || (await input.inputValue()) !== typed || /required|not a date/.test(message ?? '');
    },
    { timeoutMs: 10_000, what: `the input to accept "${typed}"` },
  );
}

async function quickPickLabels(page) {
  await page.locator(QUICK_INPUT_ROWS).first().waitFor({ state: 'visible' });
  // A row with a detail line has two labels; the first is the item's own.
  return page.locator(QUICK_INPUT_ROWS).evaluateAll((rows) => rows.map((r) => (r.querySelector('.label-name')?.textContent ?? '').trim()));
}

/** Types the label as the filter, waits until that row is first, and accepts it. */
async function pickByFilter(ctx, label) {
  const { page } = ctx;
  await page.locator(QUICK_INPUT_BOX).fill(label);
  await ctx.waitFor(async () => (await quickPickLabels(page))[0] === label, { timeoutMs: 10_000, what: `"${label}" to be the first row` });
  await acceptInput(ctx, label);
}

/** Right-clicks a tree row and runs one entry of its context menu. */
async function openContextMenu(page, row, entry) {
  await row.click({ button: 'right' });
  const item = page.locator('.monaco-menu .action-item .action-label', { hasText: new RegExp(`^${entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) });
  await item.first().waitFor({ state: 'visible' });
  await item.first().hover();
  await item.first().click();
  // A click that lands while the menu is still settling is lost; the hovered entry takes Enter.
  const menu = page.locator('.monaco-menu');
  if (!(await menu.first().waitFor({ state: 'hidden', timeout: 2_000 }).then(() => true, () => false))) await page.keyboard.press('Enter');
}

/** The incident panel's document. */
async function openDetail(ctx) {
  return ctx.webviewFrame('CogniForge Incident', { timeoutMs: 30_000 });
}

/** The screenshot about to be taken really is in the theme it is named after. */
async function assertTheme(page, frame, workbenchClass, webviewClass) {
  assert.equal(await page.locator(`.monaco-workbench.${workbenchClass}`).count(), 1, `the workbench uses ${workbenchClass}`);
  const body = await frame.evaluate(() => document.body.className);
  assert.ok(body.split(/\s+/).includes(webviewClass), `the panel uses ${webviewClass} (body: ${body})`);
}

async function text(frame, testId) {
  return ((await frame.getByTestId(testId).textContent()) ?? '').trim();
}
