/**
 * Which variant of each convolution pass runs. Two designs compute every pass:
 * - direct (kernels/conv3d.wgsl, conv3d_grad_input.wgsl, conv3d_grad_weight.wgsl): each
 *   invocation owns a few voxels (or taps) and a block of channels, reading its inputs straight
 *   from storage; no workgroup memory, no barriers. The default, and the fastest measured on
 *   software adapters, where a workgroup runs on one CPU core and barriers cost more than the
 *   reuse they buy.
 * - direct-subgroup: the direct kernels sharing loads across a subgroup (the forward pass and
 *   the input gradient each weight load and the overlap of neighbouring input windows, the
 *   weight gradient the input and dy loads of partner invocations); the default on software
 *   adapters whose subgroups fit it.
 * - gemm<TM>x<TN> (kernels/conv3d_igemm*.wgsl): the tiled implicit GEMM of GPUs, with the tile
 *   shapes below.
 * The tuner (src/tensor/tune.ts) times them per adapter and shape class; the register blocks of
 * the direct kernels are fixed by the shapes here, except the weight gradient's voxels a visit
 * along long rows (WEIGHT_VISITS_FAMILY, tuned too).
 */
import { engine } from '../../engine.js';
import { subgroupsFit } from '../../subgroups.js';
import { chooseVariant } from '../../tuning.js';
import type { Conv3dGeometry } from './geometry.js';

export interface DirectBlocks {
  /** Voxels per invocation, consecutive along z. */
  VZ: number;
  /** vec4 blocks of channels per invocation. */
  CB4: number;
}

export interface WeightBlocks {
  /** Input channels per invocation. */
  CIB: number;
  /** vec4 blocks of output channels per invocation. */
  COB4: number;
}

/**
 * A tile of the implicit GEMM: TM rows × TN columns of the result per workgroup, TK reduction
 * steps staged per round, RM × RN results per invocation. Workgroup size (TM / RM) · (TN / RN);
 * TK divides it and it divides TK · TM; RN and TN are multiples of 4.
 */
export interface GemmTiles {
  TM: number;
  TN: number;
  TK: number;
  RM: number;
  RN: number;
}

/** The GEMM tiles the tuner tries (64 or 128 invocations; 16 or 64 results each). */
export const GEMM_TILES: Readonly<Record<string, GemmTiles>> = {
  gemm64x16: { TM: 64, TN: 16, TK: 16, RM: 4, RN: 4 },
  gemm32x32: { TM: 32, TN: 32, TK: 16, RM: 4, RN: 4 },
  gemm64x64: { TM: 64, TN: 64, TK: 16, RM: 8, RN: 8 },
  gemm128x32: { TM: 128, TN: 32, TK: 8, RM: 8, RN: 4 },
};

/**
 * The direct kernels sharing loads by subgroup shuffles: the forward kernel (also the input
 * gradient's) loads the weights of each input channel once per subgroup
 * (kernels/conv3d_weights_subgroup.wgsl) and takes the overlap of its input window from the next
 * lane; the weight gradient's partner invocations share their input and dy loads. Where the
 * device's subgroups fit them (src/tensor/subgroups.ts); elsewhere they run as 'direct'.
 */
export const DIRECT_SUBGROUP = 'direct-subgroup';

export type ConvPass = 'forward' | 'input' | 'weight';

/** The variants of every pass (the tests run each through the oracle). */
export const CONV_VARIANTS: readonly string[] = ['direct', DIRECT_SUBGROUP, ...Object.keys(GEMM_TILES)];

/** Whether DIRECT_SUBGROUP runs as itself here (the direct kernels' workgroups hold 64 invocations). */
export function directSubgroupRuns(): boolean {
  return subgroupsFit(64);
}

/**
 * A pass's variant before tuning: the direct kernel, sharing loads on a software adapter that can
 * (measured on lavapipe; a GPU's constant cache serves the plain kernel's shared weight reads, so
 * there the tuner decides).
 */
export function defaultConvVariant(): string {
  return engine.backend.isCpuAdapter && directSubgroupRuns() ? DIRECT_SUBGROUP : 'direct';
}

/** The tuner's family name of a pass. */
export const convFamily = (pass: ConvPass): string => `conv3d.${pass}`;

/** Spatial extents above this are timed at this size: the choice depends on channels and taps far more. */
export const TUNE_EXTENT = 32;

