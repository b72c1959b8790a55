import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../daemon/protocol';
import type { Incident } from '../../daemon/protocol/incidents';
import type { SecretMetadata } from '../../daemon/protocol/secrets';
import { useDaemons, type DaemonProcess, type RpcClient } from '../integration/helpers/daemonProcess';
import { MOTO_ENV, motoUnavailableReason, startMoto, type MotoServer } from '../integration/helpers/moto';
import { brokers, readKafka, uniqueName, waitForStatus } from './helpers';

const KAFKA = process.env.KAFKA_BROKERS;
if (!KAFKA) console.log('skipped: team-mode suite (test/backends/team.test.ts): KAFKA_BROKERS is not set; npm run test:backends starts a broker and sets it');
const motoSkip = KAFKA ? motoUnavailableReason() : undefined;
if (KAFKA && motoSkip) console.log(`skipped: team-mode shared secrets (test/backends/team.test.ts): ${motoSkip}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `read` until `check` holds (what a teammate's daemon shows arrives over Kafka, a little later). */
async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let error: unknown;
  for (;;) {
    try {
      last = await read();
      if (check(last)) return last;
    } catch (e) {
      error = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last ?? (error as Error)?.message)}`);
    await sleep(100);
  }
}

/** Counts the pages each path receives (a webhook contact's endpoint). */
class PageReceiver {
  readonly hits = new Map<string, number>();
  private server!: Server;
  port = 0;
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.hits.set(req.url ?? '', (this.hits.get(req.url ?? '') ?? 0) + 1);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }
  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe.skipIf(!KAFKA)('team mode: two daemons share incidents and secrets over a real Kafka broker', () => {
  const start = useDaemons();
  const rx = new PageReceiver();
  let moto: MotoServer | undefined;
  beforeAll(async () => {
    await rx.start();
    if (!motoSkip) moto = await startMoto();
  }, 60_000);
  afterAll(async () => {
    await rx.stop();
    await moto?.stop();
  });

  const teamEnv = (prefix: string, daemonId: string): Record<string, string> => ({
    MESSAGE_BROKER: 'kafka',
    KAFKA_BROKERS: KAFKA!,
    KAFKA_TOPIC_PREFIX: prefix,
    COGNIFORGE_TEAM: 'on',
    COGNIFORGE_DAEMON_ID: daemonId,
    COGNIFORGE_BROKER_TIMEOUT_MS: '3000',
    COGNIFORGE_OUTBOUND_HOSTS: `127.0.0.1:${rx.port}`,
    ...(moto ? { ...MOTO_ENV, AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint } : {}),
  });
  const consuming = (c: RpcClient) => waitForStatus(c, (s) => s.team?.consuming === true, 'the team consumer to join its group');
  const incident = (c: RpcClient, id: string) => c.request<Incident>('incidents/get', { id });
  /** Alpha and bravo on a fresh topic prefix, each reading the other's events. */
  const startPair = async () => {
    const prefix = `${uniqueName('team')}.`;
    const a = await start({ env: teamEnv(prefix, 'alpha') });
    const b = await start({ env: teamEnv(prefix, 'bravo') });
    const ca = await a.connect();
    const cb = await b.connect();
    await Promise.all([consuming(ca), consuming(cb)]);
    return { b, ca, cb };
  };

  it('an incident created on one daemon appears on the other; only its owner pages; acknowledging elsewhere stops the owner’s levels; crossing changes converge; a restarted daemon catches up', async () => {
    const prefix = `${uniqueName('team')}.`;
    const a: DaemonProcess = await start({ env: teamEnv(prefix, 'alpha') });
    let b: DaemonProcess = await start({ env: teamEnv(prefix, 'bravo') });
    const ca = await a.connect();
    let cb = await b.connect();
    const [sa] = await Promise.all([consuming(ca), consuming(cb)]);
    expect(sa.team).toMatchObject({ daemonId: 'alpha', group: `${prefix}team.alpha`, topics: [`${prefix}config_events`, `${prefix}incident_events`] });

    // On-call set up on alpha reaches bravo: one person paged by webhook, level 2 twelve seconds later (time enough for bravo to acknowledge first on a loaded machine).
    await ca.request('oncall/upsertPerson', { handle: 'alice', name: 'Alice', timeZone: 'UTC', contacts: [{ channel: 'webhook', url: `http://127.0.0.1:${rx.port}/hook/alice` }] });
    await ca.request('escalation/upsertPolicy', {
      severity: 'SEV2',
      levels: [
        { delayMinutes: 0, targets: [{ person: 'alice' }], channels: ['webhook'] },
        { delayMinutes: 0.2, targets: [{ person: 'alice' }], channels: ['webhook'] },
      ],
    });
    await eventually(
      () => cb.request<{ policies: { severity: string; isDefault?: boolean }[] }>('escalation/listPolicies', {}),
      (r) => r.policies.some((p) => p.severity === 'SEV2' && p.isDefault !== true),
      "alpha's SEV2 policy on bravo",
    );

    const createdAt = Date.now();
    const inc = await ca.request<Incident>('incidents/create', { title: 'Checkout errors', severity: 'SEV2', detectedBy: { kind: 'monitor', name: 'probe' } });
    expect(inc.escalationOwner).toBeUndefined();
    const onB = await eventually(() => incident(cb, inc.id), () => true, 'the incident on bravo');
    expect(onB).toMatchObject({ id: inc.id, title: 'Checkout errors', severity: 'SEV2', status: 'detected', createdOn: 'alpha', escalationOwner: 'alpha', detectedAt: inc.detectedAt });
    // Level 1 pages once: alpha owns the escalation, bravo has no timer for it.
    await eventually(async () => rx.hits.get('/hook/alice') ?? 0, (n) => n >= 1, 'the level-1 page');
    const bravoTimers = await cb.request<{ timers: { key: string }[] }>('scheduler/list', { kind: 'incidents.escalate' });
    expect(bravoTimers.timers.filter((t) => t.key.includes(inc.id))).toEqual([]);
    // Bravo learns of the page from alpha's escalation events.
    await eventually(() => incident(cb, inc.id), (i) => i.timeline.some((e) => e.kind === 'page' && e.text.startsWith('page to alice via webhook')), 'the page on bravo’s timeline');

    // Acknowledged on bravo: bravo owns it now; alpha cancels its pending level 2.
    await cb.request('incidents/transition', { id: inc.id, to: 'acknowledged' });
    const onA = await eventually(
      () => incident(ca, inc.id),
      (i) => i.status === 'acknowledged' && i.timeline.some((e) => e.text.startsWith('escalation stopped (moved to acknowledged on bravo)')),
      'the acknowledgement on alpha and its levels cancelled',
    );
    expect(onA.escalationOwner).toBe('bravo');
    expect((await incident(cb, inc.id)).escalationOwner).toBeUndefined();
    const alphaTimers = await ca.request<{ timers: { key: string }[] }>('scheduler/list', { kind: 'incidents.escalate' });
    expect(alphaTimers.timers.filter((t) => t.key.includes(inc.id))).toEqual([]);
    // Past level 2's due time nobody was paged again.
    await sleep(Math.max(0, createdAt + 13_500 - Date.now()));
    expect(rx.hits.get('/hook/alice')).toBe(1);

    // Two people change the same incident on two daemons at once: both daemons end in the same state.
    const second = await ca.request<Incident>('incidents/create', { title: 'Search slow', severity: 'SEV3', detectedBy: { kind: 'person', name: 'ana' } });
    await eventually(() => incident(cb, second.id), () => true, 'the second incident on bravo');
    await Promise.all([
      ca.request('incidents/transition', { id: second.id, to: 'investigating' }),
      cb.request('incidents/transition', { id: second.id, to: 'identified' }),
    ]);
    const crossed = (i: Incident) => i.timeline.filter((e) => e.kind === 'transition' || e.text.includes('crossed a later change, which stands')).length === 2;
    const [finalA, finalB] = await Promise.all([
      eventually(() => incident(ca, second.id), crossed, 'both changes on alpha'),
      eventually(() => incident(cb, second.id), crossed, 'both changes on bravo'),
    ]);
    expect(finalA.status).toBe(finalB.status);
    expect(['investigating', 'identified']).toContain(finalA.status);

    // Bravo is down while alpha works; on restart it reads what it missed from its committed offsets.
    const dataDirB = b.dataDir;
    await cb.close();
    await b.stop();
    const third = await ca.request<Incident>('incidents/create', { title: 'Login loop', severity: 'SEV4', detectedBy: { kind: 'person', name: 'ana' } });
    await ca.request('incidents/transition', { id: third.id, to: 'resolved', resolution: 'rolled back' });
    b = await start({ env: teamEnv(prefix, 'bravo'), dataDir: dataDirB });
    cb = await b.connect();
    await eventually(() => incident(cb, third.id), (i) => i.status === 'resolved' && i.resolution === 'rolled back', 'the missed incident on bravo');
    const listA = await ca.request<{ incidents: { id: string; status: string }[] }>('incidents/list', { limit: 100 });
    const listB = await cb.request<{ incidents: { id: string; status: string }[] }>('incidents/list', { limit: 100 });
    const byId = (l: { incidents: { id: string; status: string }[] }) => l.incidents.map((i) => `${i.id}:${i.status}`).sort();
    expect(byId(listB)).toEqual(byId(listA));
    expect(listA.incidents).toHaveLength(3);

    // Each event is published once, by the daemon that made it: imported ones are never sent back.
    const [stA, stB] = await Promise.all([
      waitForStatus(ca, (s) => s.outboxLag === 0 && s.connected, "alpha's outbox to drain"),
      waitForStatus(cb, (s) => s.outboxLag === 0 && s.connected, "bravo's outbox to drain"),
    ]);
    expect(stB.team!.teammates.map((t) => t.daemonId)).toEqual(['alpha']);
    const onTopic = await readKafka(KAFKA!, `${prefix}incident_events`, (m) => m.some((x) => x.event.type === 'incident.transitioned' && (x.event.payload as { id?: string }).id === third.id));
    const ids = onTopic.map((m) => m.event.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of onTopic) expect(m.event.origin).toBeUndefined();
    const origins = new Set(onTopic.map((m) => m.headers['cogniforge-origin']));
    expect([...origins].sort()).toEqual(['alpha', 'bravo']);
    // Bravo's own log keeps where each imported event came from.
    const imported = await cb.request<{ events: EventEnvelope[] }>('events/query', { types: ['incident.created'], limit: 10 });
    expect(imported.events.map((e) => e.origin?.daemon)).toEqual(['alpha', 'alpha', 'alpha']);
    expect(stA.team!.imported).toBeGreaterThan(0);
    await ca.close();
    await cb.close();
  });

  it.skipIf(motoSkip !== undefined)('shares AWS secrets (metadata, versions; values from the same backend) but never local-vault ones; the creator keeps the schedule; each audit chain stays whole', async () => {
    const { b, ca, cb } = await startPair();

    const local = await ca.request<SecretMetadata>('secrets/create', { name: 'laptop_token', type: 'api_key', environment: 'development', value: 'local-only-value-1', backend: 'local' });
    expect(local.sharedWithTeam).toBe(false);
    const shared = await ca.request<SecretMetadata>('secrets/create', {
      name: 'payments_api',
      type: 'api_key',
      environment: 'production',
      value: 'shared-aws-value-1',
      backend: 'aws',
      rotation: { policy: 'daily' },
    });
    expect(shared).toMatchObject({ sharedWithTeam: true, backend: 'aws' });
    expect(shared.origin).toBeUndefined();

    const onB = await eventually(() => cb.request<SecretMetadata>('secrets/get', { id: shared.id }), () => true, 'the AWS secret on bravo', 60_000).catch(async (e: Error) => {
      throw new Error(`${e.message}\nbravo: ${JSON.stringify(await cb.request('brokers/status', {}))}\nalpha: ${JSON.stringify(await ca.request('brokers/status', {}))}\n${b.stderr().slice(-3000)}`);
    });
    expect(onB).toMatchObject({ name: 'payments_api', backend: 'aws', location: shared.location, currentVersion: 1, sharedWithTeam: true, origin: 'alpha', nextRotation: shared.nextRotation });
    expect(await cb.request('secrets/reveal', { id: shared.id })).toEqual({ id: shared.id, version: 1, value: 'shared-aws-value-1' });

    // Rotated on bravo: alpha sees version 2 and reads the new value from AWS.
    await cb.request('secrets/rotate', { id: shared.id, value: 'shared-aws-value-2', expectedVersion: 1 });
    await eventually(() => ca.request<SecretMetadata>('secrets/get', { id: shared.id }), (s) => s.currentVersion === 2, 'version 2 on alpha');
    expect(await ca.request('secrets/reveal', { id: shared.id })).toEqual({ id: shared.id, version: 2, value: 'shared-aws-value-2' });
    const history = await ca.request<{ entries: { kind: string; actor: string }[] }>('secrets/history', { id: shared.id });
    expect(history.entries.map((e) => `${e.kind}:${e.actor}`)).toContain('rotated:owner@bravo');

    // The local-vault secret never reached bravo, whatever else did.
    await waitForStatus(cb, (s) => (s.team?.skipped ?? 0) > 0, 'bravo to pass over the local secret');
    const listB = await cb.request<{ secrets: SecretMetadata[] }>('secrets/list', {});
    expect(listB.secrets.map((s) => s.id)).toEqual([shared.id]);
    // Only the creator runs the scheduled rotation (a timer on alpha, none on bravo).
    const timers = (c: RpcClient) => c.request<{ timers: { kind: string }[] }>('scheduler/list', { kind: 'secrets.rotateDue' });
    expect((await timers(ca)).timers).toHaveLength(1);
    expect((await timers(cb)).timers).toHaveLength(0);
    // Each daemon audits what went through it; teammates' changes do not break either chain.
    expect(await ca.request('secrets/verifyAudit', {})).toMatchObject({ ok: true });
    expect(await cb.request('secrets/verifyAudit', {})).toMatchObject({ ok: true });
    await ca.close();
    await cb.close();
  });

  it('keeps both daemons answering while the broker is down; what was made meanwhile reaches the teammate once it is back', async () => {
    const { ca, cb } = await startPair();
    brokers('kill', 'kafka');
    try {
      // Commands only append: they answer at once, on both daemons, without the broker.
      const inc = await ca.request<Incident>('incidents/create', { title: 'Made offline', severity: 'SEV3', detectedBy: { kind: 'person', name: 'ana' } });
      await cb.request('incidents/list', { limit: 10 });
      const status = await eventually(
        () => cb.request<{ health: string; problems: string[] }>('daemon/status', {}),
        (st) => st.problems.some((p) => p.startsWith("team mode: not reading teammates' events")),
        'bravo to report it cannot read its teammates',
        120_000,
      );
      expect(status.health).toBe('degraded');
      brokers('start', 'kafka');
      const onB = await eventually(() => incident(cb, inc.id), () => true, 'the incident made while the broker was down', 120_000);
      expect(onB).toMatchObject({ title: 'Made offline', createdOn: 'alpha' });
      await waitForStatus(cb, (s) => s.team?.consuming === true, 'bravo to read again');
    } finally {
      brokers('start', 'kafka');
    }
    await ca.close();
    await cb.close();
  });

  it('refuses team mode without Kafka and a bad daemon id, naming the variable', async () => {
    const noKafka = await start({ env: { COGNIFORGE_TEAM: 'on' }, readyTimeoutMs: 15_000 }).catch((e: Error) => e);
    expect(noKafka).toBeInstanceOf(Error);
    expect((noKafka as Error).message).toMatch(/COGNIFORGE_TEAM: team mode shares events through Kafka; set MESSAGE_BROKER=kafka/);
    const badId = await start({ env: { ...teamEnv(`${uniqueName('team')}.`, 'two words'), COGNIFORGE_DAEMON_ID: 'two words' }, readyTimeoutMs: 15_000 }).catch((e: Error) => e);
    expect((badId as Error).message).toMatch(/COGNIFORGE_DAEMON_ID: 1 to 64 letters/);
  });
});
