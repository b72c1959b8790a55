import * as vscode from 'vscode';
import { Commands } from '../ids';

/** The user cancelled a prompt (Escape): the command ends quietly. */
export class Cancelled extends Error {}

/** The value of a prompt, or Cancelled when the user dismissed it. */
export function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Cancelled();
  return value;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Error handling shared by the command bodies of a feature: a failure is logged and shown once,
 * with a way to the log; a cancelled prompt ends the command without a message.
 */
export function commandErrors(log: vscode.LogOutputChannel): {
  fail: (action: string, e: unknown) => Promise<void>;
  guarded: (action: string, body: (arg: unknown) => Promise<void>) => (arg: unknown) => Promise<void>;
} {
  const fail = async (action: string, e: unknown): Promise<void> => {
    if (e instanceof Cancelled) return;
    const text = errorText(e);
    log.error(`Could not ${action}: ${text}`);
    const choice = await vscode.window.showErrorMessage(`Could not ${action}: ${text}`, 'Show Log');
    if (choice === 'Show Log') await vscode.commands.executeCommand(Commands.showLog);
  };
  const guarded =
    (action: string, body: (arg: unknown) => Promise<void>) =>
    async (arg: unknown): Promise<void> => {
      try {
        await body(arg);
      } catch (e) {
        await fail(action, e);
      }
    };
  return { fail, guarded };
}
