import { INCIDENT_STATUSES, OPEN_STATUSES, SEVERITIES, type IncidentStatus, type Severity } from '../../protocol/incidents';

/** Position of the first element of `asc` (sorted ascending) that is at least `n`. */
function lowerBound(asc: number[], n: number): number {
  let lo = 0;
  let hi = asc.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (asc[mid]! < n) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const key = (status: IncidentStatus, severity: Severity) => `${status}|${severity}`;

/** Where a page stopped: the status group (0 open, 1 resolved/closed) and the last number listed. */
export interface ListPosition {
  group: 0 | 1;
  /** Incident number (the n of `INC-n`) of the last row given. */
  before: number;
}

/**
 * Incident numbers per (status, severity), each list sorted ascending (a new incident is a push) and
 * read from the end, newest first, so a filtered page is a
 * merge of at most 7 × 4 lists starting at a binary-searched position: its cost does not grow with
 * the number of incidents that do not match.
 */
export class IncidentIndex {
  private readonly lists = new Map<string, number[]>();

  add(status: IncidentStatus, severity: Severity, n: number): void {
    const k = key(status, severity);
    let list = this.lists.get(k);
    if (!list) this.lists.set(k, (list = []));
    if (list.length === 0 || list[list.length - 1]! < n) list.push(n);
    else list.splice(lowerBound(list, n), 0, n);
  }

  remove(status: IncidentStatus, severity: Severity, n: number): void {
    const list = this.lists.get(key(status, severity));
    if (!list) return;
    const i = lowerBound(list, n);
    if (list[i] === n) list.splice(i, 1);
  }

  clear(): void {
    this.lists.clear();
  }

  /**
   * Numbers matching the filter, open statuses first, then newest first, starting after `from`.
   * `accept` filters further (by service); `limit` rows at most. Returns the rows and where the
   * next page starts (absent when nothing is left).
   */
  page(
    statuses: readonly IncidentStatus[] | undefined,
    severities: readonly Severity[] | undefined,
    limit: number,
    from: ListPosition | undefined,
    accept: (n: number) => boolean,
  ): { numbers: number[]; next?: ListPosition } {
    const wantStatus = new Set(statuses ?? INCIDENT_STATUSES);
    const wantSeverity = severities ?? SEVERITIES;
    const groups: IncidentStatus[][] = [
      OPEN_STATUSES.filter((s) => wantStatus.has(s)),
      INCIDENT_STATUSES.filter((s) => !OPEN_STATUSES.includes(s) && wantStatus.has(s)),
    ];
    const numbers: number[] = [];
    let lastGroup: 0 | 1 = 0;
    for (const group of [0, 1] as const) {
      if (from && group < from.group) continue;
      const cursors = groups[group]!.flatMap((st) =>
        wantSeverity.map((sev) => {
          const list = this.lists.get(key(st, sev)) ?? [];
          return { list, i: (from && group === from.group ? lowerBound(list, from.before) : list.length) - 1 };
        }),
      );
      for (;;) {
        let best: (typeof cursors)[number] | undefined;
        for (const c of cursors) if (c.i >= 0 && (!best || c.list[c.i]! > best.list[best.i]!)) best = c;
        if (!best) break;
        const n = best.list[best.i--]!;
        if (!accept(n)) continue;
        // One match beyond the page proves a next page exists.
        if (numbers.length === limit) return { numbers, next: { group: lastGroup, before: numbers[numbers.length - 1]! } };
        numbers.push(n);
        lastGroup = group;
      }
    }
    return { numbers };
  }
}
