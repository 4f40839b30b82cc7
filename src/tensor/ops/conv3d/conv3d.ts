/**
 * 3D convolution on channels-last volumes: x (B, X, Y, Z, Cin) with a Keras-layout kernel
 * w (KX, KY, KZ, Cin, Cout), strides, dilation and 'same' / 'valid' padding (TensorFlow's rule:
 * 'same' gives ceil(I / s) outputs with the extra padding after). Forward (with the bias and a
 * relu fused into its output pass), input gradient and weight gradient are three hand-written
 * kernels (kernels/conv3d*.wgsl). Forward and input gradient give each invocation a few voxels
 * along z and every channel, reading the kernel in vec4 blocks the host pads (and, for the input
 * gradient, transposes) first; the weight gradient sums chunks of voxels, then the chunks.
 */
import conv3dSource from '../../../../kernels/conv3d.wgsl';
import { argMessage, ShapeError, ValueError } from '../../../errors.js';
import { bind, bindRange, dispatch, splitWorkgroups, workgroups } from '../../dispatch.js';
import { engine } from '../../engine.js';
import { defineKernel } from '../../kernel.js';
import { defineOp } from '../../op.js';
import type { Tensor } from '../../tensor.js';
import { chooseVariant } from '../../tuning.js';
import { checkFloat, describe } from '../check.js';
import { fill } from '../creation.js';
import { add, mul, relu, unary } from '../elementwise/index.js';
import { pad, reshape, slice } from '../movement.js';
import { sum } from '../reduce.js';
import { conv3dGradInput, conv3dGradWeight } from './backward.js';
import {
  CONV_GEOMETRY,
  type Conv3dGeometry,
  type Conv3dOptions,
  conv3dGeometry,
  GEOMETRY_PARAMS,
  geometryParams,
} from './geometry.js';
import { convGemm } from './igemm.js';
import { convBlocks, convFamily, GEMM_TILES, type GemmTiles, rememberClass } from './variants.js';
import { inputRowsOf, inputSlab, outputRowsOfVoxels } from './windows.js';

/** What conv3d can fuse into its output pass. */
export interface Conv3dFused {
  /** Added per output channel (shape [Cout]). */
  bias?: Tensor | null;
  /** 'linear' (default) or 'relu', applied after the bias. */
  activation?: 'linear' | 'relu';
}

declare module '../../op.js' {
  interface OpAttrs {
    conv3d: { geometry: Conv3dGeometry; activation: 'linear' | 'relu' };
  }
}

const CONV3D = defineKernel({
  name: 'conv3d',
  file: 'conv3d.wgsl',
  source: conv3dSource,
  preludes: [CONV_GEOMETRY],
  params: GEOMETRY_PARAMS,
  bindings: ['x', 'w', 'y', 'bias'],
  overrides: ['HAS_BIAS', 'ACT'],
  consts: ['VZ', 'CB4', 'KZ', 'SZ', 'DZ', 'WU4'],
});

/**
 * y = activation(conv3d(x, w) + bias): (B, OX, OY, OZ, Cout), the bias and a relu fused into the
 * kernel's output pass. Differentiable with respect to x, w and the bias.
 */
export function conv3d(x: Tensor, w: Tensor, options: Conv3dOptions & Conv3dFused = {}): Tensor {
  const g = conv3dGeometry('conv3d', x, w, options);
  const bias = options.bias ?? null;
  if (bias !== null && (checkFloat('conv3d', 'bias', bias).rank !== 1 || bias.shape[0] !== g.CO)) {
    throw new ShapeError(
      argMessage('conv3d', 'bias', `shape [${g.CO}] (the kernel's output channels)`, describe(bias)),
    );
  }
  const activation = options.activation ?? 'linear';
  if (activation !== 'linear' && activation !== 'relu')
    throw new ValueError(argMessage('conv3d', 'activation', "'linear' or 'relu'", describe(activation)));
  return engine.run('conv3d', bias ? [x, w, bias] : [x, w], { geometry: g, activation }, () => {
    const y = engine.empty([g.B, ...g.output, g.CO], 'float32');
    if (y.size === 0) return y;
    // No input channels: every output is an empty sum, 0 (as NumPy), then the bias and relu.
    if (g.CI === 0) return emptySum(y, bias, activation);
    const variant = chooseVariant(engine.backend.adapterName, convFamily('forward'), rememberClass(g));
    const relu = activation === 'relu';
    if (variant in GEMM_TILES) forwardGemm(x, w, bias, y, g, relu, GEMM_TILES[variant]!);
    else forwardDirect(x, w, bias, y, g, relu);
    return y;
  });
}

