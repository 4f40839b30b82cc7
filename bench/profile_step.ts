/**
 * Where one training step of the demo model spends its GPU time: each kernel's total over the
 * step, from per-dispatch timestamps (engine.backend.profileKernels). Usage:
 *   node build/bench/profile_step.js [size=32] [filters=8]
 */

import { SYNTHETIC_CLASSES, syntheticVolumes } from '../src/data/synthetic.js';
import * as vg from '../src/index.js';
import { foregroundLoss, segmentationLoss, twoHeadModel } from '../src/models/two_heads.js';
import { engine } from '../src/tensor/engine.js';

const size = Number(process.argv[2] ?? 32);
const filters = Number(process.argv[3] ?? 8);
const info = await vg.init();
const data = syntheticVolumes(2, size, 3);
const shape = [2, size, size, size];
const net = twoHeadModel({ size, classes: SYNTHETIC_CLASSES, filters });
net.compile({
  optimizer: new vg.Adam({ learningRate: 0.03 }),
  loss: [segmentationLoss, foregroundLoss],
  lossWeights: [0.5, 0.3],
});
const x = vg.tensor(data.image, [...shape, 1]);
const seg = vg.tensor(data.labels, shape, 'int32');
const fg = vg.tensor(
  Float32Array.from(data.labels, (k) => (k > 0 ? 1 : 0)),
  [...shape, 1],
);
for (let i = 0; i < 3; i++)
  vg.tidy(() => {
    net.trainStep(x, [seg, fg]);
  });
await engine.backend.sync();
const wall: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  vg.tidy(() => {
    net.trainStep(x, [seg, fg]);
  });
  await engine.backend.sync();
  wall.push(performance.now() - t0);
}
wall.sort((a, b) => a - b);
console.log(`wall clock per step (median of 5, waiting for the GPU): ${wall[2].toFixed(1)} ms`);
const rows = await engine.backend.profileKernels(() =>
  vg.tidy(() => {
    net.trainStep(x, [seg, fg]);
  }),
);
if (!rows) {
  console.log(`${info.adapter} has no timestamp queries`);
} else {
  const total = rows.reduce((s, r) => s + r.ms, 0);
  console.log(
    `training step, demo model 2x${size}^3, ${filters} filters, on ${info.adapter}: ${total.toFixed(1)} ms of kernels`,
  );
  for (const r of rows)
    console.log(
      `${r.kernel.padEnd(28)}${String(r.dispatches).padStart(4)} dispatches ${r.ms.toFixed(2).padStart(9)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)}%`,
    );
}
await vg.dispose();
