import { RpcError, type BreakingChangeChannel, type ComparisonReport } from '../../../protocol';
import { CHANNEL_DEPENDENCY, PAGE_TIMEOUT_MS, type DeliveryResult } from '../../incidents/channels';
import type { OutboundHttp } from '../../resilience/outbound';

/** Breaking changes a notice lists (the report has them all). */
export const NOTICE_CHANGES = 50;

/** What a webhook receives when a comparison finds breaking changes. */
export function breakingChangeWebhookBody(report: ComparisonReport): Record<string, unknown> {
  const breaking = report.changes.filter((c) => c.severity === 'breaking');
  return {
    type: 'governance.breakingChange',
    reportId: report.reportId,
    document: report.document,
    base: report.base.name,
    head: report.head.name,
    comparedAt: report.comparedAt,
    breakingCount: report.summary.breaking,
    summary: report.summary,
    changes: breaking.slice(0, NOTICE_CHANGES).map((c) => ({
      rule: c.rule,
      message: c.message,
      ...(c.method ? { method: c.method } : {}),
      ...(c.path ? { path: c.path } : {}),
      ...(c.clients ? { clients: c.clients.map((u) => u.client) } : {}),
    })),
    affectedClients: report.impact.clients.map((c) => c.client),
  };
}

/** A Slack incoming-webhook message (Block Kit): what broke, where, and who called it. */
export function breakingChangeSlackBody(report: ComparisonReport): Record<string, unknown> {
  const breaking = report.changes.filter((c) => c.severity === 'breaking');
  const title = `${report.summary.breaking} breaking change(s) in ${report.head.name}`;
  const lines = breaking.slice(0, 10).map((c) => `• \`${c.rule}\` ${c.message}`);
  if (breaking.length > 10) lines.push(`…and ${report.summary.breaking - 10} more`);
  const clients = report.impact.clients.map((c) => c.client);
  return {
    text: `${title} (against ${report.base.name})`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 2900) } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Compared with*\n${report.base.name}` },
          { type: 'mrkdwn', text: `*Clients affected (${report.impact.sinceDays} d)*\n${clients.length > 0 ? clients.slice(0, 20).join(', ') : 'none seen'}` },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `report ${report.reportId} · governance/compareReports` }] },
    ],
  };
}

/**
 * Sends breaking-change notices through the shared outbound helper, on the same named dependency
 * policies as incident pages (`notify:webhook`, `notify:slack`) and to allow-listed hosts only.
 * Never throws: a failed delivery is a result. Not retried (a retry after a timeout could post twice).
 */
export class BreakingChangeNotifier {
  constructor(private readonly http: OutboundHttp) {}

  async send(channel: BreakingChangeChannel, report: ComparisonReport): Promise<DeliveryResult> {
    const url = channel.kind === 'slack' ? channel.webhookUrl : channel.url;
    try {
      const res = await this.http.request({
        dependency: channel.kind === 'slack' ? CHANNEL_DEPENDENCY.slack : CHANNEL_DEPENDENCY.webhook,
        url,
        method: 'POST',
        body: channel.kind === 'slack' ? breakingChangeSlackBody(report) : breakingChangeWebhookBody(report),
        timeoutMs: PAGE_TIMEOUT_MS,
        idempotent: false,
      });
      return { outcome: 'delivered', host: new URL(url).host, status: res.status };
    } catch (e) {
      const data = e instanceof RpcError ? (e.data as { status?: unknown } | undefined) : undefined;
      return {
        outcome: 'failed',
        host: new URL(url).host,
        ...(typeof data?.status === 'number' ? { status: data.status } : {}),
        error: e instanceof Error ? e.message : String(e),
      };
    }
  }
}
