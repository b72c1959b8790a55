import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../daemon/protocol';
import type { Incident } from '../../../daemon/protocol/incidents';
import { verifyWebhookSignature } from '../../../daemon/services/resilience/webhookSignature';
import { type DaemonProcess, type RpcClient, rpcError, sleep, useDaemons } from '../helpers/daemonProcess';

const spawn = useDaemons();

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  raw: string;
  body: Record<string, unknown>;
}

/** An HTTP receiver on 127.0.0.1 standing in for a webhook endpoint, Slack, PagerDuty and an email relay. */
class Receiver {
  readonly received: Received[] = [];
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        this.received.push({ path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw || 'null') as Record<string, unknown> });
        if (req.url === '/relay/broken') {
          res.writeHead(500).end('relay down');
        } else if (req.url === '/pd') {
          res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success","message":"Event processed"}');
        } else {
          res.writeHead(200).end('ok');
        }
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async waitFor(path: string, count: number, timeoutMs = 10_000): Promise<Received[]> {
    const until = Date.now() + timeoutMs;
    while (this.at(path).length < count) {
      if (Date.now() > until) throw new Error(`expected ${count} request(s) to ${path}, got ${this.at(path).length}`);
      await sleep(25);
    }
    return this.at(path);
  }
}

const SECRET = 'alice-webhook-secret-0123456789';
const ROUTING_KEY = 'R0123456789ABCDEF0123456789ABCDE';
const lastSeq = async (c: RpcClient) => (await c.request<{ eventLog: { lastSeq: number } }>('daemon/status', {})).eventLog.lastSeq;

