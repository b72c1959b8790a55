// OWASP contract audit (issue 7), on a generated workspace of 50 OpenAPI specs (150 to 1,600 lines,
// YAML and JSON) where half $ref two shared schema files and some $ref another spec.
// (a) Incremental re-audit: after one spec changes, re-auditing the whole workspace against auditing
//     that spec alone. Target ≤ 1.5×. In-process (IncrementalAuditor: read 50 files, audit what
//     changed) and through the daemon (governance/audit {root} against {paths: [that file]}: the RPC
//     adds discovery, the report of 50 documents and its JSON, and the event append).
// (b) Throughput in lines of spec per second: our engine against @stoplight/spectral-core running the
//     same ruleset warm in this process on the same files (its default resolver, whose `$ref` cache it
//     keeps across runs), file by file in turn, in CPU seconds of this process. Target ≥ 0.8×. Our
//     figure over RPC too (wall time): every file touched, then {root}.
// Passes of the two sides alternate so machine load hits both alike; medians are reported.
// BENCH_QUICK=1 (or `--quick`) runs fewer passes.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { connect, fmt, median, report, ROOT, startDaemon, tempDir } from './lib.mjs';

const quick = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');
const SPECS = 50;
const REAUDIT_PASSES = quick ? 3 : 9;
const THROUGHPUT_PASSES = quick ? 2 : 3;

// ------------------------------------------------------------------------------------------------
// The workspace

const NOUNS = ['order', 'customer', 'invoice', 'product', 'shipment', 'payment', 'review', 'coupon', 'warehouse', 'supplier', 'ticket', 'account'];

function schemaYaml(name, indent) {
  const p = ' '.repeat(indent);
  return [
    `${p}${name}:`,
    `${p}  type: object`,
    `${p}  required: [id, name]`,
    `${p}  properties:`,
    `${p}    id: {type: string, format: uuid, maxLength: 36}`,
    `${p}    name: {type: string, maxLength: 120}`,
    `${p}    description: {type: string}`,
    `${p}    quantity: {type: integer, minimum: 0, maximum: 100000, format: int32}`,
    `${p}    price: {type: number}`,
    `${p}    tags:`,
    `${p}      type: array`,
    `${p}      maxItems: 20`,
    `${p}      items: {type: string, maxLength: 32}`,
    `${p}    createdAt: {type: string, format: date-time, maxLength: 40}`,
    `${p}    status: {type: string, enum: [draft, active, archived]}`,
  ];
}

function responsesYaml(ok, schemaRef, shared, { secure }) {
  const lines = [
    '      responses:',
    `        '${ok}':`,
    '          description: Success',
    '          headers:',
    '            RateLimit-Limit: {schema: {type: integer, maximum: 10000}}',
    '          content:',
    '            application/json:',
    `              schema: {$ref: '${schemaRef}'}`,
  ];
  const errors = secure ? ['400', '401', '404', '429', '500'] : ['400', '404'];
  for (const code of errors) {
    if (shared) lines.push(`        '${code}': {$ref: '../common/errors.yaml#/responses/Problem${code}'}`);
    else lines.push(`        '${code}':`, '          description: Problem', '          content:', '            application/problem+json:', "              schema: {$ref: '#/components/schemas/Problem'}");
  }
  return lines;
}

