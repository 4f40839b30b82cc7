/**
 * The browser demo: trains voxgrad's two-head model through navigator.gpu and draws the
 * per-output loss curves and a slice of label vs prediction while it trains. Every GPU read is
 * asynchronous, and the loop yields to the browser between steps, so the page stays responsive.
 */

import { SYNTHETIC_CLASSES, syntheticVolumes } from '../src/data/synthetic.js';
import { argmaxClass } from '../src/data/voxels.js';
import * as vg from '../src/index.js';
import { foregroundLoss, segmentationLoss, twoHeadModel } from '../src/models/two_heads.js';

const SIZE = 12;
const CLASSES = SYNTHETIC_CLASSES;
const COLOURS = ['#000', '#e63c3c', '#3cb44b', '#3c6ee6'];

/** Progress the page exposes (also read by the browser test). */
const state = {
  adapter: '',
  steps: 0,
  running: false,
  segmentation: [] as number[],
  foreground: [] as number[],
  errors: [] as string[],
};
(globalThis as unknown as { voxgradDemo: typeof state }).voxgradDemo = state;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function fail(message: string): void {
  state.errors.push(message);
  $('error').textContent = message;
}

function drawCurves(): void {
  const c = $<HTMLCanvasElement>('curves');
  const g = c.getContext('2d')!;
  g.clearRect(0, 0, c.width, c.height);
  const all = [...state.segmentation, ...state.foreground];
  const hi = Math.max(1e-3, ...all);
  const n = Math.max(2, state.segmentation.length);
  g.strokeStyle = '#ccc';
  g.strokeRect(40, 10, c.width - 50, c.height - 40);
  g.fillStyle = '#444';
  g.font = '11px sans-serif';
  g.fillText(hi.toFixed(2), 4, 16);
  g.fillText('0', 28, c.height - 30);
  g.fillText(`step ${state.steps}`, c.width - 70, c.height - 14);
  [
    ['segmentation (dice)', state.segmentation, '#1f77b4'],
    ['foreground (tversky)', state.foreground, '#d62728'],
  ].forEach(([name, values, colour], k) => {
    const v = values as number[];
    g.strokeStyle = colour as string;
    g.lineWidth = 2;
    g.beginPath();
    v.forEach((y, i) => {
      const px = 40 + ((c.width - 50) * i) / (n - 1);
      const py = 10 + (c.height - 40) * (1 - y / hi);
      if (i === 0) g.moveTo(px, py);
      else g.lineTo(px, py);
    });
    g.stroke();
    g.fillStyle = colour as string;
    g.fillText(`${name} ${v.length ? v[v.length - 1].toFixed(3) : ''}`, 50, c.height - 58 + 14 * k);
  });
}

function drawSlice(image: Float32Array, label: Int32Array, pred: Int32Array): void {
  const c = $<HTMLCanvasElement>('slice');
  const g = c.getContext('2d')!;
  const px = Math.floor(Math.min(c.width / (3 * SIZE + 2), c.height / SIZE));
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of image) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  for (let x = 0; x < SIZE; x++)
    for (let y = 0; y < SIZE; y++) {
      const k = x * SIZE + y;
      const grey = Math.round((255 * (image[k] - lo)) / Math.max(1e-6, hi - lo));
      g.fillStyle = `rgb(${grey},${grey},${grey})`;
      g.fillRect(x * px, y * px, px, px);
      g.fillStyle = COLOURS[label[k]];
      g.fillRect((SIZE + 1) * px + x * px, y * px, px, px);
      g.fillStyle = COLOURS[pred[k]];
      g.fillRect(2 * (SIZE + 1) * px + x * px, y * px, px, px);
    }
}

