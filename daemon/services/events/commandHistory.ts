import { ErrorCode, RpcError, type CommandRecord } from '../../protocol';
import type { CommandOutcome } from '../../server/router';
import type { EventRecord } from '../../store/types';
import type { Clock } from '../shared/clock';

const codeNames = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

/** Commands left out of the history: they are the consumer's hot path and their effect shows as checkpoint events. */
export const UNRECORDED_COMMANDS: ReadonlySet<string> = new Set(['events/ack', 'events/nack']);

const MAX_EVENT_SEQS = 100;

interface Running {
  readonly record: CommandRecord;
  readonly started: number;
}

/**
 * The CQRS command history: a bounded in-memory ring of the last `capacity` commands with their
 * outcome and the seqs of the events appended meanwhile by the same actor. In memory on purpose: an
 * event per command would double the log's writes, and every state change is already an event
 * (with its actor and time) in the log; this ring adds what the log cannot say: failed commands and
 * which call produced which events.
 */
export class CommandHistory {
  private readonly ring: CommandRecord[] = [];
  private readonly running = new Set<Running>();
  private nextId = 1;

  constructor(
    private readonly clock: Clock,
    /** Commands kept, oldest dropped first. */
    private readonly capacity = 1000,
  ) {}

  /** Router observer: call when a command starts; call the answer with its outcome. */
  begin(call: { method: string; actor: string }): (outcome: CommandOutcome) => void {
    if (UNRECORDED_COMMANDS.has(call.method)) return () => undefined;
    const started = this.clock.now();
    const record: CommandRecord = {
      id: this.nextId++,
      method: call.method,
      actor: call.actor,
      startedAt: new Date(started).toISOString(),
      durationMs: 0,
      outcome: 'ok',
      eventSeqs: [],
      eventsExact: true,
    };
    const run: Running = { record, started };
    for (const other of this.running) {
      if (other.record.actor === call.actor) {
        other.record.eventsExact = false;
        record.eventsExact = false;
      }
    }
    this.running.add(run);
    return (outcome) => {
      if (!this.running.delete(run)) return;
      record.durationMs = Math.max(0, this.clock.now() - started);
      if (!outcome.ok) {
        record.outcome = 'error';
        record.errorCode = outcome.error instanceof RpcError ? (codeNames.get(outcome.error.code) ?? String(outcome.error.code)) : 'InternalError';
      }
      this.ring.push(record);
      if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    };
  }

  /** Store listener: attribute appended events to the running commands of their actor. */
  appended(events: readonly EventRecord[]): void {
    if (this.running.size === 0) return;
    for (const e of events) {
      for (const run of this.running) {
        if (run.record.actor === e.actor && run.record.eventSeqs.length < MAX_EVENT_SEQS) run.record.eventSeqs.push(e.seq);
      }
    }
  }

  /** Newest first; `beforeId` is the page cursor. */
  list(filter: { method?: string; actor?: string; beforeId?: number; limit: number }): { commands: CommandRecord[]; more: boolean } {
    const out: CommandRecord[] = [];
    for (let i = this.ring.length - 1; i >= 0; i--) {
      const r = this.ring[i];
      if (filter.beforeId !== undefined && r.id >= filter.beforeId) continue;
      if (filter.method !== undefined && r.method !== filter.method) continue;
      if (filter.actor !== undefined && r.actor !== filter.actor) continue;
      if (out.length === filter.limit) return { commands: out, more: true };
      out.push({ ...r, eventSeqs: [...r.eventSeqs] });
    }
    return { commands: out, more: false };
  }
}
