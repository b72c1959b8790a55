import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../daemon/services/shared/clock';
import { DEFAULT_STREAMS, openStore } from '../../../daemon/store';
import type { EventRecord } from '../../../daemon/store/types';
import { EventCountProjection } from './eventCountProjection';

const ROUNDS = 20;
let work: string;
let childJs: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cf-store-crash-'));
  childJs = join(work, 'crashChild.cjs');
  // Bundled once so each round starts a plain node process in milliseconds.
  await build({
    entryPoints: [join(__dirname, 'crashChild.ts')],
    outfile: childJs,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
  });
});

/** Children still alive (a failed round must not leave one writing into the dir being removed). */
const live = new Set<ReturnType<typeof spawn>>();

afterAll(async () => {
  for (const child of live) child.kill('SIGKILL');
  await rm(work, { recursive: true, force: true });
});

/** A round step that does not finish fails with the step's name instead of hanging the whole test. */
function within<T>(promise: Promise<T>, ms: number, step: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${step} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Ack {
  batch: string;
  seqs: number[];
  ids: string[];
}

/** Run the child until `killAfterMs` past its first ack, SIGKILL it, and return what it acknowledged. */
function runAndKill(dataDir: string, killAfterMs: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childJs, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    const acks: Ack[] = [];
    // A child that never acknowledges would hang the round: kill it and say what it printed.
    const watchdog = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child acknowledged nothing within 20 s; stderr: ${stderr || '(empty)'}; stdout: ${pending.slice(0, 200)}`));
    }, 20_000);
    let pending = '';
    let stderr = '';
    let armed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [kind, batch, seqs, ids] = line.split(' ');
        if (kind !== 'ack') continue;
        acks.push({ batch: batch!, seqs: seqs!.split(',').map(Number), ids: ids!.split(',') });
        if (!armed) {
          armed = true;
          setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      live.delete(child);
      if (signal === 'SIGKILL') resolve(acks);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

describe('store crash safety (kill -9 at random moments)', () => {
  it(`keeps every acknowledged event exactly once, in order, over ${ROUNDS} rounds`, async () => {
    const dataDir = join(work, 'data');
    const acked = new Map<string, { seq: number; batch: string }>();
    let totalAcks = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const acks = await within(runAndKill(dataDir, 5 + Math.floor(Math.random() * 150)), 30_000, `round ${round}: child run`);
      totalAcks += acks.length;
      for (const a of acks) a.ids.forEach((id, k) => acked.set(id, { seq: a.seqs[k]!, batch: a.batch }));

      const counter = new EventCountProjection();
      const storeLog: string[] = [];
      const store = await within(
        openStore({ dataDir, clock: systemClock, streams: DEFAULT_STREAMS, projections: [counter], log: (l, m) => storeLog.push(`${l} ${m}`) }),
        20_000,
        `round ${round}: reopen`,
      );
      try {
        const events: EventRecord[] = [];
        await within(
          (async () => {
            for await (const e of store.readFrom(0)) events.push(e);
          })(),
          20_000,
          `round ${round}: read back (store log: ${storeLog.join(' | ')})`,
        );
        // Gap-free global order from 1: no retention can have run on a log this young.
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
        const byId = new Map(events.map((e) => [e.id, e]));
        expect(byId.size).toBe(events.length);
        for (const [id, { seq }] of acked) {
          expect(byId.get(id)?.seq, `acknowledged event ${id} (seq ${seq}) after round ${round}`).toBe(seq);
        }
        // Multi-event appends are all-or-nothing, acknowledged or not.
        const perBatch = new Map<string, { n: number; seen: number }>();
        for (const e of events) {
          const p = e.payload as { batch: string; n: number };
          const b = perBatch.get(p.batch) ?? { n: p.n, seen: 0 };
          b.seen++;
          perBatch.set(p.batch, b);
        }
        for (const [batch, b] of perBatch) expect(b.seen, `batch ${batch}`).toBe(b.n);
        // Snapshot + replayed tail give the same projection as the full log.
        expect(counter.count).toBe(events.length);
      } finally {
        await store.close();
      }
    }
    expect(totalAcks).toBeGreaterThan(ROUNDS);
    // About 15 s on two idle cores; the generous limit is for a loaded CI machine, and every step
    // above has its own deadline so a real hang fails with the step's name.
  }, 180_000);

  it('lets the process exit on its own after close() (the retention timer does not hold it)', async () => {
    const dataDir = join(work, 'once');
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [childJs, dataDir, 'once'], { stdio: 'ignore' });
      const guard = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('the child did not exit after close()'));
      }, 20_000);
      child.on('exit', (c) => {
        clearTimeout(guard);
        resolve(c);
      });
    });
    expect(code).toBe(0);
    const store = await openStore({ dataDir, clock: systemClock, streams: DEFAULT_STREAMS, projections: [new EventCountProjection()], log: () => undefined });
    expect(store.lastSeq).toBe(1);
    await store.close();
  });
});
