/**
 * conv3d's forward pass as a tiled implicit GEMM (kernels/conv3d_igemm.wgsl): output tiles per
 * workgroup, input and weight slices staged in workgroup memory, a block of outputs per
 * invocation in registers. Its tile shape is a variant the tuner chooses per adapter.
 */
import conv3dIgemmSource from '../../../../kernels/conv3d_igemm.wgsl';
import { bind, bindRange, dispatch, splitWorkgroups } from '../../dispatch.js';
import { defineKernel } from '../../kernel.js';
import type { Tensor } from '../../tensor.js';
import { CONV_GEOMETRY, type Conv3dGeometry, GEOMETRY_PARAMS, geometryParams } from './geometry.js';
import { inputRowsOf, inputSlab, outputRowsOfVoxels } from './windows.js';

const CONV3D_IGEMM = defineKernel({
  name: 'conv3d_igemm',
  file: 'conv3d_igemm.wgsl',
  source: conv3dIgemmSource,
  prelude: CONV_GEOMETRY,
  params: GEOMETRY_PARAMS,
  bindings: ['x', 'w', 'y', 'bias'],
  overrides: ['HAS_BIAS', 'ACT'],
  consts: ['TM', 'TN', 'TK', 'RM', 'RN'],
});

/** A tile shape of the implicit-GEMM kernels. */
export interface GemmTiles {
  TM: number;
  TN: number;
  TK: number;
  RM: number;
  RN: number;
}

/**
 * y = act(conv(x, w) + bias) into `y`; `w` is (K, CO4·4) with the output channels padded, `bias`
 * (CO4·4) or null.
 */
export function conv3dForwardGemm(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  y: Tensor,
  g: Conv3dGeometry,
  relu: boolean,
  tiles: GemmTiles,
): void {
  const M = g.B * g.output[0] * g.output[1] * g.output[2];
  const CO4 = Math.ceil(g.CO / 4);
  const nTiles = Math.ceil((CO4 * 4) / tiles.TN);
  const total = Math.ceil(M / tiles.TM) * nTiles;
  const windows = splitWorkgroups(total, (w0, w1) => {
    const [v0, v1] = [Math.floor(w0 / nTiles) * tiles.TM, Math.min(M, (Math.floor((w1 - 1) / nTiles) + 1) * tiles.TM)];
    const { b0, o0, b1, o1 } = outputRowsOfVoxels(g, v0, v1);
    return [inputSlab(g, b0, inputRowsOf(g, o0, o0)[0], b1, inputRowsOf(g, o1, o1)[1]), [v0 * g.CO, v1 * g.CO]];
  });
  for (const win of windows) {
    const [[x0, x1], [y0, y1]] = win.ranges;
    dispatch(CONV3D_IGEMM, {
      params: geometryParams(g, [], [win.w0, win.w1, x0, y0]),
      bindings: { x: bindRange(x, x0, x1), w: bind(w), y: bindRange(y, y0, y1), bias: bind(bias ?? w) },
      workgroups: win.w1 - win.w0,
      overrides: { HAS_BIAS: bias ? 1 : 0, ACT: relu ? 1 : 0 },
      consts: { ...tiles },
    });
  }
}
