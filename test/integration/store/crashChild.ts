/**
 * Child process of the store crash test: opens the store in argv[2], appends from many concurrent
 * writers and prints one line per acknowledged append (`ack <batch> <seq,...> <id,...>`) until it is
 * killed. stdout is a pipe, so each write reaches the parent before the next line is produced.
 * With `once` as argv[3] it appends one event, closes the store and lets the process end by itself.
 */
import { randomUUID } from 'node:crypto';
import { systemClock } from '../../../daemon/services/shared/clock';
import { DEFAULT_STREAMS, openStore } from '../../../daemon/store';
import { EventCountProjection } from './eventCountProjection';

const TYPES = ['api.request', 'security.auth', 'incident.note', 'system.health', 'orders.placed'];

async function main(): Promise<void> {
  const dataDir = process.argv[2]!;
  const store = await openStore({
    dataDir,
    clock: systemClock,
    streams: DEFAULT_STREAMS,
    projections: [new EventCountProjection()],
    snapshotEvery: 40,
    segmentMaxBytes: 8 * 1024,
    log: () => undefined,
  });
  process.stdout.write('ready\n');
  if (process.argv[3] === 'once') {
    // Nothing may keep the process alive after close(): not the retention timer, not a file handle.
    await store.append([{ type: 'api.request', actor: 'crash-test', payload: null }]);
    await store.close();
    return;
  }
  const writer = async (): Promise<void> => {
    for (;;) {
      const batch = randomUUID();
      const n = 1 + Math.floor(Math.random() * 3);
      const events = Array.from({ length: n }, (_, k) => ({
        id: randomUUID(),
        type: TYPES[Math.floor(Math.random() * TYPES.length)]!,
        actor: 'crash-test',
        payload: { batch, n, k },
      }));
      const results = await store.append(events);
      process.stdout.write(`ack ${batch} ${results.map((r) => r.event.seq).join(',')} ${results.map((r) => r.event.id).join(',')}\n`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, writer));
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
