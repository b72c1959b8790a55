// Issue 7's editor half: a flawed OpenAPI file audited against the OWASP API Top 10, its findings in
// the Governance view and the Problems panel, and a quick fix that removes its diagnostic on save.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const name = 'governance: OWASP diagnostics, quick fix on save, Governance view';

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
  await ctx.runCommand('CogniForge: Audit API Contracts');
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
  await serverProblem.first().click();
  await serverProblem.first().dblclick();
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
}
