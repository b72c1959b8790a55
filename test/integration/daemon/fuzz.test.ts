import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, JsonRpcResponse, LOCK_FILE, MAX_BATCH, RUNTIME_FILE, requests } from '../../../daemon/protocol';
import { removeTempDirs, spawnDaemon, type DaemonProcess, type RpcClient } from '../helpers/daemonProcess';

/**
 * Property: whatever frame a client sends, every frame that deserves an answer gets a well-formed
 * JSON-RPC answer (an oversize one gets close code 1009), the daemon stays up and the event log does
 * not change. No generated call is a valid command: commands only ever get params that fail
 * validation, so nothing can be appended (or the daemon stopped).
 */

const MAX_MESSAGE = 64 * 1024;
const KNOWN_CODES = new Set<number>(Object.values(ErrorCode));
/** Queries cannot change state, whatever their params; commands only ever get params that fail. */
const QUERIES = requests.filter((r) => r.kind === 'query').map((r) => r.method);
const COMMANDS = requests.filter((r) => r.kind === 'command').map((r) => r.method);

let d: DaemonProcess;
let clients: { ready: RpcClient; fresh: RpcClient };

async function connectAll(): Promise<void> {
  clients = { ready: await d.connect(), fresh: await d.connect({ initialize: false }) };
}

