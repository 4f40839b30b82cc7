/**
 * voxgrad benchmark: the practical limit (copyBufferToBuffer), voxgrad's fused overlap-sum
 * kernels and the segmentation losses, plus a few core kernels, on one device in one process.
 * Bandwidth counts bytes read plus bytes written. Times are medians; where the adapter has
 * timestamp queries the GPU time between timestamps is the headline figure and the wall time
 * (including the host's wait) is shown beside it.
 * Usage: npm run bench [-- --quick] [-- --json FILE] [-- --markdown FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as vg from '../src/index.js';
import { engine } from '../src/tensor/engine.js';
import { bestMs, timeGpu } from './timing.js';
import type { Timing } from './timing.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const argValue = (name: string, fallback: string): string => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const jsonPath = argValue('--json', 'bench-results/bench.json');
const markdownPath = argValue('--markdown', 'bench-results/bench.md');
const runs = quick ? 5 : 11;

const info = await vg.init();

interface Row {
  name: string;
  shape: string;
  ms: number;
  wallMs: number;
  gbps: number | null;
  vsCopy: string;
  note: string;
}
const rows: Row[] = [];
const copyGbps = new Map<string, number>();

function record(name: string, shape: number[], t: Timing, bytes: number | null, note = ''): Row {
  const ms = bestMs(t);
  const key = shape.join('x');
  const gbps = bytes === null ? null : bytes / (ms * 1e6);
  const ref = copyGbps.get(key);
  const vsCopy = gbps !== null && ref ? `${((100 * gbps) / ref).toFixed(0)}%` : '';
  const row = { name, shape: key, ms, wallMs: t.medianMs, gbps, vsCopy, note };
  rows.push(row);
  return row;
}

const time = (fn: () => void): Promise<Timing> => timeGpu(() => vg.tidy(() => void fn()), { runs });

/** Random predictions and labels of a (B, X, Y, Z, C) volume, as one-hot and as class indices. */
function volume(shape: number[]): { pred: vg.Tensor; logits: vg.Tensor; onehot: vg.Tensor; labels: vg.Tensor } {
  return vg.tidy(() => {
    const C = shape[4];
    const labels = vg.cast(vg.mul(vg.randomUniform(shape.slice(0, 4), { seed: 3 }), C - 1e-3), 'int32');
    const classes = vg.tensor(Int32Array.from({ length: C }, (_, i) => i), [C], 'int32');
    const onehot = vg.cast(vg.equal(vg.expandDims(labels, -1), classes), 'float32');
    const logits = vg.randomNormal(shape, { seed: 4 });
    const pred = vg.softmax(logits);
    return { pred, logits, onehot, labels };
  });
}

