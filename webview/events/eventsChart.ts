import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { readChartTheme, type ChartTheme } from '../shared/theme';
import type { ActivityChart } from './eventsModel';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

/** The theme's chart colours, in the order streams get them (busiest stream first). */
const SERIES_VARS = ['--vscode-charts-blue', '--vscode-charts-green', '--vscode-charts-orange', '--vscode-charts-purple', '--vscode-charts-yellow', '--vscode-charts-red'];
const SERIES_FALLBACKS = ['#3794ff', '#89d185', '#d18616', '#b180d7', '#cca700', '#f14c4c'];

export interface EventsPalette extends ChartTheme {
  readonly series: readonly string[];
}

export function readPalette(): EventsPalette {
  const style = getComputedStyle(document.documentElement);
  return { ...readChartTheme(), series: SERIES_VARS.map((v, i) => style.getPropertyValue(v).trim() || SERIES_FALLBACKS[i]!) };
}

/** Events per stream per bucket as stacked bars, one colour per stream. */
export class ActivityBarChart {
  private readonly chart: Chart<'bar', number[], string>;
  private palette: EventsPalette;

  constructor(canvas: HTMLCanvasElement) {
    const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    this.palette = readPalette();
    this.chart = new Chart(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reducedMotion ? false : { duration: 200 },
        interaction: { mode: 'index', intersect: false },
        plugins: { legend: { display: true, position: 'bottom' }, tooltip: { enabled: true } },
        scales: {
          x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 16, maxTicksLimit: 8 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
    this.applyTheme(this.palette);
  }

  update(data: ActivityChart): void {
    this.chart.data.labels = [...data.labels];
    this.chart.data.datasets = data.series.map((s, i) => ({
      label: s.stream,
      data: [...s.counts],
      backgroundColor: this.palette.series[i % this.palette.series.length],
      borderColor: this.palette.barBorderColor,
      borderWidth: this.palette.barBorderWidth,
    }));
    this.chart.update();
  }

  applyTheme(palette: EventsPalette): void {
    this.palette = palette;
    Chart.defaults.font.family = palette.fontFamily;
    Chart.defaults.font.size = palette.fontSize;
    Chart.defaults.color = palette.foreground;
    this.chart.data.datasets.forEach((ds, i) => {
      ds.backgroundColor = palette.series[i % palette.series.length];
      ds.borderColor = palette.barBorderColor;
      ds.borderWidth = palette.barBorderWidth;
    });
    const scales = this.chart.options.scales ?? {};
    for (const axis of ['x', 'y'] as const) {
      const scale = scales[axis];
      if (!scale) continue;
      scale.ticks = { ...scale.ticks, color: palette.foreground };
      scale.grid = { ...scale.grid, color: palette.gridColor };
      scale.border = { ...scale.border, color: palette.gridColor };
    }
    const legend = this.chart.options.plugins?.legend;
    if (legend) legend.labels = { ...legend.labels, color: palette.foreground };
    // Not update('none'): in that mode Chart.js keeps the bars' shared options, so they would keep
    // the old theme's colours while the legend took the new ones.
    this.chart.update();
  }
}
