import * as vscode from 'vscode';
import { FaultType, ListPolicies, StartChaos, type ChaosParameters } from '../../../daemon/protocol';
import type { DaemonSession } from '../../daemon/connection';
import { required } from '../../shared/commandErrors';
import { FAULTS, parseExperimentDuration, parseFaultRate, parseLatencyMs } from './chaosModel';
import type { Parsed } from './replayModel';

const TITLE = 'Start Chaos Experiment';

const check =
  <T>(parse: (text: string) => Parsed<T>) =>
  (text: string): string | undefined => {
    const r = parse(text);
    return r.ok ? undefined : r.message;
  };

/** The value of an input box already validated with the same parser. */
function parsedValue<T>(parse: (text: string) => Parsed<T>, text: string): T {
  const r = parse(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

/**
 * `CogniForge: Start Chaos Experiment…`: dependency (the daemon's own, with breaker state), fault,
 * rate, latency where it applies, duration; a modal confirmation naming what will break, then
 * `chaos/start`. Answers whether an experiment started; throws Cancelled when a step is dismissed.
 */
export async function runChaosFlow(session: DaemonSession, preselected?: string): Promise<boolean> {
  const { policies } = await session.request(ListPolicies, {});
  if (policies.length === 0) {
    void vscode.window.showInformationMessage('The daemon has no outbound dependencies yet: each one (a webhook, Vault, AWS, a broker) shows up once it is called.');
    return false;
  }
  let dependency = policies.find((p) => p.dependency === preselected)?.dependency;
  if (dependency === undefined) {
    dependency = required(
      await vscode.window.showQuickPick(
        policies.map((p) => ({ label: p.dependency, description: `circuit ${p.breaker.state} · bulkhead ${p.active}/${p.config.maxConcurrent}${p.faultInjection ? ' · experiment running' : ''}` })),
        { title: `${TITLE} (1/4)`, placeHolder: 'Inject faults into which dependency of the daemon?', ignoreFocusOut: true },
      ),
    ).label;
  }

  const fault = required(
    await vscode.window.showQuickPick(
      FaultType.options.map((f) => ({ label: FAULTS[f].label, detail: FAULTS[f].detail, fault: f })),
      { title: `${TITLE} (2/4)`, placeHolder: `What should happen to calls to ${dependency}?`, ignoreFocusOut: true },
    ),
  ).fault;

  let rate = 1;
  if (FAULTS[fault].usesRate) {
    const text = required(
      await vscode.window.showInputBox({
        title: `${TITLE} (3/4): rate`,
        prompt: fault === 'resource_exhaustion' ? 'Share of bulkhead slots to hold (50% or 0.5).' : 'Share of calls affected (50% or 0.5).',
        value: '100%',
        ignoreFocusOut: true,
        validateInput: check(parseFaultRate),
      }),
    );
    rate = parsedValue(parseFaultRate, text);
  }

  const parameters: ChaosParameters = {};
  if (fault === 'latency') {
    const text = required(
      await vscode.window.showInputBox({ title: `${TITLE} (3/4): latency`, prompt: 'Delay added to each affected call, ms.', value: '500', ignoreFocusOut: true, validateInput: check(parseLatencyMs) }),
    );
    parameters.latencyMs = parsedValue(parseLatencyMs, text);
  }

  const durationText = required(
    await vscode.window.showInputBox({
      title: `${TITLE} (4/4): duration`,
      prompt: 'How long the experiment runs (90s, 5m, 2h); it ends on its own, also across a daemon restart.',
      value: '5m',
      ignoreFocusOut: true,
      validateInput: check(parseExperimentDuration),
    }),
  );
  const durationMs = parsedValue(parseExperimentDuration, durationText);

  const go = await vscode.window.showWarningMessage(
    `Inject "${FAULTS[fault].label}" into ${dependency} for ${durationText.trim()}?`,
    { modal: true, detail: `${FAULTS[fault].detail} Only the daemon's own calls to ${dependency} are affected; its circuit breaker and bulkhead react as they would to a real fault.` },
    'Start',
  );
  if (go !== 'Start') return false;
  const { experiment } = await session.request(StartChaos, { dependency, fault, rate, durationMs, parameters });
  void vscode.window.showInformationMessage(`Chaos experiment started on ${experiment.dependency}; it ends at ${new Date(experiment.endsAt).toLocaleTimeString()}.`);
  return true;
}
