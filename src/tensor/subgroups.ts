/**
 * When the kernels that share loads across a subgroup may run: their lanes 0-7 each load one
 * value of what the whole workgroup reads and subgroupShuffle hands it to the others
 * (kernels/conv3d_weights_subgroup.wgsl, matmul_rows_b_subgroup.wgsl). That needs subgroups of
 * at least 8 invocations, each filled by the workgroup (WGSL leaves unspecified which lanes of a
 * subgroup larger than its workgroup are present). Elsewhere those variants run their plain form.
 */
import { engine } from './engine.js';

/** Whether workgroups of `workgroupSize` invocations can share loads across their subgroups. */
export function subgroupsFit(workgroupSize: number): boolean {
  const b = engine.backend;
  return b.subgroupMinSize >= 8 && b.subgroupMaxSize <= workgroupSize;
}
