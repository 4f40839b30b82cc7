/**
 * The launchers of conv3d's forward kernel (kernels/conv3d.wgsl, the direct design) and of the
 * implicit GEMM's forward pass. The input gradient of a convolution with unit strides is the same
 * direct kernel run over dy with the kernel's taps flipped and its channel axes swapped (a "full"
 * convolution: padding (K − 1)·dilation − pad before each axis), so backward.ts runs it too.
 */
import conv3dSource from '../../../../kernels/conv3d.wgsl';
import conv3dWeightsSource from '../../../../kernels/conv3d_weights.wgsl';
import conv3dWeightsSubgroupSource from '../../../../kernels/conv3d_weights_subgroup.wgsl';
import { bind, bindRange, dispatch, splitWorkgroups, type WorkgroupWindow, workgroups } from '../../dispatch.js';
import { defineKernel } from '../../kernel.js';
import { LANES, LANES_SUBGROUP } from '../../subgroups.js';
import type { Tensor } from '../../tensor.js';
import { pad } from '../movement.js';
import { CONV_GEOMETRY, type Conv3dGeometry, GEOMETRY_PARAMS, geometryParams } from './geometry.js';
import { convGemm } from './igemm.js';
import { blockChunks, uniformWeightChunk } from './uniform_weights.js';
import { convBlocks, directSubgroupRuns, type GemmTiles } from './variants.js';
import { inputRowsOf, inputSlab, outputRowsOfVoxels, zBlockVoxels } from './windows.js';

const CONV3D_DEFINITION = {
  file: 'conv3d.wgsl',
  source: conv3dSource,
  params: GEOMETRY_PARAMS,
  bindings: ['x', 'w', 'y', 'bias'],
  overrides: ['HAS_BIAS', 'ACT', 'FLIP'],
  consts: ['VZ', 'CB4', 'KZ', 'SZ', 'DZ', 'WU4'],
} as const;

/** The direct kernel with each invocation loading its own weights. */
const CONV3D = defineKernel({
  ...CONV3D_DEFINITION,
  name: 'conv3d',
  preludes: [LANES, { file: 'conv3d_weights.wgsl', source: conv3dWeightsSource }, CONV_GEOMETRY],
});

/** The direct kernel with weight loads shared across each subgroup (`enable subgroups` comes first). */
const CONV3D_SUBGROUP = defineKernel({
  ...CONV3D_DEFINITION,
  name: 'conv3d_subgroup',
  requires: ['subgroups'],
  preludes: [
    LANES_SUBGROUP,
    { file: 'conv3d_weights_subgroup.wgsl', source: conv3dWeightsSubgroupSource },
    CONV_GEOMETRY,
  ],
});

/**
 * The last axis (a kernel's or a bias's channels) padded with zeros to a multiple of `multiple`;
 * `t` itself when it already is one.
 */
export function padLastAxis(t: Tensor, multiple: number): Tensor {
  const extra = Math.ceil(t.shape[t.rank - 1]! / multiple) * multiple - t.shape[t.rank - 1]!;
  return extra === 0
    ? t
    : pad(
        t,
        t.shape.map((_, i) => [0, i === t.rank - 1 ? extra : 0] as [number, number]),
      );
}

/**
 * The direct forward kernel over x into y; `flip` reads the kernel's taps in reverse order on every
 * axis and `swapped` takes w's last two axes the other way round, (KX, KY, KZ, g.CO, g.CI) (the
 * input gradient's full convolution with the layer's kernel), `subgroup` shares the weight loads across each
 * subgroup where the device can. False, with nothing written, when the weights of one summed
 * channel for one block of 4 · CB4 output channels exceed the uniform binding (the caller runs a
 * GEMM variant instead).
 */
export function forwardDirect(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  y: Tensor,
  g: Conv3dGeometry,
  relu: boolean,
  flip = false,
  subgroup = false,
  swapped = false,
): boolean {
  const kernel = subgroup && directSubgroupRuns() ? CONV3D_SUBGROUP : CONV3D;
  const { VZ, CB4 } = convBlocks.direct(g.CO, g.output[2]);
  // Output channels padded to whole blocks of CB4 vec4s (zero weights and bias).
  const CBLOCKS = Math.ceil(g.CO / (4 * CB4));
  const chunks = blockChunks(g.kernel[0] * g.kernel[1] * g.kernel[2], g.CI, CBLOCKS, CB4);
  if (!chunks) return false;
  const paddedBias = bias && padLastAxis(bias, 4 * CB4);
  // Invocation j of a channel block computes VZ voxels along z of one output row: block (b, x, y, z / VZ).
  const ZR = Math.ceil(g.output[2] / VZ);
  const blocks = g.B * g.output[0] * g.output[1] * ZR;
  // The windows of a dispatch of cbc blocks (at most two sizes of dispatch: the last may be smaller).
  const windowsBySize = new Map<number, WorkgroupWindow[]>();
  const windowsOf = (cbc: number): WorkgroupWindow[] => {
    let windows = windowsBySize.get(cbc);
    if (!windows) {
      windows = splitWorkgroups(workgroups(blocks, 64) * cbc, (w0, w1) => {
        const [v0, v1] = zBlockVoxels(w0, w1, cbc, blocks, g.output[2], VZ);
        const { b0, o0, b1, o1 } = outputRowsOfVoxels(g, v0, v1);
        return [inputSlab(g, b0, inputRowsOf(g, o0, o0)[0], b1, inputRowsOf(g, o1, o1)[1]), [v0 * g.CO, v1 * g.CO]];
      });
      windowsBySize.set(cbc, windows);
    }
    return windows;
  };
  for (const { cb0, cbc, c0, n } of chunks) {
    const { weights, WU4 } = uniformWeightChunk(w, swapped, c0, n, cb0 * 4 * CB4, cbc * 4 * CB4);
    const chunk = [c0, n, c0 > 0 ? 1 : 0, c0 + n === g.CI ? 1 : 0];
    for (const win of windowsOf(cbc)) {
      const [[x0, x1], [y0, y1]] = win.ranges;
      // Without a bias the kernel reads none; the weights stand in for the binding.
      dispatch(kernel, {
        params: geometryParams(g, chunk, [win.w0, win.w1, x0, y0], [cb0, cbc]),
        bindings: {
          x: bindRange(x, x0, x1),
          w: bind(weights),
          y: bindRange(y, y0, y1),
          bias: bind(paddedBias ?? weights),
        },
        workgroups: win.w1 - win.w0,
        overrides: { HAS_BIAS: bias ? 1 : 0, ACT: relu ? 1 : 0, FLIP: flip ? 1 : 0 },
        consts: { VZ, CB4, KZ: g.kernel[2], SZ: g.strides[2], DZ: g.dilation[2], WU4 },
      });
    }
    weights.dispose();
  }
  if (paddedBias !== bias) paddedBias?.dispose();
  return true;
}

/** The forward pass as a tiled implicit GEMM: the kernel (K, CO) with CO padded to whole vec4s. */
export function forwardGemm(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  y: Tensor,
  g: Conv3dGeometry,
  relu: boolean,
  tiles: GemmTiles,
): void {
  const padded = padLastAxis(w, 4);
  const paddedBias = bias && padLastAxis(bias, 4);
  convGemm('forward', x, padded, paddedBias, y, g, relu, tiles);
  if (padded !== w) padded.dispose();
  if (paddedBias !== bias) paddedBias?.dispose();
}
