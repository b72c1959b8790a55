import * as vscode from 'vscode';
import { ListDurableSubscriptions, ListStreams, ReplayEvents } from '../../../daemon/protocol';
import type { DaemonSession } from '../../daemon/connection';
import { required } from '../../shared/commandErrors';
import { parseTypePatterns } from './eventTail';
import { headSeqOf, subscriptionLag } from './eventsTreeModel';
import { describeRange, parseSeqRange, parseTimeRange, replayBlocker, replayParams, replayResultMessage, type ReplayChoice } from './replayModel';

const TITLE = 'Replay Events';

/**
 * `CogniForge: Replay Events…`: subscription, type and stream filter, sequence or time range, each
 * validated as it is typed; then `events/replay` under a progress notification and the count the
 * daemon re-delivered. Throws Cancelled (via `required`) when the user dismisses a step.
 */
export async function runReplayFlow(session: DaemonSession, preselected?: string): Promise<void> {
  const [{ subscriptions }, { streams }] = await Promise.all([session.request(ListDurableSubscriptions, {}), session.request(ListStreams, {})]);
  if (subscriptions.length === 0) {
    void vscode.window.showInformationMessage('There are no durable subscriptions to replay to. A client process creates one with subscribe(name, filter, handler).');
    return;
  }
  const head = headSeqOf(streams);

  let sub = subscriptions.find((s) => s.name === preselected);
  if (!sub) {
    const picked = required(
      await vscode.window.showQuickPick(
        [...subscriptions]
          .sort((a, b) => Number(b.consumer !== undefined) - Number(a.consumer !== undefined) || a.name.localeCompare(b.name))
          .map((s) => ({
            label: s.name,
            description: s.consumer === undefined ? 'no consumer attached' : 'consumer attached',
            detail: `checkpoint ${s.checkpoint} · lag ${subscriptionLag(s, head)} · filter ${[...(s.filter.types ?? []), ...(s.filter.streams ?? [])].join(', ') || 'every event'}`,
            sub: s,
          })),
        { title: `${TITLE} (1/4)`, placeHolder: 'Re-deliver events to which subscription?', matchOnDetail: true, ignoreFocusOut: true },
      ),
    );
    sub = picked.sub;
  }
  const blocker = replayBlocker(sub);
  if (blocker) {
    void vscode.window.showWarningMessage(blocker);
    return;
  }

  const typesText = required(
    await vscode.window.showInputBox({
      title: `${TITLE} (2/4): event types`,
      prompt: `Type patterns to narrow ${sub.name}'s own filter, comma-separated ("order.*", "api.**"); empty keeps every type it takes.`,
      placeHolder: 'every type',
      ignoreFocusOut: true,
      validateInput: (text) => {
        const parsed = parseTypePatterns(text);
        return parsed.ok ? undefined : parsed.message;
      },
    }),
  );
  const types = parseTypePatterns(typesText);
  if (!types.ok) return;

  const streamPicks = required(
    await vscode.window.showQuickPick(
      streams
        .filter((s) => s.events > 0)
        .map((s) => ({ label: s.name, description: `${s.events} events`, picked: false })),
      { title: `${TITLE} (3/4): streams`, placeHolder: 'Only these streams (pick none for every stream), then press Enter', canPickMany: true, ignoreFocusOut: true },
    ),
  );

  const kind = required(
    await vscode.window.showQuickPick(
      [
        { label: 'Sequence range', description: `the log holds seq … ${head}`, rangeKind: 'seq' as const },
        { label: 'Time range', description: '30m, 2h, 1d or ISO times', rangeKind: 'time' as const },
      ],
      { title: `${TITLE} (4/4): range`, placeHolder: 'Choose the range by sequence number or by time', ignoreFocusOut: true },
    ),
  ).rangeKind;
  const now = Date.now();
  const rangeText = required(
    await vscode.window.showInputBox({
      title: `${TITLE} (4/4): ${kind === 'seq' ? 'sequence range' : 'time range'}`,
      prompt: kind === 'seq' ? `A start seq (to the head, ${head}) or a range "from-to", both inclusive.` : 'The last 30m / 2h / 1d, or "<ISO time>" or "<ISO time> .. <ISO time>".',
      value: kind === 'seq' ? `${Math.max(1, sub.checkpoint)}-${head}` : '1h',
      ignoreFocusOut: true,
      validateInput: (text) => {
        const parsed = kind === 'seq' ? parseSeqRange(text, head) : parseTimeRange(text, now);
        return parsed.ok ? undefined : parsed.message;
      },
    }),
  );
  const seqRange = kind === 'seq' ? parseSeqRange(rangeText, head) : undefined;
  const timeRange = kind === 'time' ? parseTimeRange(rangeText, now) : undefined;
  const range: ReplayChoice['range'] | undefined =
    seqRange?.ok === true ? { kind: 'seq', ...seqRange.value } : timeRange?.ok === true ? { kind: 'time', ...timeRange.value } : undefined;
  if (!range) return;

  const choice: ReplayChoice = { subscription: sub.name, types: types.patterns, streams: streamPicks.map((p) => p.label), range };
  const { count } = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Replaying ${describeRange(range)} to ${sub.name}…` },
    () => session.request(ReplayEvents, replayParams(choice)),
  );
  void vscode.window.showInformationMessage(replayResultMessage(choice, count));
}
