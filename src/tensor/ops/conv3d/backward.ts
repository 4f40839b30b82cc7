/**
 * The backward passes of conv3d: dL/dx (kernels/conv3d_grad_input.wgsl) and dL/dw
 * (kernels/conv3d_grad_weight.wgsl), each one op of its own (not differentiable again).
 */
import conv3dGradInputSource from '../../../../kernels/conv3d_grad_input.wgsl';
import conv3dGradWeightSource from '../../../../kernels/conv3d_grad_weight.wgsl';
import { bind, bindingWindowElements, bindRange, dispatch, splitWorkgroups, workgroups } from '../../dispatch.js';
import { engine } from '../../engine.js';
import { defineKernel } from '../../kernel.js';
import { defineOp, NOT_DIFFERENTIABLE } from '../../op.js';
import { LANES, LANES_SUBGROUP } from '../../subgroups.js';
import type { Tensor } from '../../tensor.js';
import { chooseVariant } from '../../tuning.js';
import { fill } from '../creation.js';
import { reshape, transpose } from '../movement.js';
import { sum } from '../reduce.js';
import { forwardDirect, padLastAxis } from './forward.js';
import { CONV_GEOMETRY, type Conv3dGeometry, GEOMETRY_PARAMS, geometryParams } from './geometry.js';
import { convGemm, convGemmWeight } from './igemm.js';
import { uniformWeights, weightChunks } from './uniform_weights.js';
import {
  convBlocks,
  convFamily,
  DIRECT_SUBGROUP,
  defaultConvVariant,
  directSubgroupRuns,
  GEMM_TILES,
  type GemmTiles,
  rememberClass,
  weightVoxelsPerVisit,
} from './variants.js';
import {
  inputRowsOf,
  inputRowsOfVoxels,
  inputSlab,
  outputRowsOf,
  outputRowsOfVoxels,
  outputSlab,
  zBlockVoxels,
} from './windows.js';

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
  preludes: [CONV_GEOMETRY],
  params: GEOMETRY_PARAMS,
  bindings: ['dy', 'wt', 'dx'],
  consts: ['VZ', 'CB4', 'WU4'],
});

const CONV3D_GRAD_WEIGHT_DEFINITION = {
  file: 'conv3d_grad_weight.wgsl',
  source: conv3dGradWeightSource,
  params: GEOMETRY_PARAMS,
  bindings: ['x', 'dy', 'partial'],
  consts: ['KZ', 'SZ', 'DZ', 'CIB', 'COB4', 'VW', 'VP', 'XD', 'DD'],
  aliases: ['V'],
} as const;

const CONV3D_GRAD_WEIGHT = defineKernel({
  ...CONV3D_GRAD_WEIGHT_DEFINITION,
  name: 'conv3d_grad_weight',
  preludes: [LANES, CONV_GEOMETRY],
});

/** The weight gradient whose partner invocations share their input and dy loads through subgroups. */
const CONV3D_GRAD_WEIGHT_SUBGROUP = defineKernel({
  ...CONV3D_GRAD_WEIGHT_DEFINITION,
  name: 'conv3d_grad_weight_subgroup',
  requires: ['subgroups'],
  preludes: [LANES_SUBGROUP, CONV_GEOMETRY],
});

/** dL/dx of conv3d from dy (B, OX, OY, OZ, Cout). */
export function conv3dGradInput(dy: Tensor, w: Tensor, g: Conv3dGeometry): Tensor {
  return engine.run('conv3dGradInput', [dy, w], { geometry: g }, () => {
    const dx = engine.empty([g.B, ...g.input, g.CI], 'float32');
    if (dx.size === 0) return dx;
    // No output channels or positions: every input gradient is an empty sum.
    if (dy.size === 0) {
      dx.dispose();
      return fill(dx.shape, 0);
    }
    const variant = chooseVariant(
      engine.backend.tuningKey,
      convFamily('input'),
      rememberClass(g),
      defaultConvVariant(),
    );
    // The kernel as (KX, KY, KZ, CO, CI): each output channel's weights for all input channels.
    const swappedGemm = (tiles: GemmTiles): void => {
      const swapped = transpose(w, [0, 1, 2, 4, 3]);
      const wt = padLastAxis(swapped, 4);
      convGemm('input', dy, wt, null, dx, g, false, tiles);
      if (wt !== swapped) wt.dispose();
      swapped.dispose();
    };
    if (variant in GEMM_TILES) swappedGemm(GEMM_TILES[variant]!);
    else if (g.strides.every((s) => s === 1)) {
      // A full convolution of dy with the flipped kernel, on the forward kernel (which reuses each
      // loaded dy value for every tap along z and reads the kernel's channels swapped), or the
      // GEMM where its weights are too large.
      const direct = forwardDirect(dy, w, null, dx, fullConvolution(g), false, true, variant === DIRECT_SUBGROUP, true);
      if (!direct) swappedGemm(GEMM_TILES.gemm64x64!);
    } else {
      const swapped = transpose(w, [0, 1, 2, 4, 3]);
      inputGradDirect(dy, swapped, dx, g);
      swapped.dispose();
    }
    return dx;
  });
}

