import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  RpcError,
  type ApiVersion,
  type BreakingChangeChannel,
  type CompareContracts,
  type CompareDocument,
  type ComparisonReport,
  type ContractChange,
  type CreateDeprecationPolicy,
  type DeprecationPolicy,
  type DidDetectBreakingChange,
  type HeadersFor,
  type NotificationParamsOf,
  type ParsedParamsOf,
  type ResultOf,
  type UpdateDeprecationPolicy,
} from '../../../protocol';
import type { EventStore } from '../../../store/types';
import type { Clock } from '../../shared/clock';
import { readSpecFile } from '../audit/specFiles';
import type { BreakingChangeNotifier } from './breakingChangeNotifier';
import { NOTICE_CHANGES } from './breakingChangeNotifier';
import { compareSpecs } from './compareEngine';
import { CompareEvent, type CompareProjection } from './compareProjection';
import { headersForPolicy, mergeHeaders, policiesFor, removalPolicy } from './deprecation';
import { readFileAtRevision } from './gitRevision';
import { diskRefReader, SpecDocuments } from './specDocuments';

/** One caller's use of one operation, as the SLO service's request samples show it. */
export interface RouteUsage {
  /** Lower- or upper-case HTTP method. */
  method: string;
  /** The operation's path template, as the spec writes it. */
  path: string;
  client: string;
  /** Requests in the window. */
  requests: number;
  /** ISO-8601. */
  lastSeen: string;
}

/**
 * Who called these operations in the last `sinceDays` days. Injected (the daemon wires the SLO
 * service's route usage); the default knows no callers.
 */
export type RouteUsageLookup = (ops: { method: string; path: string }[], sinceDays: number) => RouteUsage[];

export const noRouteUsage: RouteUsageLookup = () => [];

/** Changes a compare answer lists (counts stay exact beyond it). */
export const ANSWER_CHANGES_CAP = 2000;
/** Changes the `governance.compareCompleted` event keeps. */
export const EVENT_CHANGES_CAP = 200;

export interface CompareServiceDeps {
  store: EventStore;
  projection: CompareProjection;
  clock: Clock;
  /** The governance versions (their lifecycle decides which removals are allowed). */
  versions: () => readonly ApiVersion[];
  routeUsage: RouteUsageLookup;
  /** Tell connected clients (`governance/didDetectBreakingChange`). */
  notify: (params: NotificationParamsOf<typeof DidDetectBreakingChange>) => void;
  notifier: Pick<BreakingChangeNotifier, 'send'>;
  warn: (message: string) => void;
}

interface LoadedSide {
  docs: SpecDocuments;
  side: ComparisonReport['base'];
}

const invalid = (field: string, message: string) => new RpcError(ErrorCode.InvalidParams, `${field}: ${message}`, { issues: [{ path: field, message }] });

/** Contract comparison, its reports and notices, and deprecation policies. Every change is an event. */
export class CompareService {
  private readonly deliveries = new Set<Promise<void>>();

  constructor(private readonly deps: CompareServiceDeps) {}

  async compare(params: ParsedParamsOf<typeof CompareContracts>, actor: string): Promise<ComparisonReport> {
    const head = await this.load(params.head, 'head');
    const base = await this.load(params.base, 'base', params.head.path);
    const now = this.deps.clock.now();
    let changes: ContractChange[];
    try {
      changes = compareSpecs(base.docs, head.docs, removalPolicy({ now, versions: this.deps.versions(), policies: this.deps.projection.policies() }));
    } catch (e) {
      throw e instanceof RpcError && e.code === ErrorCode.InvalidParams ? new RpcError(e.code, e.message, { issues: [{ path: 'base/head', message: e.message }], ...(e.data as object) }) : e;
    }
    const impact = this.impact(changes, params.impactDays);
    const summary = { breaking: 0, warning: 0, info: 0 };
    for (const c of changes) summary[c.severity]++;
    const report: ComparisonReport = {
      reportId: `cmp_${randomUUID()}`,
      comparedAt: new Date(now).toISOString(),
      document: params.head.path ?? params.head.name!,
      base: base.side,
      head: head.side,
      breaking: summary.breaking > 0,
      summary,
      changes: changes.slice(0, ANSWER_CHANGES_CAP),
      changeCount: changes.length,
      changesCap: ANSWER_CHANGES_CAP,
      changesTruncated: changes.length > ANSWER_CHANGES_CAP,
      impact,
    };
    const stored = { ...report, changes: changes.slice(0, EVENT_CHANGES_CAP), changesCap: EVENT_CHANGES_CAP, changesTruncated: changes.length > EVENT_CHANGES_CAP };
    const notice = report.breaking ? this.notice(report) : undefined;
    await this.deps.store.append([
      { type: CompareEvent.Completed, actor, payload: { report: stored } },
      ...(notice ? [{ type: CompareEvent.BreakingChangeDetected, actor, payload: notice }] : []),
    ]);
    if (notice) {
      this.deps.notify(notice);
      for (const channel of this.deps.projection.channels) this.track(this.deliver(channel, report));
    }
    return report;
  }

