import { RpcError } from '../../protocol';
import type { Severity } from '../../protocol/incidents';
import type { ContactMethod, Person } from '../../protocol/oncall';
import type { OutboundHttp } from '../resilience/outbound';

/** PagerDuty's public Events API v2 endpoint (the default of `COGNIFORGE_PAGERDUTY_EVENTS_URL`). */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** Dependency policy names, one per channel kind (each has its own breaker and bulkhead). */
export const CHANNEL_DEPENDENCY = {
  webhook: 'notify:webhook',
  slack: 'notify:slack',
  pagerduty: 'notify:pagerduty',
} as const;

/** Per-attempt timeout of a page, ms: a receiver slower than this is failing (and shutdown waits for pages in flight). */
export const PAGE_TIMEOUT_MS = 10_000;

export type PageAction = 'trigger' | 'acknowledge' | 'resolve';

/** What a page says about its incident. */
export interface PageIncident {
  id: string;
  number: string;
  title: string;
  severity: Severity;
  status: string;
  services: readonly string[];
  /** ISO-8601. */
  detectedAt: string;
}

export interface PageMessage {
  incident: PageIncident;
  /** Escalation level; 0 for acknowledge/resolve follow-ups. */
  level: number;
  action: PageAction;
  /** ISO-8601 send time. */
  sentAt: string;
}

export interface DeliveryResult {
  outcome: 'delivered' | 'failed';
  host?: string;
  status?: number;
  error?: string;
}

/** Delivers one page on one contact method; never throws (a failure is a result). */
export interface PageSender {
  send(contact: ContactMethod, person: Person, msg: PageMessage): Promise<DeliveryResult>;
}

const PD_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = { SEV1: 'critical', SEV2: 'error', SEV3: 'warning', SEV4: 'info' };

export const ACK_HINT = 'Acknowledge in the editor (CogniForge: Incidents) or with incidents/transition {"to":"acknowledged"}';

/** The generic webhook body (also what email/SMS/phone relays receive, with `channel` and `to`). */
export function webhookBody(msg: PageMessage, person: Person, contact: ContactMethod): Record<string, unknown> {
  return {
    type: `incident.${msg.action === 'trigger' ? 'page' : msg.action}`,
    action: msg.action,
    channel: contact.channel,
    ...('to' in contact ? { to: contact.to } : {}),
    person: { handle: person.handle, name: person.name },
    level: msg.level,
    incident: { ...msg.incident, services: [...msg.incident.services] },
    ackHint: ACK_HINT,
    sentAt: msg.sentAt,
  };
}

/** A Slack incoming-webhook message (Block Kit): header, severity/status/services/level fields, ids, ack hint. */
export function slackBody(msg: PageMessage, person: Person, memberId: string | undefined): Record<string, unknown> {
  const inc = msg.incident;
  const who = memberId ? `<@${memberId}>` : person.name;
  const title = `[${inc.severity}] ${inc.number}: ${inc.title}`;
  const verb = msg.action === 'trigger' ? `${who}, you are paged (level ${msg.level})` : `${inc.number} was ${msg.action === 'acknowledge' ? 'acknowledged' : 'resolved'}`;
  return {
    text: `${title} — ${verb}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: verb } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Severity*\n${inc.severity}` },
          { type: 'mrkdwn', text: `*Status*\n${inc.status}` },
          { type: 'mrkdwn', text: `*Services*\n${inc.services.length > 0 ? inc.services.join(', ') : '—'}` },
          { type: 'mrkdwn', text: `*Detected*\n${inc.detectedAt}` },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${inc.number} · id ${inc.id} · ${ACK_HINT}` }] },
    ],
  };
}

/** A PagerDuty Events API v2 event; the incident id is the dedup key, so ack/resolve find the alert. */
export function pagerDutyBody(msg: PageMessage, routingKey: string): Record<string, unknown> {
  const inc = msg.incident;
  const body: Record<string, unknown> = { routing_key: routingKey, event_action: msg.action, dedup_key: inc.id };
  if (msg.action === 'trigger') {
    body.payload = {
      summary: `[${inc.severity}] ${inc.number}: ${inc.title}`.slice(0, 1024),
      source: 'cogniforge',
      severity: PD_SEVERITY[inc.severity],
      timestamp: inc.detectedAt,
      ...(inc.services[0] !== undefined ? { component: inc.services[0] } : {}),
      custom_details: { incident: inc.number, id: inc.id, level: msg.level, services: [...inc.services], status: inc.status },
    };
  }
  return body;
}

/**
 * Sends pages over HTTP through the shared outbound helper (allow-listed hosts, named dependency
 * policies). Never throws: a failed delivery is a result, so a broken channel cannot break the
 * incident flow. PagerDuty events are retried (the dedup key makes repeats harmless); Slack and
 * webhooks are not (a retry after a timeout could post twice).
 */
export class NotificationChannels implements PageSender {
  constructor(
    private readonly http: OutboundHttp,
    private readonly pagerDutyEventsUrl: string = PAGERDUTY_EVENTS_URL,
  ) {}

  async send(contact: ContactMethod, person: Person, msg: PageMessage): Promise<DeliveryResult> {
    let url: string | undefined;
    try {
      switch (contact.channel) {
        case 'pagerduty':
          url = this.pagerDutyEventsUrl;
          return await this.post(url, CHANNEL_DEPENDENCY.pagerduty, pagerDutyBody(msg, contact.routingKey), { idempotent: true });
        case 'slack':
          url = contact.webhookUrl;
          return await this.post(url, CHANNEL_DEPENDENCY.slack, slackBody(msg, person, contact.memberId), {});
        default:
          url = contact.url;
          return await this.post(url, CHANNEL_DEPENDENCY.webhook, webhookBody(msg, person, contact), contact.secret ? { secret: contact.secret } : {});
      }
    } catch (e) {
      const data = e instanceof RpcError ? (e.data as { status?: unknown } | undefined) : undefined;
      return {
        outcome: 'failed',
        ...hostOf(url),
        ...(typeof data?.status === 'number' ? { status: data.status } : {}),
        error: e instanceof Error ? e.message : String(e),
      };
    }
  }

  private async post(url: string, dependency: string, body: unknown, opts: { idempotent?: boolean; secret?: string }): Promise<DeliveryResult> {
    const res = await this.http.request({
      dependency,
      url,
      method: 'POST',
      body,
      timeoutMs: PAGE_TIMEOUT_MS,
      idempotent: opts.idempotent ?? false,
      ...(opts.secret !== undefined ? { sign: { secret: opts.secret } } : {}),
    });
    return { outcome: 'delivered', ...hostOf(url), status: res.status };
  }
}

function hostOf(url: string | undefined): { host?: string } {
  try {
    return url === undefined ? {} : { host: new URL(url).host };
  } catch {
    return {};
  }
}
