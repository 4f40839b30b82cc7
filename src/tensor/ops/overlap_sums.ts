/**
 * The fused overlap statistics of a segmentation volume: for every sample b and class c the
 * sums S_tp = Σ t·p, S_t = Σ t, S_p = Σ p over all voxels (plus the optional statistics below),
 * computed by kernels/overlap_sums.wgsl in one read of y_true and y_pred. Every overlap loss and
 * metric (dice, generalized dice, tversky, IoU) is a small function of these sums; their backward
 * is one broadcast pass (kernels/overlap_sums_grad.wgsl).
 *
 * Layout: y_pred is channels-last (B, ...spatial, C). y_true is either float32 of the same shape
 * (one-hot, binary or soft labels) or int32 class indices of shape (B, ...spatial) or
 * (B, ...spatial, 1), read directly by the kernel (no one-hot tensor is made). With C = 1 index 1
 * is foreground; an index outside [0, C) (or other than 0/1 for C = 1) marks no class.
 */
import { ShapeError, ValueError, argMessage } from '../../errors.js';
import { engine } from '../engine.js';
import { flags } from '../flags.js';
import { ParamWriter } from '../params.js';
import type { Tensor } from '../tensor.js';
import { bindingWindowBytes, checkFloat, checkTensor, describe } from './check.js';
import { fill } from './creation.js';
import { reshape } from './movement.js';
import { sum } from './reduce.js';

export type Activation = 'none' | 'sigmoid' | 'softmax';

/** Which statistics to compute besides S_tp, S_t, S_p (each costs a little ALU, no extra reads). */
export interface OverlapStats {
  /** Σ |p − t| (the soft-label intersection (S_p + S_t − Σ|p − t|) / 2). */
  absDiff?: boolean;
  /** Σ p² and Σ t² (squared-denominator dice). */
  squares?: boolean;
  /** Σ t·log p (categorical cross-entropy). */
  logLikelihood?: boolean;
  /** Σ t·log p + (1 − t)·log(1 − p) (binary cross-entropy). */
  binaryLogLikelihood?: boolean;
}

export interface OverlapSumsOptions extends OverlapStats {
  /** Applied to y_pred inside the kernel: 'sigmoid' element-wise, 'softmax' over the classes. */
  activation?: Activation;
}

export type StatName = 'tp' | 't' | 'p' | 'absDiff' | 'pp' | 'tt' | 'logLikelihood' | 'binaryLogLikelihood';

/** The slot of each statistic along axis 1 of overlapSums' (B, S, C) result. */
export function statSlots(stats: OverlapStats): Partial<Record<StatName, number>> {
  const slots: Partial<Record<StatName, number>> = { tp: 0, t: 1, p: 2 };
  let next = 3;
  if (stats.absDiff) slots.absDiff = next++;
  if (stats.squares) {
    slots.pp = next++;
    slots.tt = next++;
  }
  if (stats.logLikelihood) slots.logLikelihood = next++;
  if (stats.binaryLogLikelihood) slots.binaryLogLikelihood = next++;
  return slots;
}

/** Threads per workgroup of both kernels. */
const WG = 64;
/** Fewest voxels each forward thread should handle before more workgroups are worth it. */
const MIN_VOXELS_PER_THREAD = 32;
const NONE = 255;
/** Classes a voxel may have: each invocation keeps a voxel's classes in registers. */
export const MAX_CLASSES = 256;

export interface OverlapGeometry {
  readonly B: number;
  readonly N: number;
  readonly C: number;
  readonly labels: boolean;
}

/** Validates y_true / y_pred and returns (B, N voxels per sample, C classes). */
export function overlapGeometry(fn: string, yTrue: unknown, yPred: unknown): OverlapGeometry {
  const p = checkFloat(fn, 'yPred', yPred);
  if (p.rank < 2) {
    throw new ShapeError(argMessage(fn, 'yPred', 'a channels-last tensor (batch, ...spatial, classes) of rank >= 2', describe(p)));
  }
  const t = checkTensor(fn, 'yTrue', yTrue);
  const B = p.shape[0];
  const C = p.shape[p.rank - 1];
  const spatial = p.shape.slice(1, -1);
  const N = spatial.reduce((a, b) => a * b, 1);
  if (C < 1 || C > MAX_CLASSES) throw new ShapeError(argMessage(fn, 'yPred', `1 to ${MAX_CLASSES} classes on the last axis`, describe(p)));
  if (t.dtype === 'float32') {
    if (t.rank !== p.rank || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new ShapeError(argMessage(fn, 'yTrue', `float32 of yPred's shape [${p.shape.join(', ')}] (or int32 class indices of shape [${p.shape.slice(0, -1).join(', ')}])`, describe(t)));
    }
    return { B, N, C, labels: false };
  }
  const lead = p.shape.slice(0, -1);
  const same = (s: readonly number[]): boolean => s.length === lead.length && s.every((d, i) => d === lead[i]);
  const ok = same(t.shape) || (t.rank === p.rank && t.shape[t.rank - 1] === 1 && same(t.shape.slice(0, -1)));
  if (!ok) {
    throw new ShapeError(argMessage(fn, 'yTrue', `int32 class indices of shape [${lead.join(', ')}] or [${[...lead, 1].join(', ')}]`, describe(t)));
  }
  return { B, N, C, labels: true };
}