/** Sizes and mtimes of every file of the data dir except the runtime file and the lock. */
function logFingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const full = join(p, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name !== RUNTIME_FILE && e.name !== LOCK_FILE) {
        const s = statSync(full);
        out[full] = `${s.size}@${s.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}

const anyJson = fc.jsonValue({ maxDepth: 3 });
const id = fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), fc.constant(null), fc.double(), fc.constant({}), fc.boolean());
const queryCall = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.constant('2.0'), fc.constant('1.0'), anyJson),
    id,
    method: fc.oneof(fc.constantFrom(...QUERIES), fc.string({ maxLength: 20 }), anyJson),
    params: fc.oneof(anyJson, fc.dictionary(fc.constantFrom('limit', 'types', 'afterSeq', 'cursor', 'protocolVersion', 'name', 'x'), anyJson)),
  },
  { requiredKeys: [] },
);
/** Commands with params that can never validate (an array: by-position params are refused). */
const invalidCommand = fc.record(
  {
    jsonrpc: fc.constant('2.0'),
    id,
    method: fc.constantFrom(...COMMANDS),
    params: fc.array(anyJson, { maxLength: 3 }),
  },
  { requiredKeys: ['jsonrpc', 'method', 'params'] },
);
/** Commands with object params that fail their schema (wrong types). */
const wrongTypedCommand = fc.record({
  jsonrpc: fc.constant('2.0'),
  id: fc.integer(),
  // Both need a string where these send integers.
  method: fc.constantFrom('events/publish', 'auth/createToken'),
  params: fc.record({ type: fc.integer(), name: fc.integer(), scope: fc.integer() }),
});
const rpcish = fc.oneof(queryCall, invalidCommand, wrongTypedCommand);

type FrameSpec = { text: string } | { bytes: Uint8Array } | { oversize: true };

const frames: fc.Arbitrary<FrameSpec> = fc.oneof(
  { weight: 3, arbitrary: anyJson.map((v) => ({ text: JSON.stringify(v) })) },
  { weight: 6, arbitrary: rpcish.map((v) => ({ text: JSON.stringify(v) })) },
  { weight: 4, arbitrary: fc.array(fc.oneof(rpcish, anyJson), { maxLength: 6 }).map((v) => ({ text: JSON.stringify(v) })) },
  { weight: 2, arbitrary: fc.string({ maxLength: 60 }).map((text) => ({ text })) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ bytes })) },
  { weight: 1, arbitrary: fc.constant({ oversize: true as const }) },
);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const validId = (v: unknown) => (typeof v === 'string' && v.length <= 256) || (typeof v === 'number' && Number.isSafeInteger(v));

/** A JSON-RPC 2.0 notification: valid envelope, no id. It gets no answer, whatever it calls. */
function isNotification(v: unknown): boolean {
  return (
    isObject(v) &&
    v.jsonrpc === '2.0' &&
    !('id' in v) &&
    typeof v.method === 'string' &&
    v.method.length > 0 &&
    v.method.length <= 128 &&
    (!('params' in v) || (typeof v.params === 'object' && v.params !== null))
  );
}

/** What the daemon must answer: nothing, one object (with this id), or an array of n answers. */
function expected(text: string): { kind: 'none' } | { kind: 'one'; id: unknown } | { kind: 'batch'; n: number } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: 'one', id: null };
  }
  if (Array.isArray(v)) {
    if (v.length === 0 || v.length > MAX_BATCH) return { kind: 'one', id: null };
    const n = v.filter((el) => !isNotification(el)).length;
    return n === 0 ? { kind: 'none' } : { kind: 'batch', n };
  }
  if (isNotification(v)) return { kind: 'none' };
  return { kind: 'one', id: isObject(v) && validId(v.id) ? v.id : null };
}

function checkAnswer(answer: unknown): void {
  const parsed = JsonRpcResponse.safeParse(answer);
  expect(parsed.success, JSON.stringify(answer)).toBe(true);
  if (isObject(answer) && isObject(answer.error)) {
    expect(KNOWN_CODES.has(answer.error.code as number), JSON.stringify(answer)).toBe(true);
    expect(String(answer.error.message).length).toBeGreaterThan(0);
    expect(answer.error.code).not.toBe(ErrorCode.InternalError);
  }
}

beforeAll(async () => {
  d = await spawnDaemon({ args: ['--rate-limit', '0', '--max-message-bytes', String(MAX_MESSAGE)] });
  await connectAll();
});

afterAll(async () => {
  await d?.stop();
  removeTempDirs();
});

describe('random frames at a live daemon', () => {
  it('answers every frame that deserves it, stays up and leaves the log unchanged', async () => {
    const status = async () => (await clients.ready.request<{ eventLog: { lastSeq: number; bytes: number } }>('daemon/status', {})).eventLog;
    const before = await status();
    const filesBefore = logFingerprint(d.dataDir);
    let oversize = 0;

    await fc.assert(
      fc.asyncProperty(frames, fc.boolean(), async (frame, onFresh) => {
        const client = onFresh ? clients.fresh : clients.ready;
        if ('oversize' in frame) {
          client.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'daemon/ping', params: { pad: 'p'.repeat(MAX_MESSAGE) } }));
          const closed = await client.closed;
          expect(closed.code).toBe(1009);
          oversize++;
          await Promise.all([clients.ready.close(), clients.fresh.close()]);
          await connectAll();
          return;
        }
        // Binary frames are read as UTF-8 JSON: the answer follows the same rules as text.
        const text = 'bytes' in frame ? Buffer.from(frame.bytes).toString('utf8') : frame.text;
        const payload = 'bytes' in frame ? Buffer.from(frame.bytes) : frame.text;
        const want = expected(text);
        if (want.kind === 'none') {
          client.sendRaw(payload);
          return;
        }
        const answer = await client.exchange(payload);
        if (want.kind === 'one') {
          expect(Array.isArray(answer), text).toBe(false);
          checkAnswer(answer);
          expect((answer as { id: unknown }).id).toEqual(want.id);
        } else {
          expect(Array.isArray(answer), text).toBe(true);
          expect(answer as unknown[]).toHaveLength(want.n);
          (answer as unknown[]).forEach(checkAnswer);
        }
      }),
      { numRuns: 3000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );

    // Nothing arrived that no frame asked for (a notification that was answered, say).
    const marker = await clients.ready.exchange(JSON.stringify({ jsonrpc: '2.0', id: 'marker', method: 'daemon/ping', params: {} }));
    expect((marker as { id: unknown }).id).toBe('marker');
    expect(oversize).toBeGreaterThan(0);
    expect(d.child.exitCode).toBeNull();
    const after = await status();
    expect(after.lastSeq).toBe(before.lastSeq);
    expect(after.bytes).toBe(before.bytes);
    expect(logFingerprint(d.dataDir)).toEqual(filesBefore);
    expect(d.stderr()).not.toMatch(/unhandled|uncaught/);
  });
});
