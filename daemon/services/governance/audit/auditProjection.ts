import * as z from 'zod';
import { ComplianceReport } from '../../../protocol';
import type { EventRecord, Projection } from '../../../store/types';

export const AuditEvent = {
  Completed: 'governance.auditCompleted',
} as const;

/** The report as stored: findings capped (see `findingsCap`/`findingsTruncated`), counts exact. */
export const AuditCompletedPayload = z.object({ report: ComplianceReport });

export interface AuditHistoryEntry {
  auditId: string;
  auditedAt: string;
  score: number;
  findingCount: number;
  bySeverity: ComplianceReport['bySeverity'];
  documents: { file: string; score: number }[];
}

/** Score entries kept in memory; older ones stay in the event log. */
export const MAX_HISTORY = 1000;

interface Snapshot {
  latest: ComplianceReport | null;
  history: AuditHistoryEntry[];
}

/** The latest compliance report and the score history, from `governance.auditCompleted` events. */
export class AuditProjection implements Projection {
  readonly name = 'governanceAudit';
  private latestReport: ComplianceReport | null = null;
  private entries: AuditHistoryEntry[] = [];

  apply(event: EventRecord): void {
    if (event.type !== AuditEvent.Completed) return;
    const p = AuditCompletedPayload.safeParse(event.payload);
    if (!p.success) return;
    const r = p.data.report;
    this.latestReport = r;
    this.entries.push({
      auditId: r.auditId,
      auditedAt: r.auditedAt,
      score: r.score,
      findingCount: r.findingCount,
      bySeverity: r.bySeverity,
      documents: r.documents.map((d) => ({ file: d.file, score: d.score })),
    });
    if (this.entries.length > MAX_HISTORY) this.entries.splice(0, this.entries.length - MAX_HISTORY);
  }

  get latest(): ComplianceReport | null {
    return this.latestReport;
  }

  /** Newest first. */
  history(file?: string, limit = 100): AuditHistoryEntry[] {
    const out: AuditHistoryEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.entries[i]!;
      if (file === undefined || e.documents.some((d) => d.file === file)) out.push(e);
    }
    return out;
  }

  snapshot(): Snapshot {
    return { latest: this.latestReport, history: this.entries };
  }

  restore(state: unknown): void {
    this.reset();
    const s = state as Partial<Snapshot> | null;
    if (!s || typeof s !== 'object') return;
    this.latestReport = s.latest ?? null;
    this.entries = Array.isArray(s.history) ? [...s.history] : [];
  }

  reset(): void {
    this.latestReport = null;
    this.entries = [];
  }
}
