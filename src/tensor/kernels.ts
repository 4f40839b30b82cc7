/**
 * The kernel registry: name -> WGSL source (imported as text from kernels/ by the build) and the
 * aliases a pipeline may specialise. Pipelines are keyed by kernel name, alias values and
 * override constants, never by tensor sizes, so one pipeline serves every shape.
 */
import binary from '../../kernels/binary.wgsl';
import binaryContiguous from '../../kernels/binary_contiguous.wgsl';
import binaryOps from '../../kernels/binary_ops.wgsl';
import cast from '../../kernels/cast.wgsl';
import conv3d from '../../kernels/conv3d.wgsl';
import conv3dGeometry from '../../kernels/conv3d_geometry.wgsl';
import conv3dGradInput from '../../kernels/conv3d_grad_input.wgsl';
import conv3dGradWeight from '../../kernels/conv3d_grad_weight.wgsl';
import fill from '../../kernels/fill.wgsl';
import matmul from '../../kernels/matmul.wgsl';
import matmulDirect from '../../kernels/matmul_direct.wgsl';
import optimizerUpdate from '../../kernels/optimizer_update.wgsl';
import overlapLoss from '../../kernels/overlap_loss.wgsl';
import groupNormLayoutCode from '../../kernels/group_norm_layout.wgsl';
import groupNormMoments from '../../kernels/group_norm_moments.wgsl';
import groupNormStats from '../../kernels/group_norm_stats.wgsl';
import groupNormApply from '../../kernels/group_norm_apply.wgsl';
import groupNormGradSums from '../../kernels/group_norm_grad_sums.wgsl';
import groupNormGradStats from '../../kernels/group_norm_grad_stats.wgsl';
import groupNormGradApply from '../../kernels/group_norm_grad_apply.wgsl';
import pool3d from '../../kernels/pool3d.wgsl';
import overlapSums from '../../kernels/overlap_sums.wgsl';
import overlapSumsGrad from '../../kernels/overlap_sums_grad.wgsl';
import overlapVoxel from '../../kernels/overlap_voxel.wgsl';
import random from '../../kernels/random.wgsl';
import reduce from '../../kernels/reduce.wgsl';
import softmax from '../../kernels/softmax.wgsl';
import stridedCopy from '../../kernels/strided_copy.wgsl';
import unary from '../../kernels/unary.wgsl';
import where from '../../kernels/where.wgsl';

export interface KernelSource {
  /** File name in kernels/, used in labels and compile errors. */
  readonly file: string;
  /** The full source: the prelude (if any) followed by the kernel file. */
  readonly code: string;
  /** A shared library file placed in front of the kernel, and how many lines it takes. */
  readonly prelude?: { readonly file: string; readonly lines: number };
}

const registry = new Map<string, KernelSource>();

export function registerKernel(name: string, file: string, code: string, prelude?: { file: string; code: string }): void {
  if (registry.has(name)) throw new Error(`kernel '${name}' registered twice`);
  if (!prelude) {
    registry.set(name, { file, code });
    return;
  }
  const text = prelude.code.endsWith('\n') ? prelude.code : `${prelude.code}\n`;
  registry.set(name, { file, code: text + code, prelude: { file: prelude.file, lines: text.split('\n').length - 1 } });
}

/** Maps a line of a kernel's full source to `kernels/<file>:<line>` (prelude or kernel file). */
export function sourceLocation(k: KernelSource, line: number): string {
  if (k.prelude && line <= k.prelude.lines) return `kernels/${k.prelude.file}:${line}`;
  return `kernels/${k.file}:${line - (k.prelude?.lines ?? 0)}`;
}

export function kernelSource(name: string): KernelSource {
  const k = registry.get(name);
  if (!k) throw new Error(`no kernel named '${name}' is registered`);
  return k;
}

export function kernelNames(): string[] {
  return [...registry.keys()];
}

