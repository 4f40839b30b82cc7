/**
 * Max and average pooling over 3D windows of channels-last volumes (kernels/pool3d.wgsl), with
 * strides and 'same' / 'valid' padding as conv3d. Average pooling excludes padding from the
 * count; the max gradient goes to the first maximal tap of each window.
 */
import pool3dSource from '../../../kernels/pool3d.wgsl';
import { argMessage, ValueError } from '../../errors.js';
import { bindRange, dispatch, splitWorkgroups, workgroups } from '../dispatch.js';
import { engine } from '../engine.js';
import { defineKernel } from '../kernel.js';
import { defineOp, NOT_DIFFERENTIABLE } from '../op.js';
import type { Tensor } from '../tensor.js';
import { checkFloat, describe } from './check.js';
import {
  CONV_GEOMETRY,
  type Conv3dGeometry,
  GEOMETRY_PARAMS,
  geometryParams,
  windowGeometry,
} from './conv3d/geometry.js';
import {
  inputRowsOf,
  inputRowsOfVoxels,
  inputSlab,
  outputRowsOf,
  outputRowsOfVoxels,
  outputSlab,
} from './conv3d/windows.js';
import { fill } from './creation.js';
import { NUMPY_FLOATS } from './numpy_floats.js';

declare module '../op.js' {
  interface OpAttrs {
    maxPool3d: { geometry: Conv3dGeometry };
    avgPool3d: { geometry: Conv3dGeometry };
    pool3dGrad: { kind: 'max' | 'avg' };
  }
}

/** MODE of kernels/pool3d.wgsl: forward max / average, then their input gradients. */
const MODE = { max: 0, avg: 1, maxGrad: 2, avgGrad: 3, maxGradScatter: 4 } as const;

const POOL3D = defineKernel({
  name: 'pool3d',
  file: 'pool3d.wgsl',
  source: pool3dSource,
  preludes: [NUMPY_FLOATS, CONV_GEOMETRY],
  params: GEOMETRY_PARAMS,
  bindings: ['src', 'x', 'dst'],
  overrides: ['MODE'],
});

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
  const g = windowGeometry(name, x, window, x.rank === 5 ? x.shape[4] : 0, {
    strides: options.strides ?? window,
    padding: options.padding,
  });
  return engine.run(name, [x], { geometry: g }, () => {
    const y = engine.empty([g.B, ...g.output, g.CO], 'float32');
    if (y.size === 0) return y;
    dispatchPerWindow(g, y.size, name === 'maxPool3d' ? MODE.max : MODE.avg, x, x, y);
    return y;
  });
}

/**
 * One invocation per output element (a window and a channel): a range of them reads the input
 * rows under its rows. `out` is output-shaped (the forward's y) or input-shaped (the scatter's dx).
 */
function dispatchPerWindow(
  g: Conv3dGeometry,
  elements: number,
  mode: number,
  src: Tensor,
  x: Tensor,
  out: Tensor,
): void {
  const C = g.CO;
  const windows = splitWorkgroups(workgroups(elements, 64), (w0, w1) => {
    const [e0, e1] = [w0 * 64, Math.min(elements, w1 * 64)];
    const { b0, o0, b1, o1 } = outputRowsOfVoxels(g, Math.floor(e0 / C), Math.floor((e1 - 1) / C) + 1);
    return [inputSlab(g, b0, inputRowsOf(g, o0, o0)[0], b1, inputRowsOf(g, o1, o1)[1]), [e0, e1]];
  });
  const scatter = mode === MODE.maxGradScatter;
  for (const win of windows) {
    const [[x0, x1], [y0, y1]] = win.ranges;
    dispatch(POOL3D, {
      params: geometryParams(g, [], [win.w0 * 64, Math.min(elements, win.w1 * 64), x0, y0]),
      bindings: {
        src: bindRange(src, scatter ? y0 : x0, scatter ? y1 : x1),
        x: bindRange(x, x0, x1),
        dst: scatter ? bindRange(out, x0, x1) : bindRange(out, y0, y1),
      },
      workgroups: win.w1 - win.w0,
      overrides: { MODE: mode },
    });
  }
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
    if (x.size === 0) return engine.empty(x.shape, 'float32');
    // Windows that do not overlap scatter: each searches its maximum once and writes all its
    // taps; positions no window covers (strides past the window, or a 'valid' remainder) start at 0.
    if (kind === 'max' && dy.size > 0 && g.strides.every((s, a) => s >= g.kernel[a]!)) {
      const covered = g.strides.every((s, a) => s === g.kernel[a] && g.output[a]! * s - g.padBefore[a]! >= g.input[a]!);
      const dx = covered ? engine.empty(x.shape, 'float32') : fill(x.shape, 0);
      dispatchPerWindow(g, dy.size, MODE.maxGradScatter, dy, x, dx);
      return dx;
    }
    const dx = engine.empty(x.shape, 'float32');
    // One dx element per invocation: it gathers dy over the windows that contain it, and (max)
    // reads x over those whole windows, a slab of input rows around its own (bound from one base).
    const C = g.CI;
    const windows = splitWorkgroups(workgroups(dx.size, 64), (w0, w1) => {
      const [e0, e1] = [w0 * 64, Math.min(dx.size, w1 * 64)];
      const { b0, i0, b1, i1 } = inputRowsOfVoxels(g, Math.floor(e0 / C), Math.floor((e1 - 1) / C) + 1);
      const [oa, ob] = [outputRowsOf(g, i0, i0)[0], outputRowsOf(g, i1, i1)[1]];
      const xa = Math.min(i0, inputRowsOf(g, oa, oa)[0]);
      const xb = Math.max(i1, inputRowsOf(g, ob, ob)[1]);
      return [inputSlab(g, b0, xa, b1, xb), outputSlab(g, b0, oa, b1, ob), [e0, e1]];
    });
    for (const win of windows) {
      const [[x0, x1], [y0, y1], [, d1]] = win.ranges;
      dispatch(POOL3D, {
        params: geometryParams(g, [], [win.w0 * 64, Math.min(dx.size, win.w1 * 64), x0, y0]),
        bindings: { src: bindRange(dy, y0, y1), x: bindRange(x, x0, x1), dst: bindRange(dx, x0, Math.max(x1, d1)) },
        workgroups: win.w1 - win.w0,
        overrides: { MODE: kind === 'max' ? MODE.maxGrad : MODE.avgGrad },
      });
    }
    return dx;
  });
}

defineOp('pool3dGrad', NOT_DIFFERENTIABLE);
defineOp('maxPool3d', {
  saveInputs: true,
  grad: (dy, s) => [() => pool3dGrad('max', dy, s.inputs[0]!, s.attrs.geometry)],
});
defineOp('avgPool3d', {
  saveInputs: true,
  grad: (dy, s) => [() => pool3dGrad('avg', dy, s.inputs[0]!, s.attrs.geometry)],
});
