/**
 * conv3d's three passes as tunable families: a trial of a shape class runs the pass on a batch
 * of one at the class's capped extents, with random inputs, under the variant being timed. And
 * the direct weight gradient's voxels a visit along long rows, timed on rows of LONG_ROW voxels.
 */

import { engine } from '../../engine.js';
import type { Tensor } from '../../tensor.js';
import { chooseVariant, registerTunable, withVariant } from '../../tuning.js';
import { randomNormal } from '../creation.js';
import { conv3dGradInput, conv3dGradWeight } from './backward.js';
import { conv3d } from './conv3d.js';
import { type Conv3dOptions, conv3dGeometry } from './geometry.js';
import {
  CONV_VARIANTS,
  type ConvPass,
  convFamily,
  DIRECT_SUBGROUP,
  defaultConvVariant,
  directSubgroupRuns,
  GEMM_TILES,
  LONG_ROW,
  seenClasses,
  TUNE_EXTENT,
  WEIGHT_VISITS,
  WEIGHT_VISITS_FAMILY,
} from './variants.js';

function registerPass(pass: ConvPass): void {
  const family = convFamily(pass);
  registerTunable({
    family,
    variants: CONV_VARIANTS,
    usable: (variant) => variant !== DIRECT_SUBGROUP || directSubgroupRuns(),
    kernelFiles: [
      'conv3d.wgsl',
      'conv3d_grad_input.wgsl',
      'conv3d_grad_weight.wgsl',
      'conv3d_igemm.wgsl',
      'conv3d_igemm_wgrad.wgsl',
    ],
    trial(shapeClass) {
      const seen = seenClasses.get(shapeClass);
      if (!seen) return null;
      const extent = seen.input.map((d) => Math.min(d, TUNE_EXTENT));
      const options: Conv3dOptions = {
        strides: [...seen.strides],
        dilation: [...seen.dilation],
        padding: seen.padBefore.some((p) => p > 0) ? 'same' : 'valid',
      };
      const x = randomNormal([1, ...extent, seen.CI], { seed: 1 });
      const w = randomNormal([...seen.kernel, seen.CI, seen.CO], { seed: 2, stddev: 0.1 });
      const g = conv3dGeometry('tune', x, w, options);
      const dy = randomNormal([1, ...g.output, g.CO], { seed: 3 });
      const run = (): Tensor =>
        pass === 'forward'
          ? conv3d(x, w, options)
          : pass === 'input'
            ? conv3dGradInput(dy, w, g)
            : conv3dGradWeight(x, dy, g);
      return {
        run: (variant) => withVariant(family, variant, run).dispose(),
        dispose: () => {
          for (const t of [x, w, dy]) t.dispose();
        },
      };
    },
  });
}

for (const pass of ['forward', 'input', 'weight'] as const) registerPass(pass);

registerTunable({
  family: WEIGHT_VISITS_FAMILY,
  variants: WEIGHT_VISITS,
  kernelFiles: ['conv3d_grad_weight.wgsl'],
  trial(shapeClass) {
    const seen = seenClasses.get(shapeClass);
    if (!seen) return null;
    // Timed under the weight gradient's variant for the class, when that is a direct kernel (a
    // GEMM has no visits to choose).
    const main = chooseVariant(engine.backend.tuningKey, convFamily('weight'), shapeClass, defaultConvVariant());
    if (main in GEMM_TILES) return null;
    // Rows of at least LONG_ROW outputs along z, whatever extents the class was first seen at
    // (the same class: extents are capped at TUNE_EXTENT).
    const KZ = seen.kernel[2];
    const extent = [Math.min(seen.input[0], TUNE_EXTENT), Math.min(seen.input[1], TUNE_EXTENT), LONG_ROW + KZ - 1];
    const options: Conv3dOptions = {
      strides: [...seen.strides],
      dilation: [...seen.dilation],
      padding: seen.padBefore.some((p) => p > 0) ? 'same' : 'valid',
    };
    const x = randomNormal([1, ...extent, seen.CI], { seed: 1 });
    const w = randomNormal([...seen.kernel, seen.CI, seen.CO], { seed: 2, stddev: 0.1 });
    const g = conv3dGeometry('tune', x, w, options);
    const dy = randomNormal([1, ...g.output, g.CO], { seed: 3 });
    const run = (): Tensor => withVariant(convFamily('weight'), main, () => conv3dGradWeight(x, dy, g));
    return {
      run: (variant) => withVariant(WEIGHT_VISITS_FAMILY, variant, run).dispose(),
      dispose: () => {
        for (const t of [x, w, dy]) t.dispose();
      },
    };
  },
});