async function main(): Promise<void> {
  if (!('gpu' in navigator) || !navigator.gpu) {
    fail(
      'WebGPU is not available in this browser. Use a recent Chrome or Edge (or Chromium with --enable-unsafe-webgpu), or Firefox Nightly / Safari Technology Preview with WebGPU enabled.',
    );
    ($('start') as HTMLButtonElement).disabled = true;
    return;
  }
  try {
    const info = await vg.init();
    state.adapter = info.adapter;
    $('adapter').textContent = info.adapter;
  } catch (e) {
    fail(`No WebGPU device: ${(e as Error).message}`);
    return;
  }
  const train = syntheticVolumes(6, SIZE, 1);
  const val = syntheticVolumes(1, SIZE, 99);
  const x = vg.tensor(train.image, [train.n, SIZE, SIZE, SIZE, 1]);
  const seg = vg.tensor(train.labels, [train.n, SIZE, SIZE, SIZE], 'int32');
  const fg = vg.tensor(
    Float32Array.from(train.labels, (k) => (k > 0 ? 1 : 0)),
    [train.n, SIZE, SIZE, SIZE, 1],
  );
  const vx = vg.tensor(val.image, [1, SIZE, SIZE, SIZE, 1]);
  // Show the z slice of the validation volume with the most labelled voxels.
  const perSlice = new Array(SIZE).fill(0);
  val.labels.forEach((k, v) => {
    if (k > 0) perSlice[v % SIZE]++;
  });
  const mid = perSlice.indexOf(Math.max(...perSlice));
  let stop = false;

  $('stop').onclick = () => {
    stop = true;
  };
  $('start').onclick = async () => {
    const w1 = Number(($('w1') as HTMLInputElement).value);
    const w2 = Number(($('w2') as HTMLInputElement).value);
    const steps = Math.max(1, Math.floor(Number(($('steps') as HTMLInputElement).value)));
    ($('start') as HTMLButtonElement).disabled = true;
    ($('stop') as HTMLButtonElement).disabled = false;
    stop = false;
    state.running = true;
    state.steps = 0;
    state.segmentation = [];
    state.foreground = [];
    const model = twoHeadModel({ size: SIZE, classes: CLASSES, filters: 8, seed: 1 });
    model.compile({
      optimizer: new vg.Adam({ learningRate: 0.03 }),
      loss: [segmentationLoss, foregroundLoss],
      lossWeights: [w1, w2],
    });
    try {
      for (let step = 0; step < steps && !stop; step++) {
        const b = (2 * step) % train.n;
        const kept = vg.tidy(() => {
          const xb = vg.slice(x, [b, 0, 0, 0, 0], [2, SIZE, SIZE, SIZE, 1]);
          const sb = vg.slice(seg, [b, 0, 0, 0], [2, SIZE, SIZE, SIZE]);
          const fb = vg.slice(fg, [b, 0, 0, 0, 0], [2, SIZE, SIZE, SIZE, 1]);
          const { total, perOutput } = model.trainStep(xb, [sb, fb]);
          return [total, perOutput.segmentation, perOutput.foreground];
        });
        // An asynchronous read: the page keeps drawing while the GPU works.
        const [, s, f] = await vg.readAll(kept);
        kept.forEach((t) => t.dispose());
        state.steps = step + 1;
        state.segmentation.push(s[0]);
        state.foreground.push(f[0]);
        $('status').textContent = `step ${state.steps} / ${steps}`;
        drawCurves();
        if (step % 5 === 0 || step === steps - 1) {
          const logits = vg.tidy(() => model.predict(vx).segmentation);
          const probs = await logits.data();
          logits.dispose();
          const image = new Float32Array(SIZE * SIZE);
          const label = new Int32Array(SIZE * SIZE);
          const pred = new Int32Array(SIZE * SIZE);
          for (let i = 0; i < SIZE; i++)
            for (let j = 0; j < SIZE; j++) {
              const v = (i * SIZE + j) * SIZE + mid;
              image[i * SIZE + j] = val.image[v];
              label[i * SIZE + j] = val.labels[v];
              pred[i * SIZE + j] = argmaxClass(probs, v, CLASSES);
            }
          drawSlice(image, label, pred);
        }
        await new Promise((r) => setTimeout(r, 0));
      }
      $('status').textContent = `${stop ? 'stopped' : 'done'} after ${state.steps} steps`;
    } catch (e) {
      fail(`training failed: ${(e as Error).message}`);
    } finally {
      state.running = false;
      ($('start') as HTMLButtonElement).disabled = false;
      ($('stop') as HTMLButtonElement).disabled = true;
    }
  };
}

main().catch((e) => fail(String(e)));
