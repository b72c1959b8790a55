import { randomBytes } from 'node:crypto';

/** A fresh CSP nonce: 128 random bits, base64. One per render, never reused. */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

/**
 * The one Content-Security-Policy of every dashboard. Nothing loads from the network; scripts run
 * only with this render's nonce; styles and fonts (the codicons @vscode-elements uses) come only from
 * the extension's own files. Lit's component styles are constructable stylesheets
 * (`adoptedStyleSheets`), which style-src does not govern, so no 'unsafe-inline' is needed.
 */
export function buildCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    "connect-src 'none'",
  ].join('; ');
}

export interface WebviewHtmlInput {
  /** Document title (also read by screen readers). */
  readonly title: string;
  /** `webview.cspSource`. */
  readonly cspSource: string;
  readonly nonce: string;
  /** The dashboard bundle, as a webview URI. */
  readonly scriptUri: string;
  /** Stylesheets in order, as webview URIs. */
  readonly styleUris: readonly string[];
  /** codicon.css as a webview URI; @vscode-elements finds it by the link id `vscode-codicon-stylesheet`. */
  readonly codiconsUri: string;
  /** Goes on `<body data-dashboard>` so styles and tests can tell dashboards apart. */
  readonly dashboard: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/**
 * The HTML of every dashboard: CSP first (it covers only what follows it), stylesheets, an empty
 * root the bundle renders into, a `noscript` fallback and the one nonce'd script.
 */
export function buildWebviewHtml(input: WebviewHtmlInput): string {
  const attr = escapeHtml;
  const styles = input.styleUris.map((href) => `    <link rel="stylesheet" href="${attr(href)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${attr(buildCsp(input.cspSource, input.nonce))}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <link rel="stylesheet" id="vscode-codicon-stylesheet" href="${attr(input.codiconsUri)}">
${styles}
    <title>${escapeHtml(input.title)}</title>
  </head>
  <body data-dashboard="${attr(input.dashboard)}">
    <main id="app" data-testid="dashboard-root" aria-busy="true"></main>
    <noscript>This dashboard needs scripts, which VS Code enables for it; reload the window if you see this.</noscript>
    <script nonce="${attr(input.nonce)}" src="${attr(input.scriptUri)}"></script>
  </body>
</html>
`;
}
