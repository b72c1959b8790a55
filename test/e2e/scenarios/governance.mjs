// Issue 7's editor half: a flawed OpenAPI file audited against the OWASP API Top 10, its findings in
// the Governance view and the Problems panel, and a quick fix that removes its diagnostic on save;
// then a contract compared with a git tag: breaking changes in the API Contract Changes view.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const name = 'governance: OWASP diagnostics, quick fix on save, Governance view, compare with a git tag';

const FIXTURE = fileURLToPath(new URL('../../fixtures/openapi/insecure30.yaml', import.meta.url));
const SERVER_RULE = 'owasp:api8:2023-no-server-http';

/** @param {any} ctx see test/e2e/run.mjs */
export async function run(ctx) {
  const { page } = ctx;
  const specDir = join(ctx.workspaceDir, 'api');
  mkdirSync(specDir, { recursive: true });
  const specPath = join(specDir, 'shop.yaml');
  copyFileSync(FIXTURE, specPath);

  // The command finds the spec, audits it with progress and fills the view.
  await ctx.runCommand('CogniForge: Audit Workspace');
  // The tree renders only the rows in view: every other view folds to give Governance room.
  const pane = await ctx.focusView('Governance');
  const rows = pane.locator('.pane-body .monaco-list-row');
  const summary = rows.filter({ hasText: /OWASP score \d+\/100/ });
  await summary.waitFor({ state: 'visible', timeout: 60_000 });
  ctx.log(`view: ${(await summary.textContent())?.trim()}`);
  const doc = rows.filter({ hasText: 'shop.yaml' });
  await doc.waitFor({ state: 'visible' });
  assert.match((await doc.textContent()) ?? '', /score \d+ · \d+ findings · failing .*API8/, 'the document shows its score and failing categories');

  // Findings by category; a click opens the file at the finding.
  await rows.filter({ hasText: /API8 Security Misconfiguration/ }).first().click();
  const serverFinding = rows.filter({ hasText: SERVER_RULE }).first();
  await serverFinding.waitFor({ state: 'visible' });
  await serverFinding.click();
  await page.locator('.tabs-container .tab', { hasText: 'shop.yaml' }).waitFor({ state: 'visible' });

  // The Problems panel lists the findings with their rule and category.
  await ctx.runCommand('Problems: Focus on Problems View');
  const problems = page.locator('.markers-panel .monaco-list-row');
  const serverProblem = problems.filter({ hasText: SERVER_RULE });
  await serverProblem.first().waitFor({ state: 'visible' });
  const count = await problems.count();
  assert.ok(count > 3, `several problems are listed (${count})`);
  assert.match((await serverProblem.first().textContent()) ?? '', /CogniForge OWASP/);
  await ctx.screenshot('problems-dark');

  // Quick fix at the finding: switch the server to https, save, and the diagnostic goes.
  // Go to the finding by its position (clicking the row can land on a neighbour when the list
  // re-renders under the pointer, as a hover appears).
  const [, line, column] = /\[Ln (\d+), Col (\d+)\]/.exec((await serverProblem.first().textContent()) ?? '') ?? [];
  assert.ok(line && column, 'the problem names its position');
  await page.locator('.tabs-container .tab', { hasText: 'shop.yaml' }).click();
  await ctx.runCommand('Go to Line/Column...');
  await page.keyboard.type(`${line}:${column}`);
  await page.keyboard.press('Enter');
  await page.locator('.monaco-editor textarea').first().focus();
  await page.keyboard.press('Control+.');
  const fix = page.locator('.action-widget .monaco-list-row', { hasText: 'Switch to https' });
  await fix.first().waitFor({ state: 'visible' });
  await ctx.screenshot('quick-fix');
  // A pointer block covers the menu while it opens: choose the row with the keyboard.
  const focused = page.locator('.action-widget .monaco-list-row.focused');
  for (let step = 0; !/Switch to https/.test((await focused.textContent().catch(() => '')) ?? ''); step++) {
    assert.ok(step < 10, 'the quick fix can be focused');
    await page.keyboard.press('ArrowDown');
  }
  await page.keyboard.press('Enter');
  await fix.first().waitFor({ state: 'hidden' });
  await ctx.runCommand('File: Save');
  await ctx.waitFor(() => readFileSync(specPath, 'utf8').includes('url: https://shop.example.com/v1'), { what: 'the fix to be saved' });
  await ctx.waitFor(async () => (await serverProblem.count()) === 0, { timeoutMs: 30_000, what: `the ${SERVER_RULE} diagnostic to disappear` });
  assert.ok((await problems.count()) > 0, 'the other findings stay');
  ctx.log(`problems: ${count} before the fix, server finding gone after save`);

  await ctx.screenshot('after-fix-dark');
  await ctx.setTheme('Default Light Modern');
  await ctx.screenshot('after-fix-light');
  await ctx.setTheme('Default Dark Modern');

  await compareWithTag(ctx);
  await governanceDashboard(ctx);
  await auditFileAndRuntimeSections(ctx);
}

