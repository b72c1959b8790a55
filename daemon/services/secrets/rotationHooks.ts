import { spawn } from 'node:child_process';
import type { SecretHookRun, SecretMetadata, SecretRotationHook } from '../../protocol/secrets';
import type { DependencyPolicies } from '../resilience/policies';
import { OutboundHttp } from '../resilience/outbound';
import type { Clock } from '../shared/clock';

/** Output kept per hook run (stdout and stderr together, or the response body). */
export const HOOK_OUTPUT_BYTES = 2048;
const MASK = '[secret value]';

/** The new version a hook delivers. The value lives here only while the hook runs. */
export interface HookDelivery {
  secret: Pick<SecretMetadata, 'id' | 'name' | 'environment' | 'type'>;
  version: number;
  value: string;
}

/** Replace every occurrence of the value (and its common encodings) so output can be stored. */
export function maskValue(text: string, value: string): string {
  let out = text;
  for (const form of new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), Buffer.from(value).toString('base64')])) {
    if (form.length > 0) out = out.split(form).join(MASK);
  }
  return out;
}

interface HookOutcome {
  ok: boolean;
  exitCode?: number;
  status?: number;
  error?: string;
  output?: string;
}

function truncate(text: string): string {
  const buf = Buffer.from(text, 'utf8');
  return buf.length <= HOOK_OUTPUT_BYTES ? text : `${buf.subarray(0, HOOK_OUTPUT_BYTES).toString('utf8')}…`;
}

export interface HookRunnerOptions {
  clock: Clock;
  policies?: DependencyPolicies;
  /** The environment a command hook starts from (the daemon's, without secrets of its own). */
  baseEnv: Readonly<Record<string, string | undefined>>;
}

/**
 * Runs a secret's rotation hook: a command (no shell; name, environment and version in its
 * environment, the value only on stdin when the hook asks for it) or a webhook POST through the
 * outbound policies (only the hook's own host; the value in the body only when asked). The result
 * never carries the value: output is masked, then truncated.
 */
export class RotationHookRunner {
  constructor(private readonly options: HookRunnerOptions) {}

  async run(hook: SecretRotationHook, d: HookDelivery): Promise<SecretHookRun> {
    const started = performance.now();
    const at = new Date(this.options.clock.now()).toISOString();
    const partial: HookOutcome = hook.kind === 'command' ? await this.command(hook, d) : await this.webhook(hook, d);
    const output = partial.output !== undefined ? truncate(maskValue(partial.output, d.value)) : undefined;
    const error = partial.error !== undefined ? truncate(maskValue(partial.error, d.value)) : undefined;
    return {
      version: d.version,
      kind: hook.kind,
      ok: partial.ok,
      ...(partial.exitCode !== undefined ? { exitCode: partial.exitCode } : {}),
      ...(partial.status !== undefined ? { status: partial.status } : {}),
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...(error ? { error } : {}),
      ...(output ? { output } : {}),
      at,
    };
  }

  private command(
    hook: Extract<SecretRotationHook, { kind: 'command' }>,
    d: HookDelivery,
  ): Promise<HookOutcome> {
    return new Promise((resolve) => {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(this.options.baseEnv)) {
        // The daemon's own credentials stay with the daemon.
        if (v !== undefined && !/MASTER_KEY|MASTER_ENCRYPTION_KEY|TOKEN|SECRET|PASSWORD|AWS_/i.test(k)) env[k] = v;
      }
      Object.assign(env, {
        COGNIFORGE_SECRET_ID: d.secret.id,
        COGNIFORGE_SECRET_NAME: d.secret.name,
        COGNIFORGE_SECRET_ENVIRONMENT: d.secret.environment,
        COGNIFORGE_SECRET_TYPE: d.secret.type,
        COGNIFORGE_SECRET_VERSION: String(d.version),
        COGNIFORGE_SECRET_VALUE_ON_STDIN: hook.valueOnStdin ? '1' : '0',
      });
      let output = '';
      let settled = false;
      const finish = (r: { ok: boolean; exitCode?: number; error?: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...r, ...(output ? { output } : {}) });
      };
      const child = spawn(hook.command, hook.args, {
        shell: false,
        env,
        ...(hook.cwd ? { cwd: hook.cwd } : {}),
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
      });
      const collect = (chunk: Buffer) => {
        if (output.length < HOOK_OUTPUT_BYTES * 4) output += chunk.toString('utf8');
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      const kill = () => {
        try {
          // The whole process group: a hook's own children must not outlive its timeout.
          if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
          else child.kill('SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      };
      const timer = setTimeout(() => {
        kill();
        finish({ ok: false, error: `timed out after ${hook.timeoutMs} ms: the process group was killed` });
      }, hook.timeoutMs);
      child.once('error', (e) => finish({ ok: false, error: `could not start ${hook.command}: ${e.message}` }));
      child.once('close', (code, signal) => {
        if (code === 0) finish({ ok: true, exitCode: 0 });
        else if (code !== null) finish({ ok: false, exitCode: code, error: `exit code ${code}` });
        else finish({ ok: false, error: `killed by ${signal ?? 'a signal'}` });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(hook.valueOnStdin ? d.value : undefined);
    });
  }

  private async webhook(
    hook: Extract<SecretRotationHook, { kind: 'webhook' }>,
    d: HookDelivery,
  ): Promise<HookOutcome> {
    if (!this.options.policies) return { ok: false, error: 'no outbound policies: webhook hooks are unavailable' };
    const url = new URL(hook.url);
    const http = new OutboundHttp({
      policies: this.options.policies,
      clock: this.options.clock,
      allowedHosts: [url.host],
      maxRedirects: 0,
      userAgent: 'CogniForge-Secrets',
    });
    try {
      const res = await http.request({
        dependency: `secret-hook:${url.host.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
        url: hook.url,
        method: 'POST',
        timeoutMs: hook.timeoutMs,
        body: {
          event: 'secret.rotated',
          secretId: d.secret.id,
          name: d.secret.name,
          environment: d.secret.environment,
          version: d.version,
          ...(hook.includeValue ? { value: d.value } : {}),
        },
      });
      return { ok: true, status: res.status, ...(res.text ? { output: res.text } : {}) };
    } catch (e) {
      const data = (e as { data?: { status?: unknown } }).data;
      const status = typeof data?.status === 'number' ? data.status : undefined;
      return { ok: false, ...(status !== undefined ? { status } : {}), error: e instanceof Error ? e.message : String(e) };
    }
  }
}
