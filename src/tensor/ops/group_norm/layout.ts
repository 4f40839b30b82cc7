/**
 * The layout every group-norm kernel shares (kernels/group_norm_layout.wgsl, their prelude): the
 * sizes, the chunking of each sample's voxels into partial sums, epsilon and the affine flags.
 */
import groupNormLayoutSource from '../../../../kernels/group_norm_layout.wgsl';
import { bindingWindowElements, splitWorkgroups, workgroups } from '../../dispatch.js';
import type { ParamValues, Prelude } from '../../kernel.js';

/** What the backward pass needs to know of the forward one. */
export interface GroupNormLayout {
  readonly B: number;
  readonly N: number;
  readonly C: number;
  readonly G: number;
  readonly eps: number;
  readonly hasGamma: boolean;
  readonly hasBeta: boolean;
}

/**
 * Chunks of voxels per sample: enough partial sums (~4096) to keep the device busy, and, when the
 * volume is larger than one binding window, small enough that the chunks one workgroup of 64
 * partial-sum slots spans fit one window.
 */
function chunking(l: GroupNormLayout): { chunks: number; perChunk: number } {
  let chunks = Math.max(1, Math.min(Math.ceil(l.N / 64), Math.ceil(4096 / (l.B * l.C))));
  const window = bindingWindowElements();
  if (l.B * l.N * l.C > window) {
    const span = Math.ceil(64 / l.C) + 1;
    chunks = Math.max(chunks, Math.ceil(l.N / Math.max(1, Math.floor(window / (2 * span * l.C)))));
  }
  return { chunks, perChunk: Math.ceil(l.N / chunks) };
}

export const LAYOUT: Prelude = { file: 'group_norm_layout.wgsl', source: groupNormLayoutSource };

export const LAYOUT_PARAMS = {
  B: 'u32',
  N: 'u32',
  C: 'u32',
  G: 'u32',
  chunks: 'u32',
  per_chunk: 'u32',
  eps: 'f32',
  affine: 'u32',
  first: 'u32',
  end: 'u32',
  base: 'u32',
} as const;

/** The layout uniform of a dispatch over the whole grid (the small per-group kernels). */
export function layoutParams(l: GroupNormLayout): ParamValues<typeof LAYOUT_PARAMS> {
  const { chunks, perChunk } = chunking(l);
  return {
    B: l.B,
    N: l.N,
    C: l.C,
    G: l.G,
    chunks,
    per_chunk: perChunk,
    eps: l.eps,
    affine: (l.hasGamma ? 1 : 0) | (l.hasBeta ? 2 : 0),
    first: 0,
    end: 0xffffffff,
    base: 0,
  };
}

/** One windowed dispatch over the (B, N, C) tensors: its workgroups, params and element range. */
export interface VolumeWindow {
  readonly workgroups: number;
  readonly params: ParamValues<typeof LAYOUT_PARAMS>;
  /** Elements [first, end) of x / y / dy / dx its bindings cover. */
  readonly range: readonly [number, number];
}

/**
 * The dispatches of a kernel over the (B, N, C) tensors, each binding them within one window:
 * `per: 'voxel'` for one invocation per block of `voxelsPerInvocation` voxels (the apply passes),
 * `per: 'slot'` for one per (b, chunk, c) partial-sum slot (moments, gradient sums).
 */
export function volumeWindows(l: GroupNormLayout, per: 'voxel' | 'slot', voxelsPerInvocation = 1): VolumeWindow[] {
  const params = layoutParams(l);
  const vpi = per === 'voxel' ? voxelsPerInvocation : 1;
  const count = per === 'voxel' ? (l.B * l.N) / vpi : l.B * params.chunks * l.C;
  const voxelRange = (i0: number, i1: number): [number, number] => {
    if (per === 'voxel') return [i0 * vpi, i1 * vpi];
    // Slot i = (b · chunks + k) · C + c covers voxels [k · per_chunk, ...) of sample b.
    const [bk0, bk1] = [Math.floor(i0 / l.C), Math.floor((i1 - 1) / l.C)];
    const start = (bk: number, end: boolean): number => {
      const [b, k] = [Math.floor(bk / params.chunks), bk % params.chunks];
      return b * l.N + Math.min(l.N, (k + (end ? 1 : 0)) * params.per_chunk);
    };
    return [start(bk0, false), start(bk1, true)];
  };
  return splitWorkgroups(workgroups(count, 64), (w0, w1) => {
    const [v0, v1] = voxelRange(w0 * 64, Math.min(count, w1 * 64));
    return [[v0 * l.C, Math.max(v0 + 1, v1) * l.C]];
  }).map((w) => ({
    workgroups: w.w1 - w.w0,
    params: { ...params, first: w.w0 * 64, end: Math.min(count, w.w1 * 64), base: w.ranges[0][0] },
    range: w.ranges[0],
  }));
}

/**
 * How the per-voxel kernels (group_norm_apply.wgsl, group_norm_grad_apply.wgsl) read: vec4s of
 * channels where C is a multiple of 4 (window bases are multiples of 64 elements), and 4 voxels
 * an invocation, each channel block's statistics loaded once for them, where N is a multiple of 4
 * (a block never spans two samples) and a workgroup's 256 voxels fit a binding window twice over.
 */
export function applyVariant(l: GroupNormLayout): {
  voxelsPerInvocation: number;
  consts: { VW: number; VPI: number };
  aliases: { V: string };
} {
  const VW = l.C % 4 === 0 ? 4 : 1;
  const VPI = l.N % 4 === 0 && 2 * 256 * l.C <= bindingWindowElements() ? 4 : 1;
  return { voxelsPerInvocation: VPI, consts: { VW, VPI }, aliases: { V: VW === 4 ? 'vec4<f32>' : 'f32' } };
}
