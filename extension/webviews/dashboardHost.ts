import * as vscode from 'vscode';
import type * as z from 'zod';
import { parseMessage, READY } from '../../webview/protocol/messages';
import type { WebviewPanelType } from '../ids';
import { buildWebviewHtml, createNonce } from './html';

/** The host's handle on one open dashboard, given to its controller. */
export interface DashboardChannel<ToWebview> {
  /**
   * Validate and post. Dropped (false) until the webview said `ready`, and while it is hidden (a
   * hidden webview is torn down and says `ready` again when shown).
   */
  post(message: ToWebview): boolean;
  readonly visible: boolean;
}

/** Per-panel logic of a dashboard: what to send, when, and what to do with the webview's requests. */
export interface DashboardController<FromWebview> extends vscode.Disposable {
  /** The webview (re)loaded and is listening: send it everything it shows. */
  onReady(): void;
  onVisibilityChange(visible: boolean): void;
  /** A validated message other than `ready`. */
  onMessage(message: Exclude<FromWebview, { type: typeof READY }>): void;
}

export interface DashboardSpec<ToWebview, FromWebview extends { type: string }> {
  readonly viewType: WebviewPanelType;
  readonly title: string;
  /** Bundle name: esbuild.mjs builds webview/<bundle>/index.ts to dist/webview/<bundle>.js. */
  readonly bundle: string;
  /** Stylesheets under media/, in order. */
  readonly styles: readonly string[];
  /** Validates what the host posts: a bug here must not reach the webview. */
  readonly toWebview: z.ZodType<ToWebview>;
  /** Validates what the webview posts (the least trusted side); must accept `{ type: 'ready' }`. */
  readonly fromWebview: z.ZodType<FromWebview>;
  readonly createController: (channel: DashboardChannel<ToWebview>) => DashboardController<FromWebview>;
}

/**
 * Hosts one kind of dashboard: opens or reveals its panel, restores it after a reload (the panel
 * serializer; package.json has the matching `onWebviewPanel:<viewType>` activation event), renders
 * the one HTML template with a fresh nonce, and checks every message in both directions.
 */
export class DashboardHost<ToWebview, FromWebview extends { type: string }> implements vscode.Disposable {
  private readonly panels = new Set<vscode.WebviewPanel>();
  private readonly registrations: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly spec: DashboardSpec<ToWebview, FromWebview>,
  ) {
    this.registrations.push(
      vscode.window.registerWebviewPanelSerializer(spec.viewType, {
        deserializeWebviewPanel: async (panel) => {
          this.log.info(`${spec.viewType}: restoring the dashboard`);
          this.attach(panel);
        },
      }),
    );
  }

  /** Reveal the open dashboard, or open one beside nothing in the active column. */
  show(): void {
    const existing = [...this.panels].at(-1);
    if (existing) {
      existing.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(this.spec.viewType, this.spec.title, vscode.ViewColumn.Active, this.webviewOptions());
    this.attach(panel);
  }

  dispose(): void {
    for (const panel of [...this.panels]) panel.dispose();
    for (const d of this.registrations.splice(0)) d.dispose();
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      // The dashboards keep their state with setState; holding hidden webviews in memory is not needed.
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private attach(panel: vscode.WebviewPanel): void {
    const { spec, log } = this;
    this.panels.add(panel);
    panel.webview.options = this.webviewOptions();
    // Tab icons are drawn as images, so currentColor would not follow the theme: one file per theme.
    panel.iconPath = {
      light: vscode.Uri.joinPath(this.extensionUri, 'media', 'cogniforge-light.svg'),
      dark: vscode.Uri.joinPath(this.extensionUri, 'media', 'cogniforge-dark.svg'),
    };
    let ready = false;
    const channel: DashboardChannel<ToWebview> = {
      post: (message) => {
        if (!ready || !panel.visible) return false;
        const checked = parseMessage(spec.toWebview, message);
        if (!checked.ok) {
          log.error(`${spec.viewType}: not posting an ${checked.error}`);
          return false;
        }
        void panel.webview.postMessage(checked.message);
        return true;
      },
      get visible() {
        return panel.visible;
      },
    };
    const controller = spec.createController(channel);
    const disposables: vscode.Disposable[] = [
      controller,
      panel.webview.onDidReceiveMessage((data: unknown) => {
        const parsed = parseMessage(spec.fromWebview, data);
        if (!parsed.ok) {
          log.warn(`${spec.viewType}: ignored a webview message: ${parsed.error}`);
          return;
        }
        if (parsed.message.type === READY) {
          ready = true;
          controller.onReady();
        } else {
          controller.onMessage(parsed.message as Exclude<FromWebview, { type: typeof READY }>);
        }
      }),
      panel.onDidChangeViewState(({ webviewPanel }) => {
        if (!webviewPanel.visible) ready = false;
        controller.onVisibilityChange(webviewPanel.visible);
      }),
    ];
    panel.onDidDispose(() => {
      this.panels.delete(panel);
      for (const d of disposables) d.dispose();
    });
    panel.webview.html = this.render(panel.webview);
  }

  private render(webview: vscode.Webview): string {
    const asset = (...segments: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...segments)).toString();
    return buildWebviewHtml({
      title: this.spec.title,
      cspSource: webview.cspSource,
      nonce: createNonce(),
      scriptUri: asset('dist', 'webview', `${this.spec.bundle}.js`),
      styleUris: this.spec.styles.map((s) => asset('media', s)),
      codiconsUri: asset('dist', 'webview', 'codicons', 'codicon.css'),
      dashboard: this.spec.bundle,
    });
  }
}
