/**
 * The one copy kernel behind every data-movement op (kernels/strided_copy.wgsl): an iteration box
 * read through source strides (with padding) and written through destination strides. Copies
 * whose source or destination is larger than one storage binding are split into sub-boxes whose
 * source and destination element ranges each fit a binding window; each sub-box binds both
 * tensors from aligned offsets and shifts its offsets and padding to match, so the kernel itself
 * never changes (its u32 arithmetic wraps the same way for a shifted origin).
 */
import stridedCopySource from '../../../kernels/strided_copy.wgsl';
import { alignDown, bindingWindowElements, bindRange, dispatch, workgroups } from '../dispatch.js';
import { engine } from '../engine.js';
import { defineKernel } from '../kernel.js';
import { sizeOf, stridesOf } from '../shape.js';
import type { Tensor } from '../tensor.js';

const STRIDED_COPY = defineKernel({
  name: 'strided_copy',
  file: 'strided_copy.wgsl',
  source: stridedCopySource,
  params: {
    n: 'u32',
    rank: 'u32',
    src_offset: 'u32',
    dst_offset: 'u32',
    pad_bits: 'u32',
    shape: 'array<vec4<u32>, 2>',
    src_shape: 'array<vec4<u32>, 2>',
    src_strides: 'array<vec4<u32>, 2>',
    pad_lo: 'array<vec4<u32>, 2>',
    dst_strides: 'array<vec4<u32>, 2>',
    run: 'u32',
  },
  bindings: ['src', 'dst'],
  aliases: ['W'],
});

/**
 * The words one kernel element moves: 4 (a vec4<u32>) where the run, both offsets and the strides
 * of the outer axes are whole vec4s of words, else 1.
 */
export function copyWidth(run: number, offsets: readonly number[], outerStrides: readonly number[]): 1 | 4 {
  return [run, ...offsets, ...outerStrides].every((v) => v % 4 === 0) ? 4 : 1;
}

export interface CopyPlan {
  /** The iteration box. */
  shape: readonly number[];
  srcOffset?: number;
  /** The source's valid extent per axis (coordinates outside it, after padLo, read padBits). */
  srcShape?: readonly number[];
  srcStrides: readonly number[];
  padLo?: readonly number[];
  padBits?: number;
  dstOffset?: number;
  dstStrides?: readonly number[];
}

/** Element ranges [first, last] a sub-box [lo, hi) reads and writes (src null when all padding). */
function extents(
  p: Required<CopyPlan>,
  lo: readonly number[],
  hi: readonly number[],
): { src: [number, number] | null; dst: [number, number] } {
  let sMin = p.srcOffset;
  let sMax = p.srcOffset;
  let dMin = p.dstOffset;
  let dMax = p.dstOffset;
  let reads = true;
  for (let k = 0; k < p.shape.length; k++) {
    // Source coordinates of the box on this axis, clipped to the valid (unpadded) extent.
    const a = Math.max(0, lo[k] - p.padLo[k]);
    const b = Math.min(p.srcShape[k], hi[k] - p.padLo[k]) - 1;
    if (b < a) reads = false;
    sMin += p.srcStrides[k] * a;
    sMax += p.srcStrides[k] * b;
    dMin += p.dstStrides[k] * lo[k];
    dMax += p.dstStrides[k] * (hi[k] - 1);
  }
  return { src: reads ? [sMin, sMax] : null, dst: [dMin, dMax] };
}

/**
 * Runs of elements contiguous in both tensors, when the copy is a few long ones (a slice or a
 * concat along an outer axis): the inner axes merged while both layouts stay contiguous and
 * unpadded, and the outer axes enumerated. Null when a kernel serves better.
 */
function contiguousRuns(p: Required<CopyPlan>): { length: number; src: number[]; dst: number[] } | null {
  const { k, length } = innerRun(p);
  const outer = p.shape.slice(0, k);
  const count = sizeOf(outer);
  if (length < MIN_RUN || count > MAX_RUNS) return null;
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < count; i++) {
    let rem = i;
    let s = p.srcOffset;
    let d = p.dstOffset;
    for (let a = k - 1; a >= 0; a--) {
      const c = rem % outer[a];
      rem = Math.floor(rem / outer[a]);
      if (c >= p.srcShape[a] + p.padLo[a] || c < p.padLo[a]) return null;
      s += (c - p.padLo[a]) * p.srcStrides[a];
      d += c * p.dstStrides[a];
    }
    src.push(s);
    dst.push(d);
  }
  return { length, src, dst };
}