/**
 * The geometry of dx = conv(dy, flipped kernel) for a unit-stride convolution: dy's positions are
 * the input, x's the output, and each axis is padded by (K − 1)·dilation − pad before it.
 */
function fullConvolution(g: Conv3dGeometry): Conv3dGeometry {
  const before = (a: number): number => (g.kernel[a]! - 1) * g.dilation[a]! - g.padBefore[a]!;
  return {
    ...g,
    input: g.output,
    output: g.input,
    CI: g.CO,
    CO: g.CI,
    padBefore: [before(0), before(1), before(2)],
  };
}

function inputGradDirect(dy: Tensor, swapped: Tensor, dx: Tensor, g: Conv3dGeometry): void {
  const { VZ, CB4 } = convBlocks.direct(g.CI, g.input[2]);
  const CBLOCKS = Math.ceil(g.CI / (4 * CB4));
  // The weights come through the uniform binding, in chunks of output channels that fit it.
  const chunks = weightChunks(g.kernel[0] * g.kernel[1] * g.kernel[2], g.CO, CBLOCKS * CB4);
  if (!chunks) {
    const wt = padLastAxis(swapped, 4);
    convGemm('input', dy, wt, null, dx, g, false, GEMM_TILES.gemm64x64!);
    if (wt !== swapped) wt.dispose();
    return;
  }
  // Invocation j of a channel block computes VZ voxels along z of one input row: block (b, x, y, z / VZ).
  const ZR = Math.ceil(g.input[2] / VZ);
  const blocks = g.B * g.input[0] * g.input[1] * ZR;
  const groups = workgroups(blocks, 64) * CBLOCKS;
  // Input channels padded to whole blocks.
  const wt = padLastAxis(swapped, 4 * CB4);
  const windows = splitWorkgroups(groups, (w0, w1) => {
    const [v0, v1] = zBlockVoxels(w0, w1, CBLOCKS, blocks, g.input[2], VZ);
    const { b0, i0, b1, i1 } = inputRowsOfVoxels(g, v0, v1);
    return [[v0 * g.CI, v1 * g.CI], outputSlab(g, b0, outputRowsOf(g, i0, i0)[0], b1, outputRowsOf(g, i1, i1)[1])];
  });
  chunks.forEach(([co0, n], k) => {
    const { weights, WU4 } = uniformWeights(wt, co0, n);
    for (const win of windows) {
      const [[x0, x1], [y0, y1]] = win.ranges;
      dispatch(CONV3D_GRAD_INPUT, {
        params: geometryParams(g, [co0, n, k > 0 ? 1 : 0, 0], [win.w0, win.w1, x0, y0]),
        bindings: { dy: bindRange(dy, y0, y1), wt: bind(weights), dx: bindRange(dx, x0, x1) },
        workgroups: win.w1 - win.w0,
        consts: { VZ, CB4, WU4 },
      });
    }
    weights.dispose();
  });
  if (wt !== swapped) wt.dispose();
}

/**
 * The direct weight gradient's (chunks, taps · CI · CO) partial sums; with `subgroup`, where the
 * device's subgroups fit it, partner invocations share their loads of the input and of dy.
 */
