import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCode, PROTOCOL_VERSION, RUNTIME_FILE, type EventEnvelope, type RuntimeInfo } from '../../../../daemon/protocol';

/**
 * A small in-process JSON-RPC daemon for client tests that misbehaves on purpose: it can drop the
 * connection when a method arrives (before or after applying it), delay answers, answer malformed
 * results, push catch-up events before the subscribe answer, and be "killed" (sockets cut, runtime
 * file left behind) and restarted on a new port with a new token over the same event store.
 */

/** Events survive a fake daemon's restart, like the real log. */
export class FakeStore {
  readonly events: EventEnvelope[] = [];

  append(type: string, payload: unknown, id: string = randomUUID()): { event: EventEnvelope; duplicate: boolean } {
    const existing = this.events.find((e) => e.id === id);
    if (existing) return { event: existing, duplicate: true };
    const event: EventEnvelope = {
      id,
      seq: this.events.length + 1,
      type,
      stream: 'default',
      time: new Date().toISOString(),
      priority: 'normal',
      actor: 'owner',
      schemaVersion: 1,
      payload,
    };
    this.events.push(event);
    return { event, duplicate: false };
  }
}

export interface Frame {
  method: string;
  params: Record<string, unknown>;
}

type Answer = { result: unknown } | { error: { code: number; message: string; data?: unknown } };
type Handler = (params: Record<string, unknown>, conn: FakeConnection) => Answer | Promise<Answer>;

/** How to misbehave on one method (the first `times` calls; default every call). */
export interface Misbehaviour {
  /** Cut the connection instead of answering; `afterApply` runs the handler first (its effect stays). */
  drop?: 'beforeApply' | 'afterApply';
  /** Answer this result instead of the handler's. */
  result?: unknown;
  /** Answer after a delay, ms. */
  delayMs?: number;
  /** Never answer. */
  silent?: boolean;
  times?: number;
}

interface FakeConnection {
  ws: WebSocket;
  initialized: boolean;
  subs: Map<string, { types?: string[] }>;
}

export interface FakeDaemonOptions {
  store?: FakeStore;
  /** Write `<dataDir>/daemon.json` like the real daemon. */
  dataDir?: string;
  token?: string;
  /** Answer daemon/initialize with this error instead. */
  initializeError?: { code: number; message: string };
  /** Push catch-up events before answering events/subscribe (the client must buffer them). */
  catchUpBeforeAnswer?: boolean;
  /** Answer pings (default true); false makes the daemon look hung to the client's heartbeat. */
  autoPong?: boolean;
}

export class FakeDaemon {
  readonly store: FakeStore;
  readonly token: string;
  /** Every request frame received (initialize included), in order, across connections. */
  readonly frames: Frame[] = [];
  /** Raw text of every frame received, to check batching. */
  readonly rawFrames: string[] = [];
  readonly misbehave = new Map<string, Misbehaviour>();
  readonly handlers = new Map<string, Handler>();
  upgradesRefused = 0;
  connectionsAccepted = 0;

