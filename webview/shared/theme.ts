/** Colours and font a chart needs, read from the CSS variables VS Code defines for the active theme. */
export interface ChartTheme {
  readonly foreground: string;
  readonly mutedForeground: string;
  readonly gridColor: string;
  readonly barColor: string;
  /** A visible bar outline in high-contrast themes, transparent otherwise. */
  readonly barBorderColor: string;
  readonly barBorderWidth: number;
  readonly fontFamily: string;
  readonly fontSize: number;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const value = style.getPropertyValue(name).trim();
  return value === '' ? fallback : value;
}

export function readChartTheme(): ChartTheme {
  const style = getComputedStyle(document.documentElement);
  const contrastBorder = cssVar(style, '--vscode-contrastBorder', '');
  const highContrast = document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
  const fontSize = Number.parseFloat(cssVar(style, '--vscode-font-size', '13'));
  return {
    foreground: cssVar(style, '--vscode-foreground', '#cccccc'),
    mutedForeground: cssVar(style, '--vscode-descriptionForeground', cssVar(style, '--vscode-foreground', '#999999')),
    gridColor: cssVar(style, '--vscode-editorWidget-border', cssVar(style, '--vscode-panel-border', 'rgba(128,128,128,0.35)')),
    barColor: cssVar(style, '--vscode-charts-blue', '#3794ff'),
    barBorderColor: highContrast && contrastBorder !== '' ? contrastBorder : 'transparent',
    barBorderWidth: highContrast ? 1 : 0,
    fontFamily: cssVar(style, '--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: Number.isFinite(fontSize) ? fontSize : 13,
  };
}

/**
 * Call `cb` whenever the user switches theme: VS Code swaps the body's theme class and rewrites the
 * CSS variables on the root element.
 */
export function onThemeChange(cb: () => void): () => void {
  const observer = new MutationObserver(() => cb());
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  return () => observer.disconnect();
}
