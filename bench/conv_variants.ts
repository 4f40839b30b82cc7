/**
 * Times conv3d's kernel variants on the current adapter (a development aid for the tuner):
 * node build/bench/conv_variants.js
 */
import * as vg from '../src/index.node.js';
import { conv3dGradInput, conv3dGradWeight } from '../src/tensor/ops/conv3d/backward.js';
import { conv3dGeometry } from '../src/tensor/ops/conv3d/geometry.js';
import { convVariants } from '../src/tensor/ops/conv3d/variants.js';
import { bestMs, timeGpu } from './timing.js';

await vg.init();
const shapes: [number[], number][] = [
  [[1, 64, 64, 64, 16], 16],
  [[1, 48, 48, 48, 48], 16],
  [[1, 32, 32, 32, 32], 32],
  [[1, 24, 24, 24, 64], 64],
  [[1, 64, 64, 64, 1], 16],
];
const original = convVariants.direct;
const originalWeight = convVariants.weight;
const setDirectBlocks = (f: typeof original): void => {
  convVariants.direct = f;
};
const variants = [
  [4, 4],
  [2, 4],
  [4, 2],
  [8, 1],
  [4, 1],
  [8, 2],
  [2, 2],
  [1, 4],
  [2, 8],
  [1, 8],
  [6, 2],
  [3, 4],
];
for (const [xs, co] of shapes) {
  const x = vg.randomNormal(xs, { seed: 1 });
  const w = vg.randomNormal([3, 3, 3, xs[4], co], { seed: 2 });
  const flops = 2 * 27 * xs[4] * co * xs[0] * xs[1] * xs[2] * xs[3];
  setDirectBlocks(original);
  const ref = vg.conv3d(x, w, { padding: 'same' });
  const line: string[] = [];
  for (const [VZ, CB4] of variants) {
    if (CB4 > Math.ceil(co / 4)) continue;
    setDirectBlocks(() => ({ VZ, CB4 }));
    const t = bestMs(
      await timeGpu(() => vg.tidy(() => void vg.conv3d(x, w, { padding: 'same' })), { runs: 3, warmup: 1 }),
    );
    const d = vg.tidy(() => vg.max(vg.abs(vg.sub(vg.conv3d(x, w, { padding: 'same' }), ref))));
    const diff = (await d.data())[0];
    d.dispose();
    line.push(`VZ${VZ}xCB${CB4}: ${(flops / t / 1e6).toFixed(1)}${diff > 1e-3 ? ' WRONG' : ''}`);
  }
  console.log(`${xs.join('x')} -> ${co} forward (GFLOP/s): ${line.join(', ')}`);
  // The input gradient: the same FLOPs, blocks over the input channels.
  const g = conv3dGeometry('bench', x, w, { padding: 'same' });
  const dy = vg.randomNormal(ref.shape, { seed: 3 });
  setDirectBlocks(original);
  const refDx = conv3dGradInput(dy, w, g);
  const back: string[] = [];
  for (const [VZ, CB4] of variants) {
    if (CB4 > Math.ceil(xs[4] / 4)) continue;
    setDirectBlocks(() => ({ VZ, CB4 }));
    const t = bestMs(await timeGpu(() => vg.tidy(() => void conv3dGradInput(dy, w, g)), { runs: 3, warmup: 1 }));
    const d = vg.tidy(() => vg.max(vg.abs(vg.sub(conv3dGradInput(dy, w, g), refDx))));
    const diff = (await d.data())[0];
    d.dispose();
    back.push(`VZ${VZ}xCB${CB4}: ${(flops / t / 1e6).toFixed(1)}${diff > 1e-3 ? ' WRONG' : ''}`);
  }
  console.log(`${xs.join('x')} -> ${co} input gradient (GFLOP/s): ${back.join(', ')}`);
  // The weight gradient: TB taps × CIB input channels per invocation.
  const refDw = conv3dGradWeight(x, dy, g);
  const wg: string[] = [];
  for (const [TB, CIB] of [
    [1, 8],
    [1, 4],
    [2, 4],
    [4, 2],
    [8, 1],
    [4, 1],
    [2, 2],
    [1, 1],
    [2, 1],
    [3, 1],
    [1, 2],
  ]) {
    if (CIB > xs[4] || TB * CIB * Math.ceil(co / 4) > 32) continue;
    convVariants.weight = () => ({ TB, CIB });
    const t = bestMs(await timeGpu(() => vg.tidy(() => void conv3dGradWeight(x, dy, g)), { runs: 3, warmup: 1 }));
    const d = vg.tidy(() => vg.max(vg.abs(vg.sub(conv3dGradWeight(x, dy, g), refDw))));
    const diff = (await d.data())[0];
    d.dispose();
    wg.push(`TB${TB}xCIB${CIB}: ${(flops / t / 1e6).toFixed(1)}${diff > 1e-2 ? ` WRONG ${diff}` : ''}`);
  }
  convVariants.weight = originalWeight;
  console.log(`${xs.join('x')} -> ${co} weight gradient (GFLOP/s): ${wg.join(', ')}`);
  vg.tidy(() => [dy, refDx, refDw].forEach((v) => v.dispose()));
  vg.tidy(() => [x, w, ref].forEach((v) => v.dispose()));
}
setDirectBlocks(original);
await vg.dispose();
