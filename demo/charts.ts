/** Line charts on a canvas: named series of values by training step, with axes and a key. */

export interface Series {
  name: string;
  colour: string;
  /** Points [step, value]; NaN values leave a gap. */
  points: readonly (readonly [number, number])[];
  dashed?: boolean;
}

export interface ChartOptions {
  /** Top of the value axis (default: the largest value). */
  yMax?: number;
  /** Last step of the step axis (default: the largest step). */
  xMax?: number;
  title: string;
}

const LEFT = 44;
const RIGHT = 10;
const TOP = 22;
const BOTTOM = 24;

export function drawChart(canvas: HTMLCanvasElement, series: readonly Series[], o: ChartOptions): void {
  const g = canvas.getContext('2d')!;
  const { width, height } = canvas;
  g.clearRect(0, 0, width, height);
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const steps = series.flatMap((s) => s.points.map((p) => p[0]));
  const yMax = o.yMax ?? Math.max(1e-3, ...values);
  const xMax = Math.max(1, o.xMax ?? 0, ...steps);
  const plotW = width - LEFT - RIGHT;
  const plotH = height - TOP - BOTTOM;
  const px = (step: number): number => LEFT + (plotW * step) / xMax;
  const py = (value: number): number => TOP + plotH * (1 - Math.min(1, value / yMax));

  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#222';
  g.fillText(o.title, LEFT, 14);
  g.strokeStyle = '#ccc';
  g.lineWidth = 1;
  g.strokeRect(LEFT, TOP, plotW, plotH);
  g.fillStyle = '#555';
  g.fillText(yMax.toFixed(2), 4, TOP + 8);
  g.fillText('0', 4, TOP + plotH);
  g.fillText('step 0', LEFT, height - 8);
  const last = `step ${xMax}`;
  g.fillText(last, width - RIGHT - g.measureText(last).width, height - 8);

  series.forEach((s, i) => {
    g.strokeStyle = s.colour;
    g.lineWidth = 2;
    g.setLineDash(s.dashed ? [5, 3] : []);
    g.beginPath();
    let pen = false;
    for (const [step, value] of s.points) {
      if (!Number.isFinite(value)) {
        pen = false;
        continue;
      }
      if (pen) g.lineTo(px(step), py(value));
      else g.moveTo(px(step), py(value));
      pen = true;
    }
    g.stroke();
    g.setLineDash([]);
    // A dot per point, so that a series of one point shows too.
    g.fillStyle = s.colour;
    for (const [step, value] of s.points) {
      if (!Number.isFinite(value)) continue;
      g.beginPath();
      g.arc(px(step), py(value), 2.5, 0, 2 * Math.PI);
      g.fill();
    }
    // The key, top right, with each series' latest value.
    const latest = [...s.points].reverse().find((p) => Number.isFinite(p[1]));
    const text = `${s.name}${latest ? ` ${latest[1].toFixed(3)}` : ''}`;
    const y = TOP + 14 + 14 * i;
    const x = width - RIGHT - 8 - g.measureText(text).width;
    g.fillStyle = 'rgba(255, 255, 255, 0.8)';
    g.fillRect(x - 22, y - 10, g.measureText(text).width + 26, 13);
    g.fillStyle = s.colour;
    g.fillRect(x - 18, y - 5, 14, 3);
    g.fillStyle = '#222';
    g.fillText(text, x, y);
  });
}
