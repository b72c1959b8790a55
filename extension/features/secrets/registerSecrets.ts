import * as vscode from 'vscode';
import {
  ConfigHistory,
  CreateSecret,
  DeleteSecret,
  DiffConfig,
  GetConfig,
  ListSecretsBackends,
  SecretType,
  GetSecret,
  ListConfig,
  ListConfigEnvironments,
  ListSecrets,
  RevealSecret,
  RollbackConfig,
  RollbackSecret,
  RotateSecret,
  SetConfig,
  DidChangeConfig,
  type ConfigVersion,
  type SecretMetadata,
} from '../../../daemon/protocol';
import type { DaemonSession } from '../../daemon/connection';
import { Commands, Views } from '../../ids';
import { Cancelled, commandErrors, errorText, required } from '../../shared/commandErrors';
import { Throttle } from '../../shared/throttle';
import { compareTitle, envCompareDocuments, rollbackItem, rollbackPrompt, rollbackTargets } from './configCompareModel';
import { SecretsTreeProvider } from './secretsTree';
import {
  configDocPath,
  configRefOf,
  configValueText,
  configVersionDocument,
  customDaysProblem,
  deleteSecretPrompt,
  dueCount,
  environmentNameProblem,
  ROTATION_CHOICES,
  SECRET_TYPE_ICONS,
  secretNameProblem,
  isSecretEventType,
  parseConfigDocPath,
  parseConfigValue,
  secretRefOf,
} from './secretsTreeModel';

/** Bursts of changes (an import, a bulk rotation) collapse into one refresh per this, ms. */
const REFRESH_INTERVAL_MS = 500;
/** A revealed value leaves the clipboard after this, ms, unless the user copied something else. */
const CLIPBOARD_CLEAR_MS = 30_000;
/** How long a confirmation stays in the status bar, ms. */
const CONFIRM_MS = 5_000;
/** Scheme of the read-only config version documents the diff editor shows. */
const CONFIG_SCHEME = 'cogniforge-config';
/** Scheme of the `KEY=value` documents of an environment comparison (held in memory, never on disk). */
const CONFIG_ENV_SCHEME = 'cogniforge-config-env';
/** Comparison documents kept for reopening; older ones answer a placeholder. */
const MAX_ENV_DOCUMENTS = 20;


async function pick<T>(items: readonly (vscode.QuickPickItem & { value: T })[], title: string, placeHolder: string): Promise<T> {
  return required(await vscode.window.showQuickPick(items, { title, placeHolder, ignoreFocusOut: true, matchOnDescription: true }))!.value;
}

/**
 * Secrets & Config view: config entries per environment (sensitive ones masked) and secrets with their
 * versions, live on config/didChange and on `secret.*` events; rotate, reveal (clipboard, cleared after
 * 30 s), roll back, set a config value, diff a config key's history against its current version,
 * compare two environments in the diff editor and roll a config key back to an earlier version.
 */
