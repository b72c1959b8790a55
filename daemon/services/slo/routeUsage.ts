import { MAX_USAGE_DAYS, type RouteUsageRow, type SloSample, type UsageRowPayload } from '../../protocol/slo';

/**
 * Route usage: requests per (service, method, route, client) and UTC day, with the newest request's
 * time, counted from every recorded sample whether an SLO counts it or not (the governance feature
 * asks which operations are still called, and by whom).
 *
 * Memory is bounded whatever arrives: per day at most MAX_USAGE_ROUTES routes (later ones count under
 * route `other`), MAX_CLIENTS_PER_ROUTE clients per route and MAX_USAGE_CELLS (route, client) cells in
 * all (later clients count under client `other` of their route), for MAX_USAGE_DAYS days.
 */

export const DAY_MS = 86_400_000;
/** Distinct clients one route keeps per day; more count as `other`. */
export const MAX_CLIENTS_PER_ROUTE = 100;
/** Distinct (service, method, route) per day; more count under route `other`. */
export const MAX_USAGE_ROUTES = 1000;
/** Distinct (route, client) cells per day, `other` cells aside. */
export const MAX_USAGE_CELLS = 5000;
/** The name overflowing clients and routes count under. */
export const OVERFLOW = 'other';

/** A request count and the newest request's time (epoch ms). */
interface Cell {
  requests: number;
  lastSeen: number;
}

const dayIso = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

/**
 * A route template in one spelling: `{name}` (OpenAPI) and `:name` (Express, with an optional `?` or
 * a `(regex)`) parameters become `{}`, repeated and trailing slashes go: `/orders/{orderId}/` and
 * `/orders/:id` are both `/orders/{}`.
 */
