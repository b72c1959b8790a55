import * as vscode from 'vscode';
import type { ParamsOf, CreateSlo, Sli } from '../../../daemon/protocol';
import { checkSloId, objectiveHint, parseObjective, parseThresholdMs, suggestSloId } from './sloWizardModel';

const TITLE = 'Create SLO';
const STEPS = 6;

type SliKind = Sli['kind'];

const SLI_KINDS: readonly (vscode.QuickPickItem & { sliKind: SliKind })[] = [
  { sliKind: 'availability', label: 'Availability', detail: 'Bad = a 5xx status or a timeout.' },
  { sliKind: 'latency', label: 'Latency', detail: 'Good = answered within a threshold you choose (ms).' },
  { sliKind: 'errorRate', label: 'Error rate', detail: 'Good = status below 400 (expected client errors can be listed later).' },
  { sliKind: 'customRatio', label: 'Custom ratio', detail: 'Good/total as your samples say (`good: true|false`).' },
];

const WINDOWS: readonly (vscode.QuickPickItem & { days: number })[] = [
  { days: 30, label: '30 days', description: 'rolling', detail: 'The usual window: the SRE Workbook alert thresholds (14.4, 6, 3, 1) apply as is.' },
  { days: 28, label: '28 days', description: 'rolling', detail: 'Four whole weeks: weekday and weekend traffic weigh the same.' },
  { days: 7, label: '7 days', description: 'rolling', detail: 'Fast feedback; thresholds scale down with the window.' },
];

function step(n: number, total: number): string {
  return `${TITLE} (${n}/${total})`;
}

/**
 * Asks for name, service, SLI kind (and threshold), objective and window; returns the spec for
 * `slo/create`, or undefined when the user cancelled. The id comes from the name, unique among
 * `existing`.
 */
export async function runCreateSloWizard(existing: ReadonlySet<string>): Promise<ParamsOf<typeof CreateSlo> | undefined> {
  const name = await vscode.window.showInputBox({
    title: step(1, STEPS),
    prompt: 'Name of the SLO, e.g. "Checkout availability".',
    ignoreFocusOut: true,
    validateInput: (text) => {
      if (text.trim() === '') return 'The name cannot be empty.';
      if (text.length > 200) return 'At most 200 characters.';
      return { message: `Its id will be ${suggestSloId(text, existing)}.`, severity: vscode.InputBoxValidationSeverity.Info };
    },
  });
  if (name === undefined) return undefined;
  const id = suggestSloId(name.trim(), existing);
  const idProblem = checkSloId(id, existing);
  if (idProblem !== undefined) {
    void vscode.window.showErrorMessage(`Cannot derive an SLO id from "${name}": ${idProblem}`);
    return undefined;
  }

  const service = await vscode.window.showInputBox({
    title: step(2, STEPS),
    prompt: 'The service it is about; only samples from this service count.',
    value: 'api',
    ignoreFocusOut: true,
    validateInput: (text) => (text.trim() === '' ? 'The service cannot be empty.' : text.length > 128 ? 'At most 128 characters.' : undefined),
  });
  if (service === undefined) return undefined;

  const kind = await vscode.window.showQuickPick(SLI_KINDS, { title: step(3, STEPS), placeHolder: 'Which requests are good?', ignoreFocusOut: true });
  if (!kind) return undefined;
  let sli: Sli;
  if (kind.sliKind === 'latency') {
    const threshold = await vscode.window.showInputBox({
      title: `${step(3, STEPS)}: latency threshold`,
      prompt: 'Requests answered within this many milliseconds are good.',
      value: '300',
      ignoreFocusOut: true,
      validateInput: (text) => {
        const parsed = parseThresholdMs(text);
        return parsed.ok ? undefined : parsed.message;
      },
    });
    if (threshold === undefined) return undefined;
    const parsed = parseThresholdMs(threshold);
    if (!parsed.ok) return undefined;
    sli = { kind: 'latency', thresholdMs: parsed.value };
  } else if (kind.sliKind === 'errorRate') {
    sli = { kind: 'errorRate', expectedClientErrors: [] };
  } else {
    sli = { kind: kind.sliKind };
  }

  const window = await vscode.window.showQuickPick(WINDOWS, { title: step(4, STEPS), placeHolder: 'Rolling window of the error budget', ignoreFocusOut: true });
  if (!window) return undefined;

  const objectiveText = await vscode.window.showInputBox({
    title: step(5, STEPS),
    prompt: 'Objective: the share of good events, strictly between 0 and 1 (0.999 or 99.9%).',
    value: '0.999',
    ignoreFocusOut: true,
    validateInput: (text) => {
      const parsed = parseObjective(text);
      return parsed.ok ? { message: objectiveHint(parsed.value, window.days), severity: vscode.InputBoxValidationSeverity.Info } : parsed.message;
    },
  });
  if (objectiveText === undefined) return undefined;
  const objective = parseObjective(objectiveText);
  if (!objective.ok) return undefined;

  const confirm = await vscode.window.showQuickPick(
    [
      { label: '$(check) Create', detail: `${name.trim()} (${id}): ${kind.label.toLowerCase()} of ${service.trim()}, ${objectiveHint(objective.value, window.days)}`, create: true },
      { label: '$(close) Cancel', create: false },
    ],
    { title: step(6, STEPS), placeHolder: `Create SLO ${id}?`, ignoreFocusOut: true },
  );
  if (!confirm?.create) return undefined;

  return {
    id,
    name: name.trim(),
    service: service.trim(),
    sli,
    objective: objective.value,
    windowDays: window.days,
    filter: { service: service.trim() },
  };
}
