import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Person } from '../../../../daemon/protocol/oncall';
import { NotificationChannels, pagerDutyBody, slackBody, webhookBody, type PageMessage } from '../../../../daemon/services/incidents/channels';
import { DependencyPolicies } from '../../../../daemon/services/resilience/policies';
import { OutboundHttp } from '../../../../daemon/services/resilience/outbound';
import { verifyWebhookSignature } from '../../../../daemon/services/resilience/webhookSignature';
import { systemClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

const person: Person = { handle: 'alice', name: 'Alice', timeZone: 'Europe/Berlin', contacts: [] };
const msg = (action: PageMessage['action'] = 'trigger'): PageMessage => ({
  incident: { id: '019ac5b2-0000-7000-8000-000000000001', number: 'INC-7', title: 'DB down', severity: 'SEV1', status: 'detected', services: ['db', 'api'], detectedAt: '2026-04-01T10:00:00.000Z' },
  level: 2,
  action,
  sentAt: '2026-04-01T10:05:00.000Z',
});

describe('channel payloads', () => {
  it('builds the PagerDuty Events v2 trigger with the incident id as dedup key, and bare acknowledge/resolve events', () => {
    expect(pagerDutyBody(msg(), 'K'.repeat(32))).toEqual({
      routing_key: 'K'.repeat(32),
      event_action: 'trigger',
      dedup_key: '019ac5b2-0000-7000-8000-000000000001',
      payload: {
        summary: '[SEV1] INC-7: DB down',
        source: 'cogniforge',
        severity: 'critical',
        timestamp: '2026-04-01T10:00:00.000Z',
        component: 'db',
        custom_details: { incident: 'INC-7', id: '019ac5b2-0000-7000-8000-000000000001', level: 2, services: ['db', 'api'], status: 'detected' },
      },
    });
    expect(pagerDutyBody(msg('resolve'), 'K'.repeat(32))).toEqual({ routing_key: 'K'.repeat(32), event_action: 'resolve', dedup_key: '019ac5b2-0000-7000-8000-000000000001' });
  });

  it('builds a Slack Block Kit message that mentions the member and carries ids and the ack hint', () => {
    const body = slackBody(msg(), person, 'U012AB3CD');
    expect(body.text).toBe('[SEV1] INC-7: DB down — <@U012AB3CD>, you are paged (level 2)');
    const text = JSON.stringify(body.blocks);
    expect(text).toContain('*Services*\\ndb, api');
    expect(text).toContain('019ac5b2-0000-7000-8000-000000000001');
    expect(text).toContain('incidents/transition');
  });

  it('addresses relayed email/SMS/phone pages with channel and recipient', () => {
    expect(webhookBody(msg(), person, { channel: 'sms', to: '+4915100000', url: 'http://relay.test/sms' })).toMatchObject({ type: 'incident.page', channel: 'sms', to: '+4915100000', level: 2 });
  });
});

describe('NotificationChannels over real HTTP', () => {
  const attempts = new Map<string, number>();
  const hanging: ServerResponse[] = [];
  const bodies: { path: string; raw: string; headers: Record<string, unknown> }[] = [];
  let server: Server;
  let base = '';
  let channels: NotificationChannels;
  let policies: DependencyPolicies;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '';
      attempts.set(path, (attempts.get(path) ?? 0) + 1);
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        bodies.push({ path, raw, headers: req.headers });
        if (path === '/hang') hanging.push(res);
        else if (path.startsWith('/fail')) res.writeHead(500).end();
        else res.writeHead(path === '/pd' ? 202 : 200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    policies = new DependencyPolicies({
      store: new MemoryEventLog().open({ clock: systemClock }),
      clock: systemClock,
      defaults: { timeoutMs: 300, retry: { maxRetries: 2, initialDelayMs: 1, maxDelayMs: 2 } },
    });
    const http = new OutboundHttp({ policies, clock: systemClock, allowedHosts: [new URL(base).host] });
    channels = new NotificationChannels(http, `${base}/fail-pd`);
  });

  afterAll(async () => {
    for (const res of hanging) res.destroy();
    await policies.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('signs generic webhooks with the shared HMAC scheme', async () => {
    const result = await channels.send({ channel: 'webhook', url: `${base}/hook`, secret: 'a-secret-of-16-chars!' }, person, msg());
    expect(result).toEqual({ outcome: 'delivered', host: new URL(base).host, status: 200 });
    const got = bodies.find((b) => b.path === '/hook')!;
    const verdict = verifyWebhookSignature({
      secret: 'a-secret-of-16-chars!',
      rawBody: got.raw,
      timestamp: got.headers['x-cogniforge-timestamp'] as string,
      signature: got.headers['x-cogniforge-signature'] as string,
      nowMs: Date.now(),
    });
    expect(verdict.valid).toBe(true);
  });

  it('retries PagerDuty (dedup key makes it safe) but never a webhook or Slack post', async () => {
    const pd = await channels.send({ channel: 'pagerduty', routingKey: 'K'.repeat(32) }, person, msg());
    expect(pd).toMatchObject({ outcome: 'failed', status: 500 });
    expect(attempts.get('/fail-pd')).toBe(3);
    const hook = await channels.send({ channel: 'webhook', url: `${base}/fail-hook` }, person, msg());
    expect(hook).toMatchObject({ outcome: 'failed', status: 500 });
    expect(attempts.get('/fail-hook')).toBe(1);
    const slack = await channels.send({ channel: 'slack', webhookUrl: `${base}/fail-slack` }, person, msg());
    expect(slack.outcome).toBe('failed');
    expect(attempts.get('/fail-slack')).toBe(1);
  });

  it('turns a hanging receiver into a failed delivery after the timeout instead of throwing', async () => {
    const result = await channels.send({ channel: 'webhook', url: `${base}/hang` }, person, msg());
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatch(/did not answer|timed? ?out/i);
  });

  it('refuses a host that is not allow-listed without connecting', async () => {
    const result = await channels.send({ channel: 'webhook', url: 'http://10.1.2.3:9/x' }, person, msg());
    expect(result).toMatchObject({ outcome: 'failed', host: '10.1.2.3:9' });
    expect(result.error).toContain('not in the allowed outbound hosts');
  });
});
