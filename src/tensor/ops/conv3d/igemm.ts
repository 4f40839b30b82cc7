/**
 * conv3d's three passes as tiled implicit GEMMs (kernels/conv3d_igemm.wgsl for the forward pass
 * and the input gradient, kernels/conv3d_igemm_wgrad.wgsl for the weight gradient): output tiles
 * per workgroup, slices of the gathered input and of the weights staged in workgroup memory, a
 * block of outputs per invocation in registers. The tile shape is a variant the tuner chooses per
 * adapter; the direct kernels are the other variants.
 */
import conv3dIgemmSource from '../../../../kernels/conv3d_igemm.wgsl';
import conv3dIgemmWgradSource from '../../../../kernels/conv3d_igemm_wgrad.wgsl';
import { bind, bindRange, dispatch, splitWorkgroups } from '../../dispatch.js';
import { defineKernel } from '../../kernel.js';
import type { Tensor } from '../../tensor.js';
import { CONV_GEOMETRY, type Conv3dGeometry, GEOMETRY_PARAMS, geometryParams } from './geometry.js';
import type { GemmTiles } from './variants.js';
import { inputRowsOf, inputRowsOfVoxels, inputSlab, outputRowsOf, outputRowsOfVoxels, outputSlab } from './windows.js';

const CONV3D_IGEMM = defineKernel({
  name: 'conv3d_igemm',
  file: 'conv3d_igemm.wgsl',
  source: conv3dIgemmSource,
  preludes: [CONV_GEOMETRY],
  params: GEOMETRY_PARAMS,
  bindings: ['a', 'w', 'c', 'bias'],
  overrides: ['MODE', 'HAS_BIAS', 'ACT'],
  consts: ['TM', 'TN', 'TK', 'RM', 'RN'],
});

const CONV3D_IGEMM_WGRAD = defineKernel({
  name: 'conv3d_igemm_wgrad',
  file: 'conv3d_igemm_wgrad.wgsl',
  source: conv3dIgemmWgradSource,
  preludes: [CONV_GEOMETRY],
  params: GEOMETRY_PARAMS,
  bindings: ['x', 'dy', 'partial'],
  consts: ['TM', 'TN', 'TK', 'RM', 'RN'],
});

const consts = (t: GemmTiles): GemmTiles => ({ TM: t.TM, TN: t.TN, TK: t.TK, RM: t.RM, RN: t.RN });

/**
 * The forward pass (rows: output voxels, into y) or the input gradient (rows: input voxels, into
 * dx). `w` is (K, N4·4): the kernel (forward) or its channel-swapped form (input gradient), the
 * n axis padded to whole vec4s; `bias` (N4·4) or null.
 */
export function convGemm(
  mode: 'forward' | 'input',
  a: Tensor,
  w: Tensor,
  bias: Tensor | null,
  c: Tensor,
  g: Conv3dGeometry,
  relu: boolean,
  tiles: GemmTiles,
): void {
  const forward = mode === 'forward';
  const [rowsShape, N] = forward ? [g.output, g.CO] : [g.input, g.CI];
  const M = g.B * rowsShape[0] * rowsShape[1] * rowsShape[2];
  const nTiles = Math.ceil((Math.ceil(N / 4) * 4) / tiles.TN);
  const total = Math.ceil(M / tiles.TM) * nTiles;
  // Tiles [w0, w1) cover rows [m0, m1) of C and read the slab of A under them.
  const windows = splitWorkgroups(total, (w0, w1) => {
    const m0 = Math.floor(w0 / nTiles) * tiles.TM;
    const m1 = Math.min(M, (Math.floor((w1 - 1) / nTiles) + 1) * tiles.TM);
    if (forward) {
      const { b0, o0, b1, o1 } = outputRowsOfVoxels(g, m0, m1);
      return [inputSlab(g, b0, inputRowsOf(g, o0, o0)[0], b1, inputRowsOf(g, o1, o1)[1]), [m0 * N, m1 * N]];
    }
    const { b0, i0, b1, i1 } = inputRowsOfVoxels(g, m0, m1);
    return [outputSlab(g, b0, outputRowsOf(g, i0, i0)[0], b1, outputRowsOf(g, i1, i1)[1]), [m0 * N, m1 * N]];
  });
  for (const win of windows) {
    const [[a0, a1], [c0, c1]] = win.ranges;
    // window.z is the base of input-shaped bindings, window.w of output-shaped ones.
    const window = forward ? [win.w0, win.w1, a0, c0] : [win.w0, win.w1, c0, a0];
    dispatch(CONV3D_IGEMM, {
      params: geometryParams(g, [], window),
      bindings: { a: bindRange(a, a0, a1), w: bind(w), c: bindRange(c, c0, c1), bias: bind(bias ?? w) },
      workgroups: win.w1 - win.w0,
      overrides: { MODE: forward ? 0 : 1, HAS_BIAS: bias ? 1 : 0, ACT: relu ? 1 : 0 },
      consts: consts(tiles),
    });
  }
}

/** The weight gradient's (chunks, K, CO) partial sums into `partial`, chunk s over voxels [s·perChunk, ...). */
export function convGemmWeight(
  x: Tensor,
  dy: Tensor,
  partial: Tensor,
  g: Conv3dGeometry,
  chunks: number,
  perChunk: number,
  tiles: GemmTiles,
): void {
  const K = g.kernel[0] * g.kernel[1] * g.kernel[2] * g.CI;
  const voxels = g.B * g.output[0] * g.output[1] * g.output[2];
  const perChunkTiles = Math.ceil(K / tiles.TM) * Math.ceil(g.CO / tiles.TN);
  const windows = splitWorkgroups(chunks * perChunkTiles, (w0, w1) => {
    const s0 = Math.floor(w0 / perChunkTiles);
    const s1 = Math.floor((w1 - 1) / perChunkTiles);
    const [v0, v1] = [Math.min(voxels - 1, s0 * perChunk), Math.min(voxels, (s1 + 1) * perChunk)];
    const { b0, o0, b1, o1 } = outputRowsOfVoxels(g, v0, v1);
    return [inputSlab(g, b0, inputRowsOf(g, o0, o0)[0], b1, inputRowsOf(g, o1, o1)[1]), [v0 * g.CO, v1 * g.CO]];
  });
  for (const win of windows) {
    const [[x0, x1], [y0, y1]] = win.ranges;
    dispatch(CONV3D_IGEMM_WGRAD, {
      params: geometryParams(g, [chunks, perChunk], [win.w0, win.w1, x0, y0]),
      bindings: { x: bindRange(x, x0, x1), dy: bindRange(dy, y0, y1), partial: bind(partial) },
      workgroups: win.w1 - win.w0,
      consts: consts(tiles),
    });
  }
}
