/**
 * The layout every group-norm kernel shares (kernels/group_norm_layout.wgsl, their prelude): the
 * sizes, the chunking of each sample's voxels into partial sums, epsilon and the affine flags.
 */
import groupNormLayoutSource from '../../../../kernels/group_norm_layout.wgsl';
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

/** Chunks of voxels per sample: enough partial sums (~4096) to keep the device busy. */
function chunking(l: GroupNormLayout): { chunks: number; perChunk: number } {
  const chunks = Math.max(1, Math.min(Math.ceil(l.N / 64), Math.ceil(4096 / (l.B * l.C))));
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
} as const;

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
  };
}