  reports(document: string | undefined, limit: number): ComparisonReport[] {
    return this.deps.projection.reports(document, limit);
  }

  channels(): BreakingChangeChannel[] {
    return this.deps.projection.channels;
  }

  async setChannels(channels: BreakingChangeChannel[], actor: string): Promise<BreakingChangeChannel[]> {
    await this.deps.store.append([{ type: CompareEvent.ChannelsSet, actor, payload: { channels } }]);
    return channels;
  }

  /** Resolves once every notice in flight was delivered or failed (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.all([...this.deliveries]);
  }

  policies(path?: string): DeprecationPolicy[] {
    const all = this.deps.projection.policies();
    return path === undefined ? all : policiesFor(all, path);
  }

  async createPolicy(p: ParsedParamsOf<typeof CreateDeprecationPolicy>, actor: string): Promise<DeprecationPolicy> {
    const id = p.id ?? `dep_${randomUUID().slice(0, 8)}`;
    if (this.deps.projection.policy(id)) throw new RpcError(ErrorCode.Duplicate, `A deprecation policy with id "${id}" already exists.`, { kind: 'deprecationPolicy', id });
    const now = this.nowIso();
    const policy: DeprecationPolicy = { ...p, id, deprecatedAt: p.deprecatedAt ?? now, createdAt: now, updatedAt: now };
    this.assertPolicy(policy);
    await this.deps.store.append([{ type: CompareEvent.DeprecationPolicyCreated, actor, payload: { policy } }]);
    return policy;
  }

  async updatePolicy(p: ParsedParamsOf<typeof UpdateDeprecationPolicy>, actor: string): Promise<DeprecationPolicy> {
    const current = this.deps.projection.policy(p.id);
    if (!current) throw new RpcError(ErrorCode.NotFound, `No deprecation policy "${p.id}".`, { kind: 'deprecationPolicy', id: p.id });
    const changes = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
    const policy: DeprecationPolicy = { ...current, ...changes, id: current.id, updatedAt: this.nowIso() };
    this.assertPolicy(policy);
    await this.deps.store.append([{ type: CompareEvent.DeprecationPolicyUpdated, actor, payload: { policy } }]);
    return policy;
  }

  async deletePolicy(id: string, actor: string): Promise<void> {
    if (!this.deps.projection.policy(id)) throw new RpcError(ErrorCode.NotFound, `No deprecation policy "${id}".`, { kind: 'deprecationPolicy', id });
    await this.deps.store.append([{ type: CompareEvent.DeprecationPolicyDeleted, actor, payload: { id } }]);
  }

  /** `governance/headersFor`: the version's headers (`versionHeaders`, when a version was asked for) merged with the policy covering `path`. */
  headersFor(p: ParsedParamsOf<typeof HeadersFor>, versionHeaders: ResultOf<typeof HeadersFor> | undefined): ResultOf<typeof HeadersFor> {
    const policy = p.path === undefined ? undefined : policiesFor(this.deps.projection.policies(), p.path, p.method)[0];
    const base: ResultOf<typeof HeadersFor> = versionHeaders ?? { headers: {} };
    if (!policy) return base;
    return { ...base, headers: mergeHeaders(base.headers, headersForPolicy(policy)), policy };
  }

  private assertPolicy(p: DeprecationPolicy): void {
    if (p.sunsetAt !== undefined && Date.parse(p.sunsetAt) <= Date.parse(p.deprecatedAt)) throw invalid('sunsetAt', 'must be after deprecatedAt');
    const twin = this.deps.projection.policies().find((q) => q.id !== p.id && q.pattern === p.pattern && String(q.methods ?? '') === String(p.methods ?? ''));
    if (twin) throw new RpcError(ErrorCode.Duplicate, `Deprecation policy "${twin.id}" already covers ${p.pattern}.`, { kind: 'deprecationPolicy', id: twin.id });
  }

