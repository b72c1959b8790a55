import * as z from 'zod';
import { BreakingChangeChannel, ComparisonReport, DeprecationPolicy, DeprecationPolicyId } from '../../../protocol';
import type { EventRecord, Projection } from '../../../store/types';

/** Event types of the comparison half of governance (`governance.**` is reserved by the feature). */
export const CompareEvent = {
  Completed: 'governance.compareCompleted',
  BreakingChangeDetected: 'governance.breakingChangeDetected',
  BreakingChangeDelivered: 'governance.breakingChangeDelivered',
  ChannelsSet: 'governance.notificationChannelsSet',
  DeprecationPolicyCreated: 'governance.deprecationPolicyCreated',
  DeprecationPolicyUpdated: 'governance.deprecationPolicyUpdated',
  DeprecationPolicyDeleted: 'governance.deprecationPolicyDeleted',
} as const;

export const CompareCompletedPayload = z.object({ report: ComparisonReport });
export const ChannelsSetPayload = z.object({ channels: z.array(BreakingChangeChannel) });
export const DeprecationPolicyPayload = z.object({ policy: DeprecationPolicy });
export const DeprecationPolicyDeletedPayload = z.object({ id: DeprecationPolicyId });

/** Documents whose latest report is kept in memory (the oldest is dropped; the log keeps every report). */
export const MAX_REPORTED_DOCUMENTS = 500;

interface Snapshot {
  reports: ComparisonReport[];
  channels: BreakingChangeChannel[];
  policies: DeprecationPolicy[];
}

/** The latest comparison report per document, the notification channels and the deprecation policies. */
export class CompareProjection implements Projection {
  readonly name = 'governanceCompare';
  /** Insertion order is report order: a document's new report moves it to the end. */
  private readonly reportMap = new Map<string, ComparisonReport>();
  private channelList: BreakingChangeChannel[] = [];
  private readonly policyMap = new Map<string, DeprecationPolicy>();

  apply(event: EventRecord): void {
    switch (event.type) {
      case CompareEvent.Completed: {
        const p = CompareCompletedPayload.safeParse(event.payload);
        if (!p.success) return;
        this.reportMap.delete(p.data.report.document);
        this.reportMap.set(p.data.report.document, p.data.report);
        if (this.reportMap.size > MAX_REPORTED_DOCUMENTS) this.reportMap.delete(this.reportMap.keys().next().value!);
        return;
      }
      case CompareEvent.ChannelsSet: {
        const p = ChannelsSetPayload.safeParse(event.payload);
        if (p.success) this.channelList = p.data.channels;
        return;
      }
      case CompareEvent.DeprecationPolicyCreated:
      case CompareEvent.DeprecationPolicyUpdated: {
        const p = DeprecationPolicyPayload.safeParse(event.payload);
        if (p.success) this.policyMap.set(p.data.policy.id, p.data.policy);
        return;
      }
      case CompareEvent.DeprecationPolicyDeleted: {
        const p = DeprecationPolicyDeletedPayload.safeParse(event.payload);
        if (p.success) this.policyMap.delete(p.data.id);
        return;
      }
      default:
    }
  }

  /** Newest first. */
  reports(document?: string, limit = 50): ComparisonReport[] {
    if (document !== undefined) {
      const r = this.reportMap.get(document);
      return r ? [r] : [];
    }
    return [...this.reportMap.values()].reverse().slice(0, limit);
  }

  get channels(): BreakingChangeChannel[] {
    return this.channelList;
  }

  policy(id: string): DeprecationPolicy | undefined {
    return this.policyMap.get(id);
  }

  policies(): DeprecationPolicy[] {
    return [...this.policyMap.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  snapshot(): Snapshot {
    return { reports: [...this.reportMap.values()], channels: this.channelList, policies: this.policies() };
  }

  restore(state: unknown): void {
    this.reset();
    const s = state as Partial<Snapshot> | null;
    if (!s || typeof s !== 'object') return;
    for (const r of s.reports ?? []) this.reportMap.set(r.document, r);
    this.channelList = Array.isArray(s.channels) ? s.channels : [];
    for (const p of s.policies ?? []) this.policyMap.set(p.id, p);
  }

  reset(): void {
    this.reportMap.clear();
    this.channelList = [];
    this.policyMap.clear();
  }
}