/** The output of a convolution over no input channels: the bias (or 0), then the activation. */
function emptySum(y: Tensor, bias: Tensor | null, activation: 'linear' | 'relu'): Tensor {
  if (!bias) {
    y.dispose();
    return fill(y.shape, 0);
  }
  const zero = fill(y.shape, 0);
  const biased = add(zero, bias);
  zero.dispose();
  y.dispose();
  if (activation === 'linear') return biased;
  const activated = relu(biased);
  biased.dispose();
  return activated;
}

/** Output channels padded with zeros to a multiple of `multiple` (the kernel and the bias). */
function padChannels(t: Tensor, multiple: number): Tensor {
  const extra = Math.ceil(t.shape[t.rank - 1]! / multiple) * multiple - t.shape[t.rank - 1]!;
  return extra === 0
    ? t
    : pad(
        t,
        t.shape.map((_, i) => [0, i === t.rank - 1 ? extra : 0] as [number, number]),
      );
}

/**
 * The vec4s a direct kernel may read through its uniform weight binding: the device's
 * maxUniformBufferBindingSize, at most 64 KiB (WebGPU's guaranteed size).
 */
export function uniformWeightVec4s(): number {
  return Math.floor(Math.min(engine.backend.limits.maxUniformBufferBindingSize ?? 65536, 65536) / 16);
}

/**
 * Input-channel chunks of a direct kernel whose weights (taps · CO4 vec4s per input channel) come
 * through the uniform binding: [first channel, channels] per dispatch, or null when one input
 * channel's weights alone exceed it (then the GEMM variant runs).
 */
export function weightChunks(taps: number, CI: number, CO4: number): [number, number][] | null {
  const perChannel = taps * CO4;
  const fit = Math.floor(uniformWeightVec4s() / perChannel);
  if (fit < 1) return null;
  const count = Math.ceil(CI / fit);
  // Even chunks (the last no smaller than the others by more than one channel).
  const size = Math.ceil(CI / count);
  const chunks: [number, number][] = [];
  for (let c0 = 0; c0 < CI; c0 += size) chunks.push([c0, Math.min(size, CI - c0)]);
  return chunks;
}

/**
 * A chunk of a (KX, KY, KZ, CI, C) kernel as its uniform binding: input channels [c0, c0 + n),
 * flattened, then zeros up to WU4 vec4s (a power of two, so few pipeline variants).
 */
export function uniformWeights(w: Tensor, c0: number, n: number): { weights: Tensor; WU4: number } {
  const [KX, KY, KZ, CI, C] = w.shape as [number, number, number, number, number];
  const chunk = n === CI ? w : slice(w, [0, 0, 0, c0, 0], [KX, KY, KZ, n, C]);
  const flat = reshape(chunk, [chunk.size]);
  if (chunk !== w) chunk.dispose();
  const WU4 = Math.min(uniformWeightVec4s(), 2 ** Math.ceil(Math.log2(Math.max(16, flat.size / 4))));
  const weights = pad(flat, [[0, WU4 * 4 - flat.size]]);
  flat.dispose();
  return { weights, WU4 };
}

