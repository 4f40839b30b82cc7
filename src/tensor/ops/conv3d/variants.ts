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
 * the direct kernels are fixed by the shapes here.
 */
import { engine } from '../../engine.js';
import { subgroupsFit } from '../../subgroups.js';
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
  /** Output voxels per visit of the accumulators (1, or 2 where the taps slide along z). */
  VP: number;
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
   * of 4, CIB is one too where it can be, so the kernel reads the input as vec4s. Rows of at least
   * 64 voxels along z whose taps slide (unit stride and dilation along z) take 2 voxels per visit
   * of the accumulators: measured in the U-Net step, 6-10% faster at 64³ with 16-48 channels,
   * from 3% slower to 4% faster at 32³, and 7% slower at 16³ (3 voxels a visit spill and run 6x
   * slower). Where 8 input and 8 output channels would make a single block (every invocation of
   * a tap row alone, with 48 accumulators), 4 input channels a block halve the accumulators and
   * give each block a partner that shares its dy loads: 1.3x faster without subgroups and
   * 1.5-1.9x with them (8 → 8 channels at 32³ and 64³).
   */
  weight(CI: number, CO: number, KZ: number, OZ: number, slides: boolean): WeightBlocks {
    const COB4 = Math.min(Math.ceil(CO / 4), 2);
    let CIB = Math.max(1, Math.min(CI, 8, Math.floor(48 / (KZ * COB4))));
    if (CI % 4 === 0 && CIB >= 4) CIB -= CIB % 4;
    if (CIB === 8 && CI === 8 && COB4 === 2 && CO <= 8) CIB = 4;
    const VP = slides && OZ >= 64 ? 2 : 1;
    return { CIB, COB4, VP };
  },
};