registerKernel('unary', 'unary.wgsl', unary);
// Both binary kernels share the op table.
const ops = { file: 'binary_ops.wgsl', code: binaryOps };
registerKernel('binary', 'binary.wgsl', binary, ops);
registerKernel('binary_contiguous', 'binary_contiguous.wgsl', binaryContiguous, ops);
registerKernel('where', 'where.wgsl', where);
registerKernel('reduce', 'reduce.wgsl', reduce);
registerKernel('softmax', 'softmax.wgsl', softmax);
registerKernel('matmul', 'matmul.wgsl', matmul);
registerKernel('matmul_direct', 'matmul_direct.wgsl', matmulDirect);
registerKernel('strided_copy', 'strided_copy.wgsl', stridedCopy);
registerKernel('fill', 'fill.wgsl', fill);
registerKernel('random', 'random.wgsl', random);
registerKernel('cast', 'cast.wgsl', cast);
// The two overlap kernels share how a voxel is read, activated and labelled.
const voxel = { file: 'overlap_voxel.wgsl', code: overlapVoxel };
registerKernel('overlap_sums', 'overlap_sums.wgsl', overlapSums, voxel);
registerKernel('overlap_sums_grad', 'overlap_sums_grad.wgsl', overlapSumsGrad, voxel);
registerKernel('overlap_loss', 'overlap_loss.wgsl', overlapLoss);
registerKernel('optimizer_update', 'optimizer_update.wgsl', optimizerUpdate);
// The three conv3d kernels share the geometry uniform and index helpers.
const convGeometry = { file: 'conv3d_geometry.wgsl', code: conv3dGeometry };
registerKernel('conv3d', 'conv3d.wgsl', conv3d, convGeometry);
registerKernel('conv3d_grad_input', 'conv3d_grad_input.wgsl', conv3dGradInput, convGeometry);
registerKernel('conv3d_grad_weight', 'conv3d_grad_weight.wgsl', conv3dGradWeight, convGeometry);
registerKernel('pool3d', 'pool3d.wgsl', pool3d, convGeometry);
// The six group-normalisation kernels share the layout uniform.
const groupNormLayout = { file: 'group_norm_layout.wgsl', code: groupNormLayoutCode };
registerKernel('group_norm_moments', 'group_norm_moments.wgsl', groupNormMoments, groupNormLayout);
registerKernel('group_norm_stats', 'group_norm_stats.wgsl', groupNormStats, groupNormLayout);
registerKernel('group_norm_apply', 'group_norm_apply.wgsl', groupNormApply, groupNormLayout);
registerKernel('group_norm_grad_sums', 'group_norm_grad_sums.wgsl', groupNormGradSums, groupNormLayout);
registerKernel('group_norm_grad_stats', 'group_norm_grad_stats.wgsl', groupNormGradStats, groupNormLayout);
registerKernel('group_norm_grad_apply', 'group_norm_grad_apply.wgsl', groupNormGradApply, groupNormLayout);

/**
 * Replaces `alias NAME = ...;` lines of a kernel with the given types. Kernels declare their
 * default aliases so each .wgsl file is valid WGSL on its own.
 */
export function specialise(code: string, aliases: Readonly<Record<string, string>>): string {
  let out = code;
  for (const [name, type] of Object.entries(aliases)) {
    const re = new RegExp(`^alias ${name} = [a-z0-9]+;$`, 'm');
    if (!re.test(out)) throw new Error(`kernel has no 'alias ${name}' line to specialise`);
    out = out.replace(re, `alias ${name} = ${type};`);
  }
  return out;
}

/**
 * Replaces `const NAME: u32 = ...;` lines with the given values: for sizes WGSL needs at shader
 * creation (private array lengths), which override constants cannot give.
 */
export function specialiseConsts(code: string, consts: Readonly<Record<string, number>>): string {
  let out = code;
  for (const [name, value] of Object.entries(consts)) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`const ${name} must be a non-negative integer, got ${value}`);
    const re = new RegExp(`^const ${name}: u32 = [0-9]+u;$`, 'm');
    if (!re.test(out)) throw new Error(`kernel has no 'const ${name}: u32' line to specialise`);
    out = out.replace(re, `const ${name}: u32 = ${value}u;`);
  }
  return out;
}
