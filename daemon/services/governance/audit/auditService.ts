import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { ErrorCode, RpcError, type ComplianceReport, type GetGovernanceDashboard, type ParsedParamsOf, type ResultOf, type AuditContracts } from '../../../protocol';
import type { EventStore } from '../../../store/types';
import type { Clock } from '../../shared/clock';
import { AuditEvent, type AuditHistoryEntry, type AuditProjection } from './auditProjection';
import { discoverSpecs, type SniffCache } from './discovery';
import type { AuditEngine } from './engine';
import { IncrementalAuditor } from './incremental';
import { buildReport, capFindings, failingCategories } from './report';
import { readSpecFile } from './specFiles';

/** Findings an audit answer lists (counts stay exact beyond it). */
export const ANSWER_FINDINGS_CAP = 2000;
/** Findings the `governance.auditCompleted` event keeps, so one audit cannot bloat the log. */
export const EVENT_FINDINGS_CAP = 200;

type OwaspSummary = ResultOf<typeof GetGovernanceDashboard>['owasp'];

/** Runs contract audits one at a time, records each as an event, answers reports and history. */
export class AuditService {
  private queue: Promise<unknown> = Promise.resolve();
  /** Each root's last findings with the state of every file they depend on, reused while nothing changed. */
  private incremental: IncrementalAuditor | undefined;
  /** Which workspace files are specs, so a re-audit does not sniff every unchanged file again. */
  private readonly sniffed: SniffCache = new Map();

  constructor(
    private readonly store: EventStore,
    private readonly projection: AuditProjection,
    private readonly clock: Clock,
    /** Built on first use: loading Spectral and its rulesets costs start-up time that most daemons never need. */
    private readonly engineOf: () => Promise<AuditEngine>,
  ) {}

  /** Audits run in turn: Spectral is CPU-bound and one at a time keeps memory bounded. */
  audit(params: ParsedParamsOf<typeof AuditContracts>, actor: string): Promise<ComplianceReport> {
    const run = this.queue.then(() => this.run(params, actor));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(params: ParsedParamsOf<typeof AuditContracts>, actor: string): Promise<ComplianceReport> {
    const engine = await this.engineOf();
    const texts: { file: string; text: string }[] = [];
    let skipped: { file: string; reason: string }[] = [];
    if (params.paths) {
      const unique = [...new Set(params.paths)];
      for (const [i, file] of unique.entries()) texts.push({ file, text: await readSpecFile(file, `paths[${i}]`, engine.maxBytes) });
    } else if (params.root !== undefined) {
      const root = params.root;
      const info = await stat(root).catch(() => undefined);
      if (!info?.isDirectory()) {
        throw new RpcError(ErrorCode.InvalidParams, `root: ${root} is not an existing folder`, { issues: [{ path: 'root', message: `${root} is not an existing folder` }] });
      }
      const found = await discoverSpecs(root, params.glob, engine.maxBytes, this.sniffed);
      if (found.files.length === 0) {
        throw new RpcError(ErrorCode.NotFound, `No OpenAPI or Swagger document under ${root} matches ${params.glob ?? 'the default glob'}.`, { kind: 'spec', id: root });
      }
      skipped = found.skipped;
      for (const [i, file] of found.files.entries()) texts.push({ file, text: await readSpecFile(file, `root (file ${i})`, engine.maxBytes) });
    }
    this.incremental ??= new IncrementalAuditor(engine);
    const run = await this.incremental.auditAll(texts);
    const report = buildReport(
      run.audits,
      { auditId: `aud_${randomUUID()}`, auditedAt: new Date(this.clock.now()).toISOString(), root: params.root, skipped },
      ANSWER_FINDINGS_CAP,
    );
    report.incremental = { audited: run.audited, reused: run.reused.length };
    await this.store.append([{ type: AuditEvent.Completed, actor, payload: { report: capFindings(report, EVENT_FINDINGS_CAP) } }]);
    return report;
  }

  history(file: string | undefined, limit: number): AuditHistoryEntry[] {
    return this.projection.history(file, limit);
  }

  latest(): ComplianceReport | null {
    return this.projection.latest;
  }

  /** The dashboard's OWASP part: the latest real score, or `notAudited`. */
  dashboardSummary(): OwaspSummary {
    const r = this.projection.latest;
    if (!r) {
      return {
        status: 'notAudited',
        score: null,
        message: 'No OpenAPI contract has been audited yet (governance/audit); no compliance score is reported until one is.',
      };
    }
    const failing = failingCategories(r);
    return {
      status: 'audited',
      score: r.score,
      auditId: r.auditId,
      auditedAt: r.auditedAt,
      documents: r.documents.length,
      findingCount: r.findingCount,
      failingCategories: failing,
      message: `${r.documents.length} document(s), ${r.findingCount} finding(s); ${failing.length === 0 ? 'no category fails' : `failing: ${failing.join(', ')}`}.`,
    };
  }
}
