import type * as z from 'zod';
import { parseMessage } from '../protocol/messages';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/**
 * The dashboard's side of the host channel. Messages from the host are validated before anything
 * uses them; the saved state is validated too (it may come from an older version of the dashboard).
 * The webview never opens a socket: every daemon datum comes through here.
 */
export class HostChannel<ToHost, FromHost, Saved> {
  private readonly api: VsCodeApi;

  constructor(
    private readonly fromHost: z.ZodType<FromHost>,
    private readonly savedState: z.ZodType<Saved>,
  ) {
    this.api = acquireVsCodeApi();
  }

  /** Listen to host messages; invalid ones are reported on the console and dropped. */
  listen(onMessage: (message: FromHost) => void): void {
    window.addEventListener('message', (event: MessageEvent<unknown>) => {
      const parsed = parseMessage(this.fromHost, event.data);
      if (parsed.ok) onMessage(parsed.message);
      else console.warn(`CogniForge dashboard: ignored a host message: ${parsed.error}`);
    });
  }

  post(message: ToHost): void {
    this.api.postMessage(message);
  }

  restore(): Saved | undefined {
    const parsed = this.savedState.safeParse(this.api.getState());
    return parsed.success ? parsed.data : undefined;
  }

  save(state: Saved): void {
    this.api.setState(state);
  }
}
