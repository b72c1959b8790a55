import * as vscode from 'vscode';
import { registerDaemon } from './daemon/registerDaemon';
import { registerDr } from './features/dr/registerDr';
import { registerEvents } from './features/events/registerEvents';
import { registerCompare } from './features/governance/registerCompare';
import { registerGovernance } from './features/governance/registerGovernance';
import { registerGovernanceDashboard } from './features/governance/registerGovernanceDashboard';
import { registerIncidents } from './features/incidents/registerIncidents';
import { registerOverview } from './features/overview/registerOverview';
import { registerSecrets } from './features/secrets/registerSecrets';
import { registerSlo } from './features/slo/registerSlo';
import { LOG_CHANNEL_NAME } from './ids';

/**
 * Wires every feature in one place and returns at once: no file or network I/O happens here. The
 * daemon is found (or started) after activation returned; until then every view shows its
 * "connecting" welcome and the status bar says so.
 */
export function activate(ctx: vscode.ExtensionContext): void {
  const started = Date.now();
  const log = vscode.window.createOutputChannel(LOG_CHANNEL_NAME, { log: true });
  ctx.subscriptions.push(log);

  const daemon = registerDaemon(ctx, log);
  registerOverview(ctx, daemon, log);
  registerEvents(ctx, daemon, log);
  registerSlo(ctx, daemon, log);
  registerIncidents(ctx, daemon, log);
  registerDr(ctx, daemon, log);
  registerSecrets(ctx, daemon, log);
  registerGovernance(ctx, daemon, log);
  registerGovernanceDashboard(ctx, daemon, log);
  registerCompare(ctx, daemon, log);

  log.info(`CogniForge ${String((ctx.extension.packageJSON as { version?: unknown }).version)} activated in ${Date.now() - started} ms`);
  const kickoff = setTimeout(() => void daemon.start(), 0);
  ctx.subscriptions.push({ dispose: () => clearTimeout(kickoff) });
}

/** Everything is in `ctx.subscriptions`; the daemon is shared with other windows and keeps running. */
export function deactivate(): void {}