function weightGradDirect(x: Tensor, dy: Tensor, g: Conv3dGeometry, subgroup: boolean): Tensor {
  const taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
  const rows = g.B * g.output[0] * g.output[1];
  const OZ = g.output[2];
  // Each invocation owns one tap row × CIB input channels × COB4 vec4s of output channels;
  // enough chunks of the output rows to give the device ~4096 invocations.
  const [KZ, SZ, DZ] = [g.kernel[2], g.strides[2], g.dilation[2]];
  const { CIB, COB4 } = convBlocks.weight(g.CI, g.CO, KZ);
  const VP = weightVoxelsPerVisit(g);
  const blocks = g.kernel[0] * g.kernel[1] * Math.ceil(g.CI / CIB) * Math.ceil(g.CO / (4 * COB4));
  let chunks = Math.max(1, Math.min(rows, Math.ceil(4096 / blocks)));
  // When x or dy is larger than one binding window, chunks get small enough that the chunks one
  // workgroup of 64 invocations spans (their output rows, and the input under them) fit one.
  const window = bindingWindowElements();
  if (x.size > window || dy.size > window) {
    const span = Math.ceil(64 / blocks) + 1;
    const perRow = OZ * (g.CO + g.CI * g.strides[0] * g.strides[1] * g.strides[2]);
    chunks = Math.max(chunks, Math.ceil(rows / Math.max(1, Math.floor(window / (2 * span * perRow)))));
  }
  const perChunk = Math.ceil(rows / chunks);
  chunks = Math.ceil(rows / perChunk);
  const partial = engine.empty([chunks, taps * g.CI * g.CO], 'float32');
  // Invocation i works on chunk floor(i / blocks): a range of invocations reads the output
  // rows of a range of chunks, and the input rows under them.
  const count = chunks * blocks;
  const windows = splitWorkgroups(workgroups(count, 64), (w0, w1) => {
    const s0 = Math.floor((w0 * 64) / blocks);
    const s1 = Math.floor((Math.min(count, w1 * 64) - 1) / blocks);
    const [v0, v1] = [Math.min(rows, s0 * perChunk) * OZ, Math.min(rows, (s1 + 1) * perChunk) * OZ];
    const { b0, o0, b1, o1 } = outputRowsOfVoxels(g, v0, v1);
    return [inputSlab(g, b0, inputRowsOf(g, o0, o0)[0], b1, inputRowsOf(g, o1, o1)[1]), [v0 * g.CO, v1 * g.CO]];
  });
  // x and dy read as vec4s where every load is 4 whole channels (window bases are multiples of 64).
  const VW = g.CI % 4 === 0 && g.CO % 4 === 0 && CIB % 4 === 0 ? 4 : 1;
  // Partners (kernels/conv3d_grad_weight.wgsl): the input values of 2 vec4s shared by invocations
  // of neighbouring output-channel blocks (when those come in pairs), dy's 2 vec4s by invocations
  // of neighbouring input-channel blocks (1, 2 or 4 output-channel blocks apart).
  const shared = subgroup && directSubgroupRuns() && VW === 4;
  const coBlocks = Math.ceil(g.CO / (4 * COB4));
  const ciBlocks = Math.ceil(g.CI / CIB);
  const XD = shared && CIB === 8 && coBlocks % 2 === 0 ? 1 : 0;
  const DD = shared && COB4 === 2 && ciBlocks >= 2 && [1, 2, 4].includes(coBlocks) ? coBlocks : 0;
  const kernel = XD > 0 || DD > 0 ? CONV3D_GRAD_WEIGHT_SUBGROUP : CONV3D_GRAD_WEIGHT;
  for (const win of windows) {
    const [[x0, x1], [y0, y1]] = win.ranges;
    dispatch(kernel, {
      params: geometryParams(g, [chunks, perChunk], [win.w0 * 64, Math.min(count, win.w1 * 64), x0, y0]),
      bindings: { x: bindRange(x, x0, x1), dy: bindRange(dy, y0, y1), partial: bind(partial) },
      workgroups: win.w1 - win.w0,
      consts: { KZ, SZ, DZ, CIB, COB4, VW, VP, XD, DD },
      aliases: { V: VW === 4 ? 'vec4<f32>' : 'f32' },
    });
  }
  return partial;
}

/**
 * The GEMM weight gradient's (chunks, K, CO) partial sums: enough chunks of the voxels to give
 * the device ~256 workgroups, and small enough that a chunk's slab of x and dy fits one binding.
 */
function weightGradGemm(x: Tensor, dy: Tensor, g: Conv3dGeometry, tiles: GemmTiles): Tensor {
  const K = g.kernel[0] * g.kernel[1] * g.kernel[2] * g.CI;
  const voxels = g.B * g.output[0] * g.output[1] * g.output[2];
  const tilesPerChunk = Math.ceil(K / tiles.TM) * Math.ceil(g.CO / tiles.TN);
  let chunks = Math.max(1, Math.min(Math.ceil(voxels / (4 * tiles.TK)), Math.ceil(256 / tilesPerChunk)));
  const window = bindingWindowElements();
  if (x.size > window || dy.size > window) {
    const perVoxel = g.CO + g.CI * g.strides[0] * g.strides[1] * g.strides[2];
    chunks = Math.max(chunks, Math.ceil(voxels / Math.max(1, Math.floor(window / (2 * perVoxel)))));
  }
  const perChunk = Math.ceil(voxels / chunks);
  chunks = Math.ceil(voxels / perChunk);
  const partial = engine.empty([chunks, K * g.CO], 'float32');
  convGemmWeight(x, dy, partial, g, chunks, perChunk, tiles);
  return partial;
}

/** dL/dw of conv3d from x and dy, summed over chunks of the output voxels (deterministic). */
export function conv3dGradWeight(x: Tensor, dy: Tensor, g: Conv3dGeometry): Tensor {
  return engine.run('conv3dGradWeight', [x, dy], { geometry: g }, () => {
    const taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
    const wShape = [...g.kernel, g.CI, g.CO];
    const voxels = g.B * g.output[0] * g.output[1] * g.output[2];
    if (voxels === 0 || taps * g.CI === 0 || g.CO === 0) return fill(wShape, 0);
    const variant = chooseVariant(
      engine.backend.tuningKey,
      convFamily('weight'),
      rememberClass(g),
      defaultConvVariant(),
    );
    const partial =
      variant in GEMM_TILES
        ? weightGradGemm(x, dy, g, GEMM_TILES[variant]!)
        : weightGradDirect(x, dy, g, variant === DIRECT_SUBGROUP);
    const summed = sum(partial, 0);
    partial.dispose();
    const dw = reshape(summed, wShape);
    summed.dispose();
    return dw;
  });
}
