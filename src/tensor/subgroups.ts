/**
 * When the kernels that share loads across a subgroup may run: their lanes 0-7 each load one
 * value of what the whole workgroup reads and subgroupShuffle hands it to the others
 * (kernels/conv3d_weights_subgroup.wgsl, matmul_rows_b_subgroup.wgsl). That needs subgroups of
 * at least 8 invocations, each filled by the workgroup (WGSL leaves unspecified which lanes of a
 * subgroup larger than its workgroup are present). Elsewhere those variants run their plain form.
 */
import lanesSource from '../../kernels/lanes.wgsl';
import lanesSubgroupSource from '../../kernels/lanes_subgroup.wgsl';
import { engine } from './engine.js';
import type { Prelude } from './kernel.js';

/** The first prelude of a kernel's plain form (its entry point's `lanes` need no lane). */
export const LANES: Prelude = { file: 'lanes.wgsl', source: lanesSource };
/** The first prelude of a kernel's subgroup form: `enable subgroups` and the invocation's lane. */
export const LANES_SUBGROUP: Prelude = { file: 'lanes_subgroup.wgsl', source: lanesSubgroupSource };

/** Whether workgroups of `workgroupSize` invocations can share loads across their subgroups. */
export function subgroupsFit(workgroupSize: number): boolean {
  const b = engine.backend;
  return b.subgroupMinSize >= 8 && b.subgroupMaxSize <= workgroupSize;
}
