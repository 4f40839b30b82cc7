/**
 * What the overlap kernels share (kernels/overlap_voxel.wgsl is the prelude of both): the params
 * and the specialisation, the grid (workgroups per sample, voxels per workgroup) and its split into
 * dispatches whose bindings fit one window. The forward and backward run on the same grid.
 */
import overlapVoxelSource from '../../../../kernels/overlap_voxel.wgsl';
import { bindingWindowBytes, splitWorkgroups, type WorkgroupWindow } from '../../dispatch.js';
import { engine } from '../../engine.js';
import type { ParamValues, Prelude } from '../../kernel.js';
import { type Activation, type OverlapGeometry, type OverlapStats, statSlots } from './geometry.js';

export interface OverlapSumsAttrs {
  geometry: OverlapGeometry;
  activation: Activation;
  stats: Required<OverlapStats>;
}

/** The prelude of both overlap kernels: how a voxel is read, activated and labelled. */
export const OVERLAP_VOXEL: Prelude = { file: 'overlap_voxel.wgsl', source: overlapVoxelSource };

export const OVERLAP_PARAMS = {
  voxels: 'u32',
  groups: 'u32',
  voxels_per_group: 'u32',
  group_offset: 'u32',
  dispatch_groups: 'u32',
  elem_base: 'u32',
  label_base: 'u32',
} as const;

/** The pipeline specialisation both kernels share. */
export const OVERLAP_OVERRIDES = ['ACT', 'LABELS', 'VEC', 'S_ABS', 'S_PP', 'S_TT', 'S_XCAT', 'S_XBIN'] as const;

/** Threads per workgroup of both kernels. */
const WG = 64;
/** Fewest voxels each forward thread should handle before more workgroups are worth it. */
const MIN_VOXELS_PER_THREAD = 32;
/** A statistic's slot when it is not computed. */
const NONE = 255;

/** The `const` sizes and override constants of both kernels for these arguments. */
export function overlapVariant(attrs: OverlapSumsAttrs): {
  consts: { C: number; CV: number; NSTAT: number };
  overrides: Record<(typeof OVERLAP_OVERRIDES)[number], number>;
} {
  const { geometry: g, activation, stats } = attrs;
  const slots = statSlots(stats);
  return {
    consts: { C: g.C, CV: Math.ceil(g.C / 4), NSTAT: Object.keys(slots).length },
    overrides: {
      ACT: { none: 0, sigmoid: 1, softmax: 2 }[activation],
      LABELS: g.labels ? 1 : 0,
      VEC: g.C % 4 === 0 ? 1 : 0,
      S_ABS: slots.absDiff ?? NONE,
      S_PP: slots.pp ?? NONE,
      S_TT: slots.tt ?? NONE,
      S_XCAT: slots.logLikelihood ?? NONE,
      S_XBIN: slots.binaryLogLikelihood ?? NONE,
    },
  };
}

/**
 * Workgroups per sample and voxels per workgroup, shared by the forward and backward kernels, and
 * the dispatches they split into so that every binding fits one window.
 */
export function planOverlap(g: OverlapGeometry): {
  groups: number;
  voxelsPerGroup: number;
  windows: WorkgroupWindow[];
} {
  const { B, N, C } = g;
  const targetGroups = engine.backend.isCpuAdapter ? 64 : 2048;
  const byWork = Math.ceil(N / (WG * MIN_VOXELS_PER_THREAD));
  let groups = Math.max(1, Math.min(byWork, Math.ceil(targetGroups / B)));
  // A workgroup's voxels must fit half a window (so that a window always holds at least one).
  const voxelsPerWindow = Math.floor(bindingWindowBytes() / 8 / C);
  groups = Math.max(groups, Math.ceil(N / Math.max(1, voxelsPerWindow)));
  const voxelsPerGroup = Math.ceil(N / groups);
  groups = Math.ceil(N / voxelsPerGroup);
  const voxelOf = (w: number, end: boolean): number => {
    const b = Math.floor(w / groups);
    return b * N + Math.min(N, ((w % groups) + (end ? 1 : 0)) * voxelsPerGroup);
  };
  const windows = splitWorkgroups(B * groups, (w0, w1) => {
    const [v0, v1] = [voxelOf(w0, false), voxelOf(w1 - 1, true)];
    return [
      [v0 * C, v1 * C],
      [v0, v1],
    ];
  });
  return { groups, voxelsPerGroup, windows };
}

/** The params of one windowed dispatch. */
export function overlapParams(
  g: OverlapGeometry,
  groups: number,
  voxelsPerGroup: number,
  w: WorkgroupWindow,
): ParamValues<typeof OVERLAP_PARAMS> {
  return {
    voxels: g.N,
    groups,
    voxels_per_group: voxelsPerGroup,
    group_offset: w.w0,
    dispatch_groups: w.w1 - w.w0,
    elem_base: w.ranges[0][0],
    label_base: w.ranges[1][0],
  };
}
