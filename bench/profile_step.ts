/**
 * Where one training step spends its GPU time: each kernel's total over the step, from
 * per-dispatch timestamps (engine.backend.profileKernels), and the wall time and peak memory.
 * Usage: node build/bench/profile_step.js [small|unet] [size=32] [batch=2 small, 1 unet] [filters=8 small, 16 unet]
 */
import * as vg from '../src/index.node.js';
import { engine } from '../src/tensor/engine.js';
import { stepMemory } from './memory.js';
import { stepSetup, trainStep } from './models.js';

const kind = process.argv[2] === 'unet' ? 'unet' : 'small';
const size = Number(process.argv[3] ?? 32);
const batch = Number(process.argv[4] ?? (kind === 'unet' ? 1 : 2));
const filters = Number(process.argv[5] ?? (kind === 'unet' ? 16 : 8));
const info = await vg.init();
const s = stepSetup(kind, size, batch, filters);
const step = async (): Promise<void> => {
  const loss = trainStep(s);
  await loss.data();
  loss.dispose();
};
await step();
const wall: number[] = [];
for (let i = 0; i < 3; i++) {
  vg.resetPeakBytes();
  const t0 = performance.now();
  await step();
  wall.push(performance.now() - t0);
}
wall.sort((a, b) => a - b);
const peak = vg.memory().peakBytes;
const need = stepMemory(s);
const MiB = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
console.log(
  `${kind} ${batch}x${size}^3, ${filters} filters: ${wall[1].toFixed(0)} ms a step (median of 3, waiting for the GPU)`,
);
console.log(
  `memory: peak ${MiB(peak)}; needed ${MiB(need.neededBytes)} (saved activations ${MiB(need.savedBytes)}, weights, gradients and Adam state ${MiB(4 * need.weightBytes)}); peak / needed ${(peak / need.neededBytes).toFixed(2)}`,
);
const rows = await engine.backend.profileKernels(() => trainStep(s).dispose(), 2048);
if (!rows) {
  console.log(`${info.adapter} has no timestamp queries`);
} else {
  const total = rows.reduce((a, r) => a + r.ms, 0);
  console.log(`${total.toFixed(1)} ms of kernels on ${info.adapter}`);
  for (const r of rows) {
    console.log(
      `${r.kernel.padEnd(40)}${String(r.dispatches).padStart(5)} dispatches ${r.ms.toFixed(2).padStart(9)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)}%`,
    );
  }
}
s.dispose();
await vg.dispose();