function forwardDirect(x: Tensor, w: Tensor, bias: Tensor | null, y: Tensor, g: Conv3dGeometry, relu: boolean): void {
  const { VZ, CB4 } = convBlocks.direct(g.CO, g.output[2]);
  // Output channels padded to whole blocks of CB4 vec4s (zero weights and bias).
  const CBLOCKS = Math.ceil(g.CO / (4 * CB4));
  const chunks = weightChunks(g.kernel[0] * g.kernel[1] * g.kernel[2], g.CI, CBLOCKS * CB4);
  if (!chunks) {
    forwardGemm(x, w, bias, y, g, relu, GEMM_TILES.gemm64x64!);
    return;
  }
  const padded = padChannels(w, 4 * CB4);
  const paddedBias = bias && padChannels(bias, 4 * CB4);
  // Invocation j of a channel block computes VZ voxels along z of one output row: block (b, x, y, z / VZ).
  const ZR = Math.ceil(g.output[2] / VZ);
  const blocks = g.B * g.output[0] * g.output[1] * ZR;
  const groups = workgroups(blocks, 64) * CBLOCKS;
  const voxelOf = (j: number, end: boolean): number => {
    const zr = j % ZR;
    return Math.floor(j / ZR) * g.output[2] + (end ? Math.min(g.output[2], (zr + 1) * VZ) : zr * VZ);
  };
  const windows = splitWorkgroups(groups, (w0, w1) => {
    const j0 = Math.floor(w0 / CBLOCKS) * 64;
    const j1 = Math.min(blocks, (Math.floor((w1 - 1) / CBLOCKS) + 1) * 64);
    const [v0, v1] = [voxelOf(j0, false), voxelOf(j1 - 1, true)];
    const { b0, o0, b1, o1 } = outputRowsOfVoxels(g, v0, v1);
    return [inputSlab(g, b0, inputRowsOf(g, o0, o0)[0], b1, inputRowsOf(g, o1, o1)[1]), [v0 * g.CO, v1 * g.CO]];
  });
  chunks.forEach(([c0, n], k) => {
    const { weights, WU4 } = uniformWeights(padded, c0, n);
    const chunk = [c0, n, k > 0 ? 1 : 0, k === chunks.length - 1 ? 1 : 0];
    for (const win of windows) {
      const [[x0, x1], [y0, y1]] = win.ranges;
      // Without a bias the kernel reads none; the weights stand in for the binding.
      dispatch(CONV3D, {
        params: geometryParams(g, chunk, [win.w0, win.w1, x0, y0]),
        bindings: {
          x: bindRange(x, x0, x1),
          w: bind(weights),
          y: bindRange(y, y0, y1),
          bias: bind(paddedBias ?? padded),
        },
        workgroups: win.w1 - win.w0,
        overrides: { HAS_BIAS: bias ? 1 : 0, ACT: relu ? 1 : 0 },
        consts: { VZ, CB4, KZ: g.kernel[2], SZ: g.strides[2], DZ: g.dilation[2], WU4 },
      });
    }
    weights.dispose();
  });
  if (padded !== w) padded.dispose();
  if (paddedBias !== bias) paddedBias?.dispose();
}

/** The forward pass as a tiled implicit GEMM: the kernel (K, CO) with CO padded to whole vec4s. */
function forwardGemm(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  y: Tensor,
  g: Conv3dGeometry,
  relu: boolean,
  tiles: GemmTiles,
): void {
  const padded = padChannels(w, 4);
  const paddedBias = bias && padChannels(bias, 4);
  convGemm('forward', x, padded, paddedBias, y, g, relu, tiles);
  if (padded !== w) padded.dispose();
  if (paddedBias !== bias) paddedBias?.dispose();
}

// A fused relu masks dy by its output (y > 0 exactly where the pre-activation was); the bias
// gradient sums the masked dy over every axis but the channels.
defineOp('conv3d', {
  saveInputs: [0, 1],
  // The output only masks the gradient of a fused relu.
  saveOutputs: (attrs) => attrs.activation === 'relu',
  grad: (dy, s, needed) => {
    const g = s.attrs.geometry;
    const masked = s.attrs.activation === 'relu' ? mul(dy, unary('step', s.outputs[0]!)) : dy;
    const thunks: (() => Tensor)[] = [
      () => conv3dGradInput(masked, s.inputs[1]!, g),
      () => conv3dGradWeight(s.inputs[0]!, masked, g),
    ];
    if (s.inputShapes.length === 3) thunks.push(() => sum(masked, [0, 1, 2, 3]));
    if (masked === dy) return thunks;
    // The mask is shared by the thunks: free it once the last one that is needed has run.
    let left = needed.filter(Boolean).length;
    return thunks.map((f) => () => {
      const r = f();
      if (--left === 0) masked.dispose();
      return r;
    });
  },
});
