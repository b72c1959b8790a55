import { userInfo } from 'node:os';
import * as vscode from 'vscode';
import {
  AddIncidentNote,
  AssignIncident,
  CreateIncident,
  DidChangeIncident,
  DidChangeOncall,
  DraftReview,
  ErrorCode,
  GetIncident,
  GetOncallSchedule,
  GetReview,
  ListIncidents,
  OPEN_STATUSES,
  SetIncidentSeverity,
  SubmitReview,
  TransitionIncident,
  WhoIsOnCall,
  type Incident,
  type IncidentStatus,
  type IncidentSummary,
  type Review,
  type Severity,
} from '../../../daemon/protocol';
import type { DaemonSession } from '../../daemon/connection';
import { HostToIncident, IncidentToHost, type IncidentCommand } from '../../../webview/protocol/incident';
import { Commands, Settings, Views, WebviewPanels } from '../../ids';
import { DashboardHost } from '../../webviews/dashboardHost';
import { Cancelled, commandErrors, required } from '../../shared/commandErrors';
import { Throttle } from '../../shared/throttle';
import {
  errorText,
  formatActionItem,
  incidentChoice,
  incidentRefOf,
  isReviewRequiredError,
  keepLines,
  nextStatusChoices,
  oneLine,
  parseActionItem,
  parseCreateArgs,
  parseServices,
  SEVERITY_CHOICES,
  validateHandle,
  validateOptionalText,
  validateRequiredText,
  validateTitle,
  type Choice,
  type ReviewActionItem,
} from './incidentActions';
import { IncidentPanelController } from './incidentPanel';
import { IncidentsTreeProvider } from './incidentsTree';
import { hasOpenIncidents, RECENTLY_RESOLVED_LIMIT, urgentBadge } from './incidentsTreeModel';
import { buildOncallNode, handoffPassed, oncallStatusBar, SCHEDULE_DAYS, type OncallNow, type OncallSchedule } from './oncallModel';

/** Bursts of incidents/didChange (another client scripting moves) collapse into one refresh per this, ms. */
const REFRESH_INTERVAL_MS = 500;
/** How long a confirmation stays in the status bar, ms. */
const CONFIRM_MS = 5_000;
/** How often the rows' ages are re-rendered while the view is visible, ms. */
const AGE_TICK_MS = 60_000;
/** Open incidents the view lists; more than this many open at once is a different problem. */
const OPEN_LIMIT = 500;
/** The only commands the incident panel may trigger, each run on the incident it shows. */
const PANEL_COMMANDS: Record<IncidentCommand, string> = {
  acknowledge: Commands.acknowledgeIncident,
  changeStatus: Commands.changeIncidentStatus,
  resolve: Commands.resolveIncident,
  addNote: Commands.addIncidentNote,
  changeSeverity: Commands.changeIncidentSeverity,
  assign: Commands.assignIncident,
  writeReview: Commands.writeIncidentReview,
  showLog: Commands.showLog,
};
const NOT_CLOSED: IncidentStatus[] = [...OPEN_STATUSES, 'resolved'];


async function ask(options: vscode.InputBoxOptions): Promise<string> {
  return required(await vscode.window.showInputBox({ ignoreFocusOut: true, ...options }));
}

/** A single-choice QuickPick that can start on a given row (showQuickPick cannot). */
function pickOne<T>(choices: readonly Choice<T>[], options: { title: string; placeholder: string; active?: T }): Promise<T> {
  return new Promise((resolve, reject) => {
    const qp = vscode.window.createQuickPick<vscode.QuickPickItem & { value: T }>();
    qp.title = options.title;
    qp.placeholder = options.placeholder;
    qp.ignoreFocusOut = true;
    qp.matchOnDescription = true;
    qp.items = choices.map((c) => ({ label: c.label, description: c.description, value: c.value }));
    const active = qp.items.find((i) => i.value === options.active);
    if (active) qp.activeItems = [active];
    let done = false;
    qp.onDidAccept(() => {
      const chosen = qp.selectedItems[0] ?? qp.activeItems[0];
      if (!chosen) return;
      done = true;
      resolve(chosen.value);
      qp.hide();
    });
    qp.onDidHide(() => {
      qp.dispose();
      if (!done) reject(new Cancelled());
    });
    qp.show();
  });
}

