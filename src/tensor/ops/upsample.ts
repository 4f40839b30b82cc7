/**
 * Nearest-neighbour 3D upsampling of channels-last volumes: each voxel repeated f_x · f_y · f_z
 * times. Upsampling and its gradient, the sum over each block (windowSums), are the two directions
 * of pooling by non-overlapping blocks: one pass each of the pooling kernels, each invocation
 * taking 1 or 4 channels of one block (kernels/pool3d_grad.wgsl spreads a voxel's values over
 * its block, kernels/pool3d.wgsl sums one), instead of a broadcast copy and a reduction of the
 * three block axes one at a time.
 */
import { argMessage, ShapeError, ValueError } from '../../errors.js';
import { engine } from '../engine.js';
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';
import { checkFloat, describe } from './check.js';
import { windowGeometry, windowGeometryOfShape } from './conv3d/geometry.js';
import { pad } from './movement.js';
import { poolSpread, poolSums } from './pool3d.js';

declare module '../op.js' {
  interface OpAttrs {
    upSampling3d: { size: readonly number[] };
    windowSums: { size: readonly number[] };
  }
}

export function upSampling3d(x: Tensor, size: number | readonly number[] = 2): Tensor {
  const fn = 'upSampling3d';
  checkFloat(fn, 'x', x);
  if (x.rank !== 5) throw new ShapeError(argMessage(fn, 'x', 'rank 5 (batch, x, y, z, channels)', describe(x)));
  const f = typeof size === 'number' ? [size, size, size] : size;
  if (!Array.isArray(f) || f.length !== 3 || f.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ValueError(argMessage(fn, 'size', 'a positive integer or three of them [x, y, z]', describe(size)));
  }
  const factors = [...f];
  return engine.run(fn, [x], { size: factors }, () => {
    const [B, X, Y, Z, C] = x.shape as [number, number, number, number, number];
    const out = [B, X * factors[0]!, Y * factors[1]!, Z * factors[2]!, C];
    if (out.includes(0)) return engine.empty(out, 'float32');
    // x is the result of pooling `out` by blocks of the factors; each of its values fills its block.
    return poolSpread(x, windowGeometryOfShape(fn, out, factors, C, { strides: factors, padding: 'valid' }));
  });
}

/**
 * The sum of each size[0] × size[1] × size[2] block of x (B, X, Y, Z, C), blocks that do not fit
 * at the far end of an axis left out: upsampling's gradient, in one pass (kernels/pool3d.wgsl).
 */
export function windowSums(x: Tensor, size: readonly number[]): Tensor {
  const [B, X, Y, Z, C] = x.shape;
  const out = [B!, ...[X!, Y!, Z!].map((d, a) => Math.floor(d / size[a]!)), C!];
  return engine.run('windowSums', [x], { size }, () => {
    // An axis shorter than one block (an empty one included) has no whole block: an empty result.
    if (out.includes(0)) return engine.empty(out, 'float32');
    return poolSums(x, windowGeometry('windowSums', x, size, C!, { strides: size, padding: 'valid' }));
  });
}

defineOp('upSampling3d', {
  grad: (dy, s) => [() => windowSums(dy, s.attrs.size)],
});
// Each value of a block receives its block's gradient; values past the last whole block get 0.
defineOp('windowSums', {
  grad: (dy, s) => [
    () => {
      const up = upSampling3d(dy, s.attrs.size);
      const shape = s.inputShapes[0]!;
      if (up.shape.every((d, a) => d === shape[a])) return up;
      const padded = pad(
        up,
        shape.map((d, a) => [0, d - up.shape[a]!] as const),
      );
      up.dispose();
      return padded;
    },
  ],
});
