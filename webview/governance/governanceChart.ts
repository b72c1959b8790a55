import { CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset } from 'chart.js';
import { readChartTheme, type ChartTheme } from '../shared/theme';

Chart.register(LineController, LineElement, PointElement, CategoryScale, LinearScale, Filler, Legend, Tooltip);

export interface ScorePalette extends ChartTheme {
  readonly line: string;
}

export function readPalette(): ScorePalette {
  const base = readChartTheme();
  const line = getComputedStyle(document.documentElement).getPropertyValue('--vscode-charts-blue').trim() || base.barColor;
  return { ...base, line };
}

/** `#rrggbb` or `rgb()` with an alpha; other notations are returned as they are. */
function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (hex) {
    const n = Number.parseInt(hex[1]!, 16);
    return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  const rgb = /^rgb\((.+)\)$/i.exec(color);
  return rgb ? `rgba(${rgb[1]}, ${alpha})` : color;
}

/** The compliance score of every audit, 0..100, oldest first. */
export class ScoreChart {
  private readonly chart: Chart<'line', number[], string>;

  constructor(canvas: HTMLCanvasElement) {
    const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { labels: [], datasets: [{ label: 'OWASP score', data: [], fill: 'origin', pointRadius: 3, borderWidth: 2, tension: 0.2 }] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reducedMotion ? false : { duration: 200 },
        interaction: { mode: 'index', intersect: false },
        plugins: { legend: { display: false }, tooltip: { enabled: true } },
        scales: { x: { ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 16, maxTicksLimit: 7 } }, y: { min: 0, max: 100 } },
      },
    });
    this.applyTheme(readPalette());
  }

  update(labels: readonly string[], scores: readonly number[]): void {
    this.chart.data.labels = [...labels];
    this.chart.data.datasets[0]!.data = [...scores];
    this.chart.update();
  }

  applyTheme(p: ScorePalette): void {
    Chart.defaults.font.family = p.fontFamily;
    Chart.defaults.font.size = p.fontSize;
    Chart.defaults.color = p.foreground;
    const ds = this.chart.data.datasets[0] as ChartDataset<'line', number[]>;
    ds.borderColor = p.line;
    ds.pointBackgroundColor = p.line;
    ds.backgroundColor = withAlpha(p.line, 0.18);
    for (const axis of ['x', 'y'] as const) {
      const scale = this.chart.options.scales![axis]!;
      scale.ticks = { ...scale.ticks, color: p.foreground };
      scale.grid = { ...scale.grid, color: p.gridColor };
      scale.border = { ...scale.border, color: p.gridColor };
    }
    this.chart.update('none');
  }
}
