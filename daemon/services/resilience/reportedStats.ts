import type { ReportedPolicy, ReportedPolicyStats } from '../../protocol';
import type { Clock } from '../shared/clock';

/** Reports older than this are dropped: the process is gone or stopped reporting, ms. */
export const REPORT_TTL_MS = 10 * 60_000;
/** Bound on kept reports, so a misbehaving client cannot grow the daemon without limit. */
export const MAX_REPORTED_POLICIES = 2_000;

/**
 * The latest stats of the policies users' processes built with the client library, kept in memory
 * (they are live figures of other processes, not the daemon's history: nothing is logged).
 * One entry per (client id, service id); `resilience/policies` lists them beside the daemon's own.
 */
export class ReportedStats {
  private readonly entries = new Map<string, ReportedPolicy & { at: number }>();

  constructor(private readonly clock: Clock) {}

  /** Store a process's report; answers the entries as stored. */
  report(reporter: string, clientId: string, policies: readonly ReportedPolicyStats[]): ReportedPolicy[] {
    const now = this.clock.now();
    const reportedAt = new Date(now).toISOString();
    const stored: ReportedPolicy[] = [];
    for (const p of policies) {
      const key = `${clientId}\u0000${p.serviceId}`;
      const entry = { ...p, reporter, clientId, reportedAt, at: now };
      // Re-insert so the map's order is least recently reported first (the eviction order).
      this.entries.delete(key);
      this.entries.set(key, entry);
      stored.push(strip(entry));
    }
    this.prune(now);
    return stored;
  }

  /** Current reports (of one service id when given), by service id then client id. */
  list(serviceId?: string): ReportedPolicy[] {
    this.prune(this.clock.now());
    return [...this.entries.values()]
      .filter((e) => serviceId === undefined || e.serviceId === serviceId)
      .sort((a, b) => (a.serviceId === b.serviceId ? cmp(a.clientId, b.clientId) : cmp(a.serviceId, b.serviceId)))
      .map(strip);
  }

  private prune(now: number): void {
    for (const [key, e] of this.entries) {
      if (now - e.at > REPORT_TTL_MS || this.entries.size > MAX_REPORTED_POLICIES) this.entries.delete(key);
      else break;
    }
  }
}

function strip(e: ReportedPolicy & { at: number }): ReportedPolicy {
  const { at: _at, ...rest } = e;
  return rest;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