const ORDERS_V1 = `openapi: 3.0.3
info: {title: Orders, version: "1.0.0"}
servers: [{url: "https://orders.example.com"}]
paths:
  /orders:
    get:
      operationId: listOrders
      responses:
        "200":
          description: the orders
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  required: [id, total]
                  properties:
                    id: {type: string}
                    total: {type: number}
                    status: {type: string, enum: [open, paid]}
  /orders/{id}:
    delete:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "204": {description: deleted}
`;

const ORDERS_V2 = `openapi: 3.0.3
info: {title: Orders, version: "2.0.0"}
servers: [{url: "https://orders.example.com"}]
paths:
  /orders:
    get:
      operationId: listOrders
      parameters:
        - {name: region, in: query, required: true, schema: {type: string}}
      responses:
        "200":
          description: the orders
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  required: [id]
                  properties:
                    id: {type: string}
                    status: {type: string, enum: [open, paid, refunded]}
`;

/** The workspace becomes a git repository whose tag v1.0.0 holds the old contract; the working tree has the new one. */
async function compareWithTag(ctx) {
  const { page } = ctx;
  const dir = ctx.workspaceDir;
  const contract = join(dir, 'api', 'orders.yaml');
  writeFileSync(contract, ORDERS_V1);
  const env = { ...process.env, GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.com', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.com' };
  const git = (...args) => execFileSync('git', args, { cwd: dir, env, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('add', 'api/orders.yaml');
  git('commit', '-q', '-m', 'orders v1');
  git('tag', 'v1.0.0');
  writeFileSync(contract, ORDERS_V2);

  await ctx.closeAllEditors();
  await ctx.runCommand('CogniForge: Compare API Contract with…');
  // No spec is active: the command asks which one, then which branch or tag.
  await ctx.pickQuickInputItem('api/orders.yaml', 'contract');
  await ctx.pickQuickInputItem('v1.0.0', 'tag');
  // The command reveals its view when the report is in; expanding the view before that would race it.
  await page.locator('.notification-toast', { hasText: /3 breaking change\(s\), 1 warning\(s\), 0 info against v1\.0\.0:api\/orders\.yaml/ }).waitFor({ state: 'visible', timeout: 60_000 });

  const pane = await ctx.focusView('API Contract Changes');
  const rows = pane.locator('.pane-body .monaco-list-row');
  const summary = rows.filter({ hasText: 'Breaking changes against v1.0.0:api/orders.yaml' });
  await summary.waitFor({ state: 'visible', timeout: 60_000 });
  assert.match((await summary.textContent()) ?? '', /3 breaking · 1 warnings · 0 info/);
  for (const rule of ['path-removed', 'required-parameter-added', 'response-property-removed', 'response-enum-value-added']) {
    await rows.filter({ hasText: rule }).first().waitFor({ state: 'visible' });
  }
  ctx.log(`compare: ${(await summary.textContent())?.trim()}`);
  await ctx.screenshot('compare-tag-dark');

  // A click opens the new contract at the change.
  await rows.filter({ hasText: 'required-parameter-added' }).first().click();
  await page.locator('.tabs-container .tab', { hasText: 'orders.yaml' }).waitFor({ state: 'visible' });
  await ctx.runCommand('Problems: Focus on Problems View');
  const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'region' });
  await problem.first().waitFor({ state: 'visible' });
  await ctx.screenshot('compare-tag-problems');
}

// ------------------------------------------------------------------------------------------------
// Governance dashboard (webview/governance): the compliance matrix per document, the score over time
// and the latest breaking-change report (the comparison above made one).

/** The audits, the comparison and the dashboard step together outlast the default scenario timeout. */
export const timeoutMs = 300_000;

const GOVERNANCE_DASHBOARD_TITLE = 'CogniForge Governance';