const shapes = quick ? [[2, 32, 32, 32, 4], [1, 128, 128, 128, 4]] : [[2, 32, 32, 32, 4], [2, 64, 64, 64, 4], [1, 128, 128, 128, 4]];
for (const shape of shapes) {
  const n = shape.reduce((a, b) => a * b, 1);
  const bytes = n * 4;
  const v = volume(shape);
  const scratch = vg.zeros(shape);
  const copy = await timeGpu(() => engine.gpu.copy(v.pred.buffer, 0, scratch.buffer, 0, bytes), { runs });
  copyGbps.set(shape.join('x'), (2 * bytes) / (bestMs(copy) * 1e6));
  record('copyBufferToBuffer (limit)', shape, copy, 2 * bytes);

  record('overlapSums fwd, one-hot', shape, await time(() => vg.overlapSums(v.onehot, v.pred)), 2 * bytes);
  record('overlapSums fwd, int32 labels', shape, await time(() => vg.overlapSums(v.labels, v.pred)), bytes + bytes / shape[4]);
  record('overlapSums fwd, labels+softmax', shape, await time(() => vg.overlapSums(v.labels, v.logits, { activation: 'softmax' })), bytes + bytes / shape[4]);
  const dy = vg.onesLike(vg.overlapSums(v.onehot, v.pred));
  record('overlapSums bwd (dL/dp), one-hot', shape, await time(() => vg.valueAndGrad(() => vg.sum(vg.mul(vg.overlapSums(v.onehot, v.pred), dy)), [v.pred])), null, 'fwd + bwd');

  const losses: [string, (p: vg.Tensor) => vg.Tensor][] = [
    ['dice', (p) => vg.dice(v.onehot, p)],
    ['dice (labels, softmax logits)', (p) => vg.dice(v.labels, p, { activation: 'softmax' })],
    ['iou', (p) => vg.iou(v.onehot, p)],
    ['tversky', (p) => vg.tversky(v.onehot, p, { alpha: 0.3, beta: 0.7 })],
    ['generalizedDice', (p) => vg.generalizedDice(v.onehot, p)],
    ['diceCrossentropy (softmax logits)', (p) => vg.diceCrossentropy(v.labels, p, { activation: 'softmax' })],
  ];
  for (const [name, f] of losses) {
    const input = name.includes('logits') ? v.logits : v.pred;
    record(`${name} fwd`, shape, await time(() => f(input)), null);
    record(`${name} fwd+bwd`, shape, await time(() => vg.valueAndGrad(() => f(input), [input])), null);
  }
  if (!quick && shape[0] === 1) {
    record('sum over axes (1,2,3)', shape, await time(() => vg.sum(v.pred, [1, 2, 3])), bytes + 16);
    record('mul (elementwise)', shape, await time(() => vg.mul(v.pred, v.onehot)), 3 * bytes);
  }
  vg.tidy(() => [v.pred, v.logits, v.onehot, v.labels, scratch, dy].forEach((t) => t.dispose()));
}
if (!quick) {
  const m = 512;
  const a = vg.randomNormal([m, m], { seed: 2 });
  const mm = await time(() => vg.matmul(a, a));
  record('matmul', [m, m, m], mm, null, `${((2 * m ** 3) / (bestMs(mm) * 1e6)).toFixed(2)} GFLOP/s`);
  a.dispose();
}

// --- report --------------------------------------------------------------------------------
const timing = engine.gpu.hasTimestamps ? 'GPU timestamps (median)' : 'wall clock (median)';
const header = `voxgrad bench on ${info.adapter} (node ${process.version}, maxStorageBufferBindingSize ${info.limits.maxStorageBufferBindingSize} bytes, ${timing}, ${runs} runs)`;
console.log(header);
console.log(`${'kernel'.padEnd(38)}${'shape'.padEnd(16)}${'ms'.padStart(9)}${'wall ms'.padStart(10)}${'GB/s'.padStart(8)}${'vs copy'.padStart(9)}`);
for (const r of rows) {
  console.log(`${r.name.padEnd(38)}${r.shape.padEnd(16)}${r.ms.toFixed(2).padStart(9)}${r.wallMs.toFixed(2).padStart(10)}${(r.gbps === null ? '-' : r.gbps.toFixed(2)).padStart(8)}${r.vsCopy.padStart(9)}  ${r.note}`);
}
const md = [
  `Measured on ${info.adapter}, node ${process.version}; times are ${timing} of ${runs} runs, wall clock beside them.`,
  '',
  '| kernel | shape | ms | wall ms | GB/s | vs copy |',
  '|---|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.name}${r.note ? ` (${r.note})` : ''} | ${r.shape} | ${r.ms.toFixed(2)} | ${r.wallMs.toFixed(2)} | ${r.gbps === null ? '' : r.gbps.toFixed(2)} | ${r.vsCopy} |`),
].join('\n');
for (const p of [jsonPath, markdownPath]) mkdirSync(dirname(p), { recursive: true });
writeFileSync(jsonPath, JSON.stringify({ device: info.adapter, node: process.version, timing, quick, runs, rows }, null, 2));
writeFileSync(markdownPath, `${md}\n`);
console.log(`wrote ${jsonPath} and ${markdownPath}`);
await vg.dispose();
