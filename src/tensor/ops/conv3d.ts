/**
 * 3D convolution on channels-last volumes: x (B, X, Y, Z, Cin) with a Keras-layout kernel
 * w (KX, KY, KZ, Cin, Cout), strides, dilation and 'same' / 'valid' padding (TensorFlow's rule:
 * 'same' gives ceil(I / s) outputs with the extra padding after). Forward (with the bias and a
 * relu fused into its output pass), input gradient and weight gradient are three hand-written
 * kernels (kernels/conv3d*.wgsl). Forward and input gradient give each invocation a few voxels
 * along z and every channel, reading the kernel in vec4 blocks the host pads (and, for the input
 * gradient, transposes) first; the weight gradient sums chunks of voxels, then the chunks.
 */
import { ShapeError, ValueError, argMessage } from '../../errors.js';
import { engine } from '../engine.js';
import { ParamWriter } from '../params.js';
import type { Tensor } from '../tensor.js';
import { bind, checkFloat, describe } from './check.js';
import { fill } from './creation.js';
import { pad, reshape, transpose } from './movement.js';
import { sum } from './reduce.js';

export interface Conv3dOptions {
  /** Step between output positions, one number or [x, y, z] (default 1). */
  strides?: number | readonly number[];
  /** 'valid' (default, no padding) or 'same' (ceil(input / stride) outputs per axis). */
  padding?: 'same' | 'valid';
  /** Spacing between kernel taps, one number or [x, y, z] (default 1). */
  dilation?: number | readonly number[];
}

/** What conv3d can fuse into its output pass. */
export interface Conv3dFused {
  /** Added per output channel (shape [Cout]). */
  bias?: Tensor | null;
  /** 'linear' (default) or 'relu', applied after the bias. */
  activation?: 'linear' | 'relu';
}

export interface Conv3dGeometry {
  readonly B: number;
  readonly input: readonly [number, number, number];
  readonly output: readonly [number, number, number];
  readonly kernel: readonly [number, number, number];
  readonly CI: number;
  readonly CO: number;
  readonly strides: readonly [number, number, number];
  readonly dilation: readonly [number, number, number];
  readonly padBefore: readonly [number, number, number];
}

function triple(fn: string, arg: string, v: unknown): [number, number, number] {
  const t = typeof v === 'number' ? [v, v, v] : Array.isArray(v) ? v : null;
  if (!t || t.length !== 3 || t.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ValueError(argMessage(fn, arg, 'a positive integer or three of them [x, y, z]', describe(v)));
  }
  return [t[0], t[1], t[2]];
}

/** Checks the arguments and computes the output shape and padding (before any GPU work). */
export function conv3dGeometry(fn: string, x: Tensor, w: Tensor, options: Conv3dOptions = {}): Conv3dGeometry {
  checkFloat(fn, 'x', x);
  checkFloat(fn, 'kernel', w);
  if (x.rank !== 5) throw new ShapeError(argMessage(fn, 'x', 'rank 5 (batch, x, y, z, channels)', describe(x)));
  if (w.rank !== 5) throw new ShapeError(argMessage(fn, 'kernel', 'rank 5 (kx, ky, kz, in, out)', describe(w)));
  if (w.shape[3] !== x.shape[4]) {
    throw new ShapeError(argMessage(fn, 'kernel', `${x.shape[4]} input channels (x's last axis) on axis 3`, describe(w)));
  }
  return windowGeometry(fn, x, [w.shape[0], w.shape[1], w.shape[2]], w.shape[4], options);
}

/** Strides, dilation and padding checked and filled in with their defaults. */
export function windowOptions(fn: string, options: Conv3dOptions): { strides: [number, number, number]; dilation: [number, number, number]; padding: 'same' | 'valid' } {
  const strides = triple(fn, 'strides', options.strides ?? 1);
  const dilation = triple(fn, 'dilation', options.dilation ?? 1);
  const padding = options.padding ?? 'valid';
  if (padding !== 'same' && padding !== 'valid') throw new ValueError(argMessage(fn, 'padding', "'same' or 'valid'", describe(padding)));
  return { strides, dilation, padding };
}