/** @param {any} frame the dashboard's webview frame */
async function checkGovernanceDashboard(frame) {
  const rows = frame.getByTestId('gov-row');
  await rows.filter({ hasText: 'api/shop.yaml' }).waitFor({ timeout: 30_000 });
  await rows.filter({ hasText: 'api/orders.yaml' }).waitFor();
  assert.match((await frame.getByTestId('gov-score').textContent()) ?? '', /OWASP score [\d.]+\/100/);
  const shop = rows.filter({ hasText: 'api/shop.yaml' });
  assert.equal(await shop.locator('button.gov-cell').count(), 10, 'a cell per OWASP category');
  assert.equal(await shop.getByTestId('gov-cell-API4').getAttribute('data-status'), 'fail');
  assert.match((await shop.getByTestId('gov-cell-API4').getAttribute('aria-label')) ?? '', /API4 Unrestricted Resource Consumption: fail \(\d+ error/);
  assert.match((await frame.getByTestId('gov-score-chart').getAttribute('aria-label')) ?? '', /^\d+ audits?; score from/);
  assert.match((await frame.getByTestId('gov-breaking-summary').textContent()) ?? '', /^v1\.0\.0:api\/orders\.yaml → api\/orders\.yaml, .*3 breaking changes/);
  const box = await frame.getByTestId('gov-score-chart').boundingBox();
  assert.ok(box && box.height > 100, 'the score chart is drawn');
}

/** @param {any} ctx see test/e2e/run.mjs */
async function governanceDashboard(ctx) {
  const { page } = ctx;
  // Audit again with both contracts known: the matrix shows both and the history gains a point.
  await ctx.runCommand('CogniForge: Audit Workspace');
  await ctx.runCommand('Notifications: Clear All Notifications');
  await ctx.closeAllEditors();
  // The Problems panel would cover half the dashboard.
  if (await page.locator('.part.panel').isVisible()) await ctx.runCommand('View: Toggle Panel Visibility');
  await ctx.runCommand('CogniForge: Open Governance Dashboard');
  let frame = await ctx.webviewFrame(GOVERNANCE_DASHBOARD_TITLE);
  await checkGovernanceDashboard(frame);
  ctx.log(`dashboard: ${(await frame.getByTestId('gov-subtitle').textContent())?.trim()}`);

  for (const [theme, shot, workbenchClass, bodyClass] of [
    ['Default Light Modern', 'governance-dashboard-light', 'vs', 'vscode-light'],
    ['Default Dark Modern', 'governance-dashboard-dark', 'vs-dark', 'vscode-dark'],
  ]) {
    await ctx.setTheme(theme);
    await page.locator(`.monaco-workbench.${workbenchClass}`).waitFor({ state: 'attached' });
    frame = await ctx.webviewFrame(GOVERNANCE_DASHBOARD_TITLE);
    await ctx.waitFor(() => frame.evaluate((c) => document.body.classList.contains(c), bodyClass), { what: `the dashboard to use ${theme}` });
    await checkGovernanceDashboard(frame);
    // The audit's own toast may come after the first clear.
    await ctx.runCommand('Notifications: Clear All Notifications');
    await ctx.screenshot(shot);
  }

  // A cell opens its document at the category's first finding.
  await frame.getByTestId('gov-row').filter({ hasText: 'api/shop.yaml' }).getByTestId('gov-cell-API4').click();
  await page.locator('.tabs-container .tab', { hasText: 'shop.yaml' }).waitFor({ state: 'visible' });
}

// ------------------------------------------------------------------------------------------------
// Audit OpenAPI File on the open flawed spec, and the Governance view's API Versions and Rate-Limit
// Policies sections (the daemon seeds v1 deprecated, v2 active and three policies on first start).

/** @param {any} ctx see test/e2e/run.mjs */
async function auditFileAndRuntimeSections(ctx) {
  const { page } = ctx;
  // The dashboard step ended by opening api/shop.yaml from a matrix cell: it is the active editor.
  await page.locator('.tabs-container .tab.active', { hasText: 'shop.yaml' }).waitFor({ state: 'visible' });
  await ctx.runCommand('Notifications: Clear All Notifications');
  await ctx.runCommand('CogniForge: Audit OpenAPI File');
  const toast = page.locator('.notification-toast', { hasText: /api\/shop\.yaml: OWASP score \d+\/100, \d+ finding\(s\)\./ });
  await toast.waitFor({ state: 'visible', timeout: 60_000 });
  ctx.log(`audit file: ${(await toast.textContent())?.trim()}`);
  await page.locator('.notification-toast', { hasText: 'auditing api/shop.yaml' }).waitFor({ state: 'hidden' });
  await ctx.screenshot('audit-file-toast');
  await ctx.runCommand('Notifications: Clear All Notifications');

  // A version created through the daemon shows up from its appended event, without a refresh.
  await ctx.rpc('governance/createVersion', { version: 'v3', releasedAt: '2026-11-01T00:00:00.000Z' });

  const pane = await ctx.focusView('Governance');
  const rows = pane.locator('.pane-body .monaco-list-row');
  // The sections come after the audited documents: jump to the end of the tree so they render.
  await rows.filter({ hasText: /OWASP score \d+\/100/ }).click();
  await page.keyboard.press('End');
  await rows.filter({ hasText: 'Rate-Limit Policies' }).waitFor({ state: 'visible', timeout: 30_000 });
  for (const [client, text] of [
    ['anonymous', /10\/min · 100\/h · 1,000\/day · burst 20 · hard/],
    ['authenticated', /100\/min · 5,000\/h · 50,000\/day · burst 150 · hard/],
    ['premium', /1,000\/min · 50,000\/h · 500,000\/day · burst 1,500 · soft/],
  ]) {
    const row = rows.filter({ hasText: client });
    await row.waitFor({ state: 'visible' });
    assert.match((await row.textContent()) ?? '', text, `the ${client} policy shows its limits`);
  }
  const versionRow = (name) => rows.filter({ hasText: new RegExp(`^\\s*${name}\\s*(active|deprecated|sunset|retired)`) });
  await versionRow('v1').waitFor({ state: 'visible', timeout: 30_000 });
  assert.match((await versionRow('v1').textContent()) ?? '', /v1\s*deprecated · since 2025-10-12 · sunset 2026-04-12/);
  assert.match((await versionRow('v2').textContent()) ?? '', /v2\s*active · released 2025-10-12 · supported until 2027-10-12/);
  await ctx.waitFor(async () => (await versionRow('v3').count()) > 0, { timeoutMs: 30_000, what: 'v3 to appear from its appended event' });
  assert.match((await rows.filter({ hasText: 'API Versions' }).textContent()) ?? '', /2 active · 1 deprecated/);
  ctx.log(`versions: ${(await rows.filter({ hasText: 'API Versions' }).textContent())?.trim()}`);
  await ctx.screenshot('versions-policies-dark');

  // The tooltip shows the headers governance/headersFor gives a gateway for the deprecated version.
  await versionRow('v1').hover();
  const hover = page.locator('.monaco-hover, .workbench-hover', { hasText: 'Response headers:' });
  await hover.first().waitFor({ state: 'visible', timeout: 15_000 });
  assert.match((await hover.first().textContent()) ?? '', /Deprecation: @\d+/);
  await ctx.screenshot('version-headers-tooltip');

  // Advance Version Lifecycle… from v1's context menu offers the next state only, after a modal.
  await page.mouse.move(0, 0);
  await versionRow('v1').click({ button: 'right' });
  const menuItem = page.locator('.context-view .monaco-menu .action-item', { has: page.locator('.action-label', { hasText: /^Advance Version Lifecycle…$/ }) });
  await menuItem.waitFor({ state: 'visible' });
  await menuItem.hover();
  await page.locator('.context-view .monaco-menu .action-item.focused', { hasText: 'Advance Version Lifecycle' }).waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  const dialog = page.locator('.monaco-dialog-box', { hasText: 'Move API version v1 from deprecated to sunset?' });
  await dialog.waitFor({ state: 'visible' });
  await ctx.screenshot('version-advance-confirm');
  await dialog.locator('.monaco-button', { hasText: /^Mark sunset$/ }).click();
  await page.locator('.notification-toast', { hasText: 'API version v1 is now sunset.' }).waitFor({ state: 'visible', timeout: 15_000 });
  await rows.filter({ hasText: /^\s*v1\s*sunset/ }).waitFor({ state: 'visible', timeout: 15_000 });
  const { versions } = await ctx.rpc('governance/versions', {});
  assert.equal(versions.find((v) => v.version === 'v1')?.status, 'sunset', 'the daemon moved v1 to sunset');
}
