import * as vscode from 'vscode';
import {
  AbortRun,
  CompleteManualStep,
  DidChangeDr,
  DidProgressDr,
  ErrorCode,
  FINAL_RUN_STATUSES,
  GetDrStatus,
  GetPlan,
  GetRun,
  isRpcError,
  ListBackups,
  ListRuns,
  StartRun,
  VerifyBackup,
  type Backup,
  type DrRun,
  type PlanStatus,
  type RunMode,
} from '../../../daemon/protocol';
import type { DaemonSession } from '../../daemon/connection';
import { Commands, Views } from '../../ids';
import { Throttle } from '../../shared/throttle';
import { buildDrNodes, progressMessage, RUN_HISTORY_LIMIT, runOutcomeMessage, waitingManualStep, type DrNode, type NodeIcon } from './drTreeModel';

/** At most one refresh per this interval while runs stream `dr/didProgress`, ms. */
const REFRESH_INTERVAL_MS = 1_000;

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function themeIcon(icon: NodeIcon): vscode.ThemeIcon {
  return new vscode.ThemeIcon(icon.id, icon.color === undefined ? undefined : new vscode.ThemeColor(icon.color));
}

/** Builds TreeItems from the model's nodes; all the deciding happens in drTreeModel.ts. */
class DrTreeProvider implements vscode.TreeDataProvider<DrNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private nodes: DrNode[] = [];
  statuses: readonly PlanStatus[] = [];

  set(statuses: readonly PlanStatus[], runs: ReadonlyMap<string, DrRun>, backups: readonly Backup[], history: ReadonlyMap<string, readonly DrRun[]> = new Map()): void {
    this.statuses = statuses;
    this.nodes = buildDrNodes(statuses, runs, backups, Date.now(), history);
    this.changed.fire();
  }

  getTreeItem(node: DrNode): vscode.TreeItem {
    const collapsible = node.children.length > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, collapsible);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.iconPath = themeIcon(node.icon);
    if (node.kind === 'plan') item.contextValue = node.contextValue;
    return item;
  }

  getChildren(node?: DrNode): DrNode[] {
    return node ? [...node.children] : this.nodes;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** What a command receives: a tree row, a plan id, or nothing (palette). */
type DrTarget = DrNode | string | undefined;

/** Disaster recovery: the plans tree, drills and failovers followed step by step, backup verification. */
export function registerDr(ctx: vscode.ExtensionContext, session: DaemonSession, log: vscode.LogOutputChannel): void {
  const provider = new DrTreeProvider();
  const view = vscode.window.createTreeView(Views.dr, { treeDataProvider: provider, showCollapseAll: true });
  let generation = 0;

  const showError = async (text: string): Promise<void> => {
    log.error(text);
    const choice = await vscode.window.showErrorMessage(text, 'Show Log');
    if (choice === 'Show Log') log.show();
  };

  const refresh = async (): Promise<void> => {
    const gen = ++generation;
    if (session.state.kind !== 'connected') {
      view.message = undefined;
      provider.set([], new Map(), []);
      return;
    }
    try {
      const [{ plans }, { backups }] = await Promise.all([session.request(GetDrStatus, {}), session.request(ListBackups, {})]);
      const [runs, histories] = await Promise.all([
        Promise.all(plans.flatMap((p) => (p.lastRun ? [session.request(GetRun, { runId: p.lastRun.id })] : []))),
        Promise.all(plans.map(async (p) => [p.planId, (await session.request(ListRuns, { planId: p.planId, limit: RUN_HISTORY_LIMIT })).runs] as const)),
      ]);
      if (gen !== generation) return;
      view.message = undefined;
      provider.set(plans, new Map(runs.map((r) => [r.planId, r])), backups, new Map(histories));
    } catch (e) {
      if (gen !== generation) return;
      log.warn(`Disaster Recovery view: refresh failed: ${errorText(e)}`);
      view.message = `Could not load the disaster-recovery plans: ${errorText(e)}`;
    }
  };
  const throttle = new Throttle(() => void refresh(), REFRESH_INTERVAL_MS);

  const pickPlan = async (target: DrTarget, placeHolder: string): Promise<PlanStatus | undefined> => {
    if (session.state.kind !== 'connected') {
      await showError('The CogniForge daemon is not connected, so there are no disaster-recovery plans to choose from.');
      return undefined;
    }
    const id = typeof target === 'string' ? target : target?.planId;
    try {
      const { plans } = await session.request(GetDrStatus, id === undefined ? {} : { planId: id });
      if (id !== undefined) {
        const found = plans.find((p) => p.planId === id);
        if (!found) await showError(`There is no disaster-recovery plan "${id}".`);
        return found;
      }
      if (plans.length === 0) {
        void vscode.window.showInformationMessage('There are no disaster-recovery plans yet.');
        return undefined;
      }
      const nodes = buildDrNodes(plans, new Map(), [], Date.now());
      const picked = await vscode.window.showQuickPick(
        nodes.map((n) => ({ label: n.label, description: n.planId, detail: n.description, planId: n.planId })),
        { placeHolder, matchOnDescription: true },
      );
      return picked ? plans.find((p) => p.planId === picked.planId) : undefined;
    } catch (e) {
      await showError(`Could not list the disaster-recovery plans: ${errorText(e)}`);
      return undefined;
    }
  };

  /** Asks the person to do a manual step; undefined when they closed the dialog without answering. */
  const askManualStep = async (run: DrRun, stepId: string, instructions: string): Promise<void> => {
    const step = run.steps.find((s) => s.id === stepId);
    const name = step?.name ?? stepId;
    for (;;) {
      const choice = await vscode.window.showInformationMessage(
        `Manual step of "${run.planName}": ${name}`,
        { modal: true, detail: `${instructions}\n\nDone: you did it. Failed: you could not (the run fails).` },
        'Done',
        'Failed',
      );
      if (choice === 'Done' || choice === 'Failed') {
        const note =
          choice === 'Failed' ? await vscode.window.showInputBox({ title: `Why did "${name}" fail?`, prompt: 'Optional note for the run timeline.' }) : undefined;
        try {
          await session.request(CompleteManualStep, { runId: run.id, stepId, outcome: choice === 'Done' ? 'done' : 'failed', note: note || undefined });
        } catch (e) {
          await showError(`Could not record manual step "${name}": ${errorText(e)}`);
        }
        return;
      }
      // Closing the dialog must not leave the run waiting unnoticed.
      const next = await vscode.window.showWarningMessage(`The ${run.mode} of "${run.planName}" waits for manual step "${name}".`, 'Answer', 'Abort Run');
      if (next === 'Abort Run') {
        await session.request(AbortRun, { runId: run.id, reason: `manual step "${name}" not answered` }).catch((e: unknown) => showError(`Could not abort the run: ${errorText(e)}`));
        return;
      }
      if (next !== 'Answer') return;
    }
  };

  /**
   * Follows a run in a cancellable progress notification until it ends; resolves with the final run,
   * or undefined when the daemon connection dropped first (the run goes on, or ends interrupted).
   */
  const followRun = async (started: DrRun): Promise<DrRun | undefined> => {
    const plan = await session.request(GetPlan, { id: started.planId }).catch(() => undefined);
    const instructionsOf = (stepId: string): string => {
      const action = plan?.steps.find((s) => s.id === stepId)?.action;
      return action?.kind === 'manual' ? action.instructions : 'Do this step as the plan\'s runbook describes, then confirm.';
    };
    const title = `${started.mode === 'drill' ? 'DR drill' : 'DR failover'} of "${started.planName}"`;
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
      return new Promise<DrRun | undefined>((resolve) => {
        const asked = new Set<string>();
        let finished = 0;
        let done = false;
        const subscriptions: vscode.Disposable[] = [];
        const stop = (run: DrRun | undefined): void => {
          done = true;
          for (const s of subscriptions) s.dispose();
          resolve(run);
        };
        const onRun = (run: DrRun): void => {
          if (done || run.id !== started.id) return;
          const nowFinished = run.steps.filter((s) => FINAL_STEP.has(s.status)).length;
          progress.report({ message: progressMessage(run), increment: ((nowFinished - finished) * 100) / Math.max(run.steps.length, 1) });
          finished = nowFinished;
          const manual = waitingManualStep(run);
          if (manual && !asked.has(manual.id)) {
            asked.add(manual.id);
            void askManualStep(run, manual.id, instructionsOf(manual.id));
          }
          if (FINAL_RUN_STATUSES.includes(run.status)) stop(run);
        };
        subscriptions.push(
          session.onNotification(DidProgressDr, (p) => onRun(p.run)),
          session.onDidChangeState((state) => {
            if (state.kind !== 'connected' && !done) stop(undefined);
          }),
          token.onCancellationRequested(() => {
            session.request(AbortRun, { runId: started.id, reason: 'cancelled from the editor' }).then(onRun, (e: unknown) => void showError(`Could not abort the run: ${errorText(e)}`));
          }),
        );
        onRun(started);
        // A step may have moved between the start answer and the subscription.
        session.request(GetRun, { runId: started.id }).then(onRun, (e: unknown) => log.warn(`dr/getRun ${started.id} failed: ${errorText(e)}`));
      });
    });
  };

  /** The daemon's drill reminder (a plan's test fell due): offer to start the drill. */
  const remindDrill = async (planId: string): Promise<void> => {
    const status = provider.statuses.find((p) => p.planId === planId);
    const name = status ? `"${status.name}"` : planId;
    const last = status?.lastSuccessfulTestAt ? `last passed ${status.lastSuccessfulTestAt.slice(0, 10)}` : 'never passed a test';
    const choice = await vscode.window.showWarningMessage(`Disaster-recovery drill due: ${name} (${last}).`, 'Start Drill');
    if (choice === 'Start Drill') await startRun(planId, 'drill');
  };

  const startRun = async (target: DrTarget, mode: RunMode): Promise<void> => {
    const status = await pickPlan(target, mode === 'drill' ? 'Start a drill of which plan?' : 'Fail over which plan?');
    if (!status) return;
    if (mode === 'failover') {
      const choice = await vscode.window.showWarningMessage(
        `Start a real failover of "${status.name}"?`,
        {
          modal: true,
          detail: `This runs every step of plan ${status.planId} against ${status.services.join(', ')} for real, not as a drill. It needs an admin or owner token.`,
        },
        'Start Failover',
      );
      if (choice !== 'Start Failover') return;
    }
    let run: DrRun;
    try {
      run = await session.request(StartRun, { planId: status.planId, mode });
    } catch (e) {
      if (isRpcError(e) && e.code === ErrorCode.Forbidden) {
        await showError(`Not allowed to start a ${mode} of "${status.name}": ${e.message}. ${mode === 'failover' ? 'A failover needs an admin or owner token.' : 'A drill needs a token that may write.'}`);
      } else {
        await showError(`Could not start a ${mode} of "${status.name}": ${errorText(e)}`);
      }
      return;
    }
    log.info(`Started ${mode} ${run.id} of plan ${run.planId}`);
    throttle.trigger();
    const final = await followRun(run);
    throttle.trigger();
    if (!final) {
      void vscode.window.showWarningMessage(
        `Lost the daemon connection while following the ${mode} of "${status.name}". The Disaster Recovery view shows how it ended once the daemon is back.`,
      );
      return;
    }
    const outcome = runOutcomeMessage(final);
    log.info(outcome.text);
    if (outcome.level === 'info') void vscode.window.showInformationMessage(outcome.text);
    else if (outcome.level === 'warning') void vscode.window.showWarningMessage(outcome.text);
    else await showError(outcome.text);
  };

  const verifyBackups = async (target: DrTarget): Promise<void> => {
    if (session.state.kind !== 'connected') {
      await showError('Cannot verify backups: the CogniForge daemon is not connected.');
      return;
    }
    const planId = typeof target === 'string' ? target : target?.planId;
    const services = planId === undefined ? undefined : new Set(provider.statuses.find((p) => p.planId === planId)?.services ?? []);
    let backups: Backup[];
    try {
      backups = (await session.request(ListBackups, {})).backups.filter((b) => !services || services.has(b.service));
    } catch (e) {
      await showError(`Could not list the backups: ${errorText(e)}`);
      return;
    }
    if (backups.length === 0) {
      void vscode.window.showInformationMessage(planId === undefined ? 'No backups are registered.' : `No backups are registered for plan "${planId}".`);
      return;
    }
    const results = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Verifying backups', cancellable: true },
      async (progress, token) => {
        const out: Backup[] = [];
        for (const [i, b] of backups.entries()) {
          if (token.isCancellationRequested) break;
          progress.report({ message: `${i + 1}/${backups.length}: ${b.id}`, increment: 100 / backups.length });
          try {
            out.push(await session.request(VerifyBackup, { id: b.id }));
          } catch (e) {
            log.warn(`backups/verify ${b.id} failed: ${errorText(e)}`);
            out.push({ ...b, state: 'missing', problem: errorText(e) });
          }
        }
        return out;
      },
    );
    throttle.trigger();
    const bad = results.filter((b) => b.state !== 'verified');
    const summary = `Verified ${results.length - bad.length} of ${results.length} backup${results.length === 1 ? '' : 's'}`;
    if (bad.length === 0) void vscode.window.showInformationMessage(`${summary}.`);
    else await showError(`${summary}; ${bad.map((b) => `${b.id}: ${b.state}${b.problem ? ` (${b.problem})` : ''}`).join('; ')}.`);
  };

  ctx.subscriptions.push(
    provider,
    view,
    { dispose: () => throttle.dispose() },
    session.onDidChangeState(() => void refresh()),
    session.onNotification(DidChangeDr, ({ change, id }) => {
      throttle.trigger();
      if (change === 'drillDue') void remindDrill(id);
    }),
    session.onNotification(DidProgressDr, () => throttle.trigger()),
    vscode.commands.registerCommand(Commands.refreshDr, () => refresh()),
    vscode.commands.registerCommand(Commands.startDrDrill, (target?: DrTarget) => startRun(target, 'drill')),
    vscode.commands.registerCommand(Commands.startDrFailover, (target?: DrTarget) => startRun(target, 'failover')),
    vscode.commands.registerCommand(Commands.verifyBackups, (target?: DrTarget) => verifyBackups(target)),
  );
  void refresh();
}

/** Step states after which a step no longer changes. */
const FINAL_STEP = new Set(['succeeded', 'failed', 'skipped', 'cancelled', 'interrupted']);