/**
 * Output shape and padding of a sliding 3D window (a convolution kernel or a pooling window) of
 * `window` taps over the channels-last x, giving `channelsOut` channels.
 */
export function windowGeometry(fn: string, x: Tensor, window: readonly number[], channelsOut: number, options: Conv3dOptions): Conv3dGeometry {
  if (x.rank !== 5) throw new ShapeError(argMessage(fn, 'x', 'rank 5 (batch, x, y, z, channels)', describe(x)));
  return windowGeometryOfShape(fn, x.shape, window, channelsOut, options);
}

/** `windowGeometry` from x's shape alone (layers use it on symbolic shapes, batch -1 allowed). */
export function windowGeometryOfShape(fn: string, xShape: readonly number[], window: readonly number[], channelsOut: number, options: Conv3dOptions): Conv3dGeometry {
  const shown = `shape [${xShape.join(', ')}]`;
  const { strides, dilation, padding } = windowOptions(fn, options);
  const input = [xShape[1], xShape[2], xShape[3]] as [number, number, number];
  const kernel = [window[0], window[1], window[2]] as [number, number, number];
  const output = [0, 0, 0] as [number, number, number];
  const padBefore = [0, 0, 0] as [number, number, number];
  for (let a = 0; a < 3; a++) {
    const span = (kernel[a] - 1) * dilation[a] + 1;
    if (padding === 'valid') {
      output[a] = Math.floor((input[a] - span) / strides[a]) + 1;
      if (input[a] < span) {
        throw new ShapeError(argMessage(fn, 'x', `spatial size >= ${span} on axis ${a + 1} for a 'valid' window span of ${span}`, shown));
      }
    } else {
      output[a] = Math.ceil(input[a] / strides[a]);
      padBefore[a] = Math.floor(Math.max((output[a] - 1) * strides[a] + span - input[a], 0) / 2);
    }
  }
  return { B: xShape[0], input, output, kernel, CI: xShape[4], CO: channelsOut, strides, dilation, padBefore };
}

/** The geometry uniform of kernels/conv3d_geometry.wgsl. */
export function geometryParams(g: Conv3dGeometry, extra: [number, number] = [0, 0]): Uint8Array {
  const w = new ParamWriter();
  for (const v of [[...g.input, g.CI], [...g.output, g.CO], [...g.kernel, g.B], [...g.strides, 0], [...g.dilation, 0], [...g.padBefore, 0], [...extra, 0, 0]]) {
    for (const e of v) w.u32(e);
  }
  return w.bytes();
}

/** Workgroups of 64 invocations covering n. */
export const groups64 = (n: number): number => Math.ceil(n / 64);

/** Voxels along z per conv3d / conv3d_grad_input invocation: up to 16 vec4 accumulators. */
function voxelsPerInvocation(CO4: number, OZ: number): number {
  return Math.max(1, Math.min(4, Math.floor(16 / CO4), OZ));
}

/**
 * y = activation(conv3d(x, w) + bias): (B, OX, OY, OZ, Cout), the bias and a relu fused into the
 * kernel's output pass. Differentiable with respect to x, w and the bias.
 */
