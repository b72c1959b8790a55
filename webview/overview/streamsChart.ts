import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import { readChartTheme, type ChartTheme } from '../shared/theme';
import type { StreamRow } from './overviewModel';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

/** Height per stream bar, px; the chart grows with the number of streams instead of squeezing them. */
const ROW_HEIGHT = 28;
const MIN_HEIGHT = 120;

/** Events per stream as horizontal bars (stream names stay readable however many there are). */
export class StreamsChart {
  private readonly chart: Chart<'bar', number[], string>;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly box: HTMLElement,
  ) {
    const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    this.chart = new Chart(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'Events', data: [] }] },
      options: {
        indexAxis: 'y',
        responsive: true,
        maintainAspectRatio: false,
        animation: reducedMotion ? false : { duration: 250 },
        plugins: { legend: { display: false }, tooltip: { enabled: true } },
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { ticks: { autoSkip: false } },
        },
      },
    });
    this.applyTheme(readChartTheme());
  }

  update(rows: readonly StreamRow[]): void {
    const labels = rows.map((r) => r.name);
    const data = rows.map((r) => r.events);
    const current = this.chart.data;
    const same =
      current.labels?.length === labels.length &&
      labels.every((l, i) => current.labels?.[i] === l && current.datasets[0]?.data[i] === data[i]);
    if (same) return;
    // CSSOM, not a style attribute: the CSP allows the former only.
    this.box.style.height = `${Math.max(MIN_HEIGHT, rows.length * ROW_HEIGHT + 40)}px`;
    current.labels = labels;
    current.datasets[0]!.data = data;
    this.chart.update();
  }

  applyTheme(theme: ChartTheme): void {
    const options = this.chart.options;
    const dataset = this.chart.data.datasets[0]!;
    dataset.backgroundColor = theme.barColor;
    dataset.borderColor = theme.barBorderColor;
    dataset.borderWidth = theme.barBorderWidth;
    Chart.defaults.font.family = theme.fontFamily;
    Chart.defaults.font.size = theme.fontSize;
    Chart.defaults.color = theme.foreground;
    for (const axis of ['x', 'y'] as const) {
      const scale = options.scales?.[axis];
      if (!scale) continue;
      scale.ticks = { ...scale.ticks, color: theme.foreground };
      scale.grid = { ...scale.grid, color: theme.gridColor };
      scale.border = { ...scale.border, color: theme.gridColor };
    }
    this.chart.update('none');
  }

  destroy(): void {
    this.chart.destroy();
  }
}
