import { MAX_EXPERIMENT_MS, type ChaosExperiment, type FaultType } from '../../../daemon/protocol';
import { formatCount, formatDuration } from '../../../webview/protocol/format';
import type { Parsed } from './replayModel';

/** Finished experiments kept in the view beside the running ones (newest first). */
export const FINISHED_SHOWN = 5;

/** What each fault does, in the words the start flow and the tooltips use. */
export const FAULTS: Record<FaultType, { label: string; detail: string; usesRate: boolean }> = {
  latency: { label: 'Latency', detail: 'Delay affected calls by a fixed time before they run.', usesRate: true },
  error: { label: 'Error', detail: 'Affected calls fail with an injected error.', usesRate: true },
  timeout: { label: 'Timeout', detail: "Affected calls hang until the policy's timeout ends them.", usesRate: true },
  partial_failure: { label: 'Partial failure', detail: 'A fraction of calls fail, the rest go through.', usesRate: true },
  network_partition: { label: 'Network partition', detail: 'Every call fails fast, as if the host were unreachable.', usesRate: false },
  resource_exhaustion: { label: 'Resource exhaustion', detail: "Hold a fraction of the bulkhead's slots so real calls queue or are rejected.", usesRate: true },
};

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };

/** `90s`, `5m`, `2h` → ms; bounded by the daemon's longest experiment. */
export function parseExperimentDuration(text: string): Parsed<number> {
  const m = /^(\d+)\s*([smh])$/.exec(text.trim());
  if (!m) return { ok: false, message: 'Give a duration like 90s, 5m or 2h.' };
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  if (ms <= 0) return { ok: false, message: 'The duration must be more than zero.' };
  if (ms > MAX_EXPERIMENT_MS) return { ok: false, message: `At most ${formatDuration(MAX_EXPERIMENT_MS)}: an experiment is bounded, not a setting.` };
  return { ok: true, value: ms };
}

/** `50%`, `0.5` or `1` → a fraction in (0, 1]. */
export function parseFaultRate(text: string): Parsed<number> {
  const t = text.trim();
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(t);
  const value = percent ? Number(percent[1]) / 100 : /^\d+(?:\.\d+)?$/.test(t) ? Number(t) : Number.NaN;
  if (Number.isNaN(value)) return { ok: false, message: 'Give a percentage like 50% or a fraction like 0.5.' };
  if (value <= 0 || value > 1) return { ok: false, message: 'The rate must be more than 0 and at most 100%.' };
  return { ok: true, value };
}

/** `120` → ms of added latency (1 ms … 10 min, as the daemon accepts). */
export function parseLatencyMs(text: string): Parsed<number> {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return { ok: false, message: 'Give whole milliseconds, e.g. 500.' };
  const ms = Number(t);
  if (ms < 1 || ms > 600_000) return { ok: false, message: 'Between 1 ms and 600000 ms (10 minutes).' };
  return { ok: true, value: ms };
}

export interface ExperimentRow {
  readonly id: string;
  readonly experimentId: string;
  readonly running: boolean;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: { readonly id: string; readonly color?: string };
}

const rateText = (e: ChaosExperiment): string => (FAULTS[e.fault].usesRate ? ` at ${Math.round(e.rate * 1000) / 10}%` : '');

function resultsText(e: ChaosExperiment): string {
  const r = e.results;
  return `${formatCount(r.callsAffected)} of ${formatCount(r.calls)} calls affected · ${formatCount(r.callerErrors)} caller errors · ${formatCount(r.breakerTrips)} breaker trip${r.breakerTrips === 1 ? '' : 's'}`;
}

const END_WORDS: Record<NonNullable<ChaosExperiment['endReason']>, string> = {
  duration: 'ran its full duration',
  stopped: 'stopped',
  expired: 'ended while the daemon was down',
};

/** One row per experiment: running ones first (soonest end first), then the newest finished ones. */
export function experimentRows(experiments: readonly ChaosExperiment[], nowMs: number): ExperimentRow[] {
  const running = experiments.filter((e) => e.state === 'running').sort((a, b) => a.endsAt.localeCompare(b.endsAt));
  const finished = experiments
    .filter((e) => e.state === 'finished')
    .sort((a, b) => (b.finishedAt ?? b.endsAt).localeCompare(a.finishedAt ?? a.endsAt))
    .slice(0, FINISHED_SHOWN);
  return [...running, ...finished].map((e) => {
    const isRunning = e.state === 'running';
    const left = Math.max(0, Date.parse(e.endsAt) - nowMs);
    const params = e.parameters.latencyMs !== undefined ? `, +${e.parameters.latencyMs} ms latency` : '';
    return {
      id: `chaos:${e.id}`,
      experimentId: e.id,
      running: isRunning,
      label: `${FAULTS[e.fault].label} on ${e.dependency}`,
      description: isRunning ? `${formatDuration(left)} left · ${formatCount(e.results.callsAffected)} affected` : `${END_WORDS[e.endReason ?? 'duration']} · ${formatCount(e.results.callerErrors)} caller errors`,
      tooltip: [
        `${FAULTS[e.fault].label}${rateText(e)}${params} on ${e.dependency} for ${formatDuration(e.durationMs)}`,
        FAULTS[e.fault].detail,
        `Started ${e.startedAt} by ${e.startedBy}; ${isRunning ? `ends ${e.endsAt}` : `${END_WORDS[e.endReason ?? 'duration']} at ${e.finishedAt ?? e.endsAt}${e.stoppedBy ? ` (by ${e.stoppedBy})` : ''}`}`,
        resultsText(e),
      ].join('\n'),
      icon: isRunning ? { id: 'flame', color: 'charts.orange' } : { id: 'history' },
    };
  });
}
