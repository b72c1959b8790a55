import { resolve } from 'node:path';
import { connect, isClientError, type DaemonClient } from '../client';
import { defaultDataDir } from '../client/paths';
import { DAEMON_VERSION } from '../config';
import { Gate, RpcError, type GateResult } from '../protocol';

/** Exit codes of `cogniforged gate`: a CI step fails on anything but 0. */
export const GateExit = {
  Allow: 0,
  Deny: 1,
  /** The gate could not decide: bad flags, no daemon, unknown SLO. */
  Unavailable: 2,
} as const;

export const GATE_USAGE = `Usage: cogniforged gate [--slo ID ...] [--min-budget RATIO] [--allow-during-page] [--json] [--data-dir DIR]

Asks the running daemon whether a deployment may proceed (slo/gate) and exits
0 on allow, 1 on deny, 2 when the gate cannot decide (daemon not running, bad flags, unknown SLO).

  --slo ID              SLO id or alias to check; repeat or comma-separate (default: every SLO)
  --min-budget RATIO    deny below this remaining-budget ratio, e.g. 0.2 (default: each SLO's policy, 0.25)
  --allow-during-page   do not deny because a page alert is active
  --json                print the slo/gate result as JSON
  --data-dir DIR        data dir of the daemon (default: $COGNIFORGE_DATA_DIR or the platform default)`;

export interface GateArgs {
  sloIds: string[];
  minRemainingBudget?: number;
  denyOnPage: boolean;
  json: boolean;
  dataDir: string;
}

export type ParsedGateArgs = { kind: 'run'; args: GateArgs } | { kind: 'help' } | { kind: 'error'; message: string };

/** Parse the flags after `gate`. */
export function parseGateArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedGateArgs {
  const args: GateArgs = { sloIds: [], denyOnPage: true, json: false, dataDir: defaultDataDir(env) };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--help':
      case '-h':
        return { kind: 'help' };
      case '--json':
        args.json = true;
        break;
      case '--allow-during-page':
        args.denyOnPage = false;
        break;
      case '--slo': {
        const v = value();
        if (!v) return { kind: 'error', message: '--slo needs an SLO id or alias' };
        args.sloIds.push(...v.split(',').map((s) => s.trim()).filter((s) => s !== ''));
        break;
      }
      case '--min-budget': {
        const v = value();
        const n = v === undefined || v.trim() === '' ? NaN : Number(v);
        if (!Number.isFinite(n) || n > 1) return { kind: 'error', message: `--min-budget must be a ratio ≤ 1 such as 0.2, got ${v ?? 'nothing'}` };
        args.minRemainingBudget = n;
        break;
      }
      case '--data-dir': {
        const v = value();
        if (!v) return { kind: 'error', message: '--data-dir needs a directory' };
        args.dataDir = v;
        break;
      }
      default:
        return { kind: 'error', message: `unknown argument ${arg}` };
    }
  }
  args.dataDir = resolve(args.dataDir);
  return { kind: 'run', args };
}

/** The decision as lines for a CI log. */
export function formatGate(result: GateResult): string {
  const pct = (r: number) => `${Math.round(r * 1000) / 10} %`;
  const lines = [`SLO deploy gate: ${result.decision.toUpperCase()} (${result.slos.length} SLO${result.slos.length === 1 ? '' : 's'} at ${result.evaluatedAt})`];
  for (const r of result.reasons) lines.push(`  ✗ ${r.sloId} [${r.code}] ${r.message}`);
  const denied = new Set(result.reasons.map((r) => r.sloId));
  for (const s of result.slos) {
    if (!denied.has(s.sloId)) lines.push(`  ✓ ${s.sloId}: ${pct(s.remainingRatio)} budget left (minimum ${pct(s.minRemainingBudget)}), ${s.status}`);
  }
  return lines.join('\n');
}

export interface GateIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** `cogniforged gate ...`: resolves to the exit code. */
export async function runGate(argv: readonly string[], env: NodeJS.ProcessEnv, io: GateIo): Promise<number> {
  const parsed = parseGateArgs(argv, env);
  if (parsed.kind === 'help') {
    io.stdout(GATE_USAGE + '\n');
    return GateExit.Allow;
  }
  if (parsed.kind === 'error') {
    io.stderr(`cogniforged gate: ${parsed.message}\n${GATE_USAGE}\n`);
    return GateExit.Unavailable;
  }
  const { args } = parsed;
  let client: DaemonClient | undefined;
  try {
    client = await connect({
      dataDir: args.dataDir,
      clientName: 'cogniforged gate',
      clientVersion: DAEMON_VERSION,
      connectTimeoutMs: 5_000,
      requestTimeoutMs: 10_000,
      heartbeatIntervalMs: 0,
      reconnect: { maxAttempts: 1 },
    });
    const result = await client.request(Gate, {
      ...(args.sloIds.length > 0 ? { sloIds: args.sloIds } : {}),
      ...(args.minRemainingBudget !== undefined ? { minRemainingBudget: args.minRemainingBudget } : {}),
      denyOnPage: args.denyOnPage,
    });
    io.stdout((args.json ? JSON.stringify(result, null, 2) : formatGate(result)) + '\n');
    return result.decision === 'allow' ? GateExit.Allow : GateExit.Deny;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // The client's "not running" messages already say how to start the daemon; other connection failures get the hint here.
    const hint = isClientError(e) && !message.includes('Start it with') ? ` Start the daemon with \`cogniforged --data-dir ${args.dataDir}\`.` : '';
    const what = e instanceof RpcError ? 'the daemon refused the gate query' : 'cannot reach the daemon';
    io.stderr(`cogniforged gate: ${what}: ${message}${hint}\n`);
    return GateExit.Unavailable;
  } finally {
    await client?.close();
  }
}
