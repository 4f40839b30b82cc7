/**
 * Option objects of the segmentation losses and metrics: defaults, and checks that throw before
 * any GPU work, naming the function, the option, what is expected and what was given.
 */
import { argMessage, ValueError } from '../errors.js';
import { checkOptions } from '../options.js';
import { describe } from '../tensor/ops/check.js';
import type { Activation } from '../tensor/ops/overlap/index.js';

export type Reduction = 'mean' | 'sum' | 'none';
export type BatchMode = 'per_sample' | 'summed';

/** Options shared by dice, iou (jaccard), tversky and generalized dice. */
export interface OverlapLossOptions {
  /** Shorthand for smoothNr = smoothDr = smooth. */
  smooth?: number;
  /** Added to the numerator of every score (default 1e-5, as MONAI). */
  smoothNr?: number;
  /** Added to the denominator of every score (default 1e-5): empty-vs-empty scores nr/dr = 1. */
  smoothDr?: number;
  /** false drops class 0 (when there is more than one class), after any softmax. Default true. */
  includeBackground?: boolean;
  /** Applied to y_pred inside the fused kernel: 'sigmoid' per class, 'softmax' over classes. */
  activation?: Activation;
  /** 'mean' (default) over samples and classes, 'sum', or 'none' for the per-(b, c) losses. */
  reduction?: Reduction;
  /** 'per_sample' (default): one score per (b, c); 'summed': sums over the batch too, one per c. */
  batch?: BatchMode;
  /** Multiplies each class's loss before the reduction (one weight per kept class, >= 0). */
  classWeights?: readonly number[];
  /** Soft-label overlap: I = (S_p + S_t − Σ|p − t|) / 2, so loss(x, x) = 0 for any x in [0, 1]. */
  softLabel?: boolean;
  /** Squared denominators Σp² + Σt² (dice, iou, tversky). */
  squaredPred?: boolean;
  /** 'zero_loss': a class with empty ground truth contributes 0 (still counted in the mean). */
  emptyGroundTruth?: 'keep' | 'zero_loss';
  /**
   * What host-array y_pred values may be when activation is 'none': 'probabilities' (default)
   * requires [0, 1]; 'any' accepts any finite value (e.g. tanh outputs, as MONAI's other_act).
   */
  predRange?: 'probabilities' | 'any';
}

export interface TverskyOptions extends OverlapLossOptions {
  /** Weight of false positives Σ p(1 − t) (default 0.5). */
  alpha?: number;
  /** Weight of false negatives Σ (1 − p)t (default 0.5). */
  beta?: number;
}

export interface GeneralizedDiceOptions
  extends Omit<OverlapLossOptions, 'classWeights' | 'squaredPred' | 'emptyGroundTruth' | 'batch'> {
  /** Class weight from the ground-truth volume T: 'square' 1/T² (default), 'simple' 1/T, 'uniform' 1. */
  weightType?: 'square' | 'simple' | 'uniform';
  /**
   * Empty classes (T = 0): 'monai_max' (default) gives them the largest finite weight of the same
   * sample (per_sample) or of all classes (summed), and 1 − nr/dr when every class is empty;
   * 'eps' uses 1/(T² + 1e-5) (or 1/(T + 1e-5)), the seed's form.
   */
  weightInf?: 'monai_max' | 'eps';
  /** 'summed' (default, the seed's): weights and sums over batch and space; 'per_sample': per b. */
  batch?: BatchMode;
  /** Alias of `batch` (MONAI's GDL batch flag mapped to a name). */
  gdlBatch?: BatchMode;
}

export interface ResolvedOverlap {
  smoothNr: number;
  smoothDr: number;
  includeBackground: boolean;
  activation: Activation;
  reduction: Reduction;
  batch: BatchMode;
  classWeights: readonly number[] | null;
  softLabel: boolean;
  squaredPred: boolean;
  emptyGroundTruth: 'keep' | 'zero_loss';
  predRange: 'probabilities' | 'any';
}

export function oneOf<T extends string>(
  fn: string,
  arg: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T))
    throw new ValueError(argMessage(fn, arg, allowed.map((a) => `'${a}'`).join(' | '), describe(value)));
  return value as T;
}

export function nonNegative(fn: string, arg: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValueError(argMessage(fn, arg, 'a finite number >= 0', describe(value)));
  }
  return value;
}

export function bool(fn: string, arg: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ValueError(argMessage(fn, arg, 'true or false', describe(value)));
  return value;
}

export const OVERLAP_KEYS = [
  'smooth',
  'smoothNr',
  'smoothDr',
  'includeBackground',
  'activation',
  'reduction',
  'batch',
  'classWeights',
  'softLabel',
  'squaredPred',
  'emptyGroundTruth',
  'predRange',
] as const;

export function resolveOverlap(fn: string, o: OverlapLossOptions, extraKeys: readonly string[] = []): ResolvedOverlap {
  checkOptions(fn, o, [...OVERLAP_KEYS, ...extraKeys]);
  if (o.smooth !== undefined && (o.smoothNr !== undefined || o.smoothDr !== undefined)) {
    throw new ValueError(
      argMessage(
        fn,
        'smooth',
        'either smooth or smoothNr / smoothDr, not both',
        `smooth ${o.smooth} with smoothNr ${o.smoothNr} / smoothDr ${o.smoothDr}`,
      ),
    );
  }
  const smooth = nonNegative(fn, 'smooth', o.smooth, 1e-5);
  let classWeights: number[] | null = null;
  if (o.classWeights !== undefined) {
    if (
      !Array.isArray(o.classWeights) ||
      o.classWeights.some((w) => typeof w !== 'number' || !Number.isFinite(w) || w < 0)
    ) {
      throw new ValueError(
        argMessage(fn, 'classWeights', 'an array of finite numbers >= 0, one per kept class', describe(o.classWeights)),
      );
    }
    classWeights = o.classWeights.slice();
  }
  return {
    smoothNr: nonNegative(fn, 'smoothNr', o.smoothNr, smooth),
    smoothDr: nonNegative(fn, 'smoothDr', o.smoothDr, smooth),
    includeBackground: bool(fn, 'includeBackground', o.includeBackground, true),
    activation: oneOf(fn, 'activation', o.activation, ['none', 'sigmoid', 'softmax'] as const, 'none'),
    reduction: oneOf(fn, 'reduction', o.reduction, ['mean', 'sum', 'none'] as const, 'mean'),
    batch: oneOf(fn, 'batch', o.batch, ['per_sample', 'summed'] as const, 'per_sample'),
    classWeights,
    softLabel: bool(fn, 'softLabel', o.softLabel, false),
    squaredPred: bool(fn, 'squaredPred', o.squaredPred, false),
    emptyGroundTruth: oneOf(fn, 'emptyGroundTruth', o.emptyGroundTruth, ['keep', 'zero_loss'] as const, 'keep'),
    predRange: oneOf(fn, 'predRange', o.predRange, ['probabilities', 'any'] as const, 'probabilities'),
  };
}
