/**
 * Times every variant of conv3d's three passes (the tuner's candidates) on the current adapter,
 * in GFLOP/s, checking each against the direct variant (within 1e-4 of the largest value):
 *   node build/bench/conv_variants.js
 */
import * as vg from '../src/index.node.js';
import { conv3dGradInput, conv3dGradWeight } from '../src/tensor/ops/conv3d/backward.js';
import { conv3dGeometry } from '../src/tensor/ops/conv3d/geometry.js';
import { CONV_VARIANTS, convFamily } from '../src/tensor/ops/conv3d/variants.js';
import { bestMs, timeGpu } from './timing.js';

await vg.init();
const shapes: [number[], number][] = [
  [[1, 64, 64, 64, 16], 16],
  [[1, 32, 32, 32, 32], 32],
  [[1, 16, 16, 16, 64], 64],
  [[1, 64, 64, 64, 1], 16],
];
for (const [xs, co] of shapes) {
  const x = vg.randomNormal(xs, { seed: 1 });
  const w = vg.randomNormal([3, 3, 3, xs[4]!, co], { seed: 2, stddev: 0.1 });
  const g = conv3dGeometry('bench', x, w, { padding: 'same' });
  const dy = vg.randomNormal([1, ...g.output, co], { seed: 3 });
  const flops = 2 * 27 * xs[4]! * co * xs[0]! * xs[1]! * xs[2]! * xs[3]!;
  const passes = {
    forward: () => vg.conv3d(x, w, { padding: 'same' }),
    input: () => conv3dGradInput(dy, w, g),
    weight: () => conv3dGradWeight(x, dy, g),
  };
  for (const [pass, run] of Object.entries(passes) as [keyof typeof passes, () => vg.Tensor][]) {
    const family = convFamily(pass);
    vg.tuning.force(family, 'direct');
    const ref = run();
    // Variants sum in different orders: a difference counts relative to the largest value.
    const largest = vg.tidy(() => vg.max(vg.abs(ref)));
    const [scale] = await largest.data();
    largest.dispose();
    const line: string[] = [];
    for (const variant of CONV_VARIANTS) {
      vg.tuning.force(family, variant);
      const t = bestMs(await timeGpu(() => run().dispose(), { runs: 3, warmup: 1 }));
      const d = vg.tidy(() => vg.max(vg.abs(vg.sub(run(), ref))));
      const [diff] = await d.data();
      d.dispose();
      const relative = diff! / Math.max(scale!, 1e-30);
      line.push(
        `${variant} ${(flops / t / 1e6).toFixed(1)}${relative > 1e-4 ? ` WRONG (${relative.toExponential(1)} of the largest)` : ''}`,
      );
    }
    vg.tuning.force(family, null);
    ref.dispose();
    console.log(`${xs.join('x')} -> ${co} ${pass} (GFLOP/s): ${line.join(', ')}`);
  }
  for (const t of [x, w, dy]) t.dispose();
}
await vg.dispose();