  private readonly conns = new Set<FakeConnection>();
  private nextSub = 1;

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    readonly port: number,
    private readonly options: FakeDaemonOptions,
    token: string,
    store: FakeStore,
  ) {
    this.token = token;
    this.store = store;
    this.installDefaultHandlers();
  }

  static async start(options: FakeDaemonOptions = {}): Promise<FakeDaemon> {
    const token = options.token ?? randomBytes(32).toString('base64url');
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true, autoPong: options.autoPong ?? true });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    const daemon = new FakeDaemon(http, wss, port, options, token, options.store ?? new FakeStore());
    http.on('upgrade', (req, socket, head) => {
      if (req.headers.authorization !== `Bearer ${token}`) {
        daemon.upgradesRefused++;
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nbad token bro');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => daemon.accept(ws));
    });
    if (options.dataDir) {
      const info: RuntimeInfo = {
        pid: process.pid,
        host: '127.0.0.1',
        port,
        token,
        protocolVersion: PROTOCOL_VERSION,
        daemonVersion: '0.0.0-fake',
        startedAt: new Date().toISOString(),
      };
      writeFileSync(join(options.dataDir, RUNTIME_FILE), JSON.stringify(info), { mode: 0o600 });
    }
    return daemon;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/rpc`;
  }

  get openConnections(): number {
    return this.conns.size;
  }

  /** Append an event and push it to matching subscriptions, as a publish from another client would. */
  publish(type: string, payload: unknown = null, id?: string): EventEnvelope {
    const { event, duplicate } = this.store.append(type, payload, id);
    if (!duplicate) this.push(event);
    return event;
  }

  /** Like kill -9: cut every socket, stop listening, leave the runtime file behind. */
  async kill(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    this.conns.clear();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  /** Clean stop: also removes the runtime file. */
  async stop(): Promise<void> {
    await this.kill();
    if (this.options.dataDir) rmSync(join(this.options.dataDir, RUNTIME_FILE), { force: true });
  }

  /** Cut the live connections but keep serving (a network blip). */
  dropConnections(): void {
    for (const c of this.conns) c.ws.terminate();
  }

  private accept(ws: WebSocket): void {
    this.connectionsAccepted++;
    const conn: FakeConnection = { ws, initialized: false, subs: new Map() };
    this.conns.add(conn);
    ws.on('close', () => this.conns.delete(conn));
    ws.on('message', (data) => void this.onFrame(conn, data.toString()));
  }

  private async onFrame(conn: FakeConnection, text: string): Promise<void> {
    this.rawFrames.push(text);
    const msg = JSON.parse(text) as unknown;
    const items = (Array.isArray(msg) ? msg : [msg]) as { id?: number; method: string; params?: Record<string, unknown> }[];
    const answers: unknown[] = [];
    for (const item of items) {
      this.frames.push({ method: item.method, params: item.params ?? {} });
      const answer = await this.answer(conn, item.method, item.params ?? {});
      if (answer === 'dropped' || answer === 'silent') return;
      answers.push({ jsonrpc: '2.0', id: item.id, ...answer });
    }
    if (conn.ws.readyState !== conn.ws.OPEN) return;
    conn.ws.send(JSON.stringify(Array.isArray(msg) ? answers : answers[0]));
  }

  private async answer(conn: FakeConnection, method: string, params: Record<string, unknown>): Promise<Answer | 'dropped' | 'silent'> {
    if (method === 'daemon/initialize') {
      if (this.options.initializeError) return { error: this.options.initializeError };
      conn.initialized = true;
      return { result: this.initializeResult() };
    }
    if (!conn.initialized) return { error: { code: ErrorCode.NotInitialized, message: 'call daemon/initialize first' } };
    const bad = this.misbehave.get(method);
    if (bad && (bad.times === undefined || bad.times > 0)) {
      if (bad.times !== undefined) bad.times--;
      if (bad.delayMs) await new Promise((r) => setTimeout(r, bad.delayMs));
      if (bad.silent) return 'silent';
      if (bad.drop === 'beforeApply') {
        conn.ws.terminate();
        return 'dropped';
      }
      if (bad.drop === 'afterApply') {
        await this.run(conn, method, params);
        conn.ws.terminate();
        return 'dropped';
      }
      if ('result' in bad) return { result: bad.result };
    }
    return this.run(conn, method, params);
  }

  private async run(conn: FakeConnection, method: string, params: Record<string, unknown>): Promise<Answer> {
    const handler = this.handlers.get(method);
    if (!handler) return { error: { code: ErrorCode.MethodNotFound, message: `Method not found: ${method}`, data: { method } } };
    return handler(params, conn);
  }

  private initializeResult(): unknown {
    return {
      protocolVersion: PROTOCOL_VERSION,
      daemonVersion: '0.0.0-fake',
      actor: 'owner',
      scope: 'admin',
      capabilities: { methods: [...this.handlers.keys()], notifications: ['events/didAppend'], maxMessageBytes: 4 << 20, maxBatch: 100 },
      serverTime: new Date().toISOString(),
    };
  }

  private installDefaultHandlers(): void {
    this.handlers.set('daemon/ping', () => ({ result: { time: new Date().toISOString() } }));
    this.handlers.set('events/publish', (p) => {
      const { event, duplicate } = this.store.append(String(p.type), p.payload ?? null, typeof p.id === 'string' ? p.id : undefined);
      if (!duplicate) this.push(event);
      return { result: { id: event.id, seq: event.seq, stream: event.stream, time: event.time, duplicate } };
    });
    this.handlers.set('events/query', (p) => {
      const after = typeof p.afterSeq === 'number' ? p.afterSeq : 0;
      return { result: { events: this.store.events.filter((e) => e.seq > after) } };
    });
    this.handlers.set('events/subscribe', (p, conn) => {
      const subscriptionId = `s${this.nextSub++}`;
      const types = Array.isArray(p.types) ? (p.types as string[]) : undefined;
      const headSeq = this.store.events.length;
      const catchUp =
        typeof p.afterSeq === 'number' ? this.store.events.filter((e) => e.seq > (p.afterSeq as number) && matches(types, e.type)) : [];
      const sendCatchUp = (): void => {
        for (const event of catchUp) conn.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'events/didAppend', params: { subscriptionId, event } }));
        conn.subs.set(subscriptionId, { types });
      };
      if (this.options.catchUpBeforeAnswer) sendCatchUp();
      else setImmediate(sendCatchUp);
      return { result: { subscriptionId, headSeq } };
    });
    this.handlers.set('events/unsubscribe', (p, conn) => {
      const known = conn.subs.delete(String(p.subscriptionId));
      return known
        ? { result: { ok: true } }
        : { error: { code: ErrorCode.NotFound, message: `no subscription ${String(p.subscriptionId)}`, data: { kind: 'subscription' } } };
    });
  }

  private push(event: EventEnvelope): void {
    for (const conn of this.conns) {
      for (const [subscriptionId, sub] of conn.subs) {
        if (!matches(sub.types, event.type)) continue;
        conn.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'events/didAppend', params: { subscriptionId, event } }));
      }
    }
  }

  /** Send any frame to every connection (for notification validation tests). */
  broadcast(frame: unknown): void {
    for (const conn of this.conns) conn.ws.send(JSON.stringify(frame));
  }
}

function matches(types: string[] | undefined, type: string): boolean {
  return !types || types.includes(type);
}
