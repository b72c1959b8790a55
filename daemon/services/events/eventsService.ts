import {
  ErrorCode,
  RpcError,
  type ListStreams,
  type ParsedParamsOf,
  type PublishEvent,
  type PublishEventBatch,
  type QueryEvents,
  type ResultOf,
} from '../../protocol';
import type { AppendResult, EventFilter, EventStore, NewEvent } from '../../store/types';
import { matchesTypePattern } from '../../store/streams';

type QueryParams = ParsedParamsOf<typeof QueryEvents>;
type PublishParams = ParsedParamsOf<typeof PublishEvent>;
type PublishBatchParams = ParsedParamsOf<typeof PublishEventBatch>;

function toNewEvent(params: PublishParams, actor: string): NewEvent {
  return {
    id: params.id,
    type: params.type,
    stream: params.stream,
    priority: params.priority,
    actor,
    source: params.source,
    correlationId: params.correlationId,
    causationId: params.causationId,
    payload: params.payload,
  };
}

function toResult({ event: e, duplicate }: AppendResult): ResultOf<typeof PublishEvent> {
  return { id: e.id, seq: e.seq, stream: e.stream, time: e.time, duplicate };
}

interface Cursor {
  /** Seq of the last event of the previous page. */
  seq: number;
  order: 'asc' | 'desc';
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify({ v: 1, s: c.seq, o: c.order })).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  const bad = () =>
    new RpcError(ErrorCode.InvalidParams, 'Invalid params for events/query: cursor: not a cursor from a previous page', {
      method: 'events/query',
      issues: [{ path: 'cursor', message: 'not a cursor from a previous page' }],
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const c = parsed as { v?: unknown; s?: unknown; o?: unknown };
  if (c?.v !== 1 || !Number.isSafeInteger(c.s) || (c.s as number) < 0 || (c.o !== 'asc' && c.o !== 'desc')) throw bad();
  return { seq: c.s as number, order: c.o };
}

/**
 * `events/publish`, `events/publishBatch`, `events/query` and `events/streams`: the user-facing side of the event log.
 * Event types that belong to a daemon domain (`auth.**`, ...) cannot be published by clients.
 */
export class EventsService {
  constructor(
    private readonly store: EventStore,
    /** Type patterns reserved for daemon domains (read on each publish: features register late). */
    private readonly reservedTypes: () => readonly string[],
  ) {}

  async publish(params: PublishParams, actor: string): Promise<ResultOf<typeof PublishEvent>> {
    this.checkPublishable(params, 'events/publish', '', this.reservedTypes(), () => this.streamNames());
    const [appended] = await this.store.append([toNewEvent(params, actor)]);
    return toResult(appended);
  }

  /**
   * `events/publishBatch`: every item checked as `events/publish` checks it (errors name the
   * index, `events.3.type`), then one append, so the batch is stored all or nothing, in order.
   */
  async publishBatch(params: PublishBatchParams, actor: string): Promise<ResultOf<typeof PublishEventBatch>> {
    const reserved = this.reservedTypes();
    let names: Set<string> | undefined;
    const streams = () => (names ??= this.streamNames());
    params.events.forEach((item, i) => this.checkPublishable(item, 'events/publishBatch', `events.${i}.`, reserved, streams));
    const appended = await this.store.append(params.events.map((item) => toNewEvent(item, actor)));
    return { results: appended.map(toResult) };
  }

  private streamNames(): Set<string> {
    return new Set(this.store.streams().map((s) => s.name));
  }

  /**
   * Refuses a type reserved for a daemon domain and an unknown stream; `at` prefixes the field paths.
   * `streams` is only asked when an event names its stream (most do not: the hot path skips it).
   */
  private checkPublishable(params: PublishParams, method: string, at: string, reservedTypes: readonly string[], streams: () => Set<string>): void {
    const reserved = reservedTypes.find((p) => matchesTypePattern(p, params.type));
    if (reserved) {
      throw new RpcError(
        ErrorCode.Forbidden,
        `${at ? `${at}type: ` : ''}Event type "${params.type}" is reserved for the daemon (${reserved}); publish your own types, e.g. "api.request"`,
        at ? { type: params.type, reserved, path: `${at}type` } : { type: params.type, reserved },
      );
    }
    if (params.stream !== undefined && !streams().has(params.stream)) {
      throw new RpcError(ErrorCode.InvalidParams, `Invalid params for ${method}: ${at}stream: unknown stream "${params.stream}"`, {
        method,
        issues: [{ path: `${at}stream`, message: `unknown stream; known streams: ${[...streams()].join(', ')}` }],
      });
    }
  }

  async query(params: QueryParams): Promise<ResultOf<typeof QueryEvents>> {
    const cursor = params.cursor === undefined ? undefined : decodeCursor(params.cursor);
    if (cursor && cursor.order !== params.order) {
      throw new RpcError(ErrorCode.InvalidParams, `Invalid params for events/query: cursor: it belongs to a query in ${cursor.order} order`, {
        method: 'events/query',
        issues: [{ path: 'cursor', message: `cursor belongs to a query in ${cursor.order} order` }],
      });
    }
    const filter: EventFilter = {
      types: params.types,
      stream: params.stream,
      fromTime: params.from === undefined ? undefined : Date.parse(params.from),
      toTime: params.to === undefined ? undefined : Date.parse(params.to),
      afterSeq: params.afterSeq,
    };
    let beforeSeq: number | undefined;
    if (cursor && params.order === 'asc') filter.afterSeq = Math.max(filter.afterSeq ?? 0, cursor.seq);
    if (cursor && params.order === 'desc') beforeSeq = cursor.seq;
    const rows = await this.store.query(filter, { limit: params.limit + 1, order: params.order, beforeSeq });
    const events = rows.slice(0, params.limit);
    const more = rows.length > params.limit;
    return more
      ? { events, nextCursor: encodeCursor({ seq: events[events.length - 1].seq, order: params.order }) }
      : { events };
  }

  streams(): ResultOf<typeof ListStreams> {
    const stats = new Map(this.store.stats().streams.map((s) => [s.name, s]));
    return {
      streams: this.store.streams().map((s) => {
        const st = stats.get(s.name);
        return {
          name: s.name,
          retentionDays: s.retentionDays,
          typePatterns: [...s.typePatterns],
          events: st?.events ?? 0,
          bytes: st?.bytes ?? 0,
          lastSeq: st?.lastSeq ?? 0,
          ...(st?.lastTime ? { lastTime: st.lastTime } : {}),
        };
      }),
    };
  }
}