/** One spec of `resources` resources with five operations each; `variant` varies its flaws. */
function specYaml(i, resources, shared, crossRef) {
  const secure = i % 3 !== 0;
  const lines = [
    'openapi: 3.0.3',
    'info:',
    `  title: Service ${i}`,
    '  version: 1.4.0',
    `  description: Generated service ${i} for the audit benchmark.`,
    '  contact: {email: api@example.com}',
    '  license: {name: MIT}',
    'servers:',
    `  - url: ${i % 4 === 0 ? 'http' : 'https'}://svc${i}.example.com/v1`,
    '    x-internal: false',
    ...(secure ? ['security:', '  - bearer: []'] : []),
    'paths:',
  ];
  const schemaNames = [];
  for (let r = 0; r < resources; r++) {
    const noun = NOUNS[(i + r) % NOUNS.length];
    const Name = `${noun[0].toUpperCase()}${noun.slice(1)}${r}`;
    schemaNames.push(Name);
    const ref = crossRef && r === 0 ? crossRef : `#/components/schemas/${Name}`;
    lines.push(
      `  /${noun}s${r}:`,
      '    get:',
      `      operationId: list${Name}`,
      `      summary: List ${noun}s`,
      '      parameters:',
      '        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100}}',
      '        - {name: cursor, in: query, schema: {type: string, maxLength: 200}}',
      ...responsesYaml(200, shared ? '../common/paging.yaml#/Page' : ref, shared, { secure }),
      '    post:',
      `      operationId: create${Name}`,
      `      summary: Create a ${noun}`,
      '      requestBody:',
      '        required: true',
      '        content:',
      `          application/json: {schema: {$ref: '${ref}'}}`,
      ...responsesYaml(201, ref, shared, { secure }),
      `  /${noun}s${r}/{id}:`,
      '    parameters:',
      `      - {name: id, in: path, required: true, schema: {type: ${r % 2 ? 'integer' : 'string'}, maxLength: 36}}`,
      '    get:',
      `      operationId: get${Name}`,
      ...responsesYaml(200, ref, shared, { secure }),
      '    put:',
      `      operationId: update${Name}`,
      '      requestBody:',
      `        content: {application/json: {schema: {$ref: '${ref}'}}}`,
      ...responsesYaml(200, ref, shared, { secure }),
      '    delete:',
      `      operationId: delete${Name}`,
      ...(r === resources - 1 && i % 5 === 0 ? ['      deprecated: true'] : []),
      ...responsesYaml(204, ref, shared, { secure }).slice(0, 3),
    );
  }
  lines.push('components:', '  schemas:');
  for (const n of schemaNames) lines.push(...schemaYaml(n, 4));
  lines.push('    Problem:', '      type: object', '      properties:', '        title: {type: string, maxLength: 200}', '        status: {type: integer, minimum: 100, maximum: 599}');
  if (secure) lines.push('  securitySchemes:', '    bearer: {type: http, scheme: bearer, bearerFormat: JWT}');
  return lines.join('\n') + '\n';
}

export function writeWorkspace(dir) {
  mkdirSync(join(dir, 'common'), { recursive: true });
  mkdirSync(join(dir, 'services'), { recursive: true });
  const errors = ['responses:'];
  for (const code of ['400', '401', '404', '429', '500']) {
    errors.push(
      `  Problem${code}:`,
      `    description: Problem ${code}`,
      ...(code === '429' ? ['    headers:', '      Retry-After: {schema: {type: integer, maximum: 86400}}'] : []),
      '    content:',
      '      application/problem+json:',
      "        schema: {$ref: '#/schemas/Problem'}",
    );
  }
  errors.push('schemas:', '  Problem:', '    type: object', '    properties:', '      title: {type: string, maxLength: 200}', '      status: {type: integer, minimum: 100, maximum: 599}');
  writeFileSync(join(dir, 'common', 'errors.yaml'), errors.join('\n') + '\n');
  writeFileSync(
    join(dir, 'common', 'paging.yaml'),
    ['Page:', '  type: object', '  properties:', '    next: {type: string, maxLength: 200}', '    items:', '      type: array', '      maxItems: 100', "      items: {$ref: './errors.yaml#/schemas/Problem'}", ''].join('\n'),
  );
  const files = [];
  for (let i = 0; i < SPECS; i++) {
    const resources = 1 + ((i * 7) % 10);
    const shared = i % 2 === 0;
    // Every seventh spec builds on the one before it.
    const crossRef = i % 7 === 6 ? `./spec${i - 1}.yaml#/components/schemas/${schemaNameOf(i - 1)}` : undefined;
    const yaml = specYaml(i, resources, shared, crossRef);
    const asJson = i % 10 === 9 && !shared && !crossRef;
    const file = join(dir, 'services', asJson ? `spec${i}.json` : `spec${i}.yaml`);
    writeFileSync(file, asJson ? JSON.stringify(yamlToData(yaml), null, 2) + '\n' : yaml);
    files.push(file);
  }
  return files;
}

