/**
 * 3D convolution on channels-last volumes: x (B, X, Y, Z, Cin) with a Keras-layout kernel
 * w (KX, KY, KZ, Cin, Cout), strides, dilation and 'same' / 'valid' padding (TensorFlow's rule:
 * 'same' gives ceil(I / s) outputs with the extra padding after). Forward (with the bias and a
 * relu fused into its output pass), input gradient and weight gradient are three hand-written
 * kernels (kernels/conv3d*.wgsl). Forward and input gradient give each invocation a few voxels
 * along z and every channel, reading the kernel in vec4 blocks the host pads (and, for the input
 * gradient, transposes) first; the weight gradient sums chunks of voxels, then the chunks.
 */
import { argMessage, ShapeError, ValueError } from '../../../errors.js';
import { engine } from '../../engine.js';
import { defineOp } from '../../op.js';
import type { Tensor } from '../../tensor.js';
import { chooseVariant } from '../../tuning.js';
import { checkFloat, describe } from '../check.js';
import { fill } from '../creation.js';
import { add, mul, relu, unary } from '../elementwise/index.js';
import { sum } from '../reduce.js';
import { conv3dGradInput, conv3dGradWeight } from './backward.js';
import { forwardDirect, forwardGemm } from './forward.js';
import { type Conv3dGeometry, type Conv3dOptions, conv3dGeometry } from './geometry.js';
import { convFamily, DIRECT_SUBGROUP, defaultConvVariant, GEMM_TILES, rememberClass } from './variants.js';

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
    const family = convFamily('forward');
    const variant = chooseVariant(engine.backend.tuningKey, family, rememberClass(g), defaultConvVariant());
    const relu = activation === 'relu';
    if (variant in GEMM_TILES) forwardGemm(x, w, bias, y, g, relu, GEMM_TILES[variant]!);
    // The direct kernel, or the GEMM where one input channel's weights for one block of output
    // channels exceed its uniform binding.
    else if (!forwardDirect(x, w, bias, y, g, relu, false, variant === DIRECT_SUBGROUP))
      forwardGemm(x, w, bias, y, g, relu, GEMM_TILES.gemm64x64!);
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