  private async load(doc: CompareDocument, field: 'base' | 'head', headPath?: string): Promise<LoadedSide> {
    const wrap = async <T>(run: () => Promise<T>): Promise<T> => {
      try {
        return await run();
      } catch (e) {
        if (e instanceof RpcError && e.code === ErrorCode.InvalidParams && !e.message.startsWith(`${field}`)) {
          throw new RpcError(e.code, `${field}: ${e.message}`, { issues: [{ path: field, message: e.message }], ...(e.data as object) });
        }
        throw e;
      }
    };
    if (doc.content !== undefined) {
      const name = doc.name!;
      const docs = await wrap(() => SpecDocuments.load(name, doc.content!));
      return { docs, side: { name, format: docs.format } };
    }
    const path = doc.path ?? headPath!;
    if (doc.revision !== undefined) {
      const revision = doc.revision;
      const at = await readFileAtRevision(path, revision, `${field}.revision`);
      const docs = await wrap(() => SpecDocuments.load(path, at.text, at.readRef));
      return { docs, side: { name: `${revision}:${at.relativePath}`, format: docs.format, file: path, revision, commit: at.commit } };
    }
    const text = await readSpecFile(path, `${field}.path`);
    const docs = await wrap(() => SpecDocuments.load(path, text, diskRefReader));
    return { docs, side: { name: path, format: docs.format, file: path } };
  }

  /** Callers of the operations breaking changes touch, attached to each change and summed per client. */
  private impact(changes: ContractChange[], sinceDays: number): ComparisonReport['impact'] {
    const breaking = changes.filter((c) => c.severity === 'breaking' && c.method !== undefined && c.path !== undefined);
    if (breaking.length === 0) return { sinceDays, clients: [] };
    const ops = [...new Map(breaking.map((c) => [`${c.method} ${c.path}`, { method: c.method!, path: c.path! }])).values()];
    let usage: RouteUsage[] = [];
    try {
      usage = this.deps.routeUsage(ops, sinceDays);
    } catch (e) {
      this.deps.warn(`client impact: route usage lookup failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const byOp = new Map<string, RouteUsage[]>();
    for (const u of usage) {
      const key = `${u.method.toLowerCase()} ${u.path}`;
      byOp.set(key, [...(byOp.get(key) ?? []), u]);
    }
    for (const c of breaking) {
      const rows = byOp.get(`${c.method} ${c.path}`);
      if (rows) c.clients = [...rows].sort((a, b) => b.requests - a.requests).map((u) => ({ client: u.client, requests: u.requests, lastSeen: u.lastSeen }));
    }
    const perClient = new Map<string, { client: string; requests: number; operations: number }>();
    for (const [, rows] of byOp) {
      for (const u of rows) {
        const entry = perClient.get(u.client) ?? { client: u.client, requests: 0, operations: 0 };
        entry.requests += u.requests;
        entry.operations += 1;
        perClient.set(u.client, entry);
      }
    }
    return { sinceDays, clients: [...perClient.values()].sort((a, b) => b.requests - a.requests || a.client.localeCompare(b.client)) };
  }

  private notice(report: ComparisonReport): NotificationParamsOf<typeof DidDetectBreakingChange> {
    return {
      reportId: report.reportId,
      document: report.document,
      base: report.base.name,
      head: report.head.name,
      breakingCount: report.summary.breaking,
      changes: report.changes.filter((c) => c.severity === 'breaking').slice(0, NOTICE_CHANGES),
      affectedClients: report.impact.clients.map((c) => c.client),
    };
  }

  private async deliver(channel: BreakingChangeChannel, report: ComparisonReport): Promise<void> {
    const result = await this.deps.notifier.send(channel, report);
    if (result.outcome === 'failed') this.deps.warn(`breaking-change notice to ${channel.kind} ${result.host ?? ''} failed: ${result.error ?? 'unknown error'}`);
    try {
      await this.deps.store.append([{ type: CompareEvent.BreakingChangeDelivered, actor: 'daemon', payload: { reportId: report.reportId, channel: channel.kind, ...result } }]);
    } catch (e) {
      this.deps.warn(`recording a breaking-change delivery failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private track(p: Promise<void>): void {
    this.deliveries.add(p);
    void p.finally(() => this.deliveries.delete(p));
  }

  private nowIso(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