/**
 * The shape class of a convolution: channels, kernel, strides, dilation, padding and the input
 * extents capped at TUNE_EXTENT (the batch is left out).
 */
export function convShapeClass(g: Conv3dGeometry): string {
  const same = g.padBefore.some((p) => p > 0) ? 'same' : 'valid';
  const extent = g.input.map((d) => Math.min(d, TUNE_EXTENT)).join('x');
  return `ci${g.CI} co${g.CO} k${g.kernel.join('x')} s${g.strides.join('x')} d${g.dilation.join('x')} ${same} ${extent}`;
}

/** The geometry of each class seen in this process (the tuner rebuilds its work from it). */
export const seenClasses = new Map<string, Conv3dGeometry>();

/** The shape class of `g`, remembered for the tuner. */
export function rememberClass(g: Conv3dGeometry): string {
  const key = convShapeClass(g);
  if (!seenClasses.has(key)) seenClasses.set(key, g);
  return key;
}

export const convBlocks = {
  /**
   * The forward pass (channels = output channels) and the input gradient (channels = input
   * channels): 8 voxels by 8 channels, each weight read used for 8 voxels (on lavapipe a weight
   * read costs about 8 multiply-adds, so 8 voxels beat 4 by 15-20% despite the register spills).
   */
  direct(channels: number, zLength: number): DirectBlocks {
    const CB4 = Math.min(Math.ceil(channels / 4), 2);
    return { VZ: Math.max(1, Math.min(8, zLength)), CB4 };
  },
  /**
   * The weight gradient, whose invocations each own KZ · CIB · COB4 vec4 accumulators: per output
   * voxel CIB input and 4 · COB4 dy loads feed KZ · CIB · 4 · COB4 multiply-adds. Measured on
   * lavapipe (3×3×3, 16 to 64 channels): 8 × 8 channels is as fast as 16 × 8, 8 × 16 or 4 × 16,
   * while 32 × 8 (192 vec4 accumulators) runs 4-5× slower; hence at most 48. With CI a multiple
   * of 4, CIB is one too where it can be, so the kernel reads the input as vec4s. Where 8 input
   * and 8 output channels would make a single block (every invocation of a tap row alone, with 48
   * accumulators), 4 input channels a block halve the accumulators and give each block a partner
   * that shares its dy loads: 1.3x faster without subgroups and 1.5-1.9x with them (8 → 8
   * channels at 32³ and 64³).
   */
  weight(CI: number, CO: number, KZ: number): WeightBlocks {
    const COB4 = Math.min(Math.ceil(CO / 4), 2);
    let CIB = Math.max(1, Math.min(CI, 8, Math.floor(48 / (KZ * COB4))));
    if (CI % 4 === 0 && CIB >= 4) CIB -= CIB % 4;
    if (CIB === 8 && CI === 8 && COB4 === 2 && CO <= 8) CIB = 4;
    return { CIB, COB4 };
  },
};

/**
 * The direct weight gradient along rows of at least LONG_ROW voxels whose taps slide (unit stride
 * and dilation along z) can take 2 voxels per visit of its accumulators (VP = 2), the additions in
 * the same order. Whether that pays depends on the host's registers, so it is a tunable family of
 * its own: measured on lavapipe in the U-Net step, 6-10% faster at 64³ with 16-48 channels on a
 * host with 32 vector registers (AVX-512), and 1.35-1.4x slower on one with 16 (AVX2), where its
 * accumulators spill. Untuned, one voxel a visit (the smaller loss where it is the wrong guess).
 */
export const WEIGHT_VISITS_FAMILY = 'conv3d.weight.visits';
export const WEIGHT_VISITS: readonly string[] = ['one-voxel', 'two-voxels'];
export const LONG_ROW = 64;

/** Voxels a visit of the direct weight gradient's accumulators for `g` (tuned where rows are long). */
export function weightVoxelsPerVisit(g: Conv3dGeometry): 1 | 2 {
  if (g.strides[2] !== 1 || g.dilation[2] !== 1 || g.output[2] < LONG_ROW) return 1;
  const visits = chooseVariant(engine.backend.tuningKey, WEIGHT_VISITS_FAMILY, rememberClass(g), WEIGHT_VISITS[0]);
  return visits === 'two-voxels' ? 2 : 1;
}