describe('on-call and escalation on a real daemon', () => {
  const rx = new Receiver();
  beforeAll(() => rx.start());
  afterAll(() => rx.stop());

  it('pages over real HTTP (signed webhook, Slack, PagerDuty, relay), survives a restart between levels, and drafts the review', async () => {
    const base = `http://127.0.0.1:${rx.port}`;
    const env = { COGNIFORGE_OUTBOUND_HOSTS: `127.0.0.1:${rx.port}`, COGNIFORGE_PAGERDUTY_EVENTS_URL: `${base}/pd` };
    let d: DaemonProcess = await spawn({ env });
    let c = await d.connect();
    const watcher = await d.connect();

    const people = [
      { handle: 'alice', name: 'Alice', timeZone: 'Europe/Berlin', contacts: [{ channel: 'webhook', url: `${base}/hook/alice`, secret: SECRET }, { channel: 'pagerduty', routingKey: ROUTING_KEY }] },
      { handle: 'bob', name: 'Bob', timeZone: 'America/New_York', contacts: [{ channel: 'slack', webhookUrl: `${base}/slack/bob`, memberId: 'U012AB3CD' }] },
      { handle: 'carol', name: 'Carol', timeZone: 'Asia/Tokyo', contacts: [{ channel: 'email', to: 'carol@example.com', url: `${base}/relay/broken` }] },
      { handle: 'dave', name: 'Dave', timeZone: 'UTC', contacts: [] },
    ];
    for (const p of people) expect(await c.request('oncall/upsertPerson', p)).toMatchObject({ handle: p.handle });
    expect((await c.request<{ people: { handle: string }[] }>('oncall/listPeople', {})).people.map((p) => p.handle)).toEqual(['alice', 'bob', 'carol', 'dave']);
    const changes = await watcher.waitForNotifications(4, (n) => n.method === 'oncall/didChange');
    expect(changes.map((n) => n.params)).toEqual(['alice', 'bob', 'carol', 'dave'].map((key) => ({ change: 'person', key })));

    // Bad input names the field and appends nothing.
    const before = await lastSeq(c);
    const badTz = await rpcError(c.request('oncall/upsertPerson', { handle: 'eve', name: 'Eve', timeZone: 'Mars/Base' }));
    expect(badTz.code).toBe(ErrorCode.InvalidParams);
    expect(JSON.stringify(badTz.data)).toContain('timeZone');
    const zeroTurn = await rpcError(
      c.request('oncall/upsertSchedule', { role: 'primary', layers: [{ name: 'x', members: ['alice'], startDate: '2026-01-05', handoffTime: '09:00', timeZone: 'UTC', turn: { count: 0, unit: 'days' } }] }),
    );
    expect(JSON.stringify(zeroTurn.data)).toContain('turn');
    expect(await lastSeq(c)).toBe(before);

    const layer = (members: string[]) => ({ name: 'weekly', members, startDate: '2026-01-05', handoffTime: '09:00', timeZone: 'Europe/Berlin', turn: { count: 1, unit: 'weeks' } });
    await c.request('oncall/upsertSchedule', { role: 'primary', layers: [layer(['alice'])] });
    await c.request('oncall/upsertSchedule', { role: 'secondary', layers: [layer(['bob'])] });
    await c.request('oncall/upsertSchedule', { role: 'spare', layers: [{ ...layer(['dave']), restrictions: [{ days: ['mon'], from: '09:00', to: '10:00' }] }] });
    expect((await c.request<{ schedules: { role: string }[] }>('oncall/listSchedules', {})).schedules.map((s) => s.role)).toEqual(['primary', 'secondary', 'spare']);
    const week = await c.request<{ segments: unknown[]; gaps: unknown[] }>('oncall/schedule', { role: 'spare', from: '2026-11-30T00:00:00Z', days: 7 });
    expect(week.segments).toEqual([
      { from: '2026-11-30T00:00:00.000Z', to: '2026-11-30T08:00:00.000Z', person: null },
      { from: '2026-11-30T08:00:00.000Z', to: '2026-11-30T09:00:00.000Z', person: 'dave' },
      { from: '2026-11-30T09:00:00.000Z', to: '2026-12-07T00:00:00.000Z', person: null },
    ]);
    expect(week.gaps).toHaveLength(2);
    const override = await c.request<{ id: string }>('oncall/addOverride', { role: 'primary', person: 'dave', from: '2030-01-01T00:00:00Z', to: '2030-01-02T00:00:00Z' });
    expect((await c.request<{ oncall: { person: string }[] }>('oncall/whoIsOnCall', { role: 'primary', at: '2030-01-01T12:00:00Z' })).oncall[0]!.person).toBe('dave');
    expect((await rpcError(c.request('oncall/addOverride', { role: 'primary', person: 'bob', from: '2030-01-01T06:00:00Z', to: '2030-01-03T00:00:00Z' }))).code).toBe(ErrorCode.Conflict);
    await c.request('oncall/removeOverride', { role: 'primary', id: override.id });
    expect((await c.request<{ oncall: { role: string; person: string }[] }>('oncall/whoIsOnCall', {})).oncall.map((o) => `${o.role}=${o.person}`)).toEqual([
      'primary=alice',
      'secondary=bob',
      expect.stringMatching(/^spare=(dave|null)$/),
    ]);
    await c.request('oncall/deleteSchedule', { role: 'spare' });
    expect(await c.request('oncall/deletePerson', { handle: 'dave' })).toEqual({ ok: true });
    expect((await rpcError(c.request('oncall/deletePerson', { handle: 'alice' }))).code).toBe(ErrorCode.FailedPrecondition);

    // Levels 2 and 3 come due 6 and 9 seconds after creation; the daemon is down across both.
    const policy = await c.request<{ isDefault?: boolean }>('escalation/upsertPolicy', {
      severity: 'SEV2',
      levels: [
        { delayMinutes: 0, targets: [{ role: 'primary' }], channels: ['webhook', 'pagerduty'] },
        { delayMinutes: 0.1, targets: [{ role: 'secondary' }], channels: ['slack'] },
        { delayMinutes: 0.15, targets: [{ person: 'carol' }], channels: ['email'] },
      ],
    });
    expect(policy.isDefault).toBeUndefined();
    const policies = await c.request<{ policies: { severity: string; isDefault?: boolean }[] }>('escalation/listPolicies', {});
    expect(policies.policies.map((p) => `${p.severity}:${p.isDefault === true}`)).toEqual(['SEV1:true', 'SEV2:false', 'SEV3:true', 'SEV4:true']);

    const created = Date.now();
    const inc = await c.request<Incident>('incidents/create', { title: 'Checkout errors', severity: 'SEV2', detectedBy: { kind: 'monitor', name: 'probe' }, services: ['checkout'] });
    const [hook] = await rx.waitFor('/hook/alice', 1);
    const [trigger] = await rx.waitFor('/pd', 1);
    await d.stop();

    // The signed generic webhook.
    const verdict = verifyWebhookSignature({
      secret: SECRET,
      rawBody: hook!.raw,
      timestamp: hook!.headers['x-cogniforge-timestamp'] as string,
      signature: hook!.headers['x-cogniforge-signature'] as string,
      nowMs: Date.now(),
    });
    expect(verdict).toEqual({ valid: true });
    expect(hook!.body).toMatchObject({ type: 'incident.page', action: 'trigger', channel: 'webhook', level: 1, person: { handle: 'alice' }, incident: { id: inc.id, number: inc.number, severity: 'SEV2' } });
    // PagerDuty Events API v2.
    expect(trigger!.body).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger', dedup_key: inc.id, payload: { severity: 'error', source: 'cogniforge', component: 'checkout' } });

    await sleep(Math.max(0, created + 9500 - Date.now()));
    expect(rx.at('/slack/bob')).toHaveLength(0);
    d = await spawn({ env, dataDir: d.dataDir });
    c = await d.connect();
    const [slack] = await rx.waitFor('/slack/bob', 1);
    await rx.waitFor('/relay/broken', 1);
    expect(slack!.body).toMatchObject({ text: expect.stringContaining(`[SEV2] ${inc.number}: Checkout errors`) });
    const blocks = slack!.body.blocks as { type: string }[];
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    expect(JSON.stringify(blocks)).toContain('<@U012AB3CD>');
    expect(rx.at('/relay/broken')[0]!.body).toMatchObject({ channel: 'email', to: 'carol@example.com', level: 3 });

    const waitTimeline = async (text: string) => {
      for (let i = 0; i < 200; i++) {
        const got = await c.request<Incident>('incidents/get', { id: inc.id });
        if (got.timeline.some((t) => t.text.includes(text))) return got;
        await sleep(25);
      }
      throw new Error(`timeline never showed "${text}"`);
    };
    const afterRestart = await waitTimeline('page to carol via email');
    const texts = afterRestart.timeline.map((t) => t.text);
    expect(texts.filter((t) => t.startsWith('escalation level 2'))).toEqual([expect.stringContaining('role:secondary → bob (late')]);
    expect(texts).toContain(`page to alice via webhook (127.0.0.1:${rx.port}): delivered`);
    expect(texts.some((t) => t.startsWith(`page to carol via email (127.0.0.1:${rx.port}) failed:`) && t.includes('500'))).toBe(true);

    // An alert from another domain during the window, then acknowledge and resolve.
    await c.request('events/publish', { type: 'system.alert', payload: { message: 'disk almost full' } });
    await c.request('incidents/transition', { id: inc.id, to: 'acknowledged' });
    const [, ack] = await rx.waitFor('/pd', 2);
    expect(ack!.body).toEqual({ routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: inc.id });
    await waitTimeline('PagerDuty acknowledge for alice via pagerduty');
    await c.request('incidents/transition', { id: inc.id, to: 'resolved', resolution: 'rolled back' });
    const [, , resolve] = await rx.waitFor('/pd', 3);
    expect(resolve!.body).toMatchObject({ event_action: 'resolve', dedup_key: inc.id });

    const draft = await c.request<{ draft: { whatHappened: string; impact: string }; facts: { pages: { delivered: number; failed: number }; alerts: { type: string; summary: string }[]; eventsByType: Record<string, number>; timeToAcknowledgeMs: number } }>(
      'reviews/draft',
      { incidentId: inc.number },
    );
    expect(draft.draft.whatHappened).toContain('escalation level 2');
    expect(draft.draft.whatHappened).toContain('Resolution: rolled back');
    expect(draft.draft.impact).toContain('SEV2 incident affecting checkout.');
    // Inside the window (detection to resolution): alice's webhook and PagerDuty trigger, bob's Slack, the acknowledge; carol's relay failed.
    expect(draft.facts.pages).toEqual({ delivered: 4, failed: 1 });
    expect(draft.facts.alerts).toEqual([expect.objectContaining({ type: 'system.alert', summary: 'disk almost full' })]);
    expect(draft.facts.eventsByType['system.alert']).toBe(1);
    expect(draft.facts.timeToAcknowledgeMs).toBeGreaterThan(0);
    expect((await rpcError(c.request('reviews/draft', { incidentId: 'INC-99' }))).code).toBe(ErrorCode.NotFound);

    // Acknowledged at once: level 2 never pages.
    const listener = await d.connect();
    const quietAt = Date.now();
    const quiet = await c.request<Incident>('incidents/create', { title: 'Blip', severity: 'SEV2', detectedBy: { kind: 'person', name: 'alice' } });
    const escalations = await listener.waitForNotifications(1, (n) => n.method === 'incidents/didEscalate');
    expect(escalations[0]!.params).toEqual({ incidentId: quiet.id, number: quiet.number, level: 1, people: ['alice'], delivered: 2, failed: 0 });
    await c.request('incidents/transition', { id: quiet.id, to: 'acknowledged' });
    await sleep(Math.max(0, quietAt + 6500 - Date.now()));
    expect(rx.at('/slack/bob')).toHaveLength(1);
    const quietTimeline = (await c.request<Incident>('incidents/get', { id: quiet.id })).timeline.map((t) => t.text);
    expect(quietTimeline).toContain('escalation stopped (moved to acknowledged); level 2, 3 cancelled');
    expect(quietTimeline.some((t) => t.startsWith('escalation level 2'))).toBe(false);
  }, 60_000);
});
