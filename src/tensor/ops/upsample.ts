/**
 * Nearest-neighbour 3D upsampling of channels-last volumes: each voxel repeated f_x · f_y · f_z
 * times. Built from a reshape, a broadcast and a reshape (no kernel of its own), so its gradient,
 * the sum over each block, comes from the broadcast's rule.
 */
import { argMessage, ShapeError, ValueError } from '../../errors.js';
import type { Tensor } from '../tensor.js';
import { checkFloat, describe } from './check.js';
import { broadcastTo, reshape } from './movement.js';

export function upSampling3d(x: Tensor, size: number | readonly number[] = 2): Tensor {
  const fn = 'upSampling3d';
  checkFloat(fn, 'x', x);
  if (x.rank !== 5) throw new ShapeError(argMessage(fn, 'x', 'rank 5 (batch, x, y, z, channels)', describe(x)));
  const f = typeof size === 'number' ? [size, size, size] : size;
  if (!Array.isArray(f) || f.length !== 3 || f.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ValueError(argMessage(fn, 'size', 'a positive integer or three of them [x, y, z]', describe(size)));
  }
  const [B, X, Y, Z, C] = x.shape;
  const spread = reshape(x, [B, X, 1, Y, 1, Z, 1, C]);
  const tiled = broadcastTo(spread, [B, X, f[0], Y, f[1], Z, f[2], C]);
  const out = reshape(tiled, [B, X * f[0], Y * f[1], Z * f[2], C]);
  spread.dispose();
  tiled.dispose();
  return out;
}