export function conv3d(x: Tensor, w: Tensor, options: Conv3dOptions & Conv3dFused = {}): Tensor {
  const g = conv3dGeometry('conv3d', x, w, options);
  const bias = options.bias ?? null;
  if (bias !== null && (checkFloat('conv3d', 'bias', bias).rank !== 1 || bias.shape[0] !== g.CO)) {
    throw new ShapeError(argMessage('conv3d', 'bias', `shape [${g.CO}] (the kernel's output channels)`, describe(bias)));
  }
  const activation = options.activation ?? 'linear';
  if (activation !== 'linear' && activation !== 'relu') throw new ValueError(argMessage('conv3d', 'activation', "'linear' or 'relu'", describe(activation)));
  return engine.run('conv3d', bias ? [x, w, bias] : [x, w], { geometry: g, activation }, () => {
    const y = engine.empty([g.B, ...g.output, g.CO], 'float32');
    if (y.size === 0) return y;
    const CO4 = Math.ceil(g.CO / 4);
    const VZ = voxelsPerInvocation(CO4, g.output[2]);
    const blocks = g.B * g.output[0] * g.output[1] * Math.ceil(g.output[2] / VZ);
    const extra = CO4 * 4 - g.CO;
    const padded = extra === 0 ? w : pad(w, [[0, 0], [0, 0], [0, 0], [0, 0], [0, extra]]);
    const paddedBias = bias === null || extra === 0 ? bias : pad(bias, [[0, extra]]);
    const spec = { kernel: 'conv3d', consts: { CO4, VZ }, constants: { HAS_BIAS: bias ? 1 : 0, ACT: activation === 'relu' ? 1 : 0 } };
    // Without a bias the kernel reads none; the weights stand in for the binding.
    engine.gpu.dispatch(spec, geometryParams(g), [bind(x), bind(padded), bind(y), bind(paddedBias ?? padded)], groups64(blocks));
    if (padded !== w) padded.dispose();
    if (paddedBias !== bias) paddedBias?.dispose();
    return y;
  });
}

/** dL/dx of conv3d from dy (B, OX, OY, OZ, Cout). */
export function conv3dGradInput(dy: Tensor, w: Tensor, g: Conv3dGeometry): Tensor {
  return engine.run('conv3dGradInput', [dy, w], {}, () => {
    const dx = engine.empty([g.B, ...g.input, g.CI], 'float32');
    if (dx.size === 0) return dx;
    const CI4 = Math.ceil(g.CI / 4);
    const VZ = voxelsPerInvocation(CI4, g.input[2]);
    const blocks = g.B * g.input[0] * g.input[1] * Math.ceil(g.input[2] / VZ);
    // (KX, KY, KZ, CO, CI4 · 4): each output channel's weights for all input channels in vec4s.
    const swapped = transpose(w, [0, 1, 2, 4, 3]);
    const wt = CI4 * 4 === g.CI ? swapped : pad(swapped, [[0, 0], [0, 0], [0, 0], [0, 0], [0, CI4 * 4 - g.CI]]);
    engine.gpu.dispatch({ kernel: 'conv3d_grad_input', consts: { CI4, VZ } }, geometryParams(g), [bind(dy), bind(wt), bind(dx)], groups64(blocks));
    swapped.dispose();
    if (wt !== swapped) wt.dispose();
    return dx;
  });
}

/** dL/dw of conv3d from x and dy, summed over chunks of the output voxels (deterministic). */
export function conv3dGradWeight(x: Tensor, dy: Tensor, g: Conv3dGeometry): Tensor {
  return engine.run('conv3dGradWeight', [x, dy], {}, () => {
    const taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
    const wShape = [...g.kernel, g.CI, g.CO];
    const voxels = g.B * g.output[0] * g.output[1] * g.output[2];
    if (voxels === 0 || taps * g.CI === 0 || g.CO === 0) return fill(wShape, 0);
    // Each invocation owns TB taps × CIB channels × all output channels (at most 32 vec4
    // accumulators, the best measured on lavapipe); enough chunks of at least 256 voxels to give the device ~4096 invocations.
    const CO4 = Math.ceil(g.CO / 4);
    const CIB = Math.max(1, Math.min(g.CI, Math.floor(32 / CO4)));
    const TB = Math.max(1, Math.min(taps, Math.floor(32 / (CO4 * CIB))));
    const blocks = Math.ceil(taps / TB) * Math.ceil(g.CI / CIB);
    const chunks = Math.max(1, Math.min(Math.ceil(voxels / 256), Math.ceil(4096 / blocks)));
    const perChunk = Math.ceil(voxels / chunks);
    const partial = engine.empty([chunks, taps * g.CI * g.CO], 'float32');
    const spec = { kernel: 'conv3d_grad_weight', consts: { CO4, TB, CIB } };
    engine.gpu.dispatch(spec, geometryParams(g, [chunks, perChunk]), [bind(x), bind(dy), bind(partial)], groups64(chunks * blocks));
    const summed = sum(partial, 0);
    partial.dispose();
    const dw = reshape(summed, wShape);
    summed.dispose();
    return dw;
  });
}
