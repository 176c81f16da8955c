// The charts (uPlot), loaded lazily by History and Costs only, so the Now
// page stays small. uPlot sets element.style itself, which the CSP allows
// (only style attributes in markup and <style> blocks are refused).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export type Kind = 'band' | 'bars';

export interface ChartConfig {
  kind: Kind;
  width: number;
  height: number;
  /** Series labels: band → [max, min, mean]; bars → [measured, estimated]. */
  labels: string[];
  fmtX: (sec: number, incr: number) => string;
  fmtLegendX: (sec: number) => string;
  fmtY: (v: number, range: number) => string;
  fmtLegendY: (v: number | null) => string;
  /** Called after every draw (the caller marks gwd:chart-drawn). */
  onDraw?: () => void;
  /** Drag-select or ctrl+wheel zoom: the new visible range in ms. */
  onZoom?: (fromMs: number, toMs: number, source: 'select' | 'wheel') => void;
  ariaLabel: string;
  /** Legend label of the time axis. */
  xLabel: string;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export class Chart {
  u: uPlot;
  private cfg: ChartConfig;

  constructor(el: HTMLElement, cfg: ChartConfig, data: uPlot.AlignedData, range: [number, number]) {
    this.cfg = cfg;
    const accent = cssVar('--chart-1', '#1f6feb');
    const band = cssVar('--chart-band', 'rgba(31,111,235,0.18)');
    const est = cssVar('--chart-est', '#d29922');
    const grid = cssVar('--chart-grid', 'rgba(128,128,128,0.2)');
    const text = cssVar('--text-muted', '#666');

    const axisX: uPlot.Axis = {
      stroke: text,
      space: 72,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      values: (_u, splits, _i, _space, incr) => splits.map((s) => cfg.fmtX(s, incr)),
    };
    const axisY: uPlot.Axis = {
      stroke: text,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      // Wide enough for the longest label (e.g. "CN¥3.00", "-3.3 kW").
      size: (_u, values) => (values && values.length ? Math.ceil(Math.max(...values.map((v) => String(v).length)) * 7.4) + 22 : 50),
      values: (u, splits) => {
        const sc = u.scales.y;
        const r = Math.max(Math.abs(sc?.min ?? 0), Math.abs(sc?.max ?? 0));
        return splits.map((v) => cfg.fmtY(v, r));
      },
    };
    const xSeries: uPlot.Series = { label: cfg.xLabel, value: (_u, v) => (v === null ? '–' : cfg.fmtLegendX(v)) };
    let series: uPlot.Series[];
    let bands: uPlot.Band[] | undefined;
    if (cfg.kind === 'band') {
      series = [
        xSeries,
        { label: cfg.labels[0], stroke: band, width: 1, points: { show: false }, value: (_u, v) => cfg.fmtLegendY(v) },
        { label: cfg.labels[1], stroke: band, width: 1, points: { show: false }, value: (_u, v) => cfg.fmtLegendY(v) },
        { label: cfg.labels[2], stroke: accent, width: 1.5, points: { show: false }, value: (_u, v) => cfg.fmtLegendY(v) },
      ];
      bands = [{ series: [1, 2], fill: band }];
    } else {
      const bars = uPlot.paths.bars!({ size: [0.72, 48], align: 0 });
      // One bar series per label: measured, then estimated (if given).
      series = [xSeries, ...cfg.labels.map((label, i) => ({
        label,
        fill: i ? est : accent,
        stroke: i ? est : accent,
        width: 0,
        paths: bars,
        points: { show: false },
        value: (_u: uPlot, v: number | null) => cfg.fmtLegendY(v),
      }))];
    }
    const opts: uPlot.Options = {
      width: cfg.width,
      height: cfg.height,
      series,
      bands,
      axes: [axisX, axisY],
      scales: {
        x: { time: true, range: (u, min, max) => this.xRange(u, min, max) },
        y: {
          range: (_u, min, max) => {
            if (cfg.kind === 'bars') return [Math.min(0, min ?? 0), Math.max(max ?? 1, 0) * 1.08 || 1];
            if (min === null || max === null || (min === max && min === 0)) return [0, 1];
            const pad = (max - min) * 0.06 || Math.abs(max) * 0.05 || 1;
            return [min - pad, max + pad];
          },
        },
      },
      legend: { live: true },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        points: { show: cfg.kind === 'band' },
      },
      hooks: {
        draw: [() => cfg.onDraw?.()],
        setSelect: [
          (u) => {
            if (u.select.width > 4 && cfg.onZoom) {
              const a = u.posToVal(u.select.left, 'x');
              const b = u.posToVal(u.select.left + u.select.width, 'x');
              cfg.onZoom(a * 1000, b * 1000, 'select');
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
      },
    };
    this.range = range;
    this.u = new uPlot(opts, data, el);
    const root = this.u.root;
    root.setAttribute('role', 'img');
    root.setAttribute('aria-label', cfg.ariaLabel);
    this.u.over.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
  }

  /** The visible x range in seconds. */
  private range: [number, number];

  private xRange(_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
    const [a, b] = this.range;
    if (Number.isFinite(a) && Number.isFinite(b) && b > a) return [a, b];
    return [min ?? 0, max ?? 1];
  }

  private wheel(e: WheelEvent) {
    // Ctrl/⌘ + wheel (and trackpad pinch) zooms; a plain wheel scrolls the page.
    if (!(e.ctrlKey || e.metaKey) || !this.cfg.onZoom) return;
    e.preventDefault();
    const [a, b] = this.range;
    const rect = this.u.over.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
    const at = a + (b - a) * f;
    const k = e.deltaY < 0 ? 0.75 : 1 / 0.75;
    this.cfg.onZoom((at - (at - a) * k) * 1000, (at + (b - at) * k) * 1000, 'wheel');
  }

  /** Shows [fromMs, toMs) at once with the data drawn so far (instant zoom/pan). */
  setRange(fromMs: number, toMs: number) {
    this.range = [fromMs / 1000, toMs / 1000];
    this.u.setScale('x', { min: this.range[0], max: this.range[1] });
  }

  setData(data: uPlot.AlignedData, fromMs: number, toMs: number) {
    this.range = [fromMs / 1000, toMs / 1000];
    this.u.setData(data, true);
  }

  resize(width: number, height: number) {
    if (width > 0 && (width !== this.u.width || height !== this.u.height)) this.u.setSize({ width, height });
  }

  destroy() {
    this.u.destroy();
  }
}

export type { uPlot };
