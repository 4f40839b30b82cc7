/**
 * Generalized dice (Sudre et al. 2017), MONAI's semantics: with class weights w_c from the
 * ground-truth volume T_c,
 *   1 − (2·Σ_c w_c·tp_c + nr) / (Σ_c w_c·(po_c + go_c) + dr)
 * The smoothing is added after the weighted class sums. By default (the seed's) the sums and the
 * weights run over the batch and the volume together ('summed'); 'per_sample' gives one loss per
 * sample, then the reduction over samples.
 */
import { argMessage, ValueError } from '../errors.js';
import { checkOptions } from '../options.js';
import { tidy } from '../tensor/api.js';
import { cast } from '../tensor/ops/cast.js';
import { ones } from '../tensor/ops/creation.js';
import { add, affine, greater, mul, reciprocal, square, where } from '../tensor/ops/elementwise/index.js';
import { reshape } from '../tensor/ops/movement.js';
import { max, mean, sum } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';
import { predIsProbability, prepareInputs, type SegInput } from './inputs.js';
import {
  type BatchMode,
  type GeneralizedDiceOptions,
  OVERLAP_KEYS,
  oneOf,
  type ResolvedOverlap,
  resolveOverlap,
} from './options.js';
import { overlapTerms, safeRatio } from './terms.js';

/** A class counts as empty (infinite MONAI weight) when its volume is at most this. */
const EMPTY_VOLUME = 1e-12;

function classWeightsOf(
  T: Tensor,
  weightType: 'square' | 'simple' | 'uniform',
  weightInf: 'monai_max' | 'eps',
): Tensor {
  if (weightType === 'uniform') return ones(T.shape);
  if (weightInf === 'eps') return reciprocal(weightType === 'square' ? affine(square(T), 1, 1e-5) : affine(T, 1, 1e-5));
  // MONAI: w = 1/T² (or 1/T); infinite weights become 0, then the largest remaining weight of
  // the same row (sample, or the whole batch when summed). All classes empty: every weight is 0.
  const present = cast(greater(T, EMPTY_VOLUME), 'float32');
  const safeT = where(greater(T, EMPTY_VOLUME), T, ones(T.shape));
  const w0 = mul(present, reciprocal(weightType === 'square' ? square(safeT) : safeT));
  const wMax = max(w0, 1, true);
  return add(w0, mul(affine(present, -1, 1), wMax));
}

/** The options of generalized dice, checked before any tensor is read (compile checks them too). */
export function checkGeneralizedDiceOptions(
  fn: string,
  options: GeneralizedDiceOptions,
): {
  o: ResolvedOverlap;
  batch: BatchMode;
  weightType: 'square' | 'simple' | 'uniform';
  weightInf: 'monai_max' | 'eps';
} {
  checkOptions(fn, options, [
    ...OVERLAP_KEYS.filter((k) => !['classWeights', 'squaredPred', 'emptyGroundTruth'].includes(k)),
    'gdlBatch',
    'weightType',
    'weightInf',
  ]);
  const { batch: b1, gdlBatch, weightType: wt, weightInf: wi, ...rest } = options;
  if (b1 !== undefined && gdlBatch !== undefined && b1 !== gdlBatch) {
    throw new ValueError(argMessage(fn, 'gdlBatch', `the same value as its alias 'batch' (${b1})`, gdlBatch));
  }
  return {
    o: resolveOverlap(fn, rest),
    batch: oneOf(fn, 'batch', b1 ?? gdlBatch, ['per_sample', 'summed'] as const, 'summed'),
    weightType: oneOf(fn, 'weightType', wt, ['square', 'simple', 'uniform'] as const, 'square'),
    weightInf: oneOf(fn, 'weightInf', wi, ['monai_max', 'eps'] as const, 'monai_max'),
  };
}

/**
 * Generalized dice loss. Returns a scalar, or per-sample losses (B) with `batch: 'per_sample'` and
 * `reduction: 'none'` ((1) when summed).
 */
export function generalizedDice(yTrue: SegInput, yPred: SegInput, options: GeneralizedDiceOptions = {}): Tensor {
  const fn = 'generalizedDice';
  const { o, batch, weightType, weightInf } = checkGeneralizedDiceOptions(fn, options);
  // Every intermediate (and the tensors made from host data) is freed: only the loss is left.
  return tidy(() => {
    const inputs = prepareInputs(fn, yTrue, yPred, predIsProbability(o.activation, o.predRange), o.activation);
    const summed = batch === 'summed';
    const terms = overlapTerms(fn, inputs, {
      softLabel: o.softLabel,
      squaredPred: o.squaredPred,
      includeBackground: o.includeBackground,
      summed,
    });
    const w = classWeightsOf(terms.T, weightType, weightInf);
    const num = affine(sum(mul(w, terms.tp), 1), 2, o.smoothNr);
    const den = affine(sum(mul(w, add(terms.po, terms.go)), 1), 1, o.smoothDr);
    const perRow = affine(safeRatio(num, den, o.smoothDr), -1, 1);
    if (o.reduction === 'mean') return summed ? reshape(perRow, []) : mean(perRow);
    if (o.reduction === 'sum') return summed ? reshape(perRow, []) : sum(perRow);
    return perRow;
  });
}
