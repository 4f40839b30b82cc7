/**
 * The backward passes of conv3d: dL/dx (kernels/conv3d_grad_input.wgsl) and dL/dw
 * (kernels/conv3d_grad_weight.wgsl), each one op of its own (not differentiable again).
 */
import conv3dGradInputSource from '../../../../kernels/conv3d_grad_input.wgsl';
import conv3dGradWeightSource from '../../../../kernels/conv3d_grad_weight.wgsl';
import { bind, dispatch, workgroups } from '../../dispatch.js';
import { engine } from '../../engine.js';
import { defineKernel } from '../../kernel.js';
import { defineOp, NOT_DIFFERENTIABLE } from '../../op.js';
import type { Tensor } from '../../tensor.js';
import { fill } from '../creation.js';
import { pad, reshape, transpose } from '../movement.js';
import { sum } from '../reduce.js';
import { CONV_GEOMETRY, type Conv3dGeometry, GEOMETRY_PARAMS, geometryParams } from './geometry.js';

declare module '../../op.js' {
  interface OpAttrs {
    conv3dGradInput: { geometry: Conv3dGeometry };
    conv3dGradWeight: { geometry: Conv3dGeometry };
  }
}
defineOp('conv3dGradInput', NOT_DIFFERENTIABLE);
defineOp('conv3dGradWeight', NOT_DIFFERENTIABLE);

const CONV3D_GRAD_INPUT = defineKernel({
  name: 'conv3d_grad_input',
  file: 'conv3d_grad_input.wgsl',
  source: conv3dGradInputSource,
  prelude: CONV_GEOMETRY,
  params: GEOMETRY_PARAMS,
  bindings: ['dy', 'wt', 'dx'],
  consts: ['CI4', 'VZ'],
});

const CONV3D_GRAD_WEIGHT = defineKernel({
  name: 'conv3d_grad_weight',
  file: 'conv3d_grad_weight.wgsl',
  source: conv3dGradWeightSource,
  prelude: CONV_GEOMETRY,
  params: GEOMETRY_PARAMS,
  bindings: ['x', 'dy', 'partial'],
  consts: ['CO4', 'TB', 'CIB'],
});

/** Voxels along z per conv3d / conv3d_grad_input invocation: up to 16 vec4 accumulators. */
export function voxelsPerInvocation(CO4: number, OZ: number): number {
  return Math.max(1, Math.min(4, Math.floor(16 / CO4), OZ));
}

/** dL/dx of conv3d from dy (B, OX, OY, OZ, Cout). */
export function conv3dGradInput(dy: Tensor, w: Tensor, g: Conv3dGeometry): Tensor {
  return engine.run('conv3dGradInput', [dy, w], { geometry: g }, () => {
    const dx = engine.empty([g.B, ...g.input, g.CI], 'float32');
    if (dx.size === 0) return dx;
    const CI4 = Math.ceil(g.CI / 4);
    const VZ = voxelsPerInvocation(CI4, g.input[2]);
    const blocks = g.B * g.input[0] * g.input[1] * Math.ceil(g.input[2] / VZ);
    // (KX, KY, KZ, CO, CI4 · 4): each output channel's weights for all input channels in vec4s.
    const swapped = transpose(w, [0, 1, 2, 4, 3]);
    const wt =
      CI4 * 4 === g.CI
        ? swapped
        : pad(swapped, [
            [0, 0],
            [0, 0],
            [0, 0],
            [0, 0],
            [0, CI4 * 4 - g.CI],
          ]);
    dispatch(CONV3D_GRAD_INPUT, {
      params: geometryParams(g),
      bindings: { dy: bind(dy), wt: bind(wt), dx: bind(dx) },
      workgroups: workgroups(blocks, 64),
      consts: { CI4, VZ },
    });
    swapped.dispose();
    if (wt !== swapped) wt.dispose();
    return dx;
  });
}

/** dL/dw of conv3d from x and dy, summed over chunks of the output voxels (deterministic). */
export function conv3dGradWeight(x: Tensor, dy: Tensor, g: Conv3dGeometry): Tensor {
  return engine.run('conv3dGradWeight', [x, dy], { geometry: g }, () => {
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
    dispatch(CONV3D_GRAD_WEIGHT, {
      params: geometryParams(g, [chunks, perChunk]),
      bindings: { x: bind(x), dy: bind(dy), partial: bind(partial) },
      workgroups: workgroups(chunks * blocks, 64),
      consts: { CO4, TB, CIB },
    });
    const summed = sum(partial, 0);
    partial.dispose();
    const dw = reshape(summed, wShape);
    summed.dispose();
    return dw;
  });
}
