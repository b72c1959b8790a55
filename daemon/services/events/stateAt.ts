import { ErrorCode, RpcError, type ResultOf, type StateAt } from '../../protocol';
import type { EventStore, Projection } from '../../store/types';

/** Most events `events/stateAt` replays into a fresh projection; beyond it the call is refused. */
export const STATE_AT_MAX_EVENTS = 250_000;

/** A feature's name and projections, as `app.ts` knows them. */
export interface ProjectionSource {
  readonly name: string;
  readonly projections: readonly Projection[];
}

type ProjectionClass = new () => Projection;

/**
 * A fresh, empty instance of the same projection class. Every projection of the daemon is
 * constructible without arguments (state comes only from events), which is what makes a rebuild
 * from the log possible at all; one that is not is refused instead of guessed at.
 */
function freshCopy(p: Projection): Projection {
  const ctor = p.constructor as ProjectionClass;
  if (typeof ctor !== 'function' || ctor.length !== 0) {
    throw new RpcError(ErrorCode.FailedPrecondition, `Projection "${p.name}" cannot be rebuilt: its class needs constructor arguments`, { projection: p.name });
  }
  const copy = new ctor();
  if (copy.name !== p.name) {
    throw new RpcError(ErrorCode.FailedPrecondition, `Projection "${p.name}" cannot be rebuilt: a fresh instance is named "${copy.name}"`, { projection: p.name });
  }
  return copy;
}

/**
 * `events/stateAt`: rebuild a feature's projections (or one projection) from the log up to a seq or
 * time into fresh instances, never touching the live ones; the answer is their snapshot.
 */
export async function stateAt(
  store: EventStore,
  sources: () => readonly ProjectionSource[],
  params: { projection: string; seq?: number; at?: string },
): Promise<ResultOf<typeof StateAt>> {
  const all = sources();
  const feature = all.find((f) => f.name === params.projection && f.projections.length > 0);
  const live = feature ? [...feature.projections] : all.flatMap((f) => f.projections).filter((p) => p.name === params.projection);
  if (live.length === 0) {
    const known = [...new Set(all.flatMap((f) => (f.projections.length > 0 ? [f.name, ...f.projections.map((p) => p.name)] : [])))].sort();
    throw new RpcError(ErrorCode.NotFound, `No feature or projection named "${params.projection}"; known: ${known.join(', ')}`, {
      kind: 'projection',
      id: params.projection,
    });
  }
  let upTo: number;
  if (params.seq !== undefined) {
    if (params.seq > store.lastSeq) {
      throw new RpcError(ErrorCode.FailedPrecondition, `seq ${params.seq} is beyond the end of the log (last seq ${store.lastSeq})`, {
        seq: params.seq,
        lastSeq: store.lastSeq,
      });
    }
    upTo = params.seq;
  } else {
    const [last] = await store.query({ toTime: Date.parse(params.at!) + 1 }, { limit: 1, order: 'desc' });
    upTo = last?.seq ?? 0;
  }
  const [oldest] = await store.query({}, { limit: 1, order: 'asc' });
  const firstSeq = oldest?.seq ?? 1;
  if (upTo - firstSeq + 1 > STATE_AT_MAX_EVENTS) {
    throw new RpcError(
      ErrorCode.FailedPrecondition,
      `Rebuilding up to seq ${upTo} would replay ${upTo - firstSeq + 1} events; the limit is ${STATE_AT_MAX_EVENTS}`,
      { seq: upTo, max: STATE_AT_MAX_EVENTS },
    );
  }
  const fresh = live.map(freshCopy);
  let applied = 0;
  if (upTo > 0) {
    for await (const e of store.readFrom(0)) {
      if (e.seq > upTo) break;
      for (const p of fresh) p.apply(e);
      applied++;
    }
  }
  return {
    seq: upTo,
    eventsApplied: applied,
    complete: firstSeq <= 1,
    projections: fresh.map((p) => ({ name: p.name, state: p.snapshot() })),
  };
}
