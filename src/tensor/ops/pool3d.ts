/**
 * Max and average pooling over 3D windows of channels-last volumes (kernels/pool3d.wgsl, their
 * gradients kernels/pool3d_grad.wgsl), with strides and 'same' / 'valid' padding as conv3d.
 * Average pooling excludes padding from the count; the max gradient goes to the first maximal tap
 * of each window. The same kernels sum windows and spread a value over each window, the two
 * directions of nearest-neighbour upsampling (upsample.ts).
 */
import pool3dSource from '../../../kernels/pool3d.wgsl';
import pool3dGradSource from '../../../kernels/pool3d_grad.wgsl';
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

/** MODE of kernels/pool3d.wgsl. */
const MODE = { max: 0, avg: 1, sum: 2 } as const;
/** MODE of kernels/pool3d_grad.wgsl. */
const GRAD_MODE = { max: 0, avg: 1, maxScatter: 2, spread: 3 } as const;

const POOL3D = defineKernel({
  name: 'pool3d',
  file: 'pool3d.wgsl',
  source: pool3dSource,
  preludes: [NUMPY_FLOATS, CONV_GEOMETRY],
  params: GEOMETRY_PARAMS,
  bindings: ['x', 'y'],
  overrides: ['MODE'],
  consts: ['VW'],
  aliases: ['V', 'VU'],
});

const POOL3D_GRAD = defineKernel({
  name: 'pool3d_grad',
  file: 'pool3d_grad.wgsl',
  source: pool3dGradSource,
  preludes: [NUMPY_FLOATS, CONV_GEOMETRY],
  params: GEOMETRY_PARAMS,
  bindings: ['dy', 'x', 'dx'],
  overrides: ['MODE'],
  consts: ['VW'],
  aliases: ['V', 'VU', 'VB'],
});

/** The element the pooling kernels read: 4 channels of a voxel where C is a multiple of 4. */
function elementOf(C: number): { VW: number; aliases: { V: string; VU: string; VB: string } } {
  return C % 4 === 0
    ? { VW: 4, aliases: { V: 'vec4<f32>', VU: 'vec4<u32>', VB: 'vec4<bool>' } }
    : { VW: 1, aliases: { V: 'f32', VU: 'u32', VB: 'bool' } };
}

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
    poolForward(g, name === 'maxPool3d' ? MODE.max : MODE.avg, x, y);
    return y;
  });
}

/**
 * Work split by windows (a range of invocations reads the input rows under its output rows):
 * `units` invocations of `per` elements of the output-shaped tensor (channels of one voxel),
 * each window's binding ranges of the input- and output-shaped tensors to `run`.
 */
function perOutputWindows(
  g: Conv3dGeometry,
  units: number,
  per: number,
  run: (w0: number, w1: number, input: [number, number], output: [number, number]) => void,
): void {
  const C = g.CO;
  const windows = splitWorkgroups(workgroups(units, 64), (w0, w1) => {
    const [e0, e1] = [w0 * 64 * per, Math.min(units, w1 * 64) * per];
    const { b0, o0, b1, o1 } = outputRowsOfVoxels(g, Math.floor(e0 / C), Math.floor((e1 - 1) / C) + 1);
    return [inputSlab(g, b0, inputRowsOf(g, o0, o0)[0], b1, inputRowsOf(g, o1, o1)[1]), [e0, e1]];
  });
  for (const win of windows) {
    const [input, output] = win.ranges as [[number, number], [number, number]];
    run(win.w0, win.w1, input, output);
  }
}