function checkActivation(fn: string, activation: unknown, C: number): Activation {
  if (activation !== 'none' && activation !== 'sigmoid' && activation !== 'softmax') {
    throw new ValueError(argMessage(fn, 'activation', "'none', 'sigmoid' or 'softmax'", describe(activation)));
  }
  if (activation === 'softmax' && C === 1) {
    throw new ValueError(argMessage(fn, 'activation', "'sigmoid' or 'none' for a single class (softmax over 1 class is always 1)", "'softmax'"));
  }
  return activation;
}

const windowBytes = bindingWindowBytes;

const alignDown64 = (n: number): number => Math.floor(n / 64) * 64;
const roundUp16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

function kernelConstants(g: OverlapGeometry, activation: Activation, stats: OverlapStats): { consts: Record<string, number>; constants: Record<string, number>; nstat: number } {
  const slots = statSlots(stats);
  const nstat = Object.keys(slots).length;
  return {
    consts: { C: g.C, CV: Math.ceil(g.C / 4), NSTAT: nstat },
    nstat,
    constants: {
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

/** Binds `t` over [firstElement, endElement) of its buffer, rounded out to 256 / 16 bytes. */
function window(t: Tensor, firstElement: number, endElement: number): { buffer: GPUBuffer; offset: number; size: number } {
  return { buffer: t.buffer, offset: firstElement * 4, size: roundUp16(Math.max(4, (endElement - firstElement) * 4)) };
}

function checkStats(fn: string, activation: Activation, stats: OverlapStats): void {
  if (stats.binaryLogLikelihood && activation === 'softmax') {
    throw new ValueError(argMessage(fn, 'activation', "'none' or 'sigmoid' with the binary log-likelihood", "'softmax'"));
  }
}

/**
 * Per-sample, per-class overlap statistics: returns float32 (B, S, C) where axis 1 holds, in
 * order, S_tp, S_t, S_p and the optional statistics asked for (see `statSlots`). Differentiable
 * with respect to y_pred (through the fused activation) and to a float32 y_true.
 */
export function overlapSums(yTrue: Tensor, yPred: Tensor, options: OverlapSumsOptions = {}): Tensor {
  const fn = 'overlapSums';
  const g = overlapGeometry(fn, yTrue, yPred);
  const activation = checkActivation(fn, options.activation ?? 'none', g.C);
  const stats: OverlapStats = {
    absDiff: !!options.absDiff, squares: !!options.squares,
    logLikelihood: !!options.logLikelihood, binaryLogLikelihood: !!options.binaryLogLikelihood,
  };
  checkStats(fn, activation, stats);
  const attrs = { activation, stats, geometry: g };
  return engine.run(fn, [yPred, yTrue], attrs, () => overlapForward(yTrue, yPred, g, activation, stats));
}

/** Workgroups per sample and voxels per workgroup, shared by the forward and backward kernels. */
function planGroups(g: OverlapGeometry): { groups: number; voxelsPerGroup: number } {
  const { B, N, C } = g;
  const targetGroups = engine.gpu.isCpuAdapter ? 64 : 2048;
  const byWork = Math.ceil(N / (WG * MIN_VOXELS_PER_THREAD));
  const maxVoxelsPerGroup = Math.max(1, Math.floor(windowBytes() / 2 / (4 * C)));
  let groups = Math.max(1, Math.min(byWork, Math.ceil(targetGroups / B)));
  groups = Math.max(groups, Math.ceil(N / maxVoxelsPerGroup));
  const voxelsPerGroup = Math.ceil(N / groups);
  return { groups: Math.ceil(N / voxelsPerGroup), voxelsPerGroup };
}

interface Window {
  /** Workgroups [w0, w1) of the B * groups grid. */
  w0: number;
  w1: number;
  /** First element (of y_pred / y_true / d_*) and first voxel (of labels) the bindings cover. */
  elemBase: number;
  labelBase: number;
  elemEnd: number;
  voxelEnd: number;
}

/** Splits the workgroup grid into dispatches whose bindings fit maxStorageBufferBindingSize. */
function windows(g: OverlapGeometry, groups: number, voxelsPerGroup: number): Window[] {
  const { B, N, C } = g;
  const winElems = windowBytes() / 4;
  const totalGroups = B * groups;
  const voxelOf = (w: number, end: boolean): number => {
    const b = Math.floor(w / groups);
    const k = w % groups;
    return b * N + Math.min(N, (k + (end ? 1 : 0)) * voxelsPerGroup);
  };
  const out: Window[] = [];
  let w0 = 0;
  while (w0 < totalGroups) {
    const elemBase = alignDown64(voxelOf(w0, false) * C);
    const labelBase = alignDown64(voxelOf(w0, false));
    let w1 = w0 + 1;
    while (w1 < totalGroups && voxelOf(w1, true) * C - elemBase <= winElems && voxelOf(w1, true) - labelBase <= winElems) w1++;
    const voxelEnd = voxelOf(w1 - 1, true);
    out.push({ w0, w1, elemBase, labelBase, elemEnd: voxelEnd * C, voxelEnd });
    w0 = w1;
  }
  return out;
}

function groupParams(g: OverlapGeometry, groups: number, voxelsPerGroup: number, w: Window): Uint8Array {
  return new ParamWriter()
    .u32(g.N).u32(groups).u32(voxelsPerGroup).u32(w.w0).u32(w.w1 - w.w0).u32(w.elemBase).u32(w.labelBase).u32(0)
    .bytes();
}

function overlapForward(yTrue: Tensor, yPred: Tensor, g: OverlapGeometry, activation: Activation, stats: OverlapStats): Tensor {
  const { B, N, C } = g;
  const { consts, constants, nstat } = kernelConstants(g, activation, stats);
  if (B * N === 0) return fill([B, nstat, C], 0);
  const { groups, voxelsPerGroup } = planGroups(g);
  const partials = engine.empty([B * groups * nstat * C], 'float32');
  const dummy = engine.empty([4], 'float32');
  const dummyLabels = engine.empty([4], 'int32');
  try {
    const spec = { kernel: 'overlap_sums', consts, constants };
    for (const w of windows(g, groups, voxelsPerGroup)) {
      const bindings = [
        window(yPred, w.elemBase, w.elemEnd),
        g.labels ? window(dummy, 0, 4) : window(yTrue, w.elemBase, w.elemEnd),
        g.labels ? window(yTrue, w.labelBase, w.voxelEnd) : window(dummyLabels, 0, 4),
        window(partials, 0, partials.size),
      ];
      engine.gpu.dispatch(spec, groupParams(g, groups, voxelsPerGroup, w), bindings, w.w1 - w.w0);
    }
  } finally {
    dummy.dispose();
    dummyLabels.dispose();
  }
  if (groups === 1) return reshape(partials, [B, nstat, C]);
  const out = sum(reshape(partials, [B, groups, nstat, C]), 1);
  partials.dispose();
  return out;
}

/**
 * The backward of `overlapSums` from dy = dL/dS of shape (B, S, C), in one pass: [dL/dy_pred]
 * (with respect to the logits under a fused activation) for 'pred', [dL/dy_true] for 'true', or
 * both for 'both'.
 */
export function overlapSumsGrad(yTrue: Tensor, yPred: Tensor, dy: Tensor, attrs: Readonly<Record<string, unknown>>, wrt: 'pred' | 'true' | 'both'): Tensor[] {
  const g = attrs.geometry as OverlapGeometry;
  const activation = attrs.activation as Activation;
  const stats = attrs.stats as OverlapStats;
  return engine.run('overlapSumsGrad', [yPred, yTrue, dy], { wrt }, () => {
    const { B, N } = g;
    const { consts, constants } = kernelConstants(g, activation, stats);
    const outPred = wrt !== 'true' ? engine.empty(yPred.shape, 'float32') : null;
    const outTrue = wrt !== 'pred' ? engine.empty(yPred.shape, 'float32') : null;
    const outs = [outPred, outTrue].filter((x): x is Tensor => x !== null);
    if (B * N === 0) return outs;
    const dummy = engine.empty([4], 'float32');
    const dummyOut = engine.empty([4], 'float32');
    const dummyLabels = engine.empty([4], 'int32');
    try {
      const spec = {
        kernel: 'overlap_sums_grad', consts,
        constants: { ...constants, OUT_PRED: outPred ? 1 : 0, OUT_TRUE: outTrue ? 1 : 0 },
      };
      const { groups, voxelsPerGroup } = planGroups(g);
      for (const w of windows(g, groups, voxelsPerGroup)) {
        const bindings = [
          window(yPred, w.elemBase, w.elemEnd),
          g.labels ? window(dummy, 0, 4) : window(yTrue, w.elemBase, w.elemEnd),
          g.labels ? window(yTrue, w.labelBase, w.voxelEnd) : window(dummyLabels, 0, 4),
          window(dy, 0, dy.size),
          outPred ? window(outPred, w.elemBase, w.elemEnd) : window(dummyOut, 0, 4),
          outTrue ? window(outTrue, w.elemBase, w.elemEnd) : window(dummyOut, 0, 4),
        ];
        engine.gpu.dispatch(spec, groupParams(g, groups, voxelsPerGroup, w), bindings, w.w1 - w.w0);
      }
    } finally {
      dummy.dispose();
      dummyOut.dispose();
      dummyLabels.dispose();
    }
    return outs;
  });
}
