/**
 * Group normalisation of channels-last volumes (Wu & He 2018), suited to the small batches of 3D
 * segmentation: statistics per sample over the voxels and the channels of each group, then a
 * learned per-channel scale and shift. groups = channels is instance normalisation. Composed of
 * tested ops, so its gradient comes from theirs.
 */
import { ShapeError, ValueError, argMessage } from '../errors.js';
import { checkFloat, describe } from '../tensor/ops/check.js';
import { add, affine, mul, rsqrt, square, sub } from '../tensor/ops/elementwise.js';
import { reshape } from '../tensor/ops/movement.js';
import { mean } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';

export interface GroupNormOptions {
  /** Channel groups (must divide the channel count); the channel count gives instance norm. */
  groups: number;
  /** Added to the variance (default 1e-5). */
  epsilon?: number;
}

/** (x − mean) / sqrt(var + ε) per (sample, group), times gamma plus beta (both of shape [C]). */
export function groupNorm(x: Tensor, gamma: Tensor | null, beta: Tensor | null, options: GroupNormOptions): Tensor {
  const fn = 'groupNorm';
  checkFloat(fn, 'x', x);
  if (x.rank < 3) throw new ShapeError(argMessage(fn, 'x', 'rank >= 3 (batch, ...spatial, channels)', describe(x)));
  const C = x.shape[x.rank - 1];
  const G = options.groups;
  if (!Number.isInteger(G) || G < 1 || C % G !== 0) throw new ValueError(argMessage(fn, 'groups', `a divisor of the ${C} channels`, describe(G)));
  const eps = options.epsilon ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0)) throw new ValueError(argMessage(fn, 'epsilon', 'a number > 0', describe(eps)));
  for (const [arg, p] of [['gamma', gamma], ['beta', beta]] as const) {
    if (p && (checkFloat(fn, arg, p).rank !== 1 || p.shape[0] !== C)) throw new ShapeError(argMessage(fn, arg, `shape [${C}]`, describe(p)));
  }
  const N = x.size / (x.shape[0] * C);
  const grouped = reshape(x, [x.shape[0], N, G, C / G]);
  const centred = sub(grouped, mean(grouped, [1, 3], true));
  const normed = reshape(mul(centred, rsqrt(affine(mean(square(centred), [1, 3], true), 1, eps))), x.shape);
  const scaled = gamma ? mul(normed, gamma) : normed;
  return beta ? add(scaled, beta) : scaled;
}
