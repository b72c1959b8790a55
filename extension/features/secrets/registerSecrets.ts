import * as vscode from 'vscode';
import {
  ConfigHistory,
  GetConfig,
  GetSecret,
  ListConfig,
  ListConfigEnvironments,
  ListSecrets,
  RevealSecret,
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
import { SecretsTreeProvider } from './secretsTree';
import {
  configDocPath,
  configRefOf,
  configValueText,
  configVersionDocument,
  dueCount,
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


async function pick<T>(items: readonly (vscode.QuickPickItem & { value: T })[], title: string, placeHolder: string): Promise<T> {
  return required(await vscode.window.showQuickPick(items, { title, placeHolder, ignoreFocusOut: true, matchOnDescription: true }))!.value;
}

/**
 * Secrets & Config view: config entries per environment (sensitive ones masked) and secrets with their
 * versions, live on config/didChange and on `secret.*` events; rotate, reveal (clipboard, cleared after
 * 30 s), roll back, set a config value and diff a config key's history against its current version.
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
    await vscode.commands.executeCommand('vscode.diff', docUri(environment, key, chosen.version), right, `${environment} / ${key}: v${chosen.version} ↔ v${latest.version} (current)`);
  };

  ctx.subscriptions.push(
    provider,
    view,
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
    vscode.commands.registerCommand(Commands.setConfigValue, guarded('set the config value', setConfigValue)),
    vscode.commands.registerCommand(Commands.showConfigHistory, guarded('show the config history', showHistory)),
  );
  followEvents(view.visible);
  void refresh();
}
