// slo/recordBatch ingestion (batches of 5,000 samples in the documented shape, acknowledged durable)
// from a separate client process, against the rate at which that same process merely JSON.parses
// the same frames, same run. Rounds alternate parse / ingest; median ratio.
// Target (issue 4): ingestion ≥ 0.3× the JSON.parse rate. Also reports the payload bytes per sample.
// The client process is this file run with `--child <port> <token>`; it prints one JSON line.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { connect, median, report, startDaemon } from './lib.mjs';

const BATCH = 5_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_MS ?? 3000);
/** Batches outstanding at once: enough to keep the daemon busy while one answer travels back. */
const IN_FLIGHT = 4;
const ROUTES = ['/api/orders/:id', '/api/orders', '/api/customers/:id', '/api/checkout', '/api/search', '/api/items/:id/reviews'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];

/** Distinct payloads (params JSON) so neither side can cache one answer. */
function buildPayloads(count) {
  const now = Date.now();
  const payloads = [];
  for (let p = 0; p < count; p++) {
    const samples = [];
    for (let i = 0; i < BATCH; i++) {
      const k = p * BATCH + i;
      const status = k % 997 === 0 ? 503 : k % 211 === 0 ? 404 : k % 53 === 0 ? 201 : 200;
      samples.push({
        service: 'api',
        method: METHODS[k % METHODS.length],
        route: ROUTES[k % ROUTES.length],
        status,
        durationMs: Math.round(((k * 7919) % 900) + 3) / 10,
        // Spread over the last five minutes, as a client flushing every few seconds would send them.
        timestamp: new Date(now - ((k * 37) % 300_000)).toISOString(),
      });
    }
    payloads.push(JSON.stringify({ samples }));
  }
  return payloads;
}

/** The frames exactly as the daemon receives them. */
const frameOf = (payload, id) => `{"jsonrpc":"2.0","id":${id},"method":"slo/recordBatch","params":${payload}}`;

function parseRate(frames, durationMs) {
  let samples = 0;
  let sink = 0;
  const t0 = performance.now();
  let i = 0;
  while (performance.now() - t0 < durationMs) {
    const msg = JSON.parse(frames[i++ % frames.length]);
    sink += msg.params.samples.length;
    samples += BATCH;
  }
  if (sink !== samples) throw new Error('parse check failed');
  return (samples / (performance.now() - t0)) * 1000;
}

async function ingestRate(client, payloads, durationMs) {
  let acked = 0;
  let measuring = false;
  let stop = false;
  let n = 0;
  const worker = async () => {
    while (!stop) {
      const r = await client.callRaw('slo/recordBatch', payloads[n++ % payloads.length]);
      if (r.accepted !== BATCH) throw new Error(`accepted ${r.accepted}`);
      if (measuring) acked += BATCH;
    }
  };
  const workers = Array.from({ length: IN_FLIGHT }, worker);
  await new Promise((r) => setTimeout(r, 300));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  measuring = false;
  const elapsed = performance.now() - t0;
  stop = true;
  await Promise.all(workers);
  return (acked / elapsed) * 1000;
}

async function child(port, token) {
  const payloads = buildPayloads(8);
  const frames = payloads.map((p, i) => frameOf(p, i + 1));
  const client = await connect(Number(port), token);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const parse = parseRate(frames, DURATION);
    const ingest = await ingestRate(client, payloads, DURATION);
    rounds.push({ parse, ingest });
  }
  client.close();
  const paramBytes = payloads.reduce((n, p) => n + Buffer.byteLength(p), 0) / payloads.length / BATCH;
  const frameBytes = frames.reduce((n, f) => n + Buffer.byteLength(f), 0) / frames.length / BATCH;
  console.log(JSON.stringify({ rounds, paramBytes, frameBytes }));
}

export async function run() {
  const daemon = await startDaemon();
  try {
    const proc = spawn(process.execPath, [import.meta.filename, '--child', String(daemon.port), daemon.token], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise((resolve, reject) => {
      createInterface({ input: proc.stdout }).once('line', resolve);
      proc.once('exit', (code) => reject(new Error(`bench client exited with ${code}`)));
    });
    const { rounds, paramBytes, frameBytes } = JSON.parse(line);
    const rows = {};
    rounds.forEach((r, i) => {
      rows[`round ${i + 1}: recordBatch / JSON.parse (samples/s)`] = `${r.ingest.toFixed(0)} / ${r.parse.toFixed(0)}`;
    });
    const ratios = rounds.map((r) => r.ingest / r.parse);
    rows['median ingestion rate (samples/s)'] = median(rounds.map((r) => r.ingest));
    rows['payload bytes per sample (params / frame)'] = `${paramBytes.toFixed(1)} / ${frameBytes.toFixed(1)}`;
    rows['median recordBatch ÷ JSON.parse (target ≥ 0.3)'] = median(ratios);
    report(`SLO ingestion: slo/recordBatch of ${BATCH} samples, ${IN_FLIGHT} in flight, vs JSON.parse in the client process`, rows);
    return { ingestRate: median(rounds.map((r) => r.ingest)), ratio: median(ratios), bytesPerSample: paramBytes };
  } finally {
    await daemon.stop();
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else if (import.meta.url === `file://${process.argv[1]}`) await run();
