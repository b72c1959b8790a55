import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartDataset,
} from 'chart.js';
import { readChartTheme, type ChartTheme } from '../shared/theme';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Filler, Legend, Tooltip);

/** Series colours from the theme's chart palette, so every theme picks its own readable hues. */
export interface SloPalette extends ChartTheme {
  readonly good: string;
  readonly bad: string;
  readonly page: string;
  readonly ticket: string;
  readonly line: string;
}

export function readPalette(): SloPalette {
  const style = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  const base = readChartTheme();
  return {
    ...base,
    good: v('--vscode-charts-green', '#89d185'),
    bad: v('--vscode-charts-red', '#f14c4c'),
    page: v('--vscode-charts-red', '#f14c4c'),
    ticket: v('--vscode-charts-orange', '#d18616'),
    line: v('--vscode-charts-blue', base.barColor),
  };
}

type AnyChart = Chart<'bar' | 'line', (number | null)[], string>;

function baseOptions(): ChartConfiguration<'bar' | 'line', (number | null)[], string>['options'] {
  const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: reducedMotion ? false : { duration: 200 },
    interaction: { mode: 'index', intersect: false },
    plugins: { legend: { display: true, position: 'bottom' }, tooltip: { enabled: true } },
    scales: { x: { ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 16, maxTicksLimit: 7 } }, y: { beginAtZero: true } },
  };
}

function applyAxes(chart: AnyChart, theme: ChartTheme): void {
  Chart.defaults.font.family = theme.fontFamily;
  Chart.defaults.font.size = theme.fontSize;
  Chart.defaults.color = theme.foreground;
  const scales = chart.options.scales ?? {};
  for (const axis of ['x', 'y'] as const) {
    const scale = scales[axis];
    if (!scale) continue;
    scale.ticks = { ...scale.ticks, color: theme.foreground };
    scale.grid = { ...scale.grid, color: theme.gridColor };
    scale.border = { ...scale.border, color: theme.gridColor };
  }
  const legend = chart.options.plugins?.legend;
  if (legend) legend.labels = { ...legend.labels, color: theme.foreground };
}

/** Remaining error budget (%) as the window filled up, with the 0 % line. */
export class BurnDownChart {
  private readonly chart: AnyChart;

  constructor(canvas: HTMLCanvasElement) {
    const options = baseOptions()!;
    options.scales!.y = { beginAtZero: false, ticks: { callback: (v) => `${String(v)}%` } };
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { labels: [], datasets: [{ label: 'Budget left (%)', data: [], fill: 'origin', pointRadius: 0, borderWidth: 2, tension: 0.2, spanGaps: true }] },
      options,
    }) as AnyChart;
    this.applyTheme(readPalette());
  }

  update(labels: readonly string[], remainingPercent: readonly (number | null)[]): void {
    this.chart.data.labels = [...labels];
    this.chart.data.datasets[0]!.data = [...remainingPercent];
    const values = remainingPercent.filter((v): v is number => v !== null);
    const y = this.chart.options.scales!.y!;
    // Keep 0 % and 100 % in view, so an overspent budget reads as below the line.
    y.min = Math.min(0, ...values);
    y.max = Math.max(100, ...values);
    this.chart.update();
  }

  applyTheme(p: SloPalette): void {
    const ds = this.chart.data.datasets[0] as ChartDataset<'line', (number | null)[]>;
    ds.borderColor = p.line;
    ds.backgroundColor = withAlpha(p.line, 0.18);
    applyAxes(this.chart, p);
    this.chart.update('none');
  }
}

/** Burn rate per window as bars, with the page and ticket thresholds as marks on each window. */
export class BurnRateChart {
  private readonly chart: AnyChart;

  constructor(canvas: HTMLCanvasElement) {
    const marker = (label: string): ChartDataset<'line', (number | null)[]> => ({
      type: 'line',
      label,
      data: [],
      showLine: false,
      pointStyle: 'line',
      pointRadius: 22,
      pointHoverRadius: 22,
      pointBorderWidth: 4,
      // Drawn over the bars, so a threshold inside a tall bar stays visible.
      order: 0,
    });
    this.chart = new Chart(canvas, {
      type: 'bar',
      data: {
        labels: [],
        datasets: [{ type: 'bar', label: 'Burn rate', data: [], order: 1 }, marker('Page threshold'), marker('Ticket threshold')],
      },
      options: { ...baseOptions(), scales: { x: { ticks: { autoSkip: false, maxRotation: 0 } }, y: { beginAtZero: true } } },
    }) as AnyChart;
    this.applyTheme(readPalette());
  }

