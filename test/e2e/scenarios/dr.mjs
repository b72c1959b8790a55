// Issue 5's disaster-recovery checks in the real editor: a plan whose first step is a real command
// and whose second is a manual step; its backup verified from the row's menu; a drill started from
// the palette, its manual step answered in the modal, the row then showing the passed drill with its
// steps, in a light and a dark theme.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const name = 'dr: verify a backup, run a drill with a command and a manual step, row shows success';

const PLAN = { id: 'e2e_dr_store', name: 'E2E store recovery', service: 'e2e-dr-store' };
const BACKUP_ID = 'e2e-dr-store-backup';

/** @param {any} ctx see test/e2e/run.mjs */
export async function run(ctx) {
  const { page } = ctx;

  // ctx.rpc uses the owner token, so it may create a plan with a command step (an admin action).
  await ctx.rpc('dr/deletePlan', { id: PLAN.id }).catch(() => undefined);
  await ctx.rpc('backups/delete', { id: BACKUP_ID }).catch(() => undefined);
  await ctx.rpc('dr/createPlan', {
    id: PLAN.id,
    name: PLAN.name,
    description: 'Restores the e2e store from its snapshot.',
    services: [PLAN.service],
    strategy: 'backup_restore',
    rtoSeconds: 300,
    rpoSeconds: 3600,
    testEveryDays: 7,
    steps: [
      {
        id: 'restore',
        name: 'Restore snapshot',
        action: { kind: 'command', executable: process.execPath, args: ['-e', "console.log('restored ' + 42)"], timeoutMs: 30_000 },
      },
      { id: 'confirm_traffic', name: 'Confirm traffic', action: { kind: 'manual', instructions: 'Open the store page and check that it answers.' } },
    ],
  });
  const backupDir = join(ctx.workspaceDir, 'e2e-dr-backups');
  mkdirSync(backupDir, { recursive: true });
  const backupFile = join(backupDir, 'store.dump');
  const content = `store snapshot ${Date.now()}\n`;
  writeFileSync(backupFile, content);
  await ctx.rpc('backups/register', {
    id: BACKUP_ID,
    service: PLAN.service,
    location: backupFile,
    createdAt: new Date().toISOString(),
    sizeBytes: Buffer.byteLength(content),
    sha256: createHash('sha256').update(content).digest('hex'),
  });

  // Room for the plan rows and their children: every other view folds.
  const pane = await ctx.focusView('Disaster Recovery');

  const row = pane.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${PLAN.name}$`) }) });
  const description = row.locator('.label-description');
  await description.filter({ hasText: 'never drilled · overdue · RPO unproven' }).waitFor({ state: 'visible', timeout: 15_000 });
  await ctx.screenshot('dr-plan-never-drilled');

  // Verify the plan's backup from the row's context menu: the daemon re-reads the file.
  await dismissToasts(page);
  await row.click({ button: 'right' });
  await chooseMenuItem(page, 'Verify Backups');
  await page.locator('.notification-toast', { hasText: 'Verified 1 of 1 backup.' }).waitFor({ state: 'visible', timeout: 15_000 });
  const [verified] = (await ctx.rpc('backups/list', { service: PLAN.service })).backups;
  assert.equal(verified.state, 'verified');
  await description.filter({ hasText: /^never drilled · overdue$/ }).waitFor({ state: 'visible', timeout: 15_000 });

  // A drill from the palette: the plan is picked, the command step runs, the manual step asks.
  await ctx.runCommand('Notifications: Clear All Notifications');
  await ctx.runCommand('CogniForge: Start DR Drill');
  // The plans pick opens after the daemon answered: type to filter, then take the focused match.
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await page.locator('.quick-input-widget .quick-input-list .label-name', { hasText: PLAN.name }).waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(PLAN.name);
  const focused = page.locator('.quick-input-widget .quick-input-list .monaco-list-row.focused .label-name').first();
  await ctx.waitFor(async () => ((await focused.textContent().catch(() => '')) ?? '').trim() === PLAN.name, { what: `"${PLAN.name}" to be focused in the pick` });
  await input.press('Enter');
  const dialog = page.locator('.monaco-dialog-box', { hasText: `Manual step of "${PLAN.name}": Confirm traffic` });
  await dialog.waitFor({ state: 'visible', timeout: 30_000 });
  assert.match((await dialog.textContent()) ?? '', /Open the store page and check that it answers\./);
  await ctx.screenshot('dr-manual-step-prompt');
  const waiting = (await ctx.rpc('dr/listRuns', { planId: PLAN.id, limit: 1 })).runs[0];
  assert.equal(waiting.status, 'waiting');
  assert.equal(waiting.steps[0].status, 'succeeded', 'the command step ran before the manual step');
  await dialog.locator('.monaco-button', { hasText: /^Done$/ }).click();

  // The end message names the measured RTO against the objective.
  const outcome = page.locator('.notification-toast', { hasText: `Drill of "${PLAN.name}" succeeded: RTO` });
  await outcome.waitFor({ state: 'visible', timeout: 30_000 });
  ctx.log(`outcome: ${(await outcome.locator('.notification-list-item-message').textContent())?.trim()}`);
  assert.match((await outcome.textContent()) ?? '', /within the 5m objective/);
  const [finished] = (await ctx.rpc('dr/listRuns', { planId: PLAN.id, limit: 1 })).runs;
  assert.equal(finished.status, 'succeeded');
  assert.equal(finished.rto.met, true);
  assert.match(finished.steps[0].stdoutTail ?? '', /restored 42/, 'the command really ran');
  assert.equal(finished.steps[1].status, 'succeeded');

  // The row: a passed drill, no longer overdue, with a green icon; its children list the steps.
  await description.filter({ hasText: /^drill succeeded just now$/ }).waitFor({ state: 'visible', timeout: 15_000 });
  await row.locator('.codicon-pass').waitFor({ state: 'visible' });
  await row.locator('.monaco-tl-twistie').click();
  const lastDrill = pane.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: /^Last drill$/ }) });
  await lastDrill.waitFor({ state: 'visible' });
  await lastDrill.locator('.monaco-tl-twistie').click();
  const stepRow = (label) => pane.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: label }) }).locator('.label-description');
  await stepRow('1. Restore snapshot').filter({ hasText: /^done · / }).waitFor({ state: 'visible' });
  await stepRow('2. Confirm traffic').filter({ hasText: /^done · .* · by / }).waitFor({ state: 'visible' });
  // Past runs under the plan: outcome, age and the measured duration against the RTO.
  const history = pane.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: /^Run history$/ }) });
  await history.locator('.label-description').filter({ hasText: /^last 1 · 1 within RTO$/ }).waitFor({ state: 'visible' });
  await lastDrill.locator('.monaco-tl-twistie').click();
  await history.locator('.monaco-tl-twistie').click();
  await stepRow(/^Drill succeeded$/).filter({ hasText: /^just now · took .* of .* RTO \(met\)$/ }).waitFor({ state: 'visible' });

  await ctx.runCommand('Notifications: Clear All Notifications');
  await ctx.setTheme('Default Light Modern');
  await page.locator('.monaco-workbench.vs').waitFor({ state: 'attached' });
  await ctx.screenshot('dr-drill-succeeded-light');
  await ctx.setTheme('Default Dark Modern');
  await page.locator('.monaco-workbench.vs-dark').waitFor({ state: 'attached' });
  await ctx.screenshot('dr-drill-succeeded-dark');

  await ctx.rpc('dr/deletePlan', { id: PLAN.id });
  await ctx.rpc('backups/delete', { id: BACKUP_ID });
  await row.waitFor({ state: 'detached', timeout: 15_000 });
}

async function dismissToasts(page) {
  for (const close of await page.locator('.notification-toast .codicon-notifications-clear').all()) {
    await close.click({ force: true }).catch(() => undefined);
  }
  await page.locator('.notification-toast').first().waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
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
