import { describe, expect, it } from 'vitest';
import { buildCsp, buildWebviewHtml, createNonce, escapeHtml } from '../../../extension/webviews/html';

const input = {
  title: 'CogniForge Overview',
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  nonce: 'abc123==',
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/overview.js',
  styleUris: ['https://file+.vscode-resource.vscode-cdn.net/ext/media/dashboard.css'],
  codiconsUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/codicons/codicon.css',
  dashboard: 'overview',
};

const cspOf = (html: string): string => /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';

describe('buildCsp', () => {
  it('is exactly the house policy', () => {
    expect(buildCsp('SRC', 'N')).toBe(
      "default-src 'none'; script-src 'nonce-N'; style-src SRC; font-src SRC; img-src SRC data:; connect-src 'none'",
    );
  });

  it('allows no inline code, no eval and no network', () => {
    const csp = buildCsp(input.cspSource, 'N');
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:\/\/\*|\*/);
    expect(csp).toContain("connect-src 'none'");
  });
});

describe('createNonce', () => {
  it('is fresh on every call and long enough', () => {
    const nonces = new Set(Array.from({ length: 100 }, () => createNonce()));
    expect(nonces.size).toBe(100);
    for (const n of nonces) {
      expect(n).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      expect(Buffer.from(n, 'base64')).toHaveLength(16);
    }
  });
});

describe('buildWebviewHtml', () => {
  const html = buildWebviewHtml(input);

  it('puts the CSP first in head, before anything it must cover', () => {
    const head = html.slice(html.indexOf('<head>'), html.indexOf('</head>'));
    const cspAt = head.indexOf('Content-Security-Policy');
    expect(cspAt).toBeGreaterThan(0);
    expect(head.indexOf('<link')).toBeGreaterThan(cspAt);
    expect(cspOf(html)).toBe(buildCsp(input.cspSource, input.nonce).replace(/'/g, '&#39;'));
  });

  it('has exactly one script, carrying the nonce, and no inline script or style', () => {
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts).toEqual([`<script nonce="abc123==" src="${input.scriptUri}">`]);
    expect(html).not.toMatch(/<script[^>]*>\s*[^<\s]/);
    expect(html).not.toMatch(/<style|style="/);
  });

  it('links the codicons with the id @vscode-elements looks for, then the dashboard styles', () => {
    expect(html).toContain(`<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${input.codiconsUri}">`);
    expect(html).toContain(`<link rel="stylesheet" href="${input.styleUris[0]}">`);
  });

  it('has a stable root for the dashboard and its tests', () => {
    expect(html).toContain('<main id="app" data-testid="dashboard-root" aria-busy="true"></main>');
    expect(html).toContain('<body data-dashboard="overview">');
  });

  it('escapes what it interpolates', () => {
    const evil = buildWebviewHtml({ ...input, title: '</title><script>alert(1)</script>', scriptUri: 'x" onload="alert(1)' });
    expect(evil).not.toContain('<script>alert(1)</script>');
    expect(evil).toContain('x&quot; onload=&quot;alert(1)');
    expect(escapeHtml(`<a href='x'>&</a>`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('renders a different nonce each time when given fresh ones', () => {
    const a = buildWebviewHtml({ ...input, nonce: createNonce() });
    const b = buildWebviewHtml({ ...input, nonce: createNonce() });
    expect(cspOf(a)).not.toBe(cspOf(b));
  });
});
