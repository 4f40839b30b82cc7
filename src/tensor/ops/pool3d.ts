/**
 * Max and average pooling over 3D windows of channels-last volumes (kernels/pool3d.wgsl), with
 * strides and 'same' / 'valid' padding as conv3d. Average pooling excludes padding from the
 * count; the max gradient goes to the first maximal tap of each window.
 */
import { ValueError, argMessage } from '../../errors.js';
import { engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { bind, checkFloat, describe } from './check.js';
import { geometryParams, groups64, windowGeometry } from './conv3d.js';
import type { Conv3dGeometry } from './conv3d.js';

export interface Pool3dOptions {
  /** Window size, one number or [x, y, z] (default 2). */
  poolSize?: number | readonly number[];
  /** Default: the pool size. */
  strides?: number | readonly number[];
  /** 'valid' (default) or 'same'. */
  padding?: 'same' | 'valid';
}

function pool(name: 'maxPool3d' | 'avgPool3d', x: Tensor, options: Pool3dOptions): Tensor {
  checkFloat(name, 'x', x);
  const size = options.poolSize ?? 2;
  const window = typeof size === 'number' ? [size, size, size] : size;
  if (!Array.isArray(window) || window.length !== 3 || window.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ValueError(argMessage(name, 'poolSize', 'a positive integer or three of them [x, y, z]', describe(size)));
  }
  const g = windowGeometry(name, x, window, x.rank === 5 ? x.shape[4] : 0, { strides: options.strides ?? window, padding: options.padding });
  return engine.run(name, [x], { geometry: g }, () => {
    const y = engine.empty([g.B, ...g.output, g.CO], 'float32');
    if (y.size === 0) return y;
    const mode = name === 'maxPool3d' ? 0 : 1;
    engine.gpu.dispatch({ kernel: 'pool3d', constants: { MODE: mode } }, geometryParams(g), [bind(x), bind(x), bind(y)], groups64(y.size));
    return y;
  });
}

/** Maximum over each window. */
export function maxPool3d(x: Tensor, options: Pool3dOptions = {}): Tensor {
  return pool('maxPool3d', x, options);
}

/** Mean over the taps of each window that lie inside the input. */
export function avgPool3d(x: Tensor, options: Pool3dOptions = {}): Tensor {
  return pool('avgPool3d', x, options);
}

/** dL/dx of a pooling from dy (and x, which the max gradient needs to find each maximum). */
export function pool3dGrad(kind: 'max' | 'avg', dy: Tensor, x: Tensor, g: Conv3dGeometry): Tensor {
  return engine.run('pool3dGrad', [dy, x], { kind }, () => {
    const dx = engine.empty(x.shape, 'float32');
    if (dx.size === 0) return dx;
    engine.gpu.dispatch({ kernel: 'pool3d', constants: { MODE: kind === 'max' ? 2 : 3 } }, geometryParams(g), [bind(dy), bind(x), bind(dx)], groups64(dx.size));
    return dx;
  });
}