export function normaliseRoute(route: string): string {
  const path = route.split(/[?#]/, 1)[0]!;
  const segments = path.split('/').filter((s) => s.length > 0);
  const out = segments.map((s) => (/^\{[^{}]*\}$/.test(s) || /^:[A-Za-z0-9_$-]*(\(.*\))?\??$/.test(s) ? '{}' : s));
  return `/${out.join('/')}`;
}

/**
 * The route usage of samples recorded together (one flush or batch), before it becomes an event:
 * nested maps so a sample costs a few lookups and no string building.
 */
export class UsageAggregate {
  /** day → service → method → route → client → cell. */
  private readonly days = new Map<number, Map<string, Map<string, Map<string, Map<string | null, Cell>>>>>();
  private routeCount = 0;
  /** The last (day, service) looked up and its methods: a batch is mostly one service on one day. */
  private lastDay = NaN;
  private lastService = '';
  private lastMethods: Map<string, Map<string, Map<string | null, Cell>>> | undefined;

  add(sample: Pick<SloSample, 'service' | 'method' | 'route' | 'client'>, time: number): void {
    this.count(Math.floor(time / DAY_MS), sample.service, sample.method, sample.route, sample.client ?? null, 1, time);
  }

  /** Add another aggregate's counts. */
  merge(other: UsageAggregate): void {
    for (const c of other.cells()) this.count(c.day, c.service, c.method, c.route, c.client, c.cell.requests, c.cell.lastSeen);
  }

  private count(day: number, service: string, method: string, route: string, client: string | null, requests: number, time: number): void {
    let methods = this.lastMethods;
    if (methods === undefined || day !== this.lastDay || service !== this.lastService) {
      let services = this.days.get(day);
      if (!services) this.days.set(day, (services = new Map()));
      methods = services.get(service);
      if (!methods) services.set(service, (methods = new Map()));
      this.lastDay = day;
      this.lastService = service;
      this.lastMethods = methods;
    }
    let routes = methods.get(method);
    if (!routes) methods.set(method, (routes = new Map()));
    let clients = routes.get(route);
    if (!clients) {
      // An event stays small however many routes a batch names.
      const name = this.routeCount >= MAX_USAGE_ROUTES ? OVERFLOW : route;
      clients = routes.get(name);
      if (!clients) {
        routes.set(name, (clients = new Map()));
        this.routeCount++;
      }
    }
    let cell = clients.get(client);
    if (!cell) {
      const name = clients.size >= MAX_CLIENTS_PER_ROUTE ? OVERFLOW : client;
      cell = clients.get(name);
      if (!cell) clients.set(name, (cell = { requests: 0, lastSeen: time }));
    }
    cell.requests += requests;
    if (time > cell.lastSeen) cell.lastSeen = time;
  }

  get isEmpty(): boolean {
    return this.days.size === 0;
  }

  /** The counts as stored rows, methods upper-cased (two spellings of one method are one row). */
  payloads(): UsageRowPayload[] {
    const merged = new Map<string, UsageRowPayload & { seen: number }>();
    for (const { day, service, method, route, client, cell } of this.cells()) {
      const m = method.toUpperCase();
      const key = JSON.stringify([day, service, m, route, client]);
      const row = merged.get(key);
      if (row) {
        row.requests += cell.requests;
        row.seen = Math.max(row.seen, cell.lastSeen);
      } else merged.set(key, { day: dayIso(day), service, method: m, route, client, requests: cell.requests, lastSeen: '', seen: cell.lastSeen });
    }
    return [...merged.values()].map(({ seen, ...row }) => ({ ...row, lastSeen: new Date(seen).toISOString() }));
  }

  private *cells(): Generator<{ day: number; service: string; method: string; route: string; client: string | null; cell: Cell }> {
    for (const [day, services] of this.days)
      for (const [service, methods] of services)
        for (const [method, routes] of methods) for (const [route, clients] of routes) for (const [client, cell] of clients) yield { day, service, method, route, client, cell };
  }
}

/** One route's usage on one day. */
interface RouteDay {
  service: string;
  method: string;
  route: string;
  clients: Map<string | null, Cell>;
}

interface Day {
  /** `service \n method \n route` → its usage. */
  routes: Map<string, RouteDay>;
  /** Cells held, `other` clients aside. */
  cells: number;
}

/** A stored row as a snapshot keeps it: [day index, service, method, route, client, requests, lastSeen ms]. */
export type UsageSnapshotRow = [number, string, string, string, string | null, number, number];

/** A (service, method, route, client) total over some days. */
export interface UsageTotal {
  service: string;
  method: string;
  route: string;
  client: string | null;
  requests: number;
  /** Epoch ms. */
  lastSeen: number;
}

/** What the projection keeps of route usage: per-day rows, capped, the last MAX_USAGE_DAYS days of data. */
export class RouteUsageTable {
  private readonly days = new Map<number, Day>();
  private newestDay = -Infinity;

  /** Count a stored row; rows of days older than the table keeps are ignored. */
  add(row: UsageRowPayload): void {
    const day = Math.floor(Date.parse(row.day) / DAY_MS);
    this.addCell(day, row.service, row.method.toUpperCase(), row.route, row.client, row.requests, Date.parse(row.lastSeen));
  }

  /** Totals per (service, method, route, client) over days `fromDay..toDay` (inclusive), unsorted. */
  totals(fromDay: number, toDay: number): UsageTotal[] {
    const byKey = new Map<string, Map<string | null, UsageTotal>>();
    for (const [day, d] of this.days) {
      if (day < fromDay || day > toDay) continue;
      for (const [key, r] of d.routes) {
        let clients = byKey.get(key);
        if (!clients) byKey.set(key, (clients = new Map()));
        for (const [client, cell] of r.clients) {
          const t = clients.get(client);
          if (t) {
            t.requests += cell.requests;
            t.lastSeen = Math.max(t.lastSeen, cell.lastSeen);
          } else clients.set(client, { service: r.service, method: r.method, route: r.route, client, requests: cell.requests, lastSeen: cell.lastSeen });
        }
      }
    }
    return [...byKey.values()].flatMap((clients) => [...clients.values()]);
  }

  snapshot(): UsageSnapshotRow[] {
    const rows: UsageSnapshotRow[] = [];
    for (const [day, d] of [...this.days].sort((a, b) => a[0] - b[0])) {
      for (const r of d.routes.values()) for (const [client, c] of r.clients) rows.push([day, r.service, r.method, r.route, client, c.requests, c.lastSeen]);
    }
    return rows;
  }

  restore(rows: readonly UsageSnapshotRow[]): void {
    this.clear();
    for (const [day, service, method, route, client, requests, lastSeen] of rows) this.addCell(day, service, method, route, client, requests, lastSeen);
  }

  clear(): void {
    this.days.clear();
    this.newestDay = -Infinity;
  }

  private addCell(day: number, service: string, method: string, route: string, client: string | null, requests: number, lastSeen: number): void {
    if (day > this.newestDay) {
      this.newestDay = day;
      for (const old of this.days.keys()) if (old <= day - MAX_USAGE_DAYS) this.days.delete(old);
    }
    if (day <= this.newestDay - MAX_USAGE_DAYS) return;
    let d = this.days.get(day);
    if (!d) this.days.set(day, (d = { routes: new Map(), cells: 0 }));
    let key = `${service}\n${method}\n${route}`;
    let r = d.routes.get(key);
    if (!r && d.routes.size >= MAX_USAGE_ROUTES) {
      key = `${service}\n${method}\n${OVERFLOW}`;
      r = d.routes.get(key);
      route = OVERFLOW;
    }
    if (!r) d.routes.set(key, (r = { service, method, route, clients: new Map() }));
    let cell = r.clients.get(client);
    if (!cell && client !== OVERFLOW && (r.clients.size >= MAX_CLIENTS_PER_ROUTE || d.cells >= MAX_USAGE_CELLS)) {
      client = OVERFLOW;
      cell = r.clients.get(client);
    }
    if (!cell) {
      r.clients.set(client, (cell = { requests: 0, lastSeen }));
      if (client !== OVERFLOW) d.cells++;
    }
    cell.requests += requests;
    if (lastSeen > cell.lastSeen) cell.lastSeen = lastSeen;
  }
}

/** Totals as `slo/routeUsage` rows: by service, method, route, then most requests first. */
export function usageRows(totals: UsageTotal[]): RouteUsageRow[] {
  return totals
    .sort((a, b) => cmp(a.service, b.service) || cmp(a.method, b.method) || cmp(a.route, b.route) || b.requests - a.requests || cmp(a.client ?? '', b.client ?? ''))
    .map((t) => ({ service: t.service, method: t.method, route: t.route, client: t.client, requests: t.requests, lastSeen: new Date(t.lastSeen).toISOString() }));
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