  update(windows: readonly string[], rates: readonly number[], page: readonly (number | null)[], ticket: readonly (number | null)[]): void {
    this.chart.data.labels = [...windows];
    const [bars, pageMarks, ticketMarks] = this.chart.data.datasets;
    bars!.data = [...rates];
    pageMarks!.data = [...page];
    ticketMarks!.data = [...ticket];
    this.chart.update();
  }

  applyTheme(p: SloPalette): void {
    const [bars, pageMarks, ticketMarks] = this.chart.data.datasets as ChartDataset<'bar' | 'line', (number | null)[]>[];
    bars!.backgroundColor = p.line;
    bars!.borderColor = p.barBorderColor;
    bars!.borderWidth = p.barBorderWidth;
    pageMarks!.borderColor = p.page;
    pageMarks!.backgroundColor = p.page;
    ticketMarks!.borderColor = p.ticket;
    ticketMarks!.backgroundColor = p.ticket;
    applyAxes(this.chart, p);
    this.chart.update('none');
  }
}

/** Good and bad events per bucket, stacked. */
export class EventsChart {
  private readonly chart: AnyChart;

  constructor(canvas: HTMLCanvasElement) {
    const options = baseOptions()!;
    options.scales = { x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 16, maxTicksLimit: 8 } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } };
    this.chart = new Chart(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'Good', data: [] }, { label: 'Bad', data: [] }] },
      options,
    }) as AnyChart;
    this.applyTheme(readPalette());
  }

  update(labels: readonly string[], good: readonly number[], bad: readonly number[]): void {
    this.chart.data.labels = [...labels];
    this.chart.data.datasets[0]!.data = [...good];
    this.chart.data.datasets[1]!.data = [...bad];
    this.chart.update();
  }

  applyTheme(p: SloPalette): void {
    const [good, bad] = this.chart.data.datasets;
    good!.backgroundColor = withAlpha(p.good, 0.75);
    bad!.backgroundColor = p.bad;
    for (const ds of [good!, bad!]) {
      ds.borderColor = p.barBorderColor;
      ds.borderWidth = p.barBorderWidth;
    }
    applyAxes(this.chart, p);
    this.chart.update('none');
  }
}

/** p50, p95 and p99 latency per bucket as lines, with a latency SLO's threshold as a dashed line. */
export class LatencyChart {
  private readonly chart: AnyChart;

  constructor(canvas: HTMLCanvasElement) {
    const line = (label: string, dash: number[] = []): ChartDataset<'line', (number | null)[]> => ({
      type: 'line',
      label,
      data: [],
      // Points, so a bucket between two empty ones still shows.
      pointRadius: dash.length > 0 ? 0 : 2,
      borderWidth: 2,
      borderDash: dash,
      tension: 0.2,
      // A bucket without samples breaks the line rather than drawing a fake zero.
      spanGaps: false,
    });
    const options = baseOptions()!;
    options.scales!.y = { beginAtZero: true, ticks: { callback: (v) => `${String(v)} ms` } };
    // Without a threshold (not a latency SLO) its line has no label and no legend entry.
    options.plugins!.legend = { ...options.plugins!.legend, labels: { filter: (item) => item.text !== '' } };
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { labels: [], datasets: [line('p50'), line('p95'), line('p99'), line('', [6, 4])] },
      options,
    }) as AnyChart;
    this.applyTheme(readPalette());
  }

  update(labels: readonly string[], p50: readonly (number | null)[], p95: readonly (number | null)[], p99: readonly (number | null)[], thresholdMs: number | null): void {
    this.chart.data.labels = [...labels];
    const [a, b, c, threshold] = this.chart.data.datasets;
    a!.data = [...p50];
    b!.data = [...p95];
    c!.data = [...p99];
    threshold!.data = thresholdMs === null ? [] : labels.map(() => thresholdMs);
    threshold!.label = thresholdMs === null ? '' : `Threshold (${thresholdMs} ms)`;
    this.chart.update();
  }

  applyTheme(p: SloPalette): void {
    const [a, b, c, threshold] = this.chart.data.datasets;
    const colors = [p.good, p.line, p.ticket, p.bad];
    [a, b, c, threshold].forEach((ds, i) => {
      ds!.borderColor = colors[i]!;
      ds!.backgroundColor = colors[i]!;
    });
    applyAxes(this.chart, p);
    this.chart.update('none');
  }
}

/** `#rrggbb` (what VS Code's chart colours are) with an alpha; other formats are returned as they are. */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color.trim());
  if (!m) return color;
  return `#${m[1]}${Math.round(alpha * 255)
    .toString(16)
    .padStart(2, '0')}`;
}