/** Runs shorter than this (elements) go to the kernel; more runs than MAX_RUNS too. */
const MIN_RUN = 256;
const MAX_RUNS = 1024;

/** Records the copy from `src` into `dst`, in as many sub-boxes as the binding window needs. */
export function stridedCopy(src: Tensor, dst: Tensor, plan: CopyPlan): void {
  if (sizeOf(plan.shape) === 0) return;
  const p: Required<CopyPlan> = {
    shape: plan.shape,
    srcOffset: plan.srcOffset ?? 0,
    srcShape: plan.srcShape ?? plan.shape,
    srcStrides: plan.srcStrides,
    padLo: plan.padLo ?? plan.shape.map(() => 0),
    padBits: plan.padBits ?? 0,
    dstOffset: plan.dstOffset ?? 0,
    dstStrides: plan.dstStrides ?? stridesOf(plan.shape),
  };
  const q = coalesceAxes(p);
  // A few long contiguous runs are device copies (no kernel, and no binding limit).
  const runs = contiguousRuns(q);
  if (runs) {
    runs.src.forEach((s, i) => engine.backend.copy(src.buffer, s * 4, dst.buffer, runs.dst[i] * 4, runs.length * 4));
    return;
  }
  copyBoxes(src, dst, mergeInnerRun(q));
}

/**
 * The plan with neighbouring axes merged where one index walks both in both tensors (unpadded,
 * and each tensor's stride of the outer axis is its inner stride times the inner extent): a
 * channel concat of (B, X, Y, Z, C) volumes iterates (B·X·Y·Z) runs, so the kernel divides once
 * per run instead of once per axis (integer division is scalarised on software adapters).
 */
export function coalesceAxes(p: Required<CopyPlan>): Required<CopyPlan> {
  const unpadded = (a: number): boolean => p.padLo[a] === 0 && p.srcShape[a] === p.shape[a];
  const out = {
    shape: [] as number[],
    srcShape: [] as number[],
    srcStrides: [] as number[],
    padLo: [] as number[],
    dstStrides: [] as number[],
  };
  for (let k = 0; k < p.shape.length; k++) {
    const j = out.shape.length - 1;
    if (
      j >= 0 &&
      unpadded(k) &&
      unpadded(k - 1) &&
      out.srcStrides[j] === p.srcStrides[k] * p.shape[k] &&
      out.dstStrides[j] === p.dstStrides[k] * p.shape[k]
    ) {
      out.shape[j] *= p.shape[k];
      out.srcShape[j] *= p.shape[k];
      out.srcStrides[j] = p.srcStrides[k];
      out.dstStrides[j] = p.dstStrides[k];
      continue;
    }
    out.shape.push(p.shape[k]);
    out.srcShape.push(p.srcShape[k]);
    out.srcStrides.push(p.srcStrides[k]);
    out.padLo.push(p.padLo[k]);
    out.dstStrides.push(p.dstStrides[k]);
  }
  return { ...p, ...out };
}

/**
 * The innermost axes [k, rank) that are contiguous and unpadded in both tensors, and the length of
 * the run of elements they make.
 */
function innerRun(p: Required<CopyPlan>): { k: number; length: number } {
  let k = p.shape.length;
  let length = 1;
  while (k > 0) {
    const a = k - 1;
    const unpadded = p.padLo[a] === 0 && p.srcShape[a] === p.shape[a];
    if (!unpadded || p.srcStrides[a] !== length || p.dstStrides[a] !== length) break;
    length *= p.shape[a];
    k = a;
  }
  return { k, length };
}

/**
 * The plan with its inner run merged into one last axis (a channel slice or concat copies runs of
 * its channels): the kernel walks that axis as runs, one per invocation. Unchanged when at most
 * the last axis makes the run.
 */
function mergeInnerRun(p: Required<CopyPlan>): Required<CopyPlan> {
  const { k, length } = innerRun(p);
  if (k >= p.shape.length - 1) return p;
  const outer = <T>(xs: readonly T[], last: T): T[] => [...xs.slice(0, k), last];
  return {
    ...p,
    shape: outer(p.shape, length),
    srcShape: outer(p.srcShape, length),
    srcStrides: outer(p.srcStrides, 1),
    padLo: outer(p.padLo, 0),
    dstStrides: outer(p.dstStrides, 1),
  };
}

