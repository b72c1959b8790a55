import { describe, expect, it } from 'vitest';
import { INCIDENT_STATUSES, OPEN_STATUSES, SEVERITIES, type IncidentStatus, type Severity } from '../../../../daemon/protocol/incidents';
import { IncidentIndex, type ListPosition } from '../../../../daemon/services/incidents/incidentIndex';

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('IncidentIndex', () => {
  it('pages exactly like sorting everything (open first, newest first) after random moves', () => {
    const rand = rng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const index = new IncidentIndex();
    const state = new Map<number, { status: IncidentStatus; severity: Severity }>();
    for (let n = 1; n <= 400; n++) {
      const s = { status: pick(INCIDENT_STATUSES), severity: pick(SEVERITIES) };
      state.set(n, s);
      index.add(s.status, s.severity, n);
    }
    for (let k = 0; k < 300; k++) {
      const n = 1 + Math.floor(rand() * 400);
      const old = state.get(n)!;
      const next = { status: pick(INCIDENT_STATUSES), severity: pick(SEVERITIES) };
      index.remove(old.status, old.severity, n);
      index.add(next.status, next.severity, n);
      state.set(n, next);
    }
    const statuses: IncidentStatus[] = ['detected', 'investigating', 'resolved', 'closed'];
    const severities: Severity[] = ['SEV1', 'SEV4'];
    const odd = (n: number) => n % 2 === 1;
    const expected = [...state]
      .filter(([n, s]) => statuses.includes(s.status) && severities.includes(s.severity) && odd(n))
      .sort(([a, sa], [b, sb]) => Number(!OPEN_STATUSES.includes(sa.status)) - Number(!OPEN_STATUSES.includes(sb.status)) || b - a)
      .map(([n]) => n);
    const got: number[] = [];
    let from: ListPosition | undefined;
    do {
      const page = index.page(statuses, severities, 7, from, odd);
      got.push(...page.numbers);
      from = page.next;
    } while (from);
    expect(expected.length).toBeGreaterThan(20);
    expect(got).toEqual(expected);
    expect(index.page(undefined, undefined, 1000, undefined, () => true).numbers).toHaveLength(400);
  });
});