export function registerSecrets(ctx: vscode.ExtensionContext, session: DaemonSession, log: vscode.LogOutputChannel): void {
  const provider = new SecretsTreeProvider();
  const view = vscode.window.createTreeView(Views.secrets, { treeDataProvider: provider, showCollapseAll: true });
  let generation = 0;

  const refresh = async (): Promise<void> => {
    const gen = ++generation;
    if (session.state.kind !== 'connected') {
      view.message = undefined;
      view.badge = undefined;
      provider.setData([], []);
      return;
    }
    try {
      const [{ environments }, { secrets }] = await Promise.all([
        session.request(ListConfigEnvironments, { includeEntries: true }),
        session.request(ListSecrets, {}),
      ]);
      if (gen !== generation) return;
      provider.setData(environments, secrets);
      const due = dueCount(secrets, Date.now());
      view.badge = due > 0 ? { value: due, tooltip: `${due} ${due === 1 ? 'secret is' : 'secrets are'} due for rotation` } : undefined;
      view.message = undefined;
    } catch (e) {
      if (gen !== generation) return;
      log.warn(`Secrets & Config view: listing failed: ${errorText(e)}`);
      view.message = `Could not list secrets and config: ${errorText(e)}`;
    }
  };
  const throttle = new Throttle(() => void refresh(), REFRESH_INTERVAL_MS);

  // Secrets send no notification of their own: their events (secret.created, secret.rotated, …) do.
  // The session subscribes only while a listener exists, so a hidden view costs no traffic.
  let appendListener: vscode.Disposable | undefined;
  const followEvents = (visible: boolean): void => {
    if (visible && !appendListener) {
      appendListener = session.onDidAppend((event) => {
        if (isSecretEventType(event.type)) throttle.trigger();
      });
    } else if (!visible && appendListener) {
      appendListener.dispose();
      appendListener = undefined;
    }
  };

  const { guarded } = commandErrors(log);


  /** The secret a command acts on: the row it was run on, or one the user picks. */
  const resolveSecret = async (arg: unknown, purpose: string): Promise<SecretMetadata> => {
    const ref = secretRefOf(arg);
    if (ref !== undefined) return session.request(GetSecret, { id: ref });
    const { secrets } = await session.request(ListSecrets, {});
    if (secrets.length === 0) {
      void vscode.window.showInformationMessage(`There is no secret to ${purpose}.`);
      throw new Cancelled();
    }
    const id = await pick(
      secrets.map((s) => ({ label: s.name, description: `${s.environment} · ${s.backend} · v${s.currentVersion}`, value: s.id })),
      `Which secret to ${purpose}?`,
      'Type a name or environment',
    );
    return session.request(GetSecret, { id });
  };

  const rotate = async (arg: unknown): Promise<void> => {
    const secret = await resolveSecret(arg, 'rotate');
    const yes = await vscode.window.showWarningMessage(
      `Rotate secret "${secret.name}" (${secret.environment})?`,
      { modal: true, detail: `A new value is generated as version ${secret.currentVersion + 1}; version ${secret.currentVersion} stays readable as previous.` },
      'Rotate',
    );
    if (yes !== 'Rotate') return;
    const rotated = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Rotating ${secret.name}…` },
      () => session.request(RotateSecret, { id: secret.id, expectedVersion: secret.currentVersion }),
    );
    log.info(`Rotated secret ${rotated.name} (${rotated.environment}): v${secret.currentVersion} → v${rotated.currentVersion}`);
    throttle.trigger();
    void vscode.window.showInformationMessage(`Secret "${rotated.name}" rotated: now version ${rotated.currentVersion}.`);
  };

  // One pending clear per reveal; a newer reveal's timer does not cancel an older one's check.
  const clipboardTimers = new Set<ReturnType<typeof setTimeout>>();
  const reveal = async (arg: unknown): Promise<void> => {
    const secret = await resolveSecret(arg, 'reveal');
    const version = typeof (arg as { version?: unknown } | undefined)?.version === 'number' ? (arg as { version: number }).version : undefined;
    const revealed = await session.request(RevealSecret, { id: secret.id, ...(version !== undefined ? { version } : {}) });
    await vscode.env.clipboard.writeText(revealed.value);
    log.info(`Revealed secret ${secret.name} v${revealed.version} to the clipboard`);
    const timer = setTimeout(() => {
      clipboardTimers.delete(timer);
      void (async () => {
        if ((await vscode.env.clipboard.readText()) === revealed.value) {
          await vscode.env.clipboard.writeText('');
          vscode.window.setStatusBarMessage(`$(clear-all) Clipboard cleared (secret "${secret.name}").`, CONFIRM_MS);
        }
      })();
    }, CLIPBOARD_CLEAR_MS);
    clipboardTimers.add(timer);
    void vscode.window.showInformationMessage(
      `The value of "${secret.name}" v${revealed.version} is on the clipboard; it is cleared in 30 seconds unless you copy something else.`,
    );
  };

  const rollback = async (arg: unknown): Promise<void> => {
    const secret = await resolveSecret(arg, 'roll back');
    const older = [...secret.versions].filter((v) => v.version !== secret.currentVersion).sort((a, b) => b.version - a.version);
    if (older.length === 0) {
      void vscode.window.showInformationMessage(`"${secret.name}" has only one version: there is nothing to roll back to.`);
      return;
    }
    const version = await pick(
      older.map((v) => ({ label: `v${v.version}`, description: `${v.state} · by ${v.createdBy} · ${v.createdAt}`, value: v.version })),
      `Roll back ${secret.name} (now v${secret.currentVersion})`,
      'The version whose value becomes the new current version',
    );
    const rolled = await session.request(RollbackSecret, { id: secret.id, version });
    log.info(`Rolled back secret ${rolled.name}: v${rolled.currentVersion} copies v${version}`);
    throttle.trigger();
    void vscode.window.showInformationMessage(`Secret "${rolled.name}" rolled back: version ${rolled.currentVersion} holds the value of v${version}.`);
  };

  const createSecret = async (): Promise<void> => {
    const title = (step: number) => `Create Secret (${step}/6)`;
    const name = required(
      await vscode.window.showInputBox({ title: title(1), prompt: 'Name', placeHolder: 'payments_api_key', ignoreFocusOut: true, validateInput: secretNameProblem }),
    );
    const type = await pick(
      SecretType.options.map((t) => ({ label: `$(${SECRET_TYPE_ICONS[t].id}) ${t.replace(/_/g, ' ')}`, description: t, value: t })),
      title(2),
      'Type',
    );
    const [{ environments }, { secrets }, { backends }] = await Promise.all([
      session.request(ListConfigEnvironments, {}),
      session.request(ListSecrets, {}),
      session.request(ListSecretsBackends, {}),
    ]);
    const known = [...new Set([...environments.map((e) => e.name), ...secrets.map((x) => x.environment)])].sort();
    const OTHER = '\u0000other';
    let environment = await pick(
      [...known.map((e) => ({ label: e, value: e })), { label: '$(add) Another environment…', value: OTHER }],
      title(3),
      'Environment',
    );
    if (environment === OTHER) {
      environment = required(await vscode.window.showInputBox({ title: title(3), prompt: 'Environment name', ignoreFocusOut: true, validateInput: environmentNameProblem }));
    }
    const usable = backends.filter((b) => b.configured).sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
    const backend = await pick(
      usable.map((b) => ({ label: b.name, description: `${b.isDefault ? 'default · ' : ''}${b.address ?? ''}`, value: b.name })),
      title(4),
      'Where the value lives (fixed for the secret\'s life)',
    );
    const policy = await pick(
      ROTATION_CHOICES.map((c) => ({ label: c.label, description: c.description, value: c.policy })),
      title(5),
      'Rotation policy',
    );
    const customDays =
      policy === 'custom'
        ? Number(required(await vscode.window.showInputBox({ title: title(5), prompt: 'Rotate every how many days?', ignoreFocusOut: true, validateInput: customDaysProblem })))
        : undefined;
    const generate =
      type === 'certificate'
        ? false
        : await pick(
            [
              { label: '$(sparkle) Generate a value', description: `random, in the shape of a ${type.replace(/_/g, ' ')}`, value: true },
              { label: '$(edit) Enter the value', description: 'typed in a password box', value: false },
            ],
            title(6),
            'Value',
          );
    const value = generate
      ? undefined
      : required(
          await vscode.window.showInputBox({
            title: title(6),
            prompt: `Value of ${name} (never shown again; reveal copies it to the clipboard)`,
            password: true,
            ignoreFocusOut: true,
            validateInput: (v) => (v.length === 0 ? 'The value cannot be empty.' : undefined),
          }),
        );
    const created = await session.request(CreateSecret, {
      name,
      type,
      environment,
      backend,
      rotation: customDays !== undefined ? { policy, customDays } : { policy },
      ...(value !== undefined ? { value } : { generate: true }),
    });
    log.info(`Created secret ${created.name} (${created.environment}, ${created.backend})`);
    throttle.trigger();
    void vscode.window.showInformationMessage(`Secret "${created.name}" created in ${created.environment} (${created.backend}).`);
  };

  const deleteSecret = async (arg: unknown): Promise<void> => {
    const secret = await resolveSecret(arg, 'delete');
    const prompt = deleteSecretPrompt(secret);
    const yes = await vscode.window.showWarningMessage(prompt.message, { modal: true, detail: prompt.detail }, 'Delete');
    if (yes !== 'Delete') return;
    await session.request(DeleteSecret, { id: secret.id });
    log.info(`Deleted secret ${secret.name} (${secret.environment}, ${secret.backend})`);
    throttle.trigger();
    vscode.window.setStatusBarMessage(`$(trash) Secret "${secret.name}" (${secret.environment}) deleted.`, CONFIRM_MS);
  };

  const pickEnvironment = async (title: string): Promise<string> => {
    const { environments } = await session.request(ListConfigEnvironments, {});
    return pick(
      environments.map((e) => ({ label: e.name, description: `${e.entryCount} keys`, value: e.name })),
      title,
      'Environment',
    );
  };

  const setConfigValue = async (arg: unknown): Promise<void> => {
    const ref = configRefOf(arg);
    const environment = ref?.environment ?? (await pickEnvironment('Set Config Value (1/4)'));
    const key =
      ref?.key ??
      required(
        await vscode.window.showInputBox({
          title: `Set Config Value in ${environment} (2/4)`,
          prompt: 'Key',
          ignoreFocusOut: true,
          validateInput: (v) => (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(v) ? undefined : 'Keys start with a letter or "_" and use letters, digits, "_", "." and "-".'),
        }),
      );
    const current = await session.request(GetConfig, { environment, key }).catch(() => undefined);
    const text = required(
      await vscode.window.showInputBox({
        title: `${environment} / ${key} (3/4)`,
        prompt: current ? `New value as JSON (now version ${current.version}: ${configValueText(current)})` : 'Value as JSON, e.g. 42, true, "text" or {"a": 1}',
        value: current && !current.sensitive && current.value !== undefined ? JSON.stringify(current.value) : '',
        password: current?.sensitive === true,
        ignoreFocusOut: true,
        validateInput: (v) => {
          const parsed = parseConfigValue(v);
          return parsed.ok ? undefined : parsed.error;
        },
      }),
    );
    const parsed = parseConfigValue(text);
    if (!parsed.ok) throw new Error(parsed.error);
    const plain = { label: 'Not sensitive', description: 'shown in the view and in diffs', value: false };
    const masked = { label: 'Sensitive', description: 'masked everywhere, revealed only with an admin token', value: true };
    // The entry's present flag comes first, so Enter keeps it.
    const sensitive = await pick(
      current?.sensitive === true ? [masked, plain] : [plain, masked],
      `${environment} / ${key} (4/4)`,
      'Is this value sensitive?',
    );
    const result = await session.request(SetConfig, {
      environment,
      key,
      value: parsed.value as never,
      sensitive,
      expectedVersion: current?.version ?? 0,
    });
    throttle.trigger();
    const what = result.changed ? `version ${result.entry.version}` : 'unchanged';
    log.info(`Config ${environment}/${key} set (${what})`);
    vscode.window.setStatusBarMessage(`$(check) ${environment} / ${key}: ${what}.`, CONFIRM_MS);
  };

  const docUri = (environment: string, key: string, version: number | 'current'): vscode.Uri =>
    vscode.Uri.from({ scheme: CONFIG_SCHEME, path: configDocPath(environment, key, version) });

  const contentProvider: vscode.TextDocumentContentProvider = {
    async provideTextDocumentContent(uri) {
      const at = parseConfigDocPath(uri.path);
      if (!at) return `// Not a config version address: ${uri.toString()}\n`;
      try {
        const entry = await session.request(GetConfig, { environment: at.environment, key: at.key, ...(at.version === 'current' ? {} : { version: at.version }) });
        return configVersionDocument({ ...entry, op: 'set', at: entry.updatedAt, by: entry.updatedBy });
      } catch (e) {
        return `// ${at.environment} / ${at.key} ${at.version === 'current' ? 'current' : `v${at.version}`}: ${errorText(e)}\n`;
      }
    },
  };

  const showHistory = async (arg: unknown): Promise<void> => {
    const ref = configRefOf(arg);
    const environment = ref?.environment ?? (await pickEnvironment('Show Config History'));
    let key = ref?.key;
    if (key === undefined) {
      const { entries } = await session.request(ListConfig, { environment });
      key = await pick(
        entries.map((e) => ({ label: e.key, description: `v${e.version} = ${configValueText(e)}`, value: e.key })),
        `Show Config History (${environment})`,
        'Key',
      );
    }
    const { versions } = await session.request(ConfigHistory, { environment, key, limit: 200 });
    const latest = versions[0];
    if (!latest) {
      void vscode.window.showInformationMessage(`${environment} / ${key} has no history.`);
      return;
    }
    const older: ConfigVersion[] = versions.slice(1);
    if (older.length === 0) {
      void vscode.window.showInformationMessage(`${environment} / ${key} has only one version (v${latest.version}).`);
      return;
    }
    const chosen = await pick(
      older.map((v) => ({
        label: `v${v.version}`,
        description: `${v.op === 'delete' ? 'deleted' : configValueText(v)} · by ${v.by}`,
        detail: v.at,
        value: v,
      })),
      `History of ${environment} / ${key} (current v${latest.version})`,
      'A version to compare with the current one',
    );
    const right = latest.op === 'delete' ? docUri(environment, key, latest.version) : docUri(environment, key, 'current');
    shownInDiff.set(`${environment}\u0000${key}`, chosen.version);
    await vscode.commands.executeCommand('vscode.diff', docUri(environment, key, chosen.version), right, `${environment} / ${key}: v${chosen.version} ↔ v${latest.version} (current)`);
  };

  /** The version each key's history diff showed last: Roll Back from that editor offers it first. */
  const shownInDiff = new Map<string, number>();

  const envDocuments = new Map<string, string>();
  let comparisons = 0;
  const envContentProvider: vscode.TextDocumentContentProvider = {
    provideTextDocumentContent: (uri) => envDocuments.get(uri.path) ?? '# This comparison is no longer held; run Compare Config Environments again.\n',
  };

  const compareEnvironments = async (arg: unknown): Promise<void> => {
    const from = configRefOf(arg)?.environment ?? (await pickEnvironment('Compare Config Environments (1/2)'));
    const { environments } = await session.request(ListConfigEnvironments, {});
    const to = await pick(
      environments.filter((e) => e.name !== from).map((e) => ({ label: e.name, description: `${e.entryCount} keys`, value: e.name })),
      `Compare ${from} with… (2/2)`,
      'Environment',
    );
    const [diff, left, right] = await Promise.all([
      session.request(DiffConfig, { from: { environment: from }, to: { environment: to } }),
      session.request(ListConfig, { environment: from }),
      session.request(ListConfig, { environment: to }),
    ]);
    const docs = envCompareDocuments({ environment: from, entries: left.entries }, { environment: to, entries: right.entries }, diff);
    const n = ++comparisons;
    const leftPath = `/${n}/${encodeURIComponent(from)}.env`;
    const rightPath = `/${n}/${encodeURIComponent(to)}.env`;
    envDocuments.set(leftPath, docs.left);
    envDocuments.set(rightPath, docs.right);
    for (const k of [...envDocuments.keys()].slice(0, Math.max(0, envDocuments.size - 2 * MAX_ENV_DOCUMENTS))) envDocuments.delete(k);
    log.info(`Config compare ${from} ↔ ${to}: ${diff.entries.length} differing keys, ${diff.unchanged} same`);
    await vscode.commands.executeCommand(
      'vscode.diff',
      vscode.Uri.from({ scheme: CONFIG_ENV_SCHEME, path: leftPath }),
      vscode.Uri.from({ scheme: CONFIG_ENV_SCHEME, path: rightPath }),
      compareTitle(from, to, diff),
    );
  };

  const rollbackConfig = async (arg: unknown): Promise<void> => {
    // From the history diff's title bar the argument is the shown document's address.
    const fromDoc = arg instanceof vscode.Uri && arg.scheme === CONFIG_SCHEME ? parseConfigDocPath(arg.path) : undefined;
    const ref = fromDoc ?? configRefOf(arg);
    const environment = ref?.environment ?? (await pickEnvironment('Roll Back Config Value (1/3)'));
    let key = ref?.key;
    if (key === undefined) {
      const { entries } = await session.request(ListConfig, { environment });
      key = await pick(
        entries.map((e) => ({ label: e.key, description: `v${e.version} = ${configValueText(e)}`, value: e.key })),
        `Roll Back Config Value in ${environment} (2/3)`,
        'Key',
      );
    }
    const { versions } = await session.request(ConfigHistory, { environment, key, limit: 200 });
    const latest = versions.reduce((m, v) => Math.max(m, v.version), 0);
    const targets = rollbackTargets(versions);
    if (targets.length === 0) {
      void vscode.window.showInformationMessage(`${environment} / ${key} has no earlier version to roll back to.`);
      return;
    }
    const suggested = shownInDiff.get(`${environment}\u0000${key}`);
    const ordered = [...targets.filter((v) => v.version === suggested), ...targets.filter((v) => v.version !== suggested)];
    const target = await pick(
      ordered.map((v) => ({ ...rollbackItem(v, v.version === suggested), value: v })),
      `Roll back ${environment} / ${key} (current v${latest}) (3/3)`,
      'The version whose value becomes current again',
    );
    const prompt = rollbackPrompt(environment, key, target, latest);
    const yes = await vscode.window.showWarningMessage(prompt.message, { modal: true, detail: prompt.detail }, 'Roll Back');
    if (yes !== 'Roll Back') return;
    const { entry } = await session.request(RollbackConfig, { environment, key, version: target.version, expectedVersion: latest });
    log.info(`Config ${environment}/${key} rolled back: v${entry.version} holds the value of v${target.version}`);
    throttle.trigger();
    vscode.window.setStatusBarMessage(`$(discard) ${environment} / ${key}: v${entry.version} holds the value of v${target.version}.`, CONFIRM_MS);
  };

  ctx.subscriptions.push(
    provider,
    view,
    vscode.workspace.registerTextDocumentContentProvider(CONFIG_ENV_SCHEME, envContentProvider),
    vscode.commands.registerCommand(Commands.compareConfigEnvironments, guarded('compare the config environments', compareEnvironments)),
    vscode.commands.registerCommand(Commands.rollbackConfigValue, guarded('roll back the config value', rollbackConfig)),
    { dispose: () => throttle.dispose() },
    { dispose: () => appendListener?.dispose() },
    { dispose: () => clipboardTimers.forEach((t) => clearTimeout(t)) },
    vscode.workspace.registerTextDocumentContentProvider(CONFIG_SCHEME, contentProvider),
    session.onNotification(DidChangeConfig, () => throttle.trigger()),
    session.onDidChangeState(() => void refresh()),
    view.onDidChangeVisibility(({ visible }) => {
      followEvents(visible);
      if (visible) throttle.trigger();
    }),
    vscode.commands.registerCommand(Commands.refreshSecrets, () => refresh()),
    vscode.commands.registerCommand(Commands.rotateSecret, guarded('rotate the secret', rotate)),
    vscode.commands.registerCommand(Commands.revealSecret, guarded('reveal the secret', reveal)),
    vscode.commands.registerCommand(Commands.rollbackSecret, guarded('roll back the secret', rollback)),
    vscode.commands.registerCommand(Commands.createSecret, guarded('create the secret', createSecret)),
    vscode.commands.registerCommand(Commands.deleteSecret, guarded('delete the secret', deleteSecret)),
    vscode.commands.registerCommand(Commands.setConfigValue, guarded('set the config value', setConfigValue)),
    vscode.commands.registerCommand(Commands.showConfigHistory, guarded('show the config history', showHistory)),
  );
  followEvents(view.visible);
  void refresh();
}
