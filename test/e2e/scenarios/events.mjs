// Issue 8's events checks in the real editor: published events appear in the live tail (paused,
// filtered, resumed); a real client process (dist/client.js) consumes a durable subscription whose
// handler fails until the event is parked in the dead-letter queue; the dead letter is retried from
// the view's inline action and handled; the Events dashboard shows the figures and inspects an event
// with its correlated events; a replay through the QuickPick flow re-delivers events; light and dark.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../setup.mjs';

export const name = 'events: live tail, a failing handler parks its event in the DLQ, retried from the view; dashboard inspector; replay';
export const timeoutMs = 240_000;

const SUBSCRIPTION = 'e2e-billing';
const CORRELATION = `e2e-order-${Date.now()}`;

/**
 * A user's consumer: the client library's `subscribe(name, filter, handler)`. The handler fails for
 * `bad` orders unless the delivery is a dead-letter retry, so the event is parked after its two
 * attempts and handled once it is retried.
 */
const CONSUMER = `
const { connect } = require(${JSON.stringify(join(repoRoot, 'dist', 'client.js'))});
(async () => {
  const client = await connect({ dataDir: process.argv[2], clientName: 'e2e-consumer' });
  await client.subscribe(${JSON.stringify(SUBSCRIPTION)}, { types: ['e2e.order.*'] }, async (event, info) => {
    if (event.payload && event.payload.bad && info.dlqEntryId === undefined) throw new Error('cannot ship order ' + event.payload.n);
    console.log('handled ' + event.seq + (info.dlqEntryId ? ' from the DLQ' : '') + (info.replay ? ' (replay)' : ''));
  }, { maxAttempts: 2, ackTimeoutMs: 5000, backoff: { initialMs: 50, maxMs: 200, jitter: 0 } });
  console.log('subscribed');
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** @param {any} ctx see test/e2e/run.mjs */
export async function run(ctx) {
  const { page } = ctx;
  await ctx.rpc('events/deleteSubscription', { name: SUBSCRIPTION }).catch(() => undefined);

  const script = join(ctx.workspaceDir, 'e2e-consumer.cjs');
  writeFileSync(script, CONSUMER);
  const consumer = spawn(process.execPath, [script, ctx.daemon.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  consumer.stdout.on('data', (d) => (output += d));
  consumer.stderr.on('data', (d) => (output += d));
  try {
    await ctx.waitFor(() => output.includes('subscribed'), { timeoutMs: 20_000, what: `the consumer to subscribe (it said: ${output})` });

    const pane = await ctx.focusView('Events & Resilience');
    const row = (label) => pane.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${escape(label)}$`) }) });
    const tailRow = row('Live Tail');
    await tailRow.waitFor({ state: 'visible', timeout: 15_000 });
    await row(SUBSCRIPTION).locator('.label-description').filter({ hasText: /attached/ }).waitFor({ state: 'visible', timeout: 15_000 });

    // The tail follows published events, newest first.
    const publish = (type, payload, extra = {}) => ctx.rpc('events/publish', { type, payload, correlationId: CORRELATION, ...extra });
    const first = await publish('e2e.order.placed', { n: 1 });
    await publish('e2e.audit.noted', { n: 2 });
    await pane.locator('.monaco-list-row .label-description', { hasText: new RegExp(`^#${first.seq} · `) }).waitFor({ state: 'visible', timeout: 15_000 });

    // Filter by type: only order events stay.
    await ctx.runCommand('CogniForge: Filter Live Tail by Type…');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.fill('e2e.order.*');
    await input.press('Enter');
    await tailRow.locator('.label-description').filter({ hasText: 'following · e2e.order.*' }).waitFor({ state: 'visible' });
    await row('e2e.audit.noted').waitFor({ state: 'detached', timeout: 10_000 });

    // Paused: the list holds still and counts what it misses; resumed: it follows again.
    await tailRow.hover();
    await tailRow.locator('.action-label[aria-label="Pause Live Tail"]').click();
    await tailRow.locator('.label-description').filter({ hasText: /^paused/ }).waitFor({ state: 'visible' });
    await publish('e2e.order.paid', { n: 3 });
    await tailRow.locator('.label-description').filter({ hasText: 'paused · 1 event missed · e2e.order.*' }).waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await row('e2e.order.paid').count(), 0, 'a paused tail shows no new event');
    await tailRow.hover();
    await tailRow.locator('.action-label[aria-label="Resume Live Tail"]').click();
    await tailRow.locator('.label-description').filter({ hasText: 'following · e2e.order.*' }).waitFor({ state: 'visible' });

    // A bad order: the handler fails twice and the event is parked in the DLQ.
    const bad = await publish('e2e.order.placed', { n: 4, bad: true });
    await row('e2e.order.placed').locator('.label-description', { hasText: new RegExp(`^#${bad.seq} · `) }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await ctx.waitFor(async () => (await ctx.rpc('events/dlqList', { subscription: SUBSCRIPTION })).entries.length === 1, { timeoutMs: 20_000, what: 'the bad order to be parked' });
    const dlqRow = pane.locator('.monaco-list-row', { has: page.locator('.label-description', { hasText: new RegExp(`^#${bad.seq} · ${SUBSCRIPTION} · 2 attempts$`) }) });
    await dlqRow.waitFor({ state: 'visible', timeout: 15_000 });
    await row('Dead Letters').locator('.label-description').filter({ hasText: '1 parked' }).waitFor({ state: 'visible' });
    await row(SUBSCRIPTION).locator('.label-description').filter({ hasText: /1 parked/ }).waitFor({ state: 'visible' });
    await ctx.screenshot('events-view-dead-letter-dark');

    // Retry it from the row's inline action: handed back once, handled by the consumer.
    await dlqRow.hover();
    await dlqRow.locator('.action-label[aria-label="Retry Dead Letter"]').click();
    await page.locator('.notification-toast', { hasText: `Handed "e2e.order.placed" (seq ${bad.seq}) back to ${SUBSCRIPTION}.` }).waitFor({ state: 'visible', timeout: 15_000 });
    await ctx.waitFor(() => output.includes(`handled ${bad.seq} from the DLQ`), { timeoutMs: 20_000, what: `the consumer to handle the retried event (it said: ${output})` });
    await ctx.waitFor(async () => (await ctx.rpc('events/dlqList', { subscription: SUBSCRIPTION, status: 'delivered' })).entries.length === 1, { timeoutMs: 15_000, what: 'the retry to be acked' });
    await row('Dead Letters').locator('.label-description').filter({ hasText: '0 parked' }).waitFor({ state: 'visible', timeout: 15_000 });
    await row('No dead letters').waitFor({ state: 'visible' });

    // The tail row opens the dashboard's inspector on that event, with the events correlated to it.
    await ctx.runCommand('Notifications: Clear All Notifications');
    await pane.locator('.monaco-list-row', { has: page.locator('.label-description', { hasText: new RegExp(`^#${bad.seq} · default · `) }) }).click();
    const frame = await ctx.webviewFrame('CogniForge Events');
    await frame.locator('[data-testid="events-card-events"] .value').waitFor({ state: 'visible', timeout: 15_000 });
    await frame.locator('[data-testid="events-inspector-title"]', { hasText: `e2e.order.placed #${bad.seq}` }).waitFor({ state: 'visible', timeout: 15_000 });
    assert.ok((await frame.locator('[data-testid="events-recent-row"]').count()) > 0, 'the newest events are listed');
    const note = (await frame.locator('[data-testid="events-correlated-note"]').textContent()) ?? '';
    assert.match(note, /^[3-9]\d* correlated events/, `the other orders share the correlation id (${note})`);
    assert.match((await frame.locator('[data-testid="events-inspector-json"]').textContent()) ?? '', /"bad": true/);
    const activity = (await frame.locator('[data-testid="events-activity-chart"]').getAttribute('aria-label')) ?? '';
    assert.match(activity, /default \d+/, `the chart counts the published events (${activity})`);
    await ctx.screenshot('events-dashboard-dark');

    // Replay through the QuickPick flow: the consumer gets the range again, marked as replay.
    // Each pick is typed first: the helper tells an accepted pick by the next box's changed text.
    await ctx.runCommand('CogniForge: Replay Events…');
    await page.locator('.quick-input-widget .quick-input-list .label-name', { hasText: SUBSCRIPTION }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(SUBSCRIPTION);
    await ctx.pickQuickInputItem(SUBSCRIPTION, 'subscription');
    await input.fill('e2e.order.*');
    await input.press('Enter');
    await page.locator('.quick-input-widget .quick-input-list .label-name', { hasText: /^default$/ }).first().waitFor({ state: 'visible' });
    await input.press('Enter');
    await page.locator('.quick-input-widget .quick-input-list .label-name', { hasText: /^Sequence range$/ }).waitFor({ state: 'visible' });
    await input.fill('Sequence');
    await ctx.pickQuickInputItem('Sequence range', 'range kind');
    // Up to the bad order, which would fail again: the two good orders come back, marked replay.
    await input.fill(`${first.seq}-${bad.seq - 1}`);
    await input.press('Enter');
    await page.locator('.notification-toast', { hasText: `2 events of seq ${first.seq}–${bad.seq - 1} re-delivered to ${SUBSCRIPTION}` }).waitFor({ state: 'visible', timeout: 20_000 });
    await ctx.waitFor(() => output.includes(`handled ${first.seq} (replay)`), { timeoutMs: 20_000, what: `the consumer to get the replayed events (it said: ${output})` });

    await ctx.runCommand('Notifications: Clear All Notifications');
    await ctx.setTheme('Default Light Modern');
    await ctx.screenshot('events-dashboard-light');
    await ctx.closeAllEditors();
    await ctx.focusView('Events & Resilience');
    await ctx.screenshot('events-view-light');
    await ctx.setTheme('Default Dark Modern');
  } finally {
    consumer.kill('SIGTERM');
    await ctx.rpc('events/deleteSubscription', { name: SUBSCRIPTION }).catch(() => undefined);
  }
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