/** y = the max, mean or sum of each window of x (kernels/pool3d.wgsl), 4 channels an invocation where C allows. */
function poolForward(g: Conv3dGeometry, mode: number, x: Tensor, y: Tensor): void {
  const { VW, aliases } = elementOf(g.CO);
  const units = y.size / VW;
  perOutputWindows(g, units, VW, (w0, w1, [x0, x1], [y0, y1]) => {
    dispatch(POOL3D, {
      params: geometryParams(g, [], [w0 * 64, Math.min(units, w1 * 64), x0, y0]),
      bindings: { x: bindRange(x, x0, x1), y: bindRange(y, y0, y1) },
      workgroups: w1 - w0,
      overrides: { MODE: mode },
      consts: { VW },
      aliases: { V: aliases.V, VU: aliases.VU },
    });
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

/** The sum of each window of x in one pass of the pooling kernel (the op is upsample.ts's windowSums). */
export function poolSums(x: Tensor, g: Conv3dGeometry): Tensor {
  const y = engine.empty([g.B, ...g.output, g.CO], 'float32');
  if (y.size > 0) poolForward(g, MODE.sum, x, y);
  return y;
}

/**
 * Windows that do not overlap, each writing all its taps of the input-shaped result from dy (its
 * value, or for the max gradient its value at the first maximal tap of x and 0 elsewhere);
 * positions no window covers (strides past the window, or a 'valid' remainder) are 0.
 */
function scatterWindows(
  g: Conv3dGeometry,
  mode: number,
  dy: Tensor,
  x: Tensor | null,
  shape: readonly number[],
): Tensor {
  const { VW, aliases } = elementOf(g.CI);
  const covered = g.strides.every((s, a) => s === g.kernel[a] && g.output[a]! * s - g.padBefore[a]! >= g.input[a]!);
  const dx = covered ? engine.empty(shape, 'float32') : fill(shape, 0);
  const windowsOfDy = dy.size / VW;
  perOutputWindows(g, windowsOfDy, VW, (w0, w1, [x0, x1], [y0, y1]) => {
    dispatch(POOL3D_GRAD, {
      params: geometryParams(g, [], [w0 * 64, Math.min(windowsOfDy, w1 * 64), x0, y0]),
      // Without an x (the spread reads none), dy's window stands in for its binding.
      bindings: {
        dy: bindRange(dy, y0, y1),
        x: x ? bindRange(x, x0, x1) : bindRange(dy, y0, y1),
        dx: bindRange(dx, x0, x1),
      },
      workgroups: w1 - w0,
      overrides: { MODE: mode },
      consts: { VW },
      aliases,
    });
  });
  return dx;
}

/**
 * Each window's value of y (output-shaped) written to all its taps of a result of the input's
 * shape, 0 where no window reaches: nearest-neighbour upsampling, and the gradient of poolSums.
 * The windows must not overlap.
 */
export function poolSpread(y: Tensor, g: Conv3dGeometry): Tensor {
  const shape = [g.B, ...g.input, g.CI];
  if (shape.includes(0)) return engine.empty(shape, 'float32');
  if (y.size === 0) return fill(shape, 0);
  return scatterWindows(g, GRAD_MODE.spread, y, null, shape);
}

/** dL/dx of a pooling from dy (and x, which the max gradient needs to find each maximum). */
export function pool3dGrad(kind: 'max' | 'avg', dy: Tensor, x: Tensor, g: Conv3dGeometry): Tensor {
  return engine.run('pool3dGrad', [dy, x], { kind }, () => {
    if (x.size === 0) return engine.empty(x.shape, 'float32');
    // Windows that do not overlap scatter: each searches its maximum once and writes all its taps.
    if (kind === 'max' && dy.size > 0 && g.strides.every((s, a) => s >= g.kernel[a]!)) {
      return scatterWindows(g, GRAD_MODE.maxScatter, dy, x, x.shape);
    }
    const { VW, aliases } = elementOf(g.CI);
    const dx = engine.empty(x.shape, 'float32');
    // VW dx elements per invocation: it gathers dy over the windows that contain them, and (max)
    // reads x over those whole windows, a slab of input rows around its own (bound from one base).
    const C = g.CI;
    const units = dx.size / VW;
    const windows = splitWorkgroups(workgroups(units, 64), (w0, w1) => {
      const [e0, e1] = [w0 * 64 * VW, Math.min(units, w1 * 64) * VW];
      const { b0, i0, b1, i1 } = inputRowsOfVoxels(g, Math.floor(e0 / C), Math.floor((e1 - 1) / C) + 1);
      const [oa, ob] = [outputRowsOf(g, i0, i0)[0], outputRowsOf(g, i1, i1)[1]];
      const xa = Math.min(i0, inputRowsOf(g, oa, oa)[0]);
      const xb = Math.max(i1, inputRowsOf(g, ob, ob)[1]);
      return [inputSlab(g, b0, xa, b1, xb), outputSlab(g, b0, oa, b1, ob), [e0, e1]];
    });
    for (const win of windows) {
      const [[x0, x1], [y0, y1], [, d1]] = win.ranges;
      dispatch(POOL3D_GRAD, {
        params: geometryParams(g, [], [win.w0 * 64, Math.min(units, win.w1 * 64), x0, y0]),
        bindings: { dy: bindRange(dy, y0, y1), x: bindRange(x, x0, x1), dx: bindRange(dx, x0, Math.max(x1, d1)) },
        workgroups: win.w1 - win.w0,
        overrides: { MODE: GRAD_MODE[kind] },
        consts: { VW },
        aliases,
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
