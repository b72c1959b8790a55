// Issue 3's real-editor checks: the CogniForge container with its six views and their welcome
// content, the status bar item, the Overview dashboard with live data in three themes, and stopping
// and starting the daemon from the Command Palette.
import assert from 'node:assert/strict';

export const name = 'foundation: views, status bar, live Overview, themes, stop/start daemon';

/** View title → a phrase of the welcome it shows while the daemon is connected. */
const VIEWS = {
  // The seeded SLOs fill this one from the first start.
  SLOs: undefined,
  'Incidents & On-call': 'Open incidents',
  // Seeded DR plans and configuration fill these two from the first start.
  'Disaster Recovery': undefined,
  'Secrets & Config': undefined,
  // Connected, the Governance view lists API versions and rate-limit policies, so no welcome shows.
  Governance: undefined,
  // This one fills with streams once there are events; until then it welcomes.
  'Events & Resilience': undefined,
};
const OVERVIEW_TITLE = 'CogniForge Overview';
const STREAM = 'default';

/** @param {any} ctx see test/e2e/run.mjs */
export async function run(ctx) {
  const { page } = ctx;

  // The container and its views.
  const sidebar = await ctx.openActivityContainer('CogniForge');
  for (const [title, phrase] of Object.entries(VIEWS)) {
    const pane = sidebar.locator('.pane').filter({ has: page.locator('.pane-header h3.title', { hasText: exact(title) }) });
    await pane.waitFor({ state: 'visible' });
    const header = pane.locator('.pane-header');
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    const body = pane.locator('.pane-body');
    const welcome = body.locator('.welcome-view-content');
    if (phrase) {
      await welcome.filter({ hasText: phrase }).waitFor({ state: 'visible' });
      // Every welcome offers a way on (a button or a link), not just text.
      assert.ok((await welcome.locator('a, .monaco-button').count()) > 0, `the welcome of "${title}" has no button or link`);
    } else {
      await ctx.waitFor(
        async () => (await welcome.isVisible()) || (await body.locator('.monaco-list-row').count()) > 0,
        { what: `"${title}" to show its welcome or its rows` },
      );
    }
  }
  await ctx.screenshot('container-views');

  // The status bar names the product and the state in words.
  const status = await ctx.waitForStatusBar(['CogniForge', /\bconnected\b/]);
  ctx.log(`status bar: ${status}`);

  // The Overview renders live figures from the daemon.
  await ctx.runCommand('CogniForge: Open Overview Dashboard');
  let overview = await ctx.webviewFrame(OVERVIEW_TITLE);
  await overview.getByTestId('overview-health').filter({ hasText: /^ok$/i }).waitFor();
  const uptime = await text(overview, 'overview-uptime');
  assert.notEqual(uptime, '—', 'uptime is shown');
  const logBytes = await text(overview, 'overview-log-bytes');
  assert.match(logBytes, /\d/, 'event-log size is shown');
  await overview.getByTestId('overview-streams-chart').waitFor({ state: 'attached' });
  ctx.log(`overview: health ok, uptime ${uptime}, log ${logBytes}`);
  await ctx.screenshot('overview');

  // Live: an event published through the daemon's API shows up in the stream counts.
  const before = await streamEvents(overview, STREAM);
  const published = await ctx.rpc('events/publish', { type: 'e2e.foundation.ping', stream: STREAM, payload: { from: 'e2e' } });
  assert.equal(published.stream, STREAM);
  await ctx.waitFor(async () => (await streamEvents(overview, STREAM)) > before, {
    timeoutMs: 15_000,
    what: `the Overview's "${STREAM}" stream count to grow past ${before}`,
  });
  const after = await streamEvents(overview, STREAM);
  ctx.log(`stream "${STREAM}": ${before} → ${after} events`);
  const chartLabel = (await overview.getByTestId('overview-streams-chart').getAttribute('aria-label')) ?? '';
  assert.match(chartLabel, new RegExp(`${STREAM} ${after}\\b`), `the chart describes the new count (${chartLabel})`);
  // The event-log card follows the stream counts: never "0 B" beside a stream that holds events.
  await ctx.waitFor(async () => !/^0\s*B$/.test(await text(overview, 'overview-log-bytes')), {
    timeoutMs: 5_000,
    what: 'the event-log card to show the bytes of the published event',
  });
  await ctx.screenshot('overview-after-publish');

  // Readable in light, dark and high contrast.
  for (const [theme, shot] of [
    ['Default Light Modern', 'overview-light'],
    ['Default Dark Modern', 'overview-dark'],
    ['Default High Contrast', 'overview-high-contrast'],
  ]) {
    await ctx.setTheme(theme);
    overview = await ctx.webviewFrame(OVERVIEW_TITLE);
    await overview.getByTestId('overview-health').filter({ hasText: /^ok$/i }).waitFor();
    await ctx.screenshot(shot);
  }
  await ctx.setTheme('Default Dark Modern');

  // Stop the daemon from the Command Palette: the status bar and the dashboard say so.
  const stoppedPid = ctx.daemon.pid;
  await ctx.runCommand('CogniForge: Stop Daemon');
  await ctx.waitForStatusBar(['CogniForge', /\b(stopped|reconnecting)\b/]);
  await ctx.waitFor(() => ctx.daemon.runtime === undefined, { what: 'the daemon to remove its runtime file' });
  overview = await ctx.webviewFrame(OVERVIEW_TITLE);
  await overview.getByTestId('overview-banner').waitFor({ state: 'visible' });
  ctx.log(`after stop: ${await ctx.waitForStatusBar('CogniForge')}; banner: ${await text(overview, 'overview-banner-text')}`);
  await ctx.screenshot('daemon-stopped');

  // And start it again: a new daemon on the same data dir, connected, live figures back.
  await ctx.runCommand('CogniForge: Start Daemon');
  const restarted = await ctx.daemon.waitForRuntime({ previousPid: stoppedPid, timeoutMs: 30_000 });
  await ctx.waitForStatusBar(['CogniForge', /\bconnected\b/]);
  overview = await ctx.webviewFrame(OVERVIEW_TITLE);
  await overview.getByTestId('overview-health').filter({ hasText: /^ok$/i }).waitFor();
  await overview.getByTestId('overview-banner').waitFor({ state: 'hidden' });
  // The event log survived the restart.
  await ctx.waitFor(async () => (await streamEvents(overview, STREAM)) >= after, { what: `"${STREAM}" to still count ${after} events` });
  ctx.log(`daemon restarted by the extension: pid ${restarted.pid} on port ${restarted.port}`);
  await ctx.screenshot('daemon-restarted');
}

function exact(s) {
  return new RegExp(`^${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

async function text(frame, testId) {
  return ((await frame.getByTestId(testId).textContent()) ?? '').trim();
}

/** Events the dashboard's table shows for a stream (0 when the stream has no row yet). */
async function streamEvents(frame, stream) {
  const row = frame.locator(`[data-testid="overview-streams-table"] tr[data-stream="${stream}"] td.num`).first();
  if ((await row.count()) === 0) return 0;
  return Number(((await row.textContent()) ?? '').replace(/[^\d]/g, ''));
}