/** Records the copy in as many sub-boxes as the binding window needs. */
function copyBoxes(src: Tensor, dst: Tensor, p: Required<CopyPlan>): void {
  const limit = bindingWindowElements();
  const span = (r: [number, number] | null): number => (r ? r[1] + 1 - alignDown(r[0]) : 0);
  const boxes: { lo: number[]; hi: number[] }[] = [{ lo: p.shape.map(() => 0), hi: [...p.shape] }];
  while (boxes.length) {
    const { lo, hi } = boxes.pop()!;
    const e = extents(p, lo, hi);
    const srcSpan = span(e.src);
    const dstSpan = span(e.dst);
    if (srcSpan <= limit && dstSpan <= limit) {
      launch(src, dst, p, lo, hi, e);
      continue;
    }
    // Halve the axis that contributes most to the span that is too large.
    let axis = -1;
    let best = 0;
    for (let k = 0; k < p.shape.length; k++) {
      if (hi[k] - lo[k] < 2) continue;
      const weight =
        (hi[k] - lo[k] - 1) * Math.max(srcSpan > limit ? p.srcStrides[k] : 0, dstSpan > limit ? p.dstStrides[k] : 0);
      if (weight > best) {
        best = weight;
        axis = k;
      }
    }
    if (axis < 0)
      throw new Error(`strided copy: a single element spans more than the binding window of ${limit} elements`);
    const mid = lo[axis] + Math.floor((hi[axis] - lo[axis]) / 2);
    boxes.push(
      { lo, hi: hi.map((v, k) => (k === axis ? mid : v)) },
      { lo: lo.map((v, k) => (k === axis ? mid : v)), hi },
    );
  }
}

function launch(
  src: Tensor,
  dst: Tensor,
  p: Required<CopyPlan>,
  lo: readonly number[],
  hi: readonly number[],
  e: ReturnType<typeof extents>,
): void {
  const box = hi.map((h, k) => h - lo[k]);
  // The last axis of the box is copied as runs when it is contiguous and unpadded in both tensors
  // (else element by element; a rank-0 copy is one element).
  const last = box.length - 1;
  const run = last >= 0 && innerRun(p).k <= last ? box[last]! : 1;
  const shape = last >= 0 ? [...box.slice(0, last), box[last]! / run] : [];
  const n = sizeOf(shape);
  // A box that reads only padding binds one element of the source it never reads.
  const [s0, s1] = e.src ? [alignDown(e.src[0]), e.src[1] + 1] : [0, 1];
  const [d0, d1] = [alignDown(e.dst[0]), e.dst[1] + 1];
  const dstOffset = p.dstOffset + lo.reduce((a, l, k) => a + l * p.dstStrides[k], 0) - d0;
  // Offsets, strides and the run in kernel elements. A last axis walked as one run has kernel
  // coordinate 0 in both tensors, so where the box starts along it goes into the offsets (the
  // destination's already holds it).
  const walked = run > 1;
  const outer = (strides: readonly number[]) => strides.slice(0, walked ? last : strides.length);
  const srcOffset = p.srcOffset - s0 + (walked ? lo[last]! * p.srcStrides[last]! : 0);
  const w = copyWidth(run, [srcOffset, dstOffset], [...outer(p.srcStrides), ...outer(p.dstStrides)]);
  const units = (strides: readonly number[]) => strides.map((v, k) => (walked && k === last ? 0 : v / w));
  dispatch(STRIDED_COPY, {
    params: {
      n,
      rank: shape.length,
      // Offsets and padding may be negative relative to the box: the kernel's u32 arithmetic wraps.
      src_offset: (srcOffset / w) >>> 0,
      dst_offset: dstOffset / w,
      pad_bits: p.padBits,
      shape,
      src_shape: p.srcShape,
      src_strides: units(p.srcStrides),
      pad_lo: p.padLo.map((v, k) => (walked && k === last ? 0 : v - lo[k]) >>> 0),
      dst_strides: units(p.dstStrides),
      run: run / w,
    },
    bindings: { src: bindRange(src, s0, s1), dst: bindRange(dst, d0, d1) },
    workgroups: workgroups(n, 256),
    aliases: { W: w === 4 ? 'vec4<u32>' : 'u32' },
  });
}
