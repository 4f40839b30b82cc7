/**
 * From a loss's checked inputs to the fused (B, S, C) overlap sums, and from the sums to the
 * per-(b, c) terms every overlap loss is written in: tp (the intersection), po and go (the
 * prediction's and the ground truth's "volume"), and the plain ground-truth sum T used for
 * empty-class rules and weights. Everything after the sums runs on tiny (B, C) tensors; the volume
 * itself is read once, by overlapSums.
 */
import { argMessage, ValueError } from '../errors.js';
import { fill, ones } from '../tensor/ops/creation.js';
import { add, affine, div, equal, sub, where } from '../tensor/ops/elementwise/index.js';
import { reshape, slice } from '../tensor/ops/movement.js';
import { checkStats, type OverlapStats, overlapSumsOf, type StatName, statSlots } from '../tensor/ops/overlap/index.js';
import { sum } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Prepared } from './inputs.js';

export interface SumsOptions {
  softLabel: boolean;
  squaredPred: boolean;
  /** Extra statistics computed in the same pass (e.g. the log-likelihood for dice + CE). */
  extra?: OverlapStats;
}

/** The fused sums of a loss's inputs, with the statistics its options need and their slots. */
export function lossSums(
  fn: string,
  inputs: Prepared,
  o: SumsOptions,
): { sums: Tensor; slots: Partial<Record<StatName, number>> } {
  const stats = checkStats(fn, inputs.activation, {
    absDiff: o.softLabel && !o.squaredPred,
    squares: o.squaredPred,
    ...o.extra,
  });
  const sums = overlapSumsOf(inputs.yTrue, inputs.yPred, {
    geometry: inputs.geometry,
    activation: inputs.activation,
    stats,
  });
  return { sums, slots: statSlots(stats) };
}

export interface Terms {
  /** (rows, C') with rows = B (per sample) or 1 (batch summed), C' = kept classes. */
  tp: Tensor;
  po: Tensor;
  go: Tensor;
  /** Σ t over the same axes (the ground-truth volume). */
  T: Tensor;
}

export interface TermOptions extends SumsOptions {
  includeBackground: boolean;
  summed: boolean;
}

/** Reads the sums once and slices out the terms. */
export function overlapTerms(fn: string, inputs: Prepared, o: TermOptions): Terms {
  const { sums, slots } = lossSums(fn, inputs, o);
  const [B, , C] = sums.shape;
  const drop = !o.includeBackground && C > 1 ? 1 : 0;
  const kept = C - drop;
  /** (B or 1, C') slice of one statistic. */
  const pick = (name: StatName): Tensor => {
    const s = reshape(slice(sums, [0, slots[name]!, drop], [B, 1, kept]), [B, kept]);
    return o.summed ? sum(s, 0, true) : s;
  };
  const T = pick('t');
  if (o.squaredPred) {
    // Σ(p − t)² expands to Σp² + Σt² − 2Σpt, so the soft-label intersection is Σpt itself.
    return { tp: pick('tp'), po: pick('pp'), go: pick('tt'), T };
  }
  const po = pick('p');
  const tp = o.softLabel ? affine(sub(add(po, T), pick('absDiff')), 0.5) : pick('tp');
  return { tp, po, go: T, T };
}

/**
 * num / den, and 0 where den is 0 (only needed when the denominator smoothing is 0); a NaN
 * denominator is not 0 and gives NaN.
 */
export function safeRatio(num: Tensor, den: Tensor, denSmoothing: number): Tensor {
  if (denSmoothing > 0) return div(num, den);
  const zero = equal(den, 0);
  const safeDen = where(zero, ones(den.shape), den);
  return where(zero, fill(den.shape, 0), div(num, safeDen));
}

/** Classes left after dropping the background (only when there is more than one class). */
export function keptClasses(C: number, includeBackground: boolean): number {
  return !includeBackground && C > 1 ? C - 1 : C;
}

/** Checks the weight count against the kept classes (before any GPU work). */
export function checkClassWeights(fn: string, weights: readonly number[] | null, classes: number): void {
  if (weights && weights.length !== classes) {
    throw new ValueError(
      argMessage(fn, 'classWeights', `${classes} weights (one per kept class)`, `${weights.length} weights`),
    );
  }
}