/** Who is at the keyboard, for `detectedBy` of an incident created here. */
function localUser(): string {
  try {
    return userInfo().username || 'editor';
  } catch {
    return 'editor';
  }
}

/**
 * Incidents & On-call view (the incidents part): open incidents by severity with live refresh on
 * incidents/didChange, a badge with the open SEV1/SEV2 count, and every incident command.
 */
export function registerIncidents(ctx: vscode.ExtensionContext, session: DaemonSession, log: vscode.LogOutputChannel): void {
  const provider = new IncidentsTreeProvider(session, log);
  const view = vscode.window.createTreeView(Views.incidents, { treeDataProvider: provider, showCollapseAll: true });
  const panels: IncidentPanelController[] = [];
  /** The incident the next new panel shows (a restored panel names its own). */
  let pendingTarget: string | undefined;
  const host = new DashboardHost(ctx.extensionUri, log, {
    viewType: WebviewPanels.incident,
    title: 'CogniForge Incident',
    bundle: 'incident',
    styles: ['dashboard.css'],
    toWebview: HostToIncident,
    fromWebview: IncidentToHost,
    createController: (channel) => {
      const controller = new IncidentPanelController(
        channel,
        {
          session,
          runCommand: (command, incidentId) =>
            void vscode.commands.executeCommand(PANEL_COMMANDS[command], command === 'showLog' ? undefined : { incidentId }),
          log: (level, message) => log[level](message),
          onDispose: (c) => {
            const at = panels.indexOf(c);
            if (at >= 0) panels.splice(at, 1);
          },
        },
        pendingTarget,
      );
      pendingTarget = undefined;
      panels.push(controller);
      return controller;
    },
  });
  let generation = 0;
  const statusItem = vscode.window.createStatusBarItem('cogniforge.oncallStatus', vscode.StatusBarAlignment.Left, 80);
  statusItem.name = 'CogniForge On-call';
  statusItem.command = { command: `${Views.incidents}.focus`, title: 'Show Incidents & On-call' };
  let oncallNow: readonly OncallNow[] = [];
  let oncallSchedules = new Map<string, OncallSchedule>();
  const myHandle = (): string | undefined => vscode.workspace.getConfiguration().get<string>(Settings.oncallHandle)?.trim() || undefined;

  const updateStatusBar = (): void => {
    const bar = oncallStatusBar(oncallNow, provider.current, Date.now(), myHandle());
    if (session.state.kind !== 'connected' || !bar.visible) {
      statusItem.hide();
      return;
    }
    statusItem.text = bar.text;
    statusItem.tooltip = bar.tooltip;
    statusItem.backgroundColor = bar.tone === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    statusItem.show();
  };

  /** Who is on call per role now, and each role's final schedule for the next days. */
  const loadOncall = async (): Promise<{ now: readonly OncallNow[]; schedules: Map<string, OncallSchedule> } | undefined> => {
    try {
      const { oncall } = await session.request(WhoIsOnCall, {});
      const schedules = await Promise.all(oncall.map((r) => session.request(GetOncallSchedule, { role: r.role, days: SCHEDULE_DAYS })));
      return { now: oncall, schedules: new Map(schedules.map((s) => [s.role, s])) };
    } catch (e) {
      log.warn(`Incidents view: on-call query failed: ${errorText(e)}`);
      return undefined;
    }
  };

  const refresh = async (): Promise<void> => {
    const gen = ++generation;
    if (session.state.kind !== 'connected') {
      view.message = undefined;
      view.badge = undefined;
      provider.setIncidents([]);
      provider.setOncall(undefined);
      oncallNow = [];
      oncallSchedules = new Map();
      updateStatusBar();
      return;
    }
    try {
      const [open, done, oncall] = await Promise.all([
        session.request(ListIncidents, { statuses: [...OPEN_STATUSES], limit: OPEN_LIMIT }),
        session.request(ListIncidents, { statuses: ['resolved', 'closed'], limit: RECENTLY_RESOLVED_LIMIT }),
        loadOncall(),
      ]);
      if (gen !== generation) return;
      const all = [...open.incidents, ...done.incidents];
      provider.setIncidents(all);
      if (oncall) {
        oncallNow = oncall.now;
        oncallSchedules = oncall.schedules;
        // No schedule at all: no row, so an empty view still shows its welcome.
        provider.setOncall(oncall.now.length > 0 ? buildOncallNode(oncall.now, oncall.schedules, Date.now(), myHandle()) : undefined);
      }
      view.badge = urgentBadge(all);
      updateStatusBar();
      // With only resolved incidents or the on-call row the tree is not empty, so the welcome would not say it.
      view.message = (all.length > 0 || provider.oncallNode !== undefined) && !hasOpenIncidents(provider.tree) ? 'No open incidents.' : undefined;
    } catch (e) {
      if (gen !== generation) return;
      log.warn(`Incidents view: incidents/list failed: ${errorText(e)}`);
      view.message = `Could not list the incidents: ${errorText(e)}`;
    }
  };
  const throttle = new Throttle(() => void refresh(), REFRESH_INTERVAL_MS);
  // The ages in the rows ("investigating · 5m") move on without any change in the daemon.
  const ages = setInterval(() => {
    // A handoff changes who is on call without any event in the daemon.
    if (handoffPassed(oncallNow, Date.now())) throttle.trigger();
    else if (view.visible && provider.oncallNode) provider.setOncall(buildOncallNode(oncallNow, oncallSchedules, Date.now(), myHandle()));
    if (view.visible && provider.current.length > 0) provider.setIncidents(provider.current, { force: true });
  }, AGE_TICK_MS);

  const { guarded } = commandErrors(log);


  /** The incident a command acts on: the row it was run on, or one the user picks from `statuses`. */
  const resolveIncident = async (arg: unknown, statuses: readonly IncidentStatus[], purpose: string): Promise<Incident> => {
    const ref = incidentRefOf(arg);
    if (ref !== undefined) return session.request(GetIncident, { id: ref });
    const { incidents } = await session.request(ListIncidents, { statuses: [...statuses], limit: 200 });
    if (incidents.length === 0) {
      void vscode.window.showInformationMessage(`There is no incident to ${purpose} (none is ${statuses.join(', ')}).`);
      throw new Cancelled();
    }
    const id = await pickOne(incidents.map(incidentChoice), { title: `Which incident to ${purpose}?`, placeholder: 'Type a number, title or service' });
    return session.request(GetIncident, { id });
  };

  /** A done move is visible in the view; a transient status bar line confirms it without a toast. */
  const confirm = (text: string): void => {
    vscode.window.setStatusBarMessage(`$(check) ${text}`, CONFIRM_MS);
  };

  const afterChange = (inc: Pick<IncidentSummary, 'id' | 'number'>): void => {
    throttle.trigger();
    for (const panel of panels) panel.incidentChanged(inc.id, inc.number);
  };

  const createIncident = async (arg: unknown): Promise<void> => {
    const pre = parseCreateArgs(arg);
    const title = await ask({ title: 'Create Incident (1/4)', prompt: 'Title: what is broken, as users see it', value: pre.title, validateInput: validateTitle });
    const severity = await pickOne(SEVERITY_CHOICES, { title: 'Create Incident (2/4)', placeholder: 'Severity', active: pre.severity ?? 'SEV3' });
    const servicesText = await ask({
      title: 'Create Incident (3/4)',
      prompt: 'Affected services, comma-separated (may be empty)',
      value: (pre.services ?? []).join(', '),
      validateInput: (v) => {
        const parsed = parseServices(v);
        return parsed.ok ? undefined : parsed.error;
      },
    });
    const services = parseServices(servicesText);
    if (!services.ok) throw new Error(services.error);
    const description = await ask({ title: 'Create Incident (4/4)', prompt: 'Description (optional): impact, first signals, links', value: pre.description, validateInput: validateOptionalText() });
    const sloIds = pre.sloIds ?? [];
    const incident = await session.request(CreateIncident, {
      title: title.trim(),
      severity,
      description: description.trim(),
      services: services.value,
      detectedBy: sloIds.length > 0 ? { kind: 'slo', name: sloIds[0] ?? '' } : { kind: 'person', name: localUser() },
      linkedSlos: sloIds,
      roles: {},
    });
    log.info(`Created ${incident.number} (${incident.severity}) ${incident.title}`);
    afterChange(incident);
    const choice = await vscode.window.showInformationMessage(`${incident.number} created: ${incident.title} (${incident.severity})`, 'Open Incident');
    if (choice === 'Open Incident') await openIncident(incident);
  };

  const transition = async (inc: Incident, to: IncidentStatus, extra: { rootCause?: string; resolution?: string; note?: string } = {}): Promise<Incident> => {
    const moved = await session.request(TransitionIncident, { id: inc.id, to, ...extra });
    log.info(`${moved.number}: ${inc.status} → ${moved.status}`);
    afterChange(moved);
    return moved;
  };

  const acknowledge = async (arg: unknown): Promise<void> => {
    const inc = await resolveIncident(arg, ['detected'], 'acknowledge');
    if (inc.status !== 'detected') {
      void vscode.window.showInformationMessage(`${inc.number} is already ${inc.status}.`);
      return;
    }
    const moved = await transition(inc, 'acknowledged');
    confirm(`${moved.number} acknowledged.`);
  };

  const resolveFlow = async (inc: Incident, to: IncidentStatus = 'resolved'): Promise<void> => {
    const resolution = await ask({
      title: `Resolve ${inc.number} (1/2)`,
      prompt: 'Resolution: what stopped the impact',
      value: inc.resolution,
      validateInput: validateRequiredText('The resolution'),
    });
    const rootCause = await ask({
      title: `Resolve ${inc.number} (2/2)`,
      prompt: 'Root cause (optional, you can add it later)',
      value: inc.rootCause,
      validateInput: validateOptionalText(),
    });
    const moved = await transition(inc, to, { resolution: resolution.trim(), ...(rootCause.trim() ? { rootCause: rootCause.trim() } : {}) });
    confirm(`${moved.number} resolved.`);
  };

  const resolve = async (arg: unknown): Promise<void> => {
    const inc = await resolveIncident(arg, OPEN_STATUSES, 'resolve');
    if (!OPEN_STATUSES.includes(inc.status)) {
      void vscode.window.showInformationMessage(`${inc.number} is already ${inc.status}.`);
      return;
    }
    await resolveFlow(inc);
  };

  const close = async (inc: Incident): Promise<void> => {
    try {
      const moved = await transition(inc, 'closed');
      confirm(`${moved.number} closed.`);
    } catch (e) {
      if (!isReviewRequiredError(e)) throw e;
      log.info(`${inc.number}: closing needs a review first (${errorText(e)})`);
      const choice = await vscode.window.showWarningMessage(`${inc.number} is ${inc.severity}: write its post-incident review before closing it.`, 'Write Review');
      if (choice !== 'Write Review') return;
      const submitted = await reviewFlow(inc);
      if (submitted) await close(await session.request(GetIncident, { id: inc.id }));
    }
  };

  const changeStatus = async (arg: unknown): Promise<void> => {
    const inc = await resolveIncident(arg, NOT_CLOSED, 'move');
    const choices = nextStatusChoices(inc.status);
    if (choices.length === 0) {
      void vscode.window.showInformationMessage(`${inc.number} is ${inc.status}: it cannot move any more.`);
      return;
    }
    const to = await pickOne(choices, { title: `Change status of ${inc.number} (now ${inc.status})`, placeholder: 'Allowed next status' });
    if (to === 'resolved') return resolveFlow(inc);
    if (to === 'closed') return close(inc);
    let extra: { rootCause?: string } = {};
    if (to === 'identified') {
      const rootCause = await ask({ title: `${inc.number}: identified`, prompt: 'Root cause (optional)', value: inc.rootCause, validateInput: validateOptionalText() });
      if (rootCause.trim()) extra = { rootCause: rootCause.trim() };
    }
    const moved = await transition(inc, to, extra);
    confirm(`${moved.number} is now ${moved.status}.`);
  };

  const addNote = async (arg: unknown): Promise<void> => {
    const inc = await resolveIncident(arg, NOT_CLOSED, 'add a note to');
    const text = await ask({ title: `Note on ${inc.number}`, prompt: 'The note goes on the timeline', validateInput: validateRequiredText('The note') });
    const noted = await session.request(AddIncidentNote, { id: inc.id, text: text.trim() });
    afterChange(noted);
  };

  const changeSeverity = async (arg: unknown): Promise<void> => {
    const inc = await resolveIncident(arg, NOT_CLOSED, 'change the severity of');
    const choices = SEVERITY_CHOICES.map((c) => (c.value === inc.severity ? { ...c, description: `${c.description} (current)` } : c));
    const severity: Severity = await pickOne(choices, { title: `Severity of ${inc.number}`, placeholder: `Now ${inc.severity}`, active: inc.severity });
    if (severity === inc.severity) return;
    const reason = await ask({ title: `Severity of ${inc.number}: ${inc.severity} → ${severity}`, prompt: 'Reason (optional, goes on the timeline)', validateInput: validateOptionalText() });
    const changed = await session.request(SetIncidentSeverity, { id: inc.id, severity, ...(reason.trim() ? { reason: reason.trim() } : {}) });
    afterChange(changed);
  };

  const assign = async (arg: unknown): Promise<void> => {
    const inc = await resolveIncident(arg, NOT_CLOSED, 'assign');
    type Slot = 'assignee' | 'incidentCommander' | 'communicationsLead' | 'technicalLead';
    const current: Record<Slot, string | undefined> = {
      assignee: inc.assignee,
      incidentCommander: inc.roles.incidentCommander,
      communicationsLead: inc.roles.communicationsLead,
      technicalLead: inc.roles.technicalLead,
    };
    const names: Record<Slot, string> = {
      assignee: 'Assignee',
      incidentCommander: 'Incident commander',
      communicationsLead: 'Communications lead',
      technicalLead: 'Technical lead',
    };
    const slots = Object.keys(names) as Slot[];
    const slot = await pickOne(
      slots.map((s) => ({ value: s, label: names[s], description: current[s] ?? 'nobody' })),
      { title: `Assign ${inc.number}`, placeholder: 'Which role?' },
    );
    const handle = (
      await ask({ title: `${names[slot]} of ${inc.number}`, prompt: 'Handle of the person (empty clears it)', value: current[slot], validateInput: validateHandle })
    ).trim();
    const value = handle.length > 0 ? handle : null;
    const assigned = await session.request(AssignIncident, slot === 'assignee' ? { id: inc.id, assignee: value } : { id: inc.id, roles: { [slot]: value } });
    afterChange(assigned);
  };

  const fetchReview = async (id: string): Promise<Review | undefined> => {
    try {
      return await session.request(GetReview, { incidentId: id });
    } catch (e) {
      if (typeof e === 'object' && e !== null && (e as { code?: unknown }).code === ErrorCode.NotFound) return undefined;
      throw e;
    }
  };

  const fetchDraft = async (id: string): Promise<{ whatHappened: string; impact: string } | undefined> => {
    try {
      return (await session.request(DraftReview, { incidentId: id })).draft;
    } catch (e) {
      // A draft is a convenience: without one the user writes the review from scratch.
      log.warn(`no review draft for ${id}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  };

  /** Asks for every part of the review and submits it; false when the user cancelled. */
  const reviewFlow = async (inc: Incident): Promise<boolean> => {
    try {
      const before = await fetchReview(inc.id);
      // A first review starts from the daemon's draft (timeline, times, pages, alerts in the window).
      const draft = before ? undefined : await fetchDraft(inc.id);
      const step = (n: number): string => `Review of ${inc.number} (${n}/6)`;
      const startWhat = before?.whatHappened ?? draft?.whatHappened;
      const startImpact = before?.impact ?? draft?.impact;
      const whatHappened = keepLines(
        startWhat,
        await ask({ title: step(1), prompt: draft ? 'What happened (drafted from the timeline: edit or accept)' : 'What happened', value: oneLine(startWhat), validateInput: validateRequiredText('What happened') }),
      );
      const impact = keepLines(
        startImpact,
        await ask({ title: step(2), prompt: 'Impact: who was affected, how long, how badly', value: oneLine(startImpact), validateInput: validateRequiredText('The impact') }),
      );
      const wentWell = await ask({ title: step(3), prompt: 'What went well (optional)', value: before?.wentWell, validateInput: validateOptionalText() });
      const couldImprove = await ask({ title: step(4), prompt: 'What could improve (optional)', value: before?.couldImprove, validateInput: validateOptionalText() });
      const lessons = await ask({ title: step(5), prompt: 'Lessons learned (optional)', value: before?.lessons, validateInput: validateOptionalText() });
      const items: ReviewActionItem[] = [...(before?.actionItems ?? [])];
      for (;;) {
        const kept = items.length > 0 ? ` ${items.length} so far: ${items.map(formatActionItem).join('; ').slice(0, 120)}` : '';
        const line = await ask({
          title: step(6),
          prompt: `Action item as "owner | YYYY-MM-DD | what to do"; empty to finish.${kept}`,
          validateInput: (v) => {
            if (v.trim().length === 0) return undefined;
            const parsed = parseActionItem(v);
            return parsed.ok ? undefined : parsed.error;
          },
        });
        if (line.trim().length === 0) break;
        const parsed = parseActionItem(line);
        if (parsed.ok) items.push(parsed.value);
      }
      const review = await session.request(SubmitReview, { incidentId: inc.id, whatHappened, impact, wentWell, couldImprove, lessons, actionItems: items });
      log.info(`${review.incidentNumber}: review version ${review.version} submitted`);
      afterChange(inc);
      confirm(`Review of ${review.incidentNumber} saved (version ${review.version}).`);
      return true;
    } catch (e) {
      if (e instanceof Cancelled) return false;
      throw e;
    }
  };

  const writeReview = async (arg: unknown): Promise<void> => {
    const inc = await resolveIncident(arg, [...NOT_CLOSED, 'closed'], 'review');
    await reviewFlow(inc);
  };

  const openIncident = async (arg: unknown): Promise<void> => {
    const target = incidentRefOf(arg) ?? (await resolveIncident(undefined, [...NOT_CLOSED, 'closed'], 'open')).id;
    const current = panels.at(-1);
    if (current) current.select(target);
    else pendingTarget = target;
    host.show();
  };

  ctx.subscriptions.push(
    provider,
    view,
    host,
    { dispose: () => throttle.dispose() },
    { dispose: () => clearInterval(ages) },
    statusItem,
    session.onNotification(DidChangeIncident, ({ incident }) => afterChange(incident)),
    session.onNotification(DidChangeOncall, () => throttle.trigger()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(Settings.oncallHandle)) throttle.trigger();
    }),
    session.onDidChangeState(() => void refresh()),
    view.onDidChangeVisibility(({ visible }) => {
      if (visible) throttle.trigger();
    }),
    vscode.commands.registerCommand(Commands.refreshIncidents, () => refresh()),
    vscode.commands.registerCommand(Commands.createIncident, guarded('create the incident', createIncident)),
    vscode.commands.registerCommand(Commands.acknowledgeIncident, guarded('acknowledge the incident', acknowledge)),
    vscode.commands.registerCommand(Commands.changeIncidentStatus, guarded('change the incident status', changeStatus)),
    vscode.commands.registerCommand(Commands.resolveIncident, guarded('resolve the incident', resolve)),
    vscode.commands.registerCommand(Commands.addIncidentNote, guarded('add the note', addNote)),
    vscode.commands.registerCommand(Commands.changeIncidentSeverity, guarded('change the severity', changeSeverity)),
    vscode.commands.registerCommand(Commands.assignIncident, guarded('assign the incident', assign)),
    vscode.commands.registerCommand(Commands.openIncident, guarded('open the incident', openIncident)),
    vscode.commands.registerCommand(Commands.writeIncidentReview, guarded('save the review', writeReview)),
  );
  void refresh();
}