const schemaNameOf = (i) => {
  const noun = NOUNS[i % NOUNS.length];
  return `${noun[0].toUpperCase()}${noun.slice(1)}0`;
};

const require = createRequire(join(ROOT, 'package.json'));
const { parseYaml } = require('@stoplight/spectral-parsers');
const yamlToData = (text) => parseYaml(text).data;

const lineCount = (text) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

/** Change a spec so its hash changes (and its findings may not): a new summary line. */
function touch(file, n) {
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    const data = JSON.parse(text);
    data.info.description = `Generated service, revision ${n}.`;
    writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  } else writeFileSync(file, text.replace(/description: Generated service (\d+)[^\n]*/, `description: Generated service $1 for the audit benchmark, revision ${n}.`));
}

// ------------------------------------------------------------------------------------------------
// The audit in this process: the daemon's own modules, bundled with their packages left external

export async function loadAudit() {
  const outfile = join(ROOT, 'node_modules', '.cache', 'cogniforge-bench', 'governanceAudit.cjs');
  await build({
    stdin: {
      contents:
        "export { AuditEngine, auditRuleset } from './daemon/services/governance/audit/engine';\n" +
        "export { IncrementalAuditor } from './daemon/services/governance/audit/incremental';\n",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'error',
  });
  return require(outfile);
}

async function time(fn) {
  const t = performance.now();
  const result = await fn();
  return { ms: performance.now() - t, result };
}

/** CPU time (user + system) of this process while `fn` runs, ms. */
async function cpuTime(fn) {
  const before = process.cpuUsage();
  const result = await fn();
  const used = process.cpuUsage(before);
  return { ms: (used.user + used.system) / 1000, result };
}

const read = (file) => ({ file, text: readFileSync(file, 'utf8') });

export async function run() {
  const ws = tempDir('cf-bench-audit-');
  const files = writeWorkspace(ws);
  const shared = ['errors.yaml', 'paging.yaml'].map((f) => join(ws, 'common', f));
  const lines = [...files, ...shared].reduce((n, f) => n + lineCount(readFileSync(f, 'utf8')), 0);
  const sizes = files.map((f) => lineCount(readFileSync(f, 'utf8')));
  // A spec of typical size (six resources) that nothing else $refs.
  const leaf = files[15];

  const { AuditEngine, IncrementalAuditor, auditRuleset } = await loadAudit();
  const { Spectral, Document } = require('@stoplight/spectral-core');
  const { Yaml, Json } = require('@stoplight/spectral-parsers');
  const engine = new AuditEngine();
  const baseline = new Spectral();
  baseline.setRuleset(auditRuleset());
  const baselineAudit = (file, text) => baseline.run(new Document(text, file.endsWith('.json') ? Json : Yaml, file), { ignoreUnknownFormat: false });

  // Warm both (the JIT, the rulesets' compiled schemas) on a few files.
  for (const f of files.slice(0, quick ? 3 : 10)) {
    const { file, text } = read(f);
    await engine.audit(file, text);
    await baselineAudit(file, text);
  }

  // (b) throughput, in process: file by file, the two sides in turn, each timed in CPU time of this
  // process (the machine is shared: wall time would count other processes' turns on the cores).
  const oursMs = [];
  const baselineMs = [];
  let ourFindings = 0;
  let baselineFindings = 0;
  for (let pass = 0; pass < THROUGHPUT_PASSES; pass++) {
    let ours = 0;
    let theirs = 0;
    ourFindings = 0;
    baselineFindings = 0;
    for (const f of files) {
      const { file, text } = read(f);
      const b = await cpuTime(() => baselineAudit(file, text));
      theirs += b.ms;
      baselineFindings += b.result.length;
      const o = await cpuTime(() => engine.audit(file, text));
      ours += o.ms;
      ourFindings += o.result.findings.length;
    }
    baselineMs.push(theirs);
    oursMs.push(ours);
  }
  const oursLps = lines / (median(oursMs) / 1000);
  const baselineLps = lines / (median(baselineMs) / 1000);

  // (a) incremental re-audit, in process
  const auditor = new IncrementalAuditor(engine);
  await auditor.auditAll(files.map(read));
  const wsMs = [];
  const aloneMs = [];
  let reaudited = [];
  let rev = 0;
  for (let pass = 0; pass < REAUDIT_PASSES; pass++) {
    touch(leaf, ++rev);
    const w = await time(() => auditor.auditAll(files.map(read)));
    reaudited = w.result.audited;
    wsMs.push(w.ms);
    touch(leaf, ++rev);
    aloneMs.push(
      (
        await time(() => {
          const { file, text } = read(leaf);
          return engine.audit(file, text);
        })
      ).ms,
    );
  }
  if (reaudited.length !== 1 || reaudited[0] !== leaf) throw new Error(`expected only ${leaf} re-audited, got ${reaudited.join(', ')}`);

  // A change in a shared schema file: what it costs, for the record.
  const errorsYaml = join(ws, 'common', 'errors.yaml');
  writeFileSync(errorsYaml, readFileSync(errorsYaml, 'utf8').replace('Problem 400', 'Problem 400, revised'));
  const sharedChange = await time(() => auditor.auditAll(files.map(read)));

  // Through the daemon
  const daemon = await startDaemon();
  const c = await connect(daemon.port, daemon.token);
  const rpcWs = [];
  const rpcAlone = [];
  const rpcFull = [];
  let rpcReaudited;
  try {
    await c.call('governance/audit', { root: ws });
    for (let pass = 0; pass < REAUDIT_PASSES; pass++) {
      touch(leaf, ++rev);
      const w = await time(() => c.call('governance/audit', { root: ws }));
      rpcReaudited = w.result.incremental;
      rpcWs.push(w.ms);
      touch(leaf, ++rev);
      rpcAlone.push((await time(() => c.call('governance/audit', { paths: [leaf] }))).ms);
    }
    for (let pass = 0; pass < THROUGHPUT_PASSES; pass++) {
      rev++;
      for (const f of files) touch(f, rev);
      const full = await time(() => c.call('governance/audit', { root: ws }));
      if (full.result.incremental.audited.length !== SPECS) throw new Error(`expected a full audit over RPC, got ${full.result.incremental.audited.length}`);
      rpcFull.push(full.ms);
    }
  } finally {
    c.ws.close();
    await daemon.stop();
  }
  const rpcLps = lines / (median(rpcFull) / 1000);

  report(`OWASP audit: ${SPECS} specs, ${lines} lines (specs ${Math.min(...sizes)}–${Math.max(...sizes)} lines, 2 shared schema files), ${quick ? 'quick' : 'full'} mode`, {
    // Ours drops Spectral's repeats of one rule at one spot (engine.ts dedupe), and adds circular-ref findings.
    'findings per pass: ours / spectral-core': `${ourFindings} / ${baselineFindings}`,
    'the changed spec: lines': lineCount(readFileSync(leaf, 'utf8')),
    '(a) in process: re-audit workspace after one spec changed, ms (median)': median(wsMs),
    '(a) in process: audit that spec alone, ms (median)': median(aloneMs),
    '(a) in process: workspace ÷ alone (target ≤ 1.5)': median(wsMs) / median(aloneMs),
    '(a) RPC: governance/audit {root} after one spec changed, ms': median(rpcWs),
    '(a) RPC: governance/audit {paths: [that spec]}, ms': median(rpcAlone),
    '(a) RPC: workspace ÷ alone (target ≤ 1.5)': median(rpcWs) / median(rpcAlone),
    '(a) RPC: documents re-audited / reused': `${rpcReaudited?.audited.length} / ${rpcReaudited?.reused}`,
    'shared schema file changed, in process: re-audited documents, ms': `${sharedChange.result.audited.length}, ${fmt(sharedChange.ms)}`,
    '(b) spectral-core warm, lines per CPU second': baselineLps,
    '(b) ours in process, lines per CPU second': oursLps,
    '(b) ours ÷ spectral-core (target ≥ 0.8)': oursLps / baselineLps,
    '(b) ours over RPC (full audit of every file), lines per wall second': rpcLps,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
