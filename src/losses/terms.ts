/**
 * From the fused (B, S, C) overlap sums to the per-(b, c) terms every overlap loss is written in:
 * tp (the intersection), po and go (the prediction's and the ground truth's "volume"), and the
 * plain ground-truth sum T used for empty-class rules and weights. Everything here runs on tiny
 * (B, C) tensors; the volume itself is read once, by overlapSums.
 */
import { ValueError, argMessage } from '../errors.js';
import { add, affine, div, greater, sub, where } from '../tensor/ops/elementwise.js';
import { reshape, slice } from '../tensor/ops/movement.js';
import { overlapSums, statSlots } from '../tensor/ops/overlap_sums.js';
import type { Activation, OverlapStats, StatName } from '../tensor/ops/overlap_sums.js';
import { sum } from '../tensor/ops/reduce.js';
import { fill, ones } from '../tensor/ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';

export interface Terms {
  /** (rows, C') with rows = B (per sample) or 1 (batch summed), C' = kept classes. */
  tp: Tensor;
  po: Tensor;
  go: Tensor;
  /** Σ t over the same axes (the ground-truth volume). */
  T: Tensor;
  rows: number;
  classes: number;
}

export interface TermOptions {
  activation: Activation;
  includeBackground: boolean;
  summed: boolean;
  softLabel: boolean;
  squaredPred: boolean;
  /** Extra statistics computed in the same pass (e.g. the log-likelihood for dice + CE). */
  extra?: OverlapStats;
}

/** Reads the sums once and slices out the terms. Returns the raw sums too (for extra statistics). */
export function overlapTerms(yTrue: Tensor, yPred: Tensor, o: TermOptions): { terms: Terms; sums: Tensor; pick: (name: StatName) => Tensor } {
  const stats: OverlapStats = { absDiff: o.softLabel && !o.squaredPred, squares: o.squaredPred, ...o.extra };
  const sums = overlapSums(yTrue, yPred, { activation: o.activation, ...stats });
  const [B, , C] = sums.shape;
  const slots = statSlots(stats);
  const drop = !o.includeBackground && C > 1 ? 1 : 0;
  const kept = C - drop;
  /** (B or 1, C') slice of one statistic. */
  const pick = (name: StatName, summed = o.summed): Tensor => {
    const s = reshape(slice(sums, [0, slots[name]!, drop], [B, 1, kept]), [B, kept]);
    return summed ? sum(s, 0, true) : s;
  };
  const T = pick('t');
  let tp: Tensor;
  let po: Tensor;
  let go: Tensor;
  if (o.squaredPred) {
    // Σ(p − t)² expands to Σp² + Σt² − 2Σpt, so the soft-label intersection is Σpt itself.
    tp = pick('tp');
    po = pick('pp');
    go = pick('tt');
  } else {
    po = pick('p');
    go = T;
    tp = o.softLabel ? affine(sub(add(po, go), pick('absDiff')), 0.5) : pick('tp');
  }
  return { terms: { tp, po, go, T, rows: o.summed ? 1 : B, classes: kept }, sums, pick: (n) => pick(n) };
}

/** num / den, and 0 where den is 0 (only needed when the denominator smoothing is 0). */
export function safeRatio(num: Tensor, den: Tensor, denSmoothing: number): Tensor {
  if (denSmoothing > 0) return div(num, den);
  const ok = greater(den, 0);
  const safeDen = where(ok, den, ones(den.shape));
  return where(ok, div(num, safeDen), fill(den.shape, 0));
}

/** Classes left after dropping the background (only when there is more than one class). */
export function keptClasses(C: number, includeBackground: boolean): number {
  return !includeBackground && C > 1 ? C - 1 : C;
}

/** Checks the weight count against the kept classes (before any GPU work). */
export function checkClassWeights(fn: string, weights: readonly number[] | null, classes: number): void {
  if (weights && weights.length !== classes) {
    throw new ValueError(argMessage(fn, 'classWeights', `${classes} weights (one per kept class)`, `${weights.length} weights`));
  }
}
