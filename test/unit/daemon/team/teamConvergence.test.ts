import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INCIDENT_TRANSITIONS, type IncidentStatus } from '../../../../daemon/protocol/incidents';
import { IncidentEvent, IncidentProjection } from '../../../../daemon/services/incidents/incidentProjection';
import type { EventRecord } from '../../../../daemon/store/types';

const T0 = Date.parse('2026-11-28T10:00:00.000Z');
const INCIDENT = '0193a1b2-0000-7000-8000-000000000001';

/** One daemon of a two-daemon team: its projection, its clock, its log and what it has not sent yet. */
class Daemon {
  readonly projection = new IncidentProjection();
  private seq = 0;
  clock: number;
  readonly outbox: EventRecord[] = [];

  constructor(
    readonly name: string,
    skewMs: number,
  ) {
    this.clock = T0 + skewMs;
  }

  private stamp(stepMs: number): string {
    this.clock += stepMs;
    return new Date(this.clock).toISOString();
  }

  /** A command here: appended and applied locally (no origin), queued for the teammate. */
  local(type: string, payload: unknown, id: string, stepMs: number): void {
    const event: EventRecord = { id, seq: ++this.seq, type, stream: 'incident_events', time: this.stamp(stepMs), priority: 'normal', actor: 'owner', schemaVersion: 1, payload };
    this.projection.apply(event);
    this.outbox.push(event);
  }

  /** A teammate's event as the importer appends it: original id, origin with its daemon, seq and time. */
  receive(event: EventRecord, from: string): void {
    const time = this.stamp(1);
    this.projection.apply({ ...event, seq: ++this.seq, time, origin: { daemon: from, seq: event.seq, time: event.time } });
  }

  status(): IncidentStatus {
    return this.projection.get(INCIDENT)!.status;
  }
}

type Step = { kind: 'local'; who: 0 | 1; pick: number; stepMs: number } | { kind: 'deliver'; who: 0 | 1 };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('local' as const), who: fc.constantFrom(0 as const, 1 as const), pick: fc.nat(10), stepMs: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 30 })) }),
  fc.record({ kind: fc.constant('deliver' as const), who: fc.constantFrom(0 as const, 1 as const) }),
);

describe('team mode: incident status converges whatever order teammates’ changes arrive in', () => {
  it('two daemons changing one incident concurrently end in the same status and owner once every event arrived', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -40, max: 40 })), fc.array(step, { minLength: 1, maxLength: 14 }), (skew, steps) => {
        const daemons = [new Daemon('alpha', 0), new Daemon('bravo', skew)] as const;
        let n = 0;
        const nextId = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
        daemons[0].local(IncidentEvent.created, { id: INCIDENT, title: 't', description: '', severity: 'SEV2', detectedBy: { kind: 'person', name: 'a' }, services: [], roles: {}, linkedSlos: [] }, nextId(), 0);
        const delivered = [0, 0];
        const deliverOne = (from: 0 | 1) => {
          const src = daemons[from];
          const i = delivered[from]!;
          if (i >= src.outbox.length) return;
          delivered[from] = i + 1;
          daemons[from === 0 ? 1 : 0].receive(src.outbox[i]!, src.name);
        };
        // Bravo knows the incident before it can change it.
        deliverOne(0);
        for (const s of steps) {
          if (s.kind === 'deliver') {
            deliverOne(s.who);
            continue;
          }
          const d = daemons[s.who];
          const from = d.status();
          const allowed = INCIDENT_TRANSITIONS[from];
          if (allowed.length === 0) continue;
          // The service validates against this daemon's own state, as incidents/transition does.
          d.local(IncidentEvent.transitioned, { id: INCIDENT, from, to: allowed[s.pick % allowed.length]!, ...d.projection.statusStamp(INCIDENT) }, nextId(), s.stepMs);
        }
        while (delivered[0]! < daemons[0].outbox.length || delivered[1]! < daemons[1].outbox.length) {
          deliverOne(0);
          deliverOne(1);
        }
        const [a, b] = daemons.map((d) => d.projection.get(INCIDENT)!);
        expect(a!.status).toBe(b!.status);
        // Owners are named from each daemon's point of view: absent means "this daemon".
        expect(a!.escalationOwner ?? 'alpha').toBe(b!.escalationOwner ?? 'bravo');
        expect(b!.createdOn).toBe('alpha');
      }),
      { numRuns: 2_000 },
    );
  });

  it('reads logs written before changes were stamped: a transition from a status the incident is no longer in is ignored', () => {
    const d = new Daemon('alpha', 0);
    d.local(IncidentEvent.created, { id: INCIDENT, title: 't', description: '', severity: 'SEV2', detectedBy: { kind: 'person', name: 'a' }, services: [], roles: {}, linkedSlos: [] }, 'e1', 0);
    d.local(IncidentEvent.transitioned, { id: INCIDENT, from: 'detected', to: 'acknowledged' }, 'e2', 1);
    d.local(IncidentEvent.transitioned, { id: INCIDENT, from: 'detected', to: 'resolved' }, 'e3', 1);
    expect(d.status()).toBe('acknowledged');
    expect(d.projection.get(INCIDENT)!.escalationOwner).toBeUndefined();
  });
});
