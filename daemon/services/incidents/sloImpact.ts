import { ErrorCode, RpcError } from '../../protocol/errors';
import type { IncidentSloImpact } from '../../protocol/incidents';
import type { BudgetConsumedResult } from '../../protocol/slo';
import type { Incident } from '../../protocol/incidents';

/** The SLO service's `slo/budgetConsumed`, called in process (the two features run in one daemon). */
export type SloBudgetLookup = (params: { sloIds: string[]; from: string; to: string }) => BudgetConsumedResult;

export interface IncidentSloImpactResult {
  incidentId: string;
  number: string;
  from: string;
  to: string;
  ongoing: boolean;
  slos: IncidentSloImpact[];
}

/**
 * The error budget an incident consumed on each SLO linked to it: bad events between detection and
 * resolution (or now, while it is open). Each SLO is asked on its own so one deleted SLO, or one
 * whose history no longer reaches back to the detection, is reported with a note instead of failing
 * the whole answer.
 */
export function incidentSloImpact(incident: Incident, now: number, lookup: SloBudgetLookup | undefined): IncidentSloImpactResult {
  if (!lookup) throw new RpcError(ErrorCode.FailedPrecondition, 'the SLO service is not running in this daemon', { field: 'id' });
  const fromMs = Date.parse(incident.detectedAt);
  const ongoing = incident.resolvedAt === undefined;
  // Never an empty range: budgetConsumed rounds out to whole minutes and refuses to <= from.
  const toMs = Math.max(ongoing ? now : Date.parse(incident.resolvedAt!), fromMs + 1);
  const from = new Date(fromMs).toISOString();
  const to = new Date(toMs).toISOString();
  let window = { from, to };
  const slos = incident.linkedSlos.map((sloId): IncidentSloImpact => {
    try {
      const result = lookup({ sloIds: [sloId], from, to });
      window = { from: result.from, to: result.to };
      return { sloId, impact: result.slos[0] ?? null };
    } catch (e) {
      if (e instanceof RpcError && (e.code === ErrorCode.NotFound || e.code === ErrorCode.InvalidParams)) {
        return { sloId, impact: null, note: e.code === ErrorCode.NotFound ? `SLO ${sloId} no longer exists` : e.message };
      }
      throw e;
    }
  });
  return { incidentId: incident.id, number: incident.number, from: window.from, to: window.to, ongoing, slos };
}
