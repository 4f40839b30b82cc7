/**
 * Dice, IoU (Jaccard) and Tversky losses. Per (b, c), with tp, po, go from `overlapTerms`
 * (tp = Σ t·p, po = Σ p, go = Σ t unless softLabel / squaredPred say otherwise), FP = po − tp,
 * FN = go − tp and nr / dr the smoothing terms:
 *   dice     1 − (2·tp + nr) / (po + go + dr)
 *   iou      1 − (tp + nr) / (po + go − tp + dr)
 *   tversky  1 − (tp + nr) / (tp + α·FP + β·FN + dr)     α weighs false positives, β false negatives
 * then the mean over samples and classes (the seed's "mean over the batch, then over classes").
 */
import { ValueError, argMessage } from '../errors.js';
import { add, affine, mul, sub } from '../tensor/ops/elementwise.js';
import { reshape } from '../tensor/ops/movement.js';
import { mean, sum } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';
import { prepareInputs, predIsProbability } from './inputs.js';
import type { SegInput } from './inputs.js';
import { nonNegative, resolveOverlap } from './options.js';
import type { OverlapLossOptions, ResolvedOverlap, TverskyOptions } from './options.js';
import { checkClassWeights, keptClasses, nonEmpty, overlapTerms, safeRatio, weighClasses } from './terms.js';
import type { Terms } from './terms.js';

type Kind = 'dice' | 'iou' | 'tversky';

/** The score (before 1 − ·) of each (row, class) from the terms. */
function score(kind: Kind, t: Terms, o: ResolvedOverlap, alpha: number, beta: number): Tensor {
  const { tp, po, go } = t;
  if (kind === 'dice') return safeRatio(affine(tp, 2, o.smoothNr), affine(add(po, go), 1, o.smoothDr), o.smoothDr);
  if (kind === 'iou') return safeRatio(affine(tp, 1, o.smoothNr), affine(sub(add(po, go), tp), 1, o.smoothDr), o.smoothDr);
  // tp + α(po − tp) + β(go − tp) = (1 − α − β)·tp + α·po + β·go
  const den = add(add(affine(tp, 1 - alpha - beta), affine(po, alpha)), affine(go, beta, o.smoothDr));
  return safeRatio(affine(tp, 1, o.smoothNr), den, o.smoothDr);
}

/** Applies the empty-class rule, class weights and the reduction to a (rows, C') loss. */
export function reduceLoss(loss: Tensor, t: Terms, o: Pick<ResolvedOverlap, 'emptyGroundTruth' | 'classWeights' | 'reduction'>, summed: boolean): Tensor {
  let l = loss;
  if (o.emptyGroundTruth === 'zero_loss') l = mul(l, nonEmpty(t.T));
  if (o.classWeights) l = weighClasses(l, o.classWeights);
  if (o.reduction === 'mean') return mean(l);
  if (o.reduction === 'sum') return sum(l);
  return summed ? reshape(l, [t.classes]) : l;
}

function overlapLoss(fn: string, kind: Kind, yTrue: SegInput, yPred: SegInput, options: TverskyOptions): Tensor {
  const o = resolveOverlap(fn, options, kind === 'tversky' ? ['alpha', 'beta'] : []);
  const alpha = kind === 'tversky' ? nonNegative(fn, 'alpha', options.alpha, 0.5) : 0;
  const beta = kind === 'tversky' ? nonNegative(fn, 'beta', options.beta, 0.5) : 0;
  if (kind === 'tversky' && alpha + beta === 0 && o.smoothDr === 0) {
    throw new ValueError(argMessage(fn, 'alpha', 'alpha + beta > 0 or smoothDr > 0 (else an empty intersection divides by 0)', `alpha ${alpha}, beta ${beta}, smoothDr 0`));
  }
  const { yTrue: t, yPred: p, owned } = prepareInputs(fn, yTrue, yPred, predIsProbability(o.activation, o.predRange), o.activation);
  try {
    if (p.rank >= 1) checkClassWeights(fn, o.classWeights, keptClasses(p.shape[p.rank - 1], o.includeBackground));
    return build();
  } finally {
    for (const x of owned) x.dispose();
  }

  function build(): Tensor {
    const summed = o.batch === 'summed';
    const { terms } = overlapTerms(t, p, { ...o, summed });
    const loss = affine(score(kind, terms, o, alpha, beta), -1, 1);
    return reduceLoss(loss, terms, o, summed);
  }
}

/**
 * Dice loss of one-hot / soft targets (or int32 class indices) and predictions, channels-last
 * (B, ...spatial, C). Returns a scalar, or (B, C') / (C') losses with `reduction: 'none'`.
 */
export function dice(yTrue: SegInput, yPred: SegInput, options: OverlapLossOptions = {}): Tensor {
  return overlapLoss('dice', 'dice', yTrue, yPred, options);
}

/** IoU (Jaccard) loss: 1 − (tp + nr) / (po + go − tp + dr). */
export function iou(yTrue: SegInput, yPred: SegInput, options: OverlapLossOptions = {}): Tensor {
  return overlapLoss('iou', 'iou', yTrue, yPred, options);
}

/** Alias of `iou`. */
export const jaccard = iou;

/**
 * Tversky loss: 1 − (tp + nr) / (tp + α·FP + β·FN + dr) with FP = Σ p(1 − t) weighted by `alpha`
 * and FN = Σ (1 − p)t weighted by `beta` (both 0.5 by default, which is dice).
 */
export function tversky(yTrue: SegInput, yPred: SegInput, options: TverskyOptions = {}): Tensor {
  return overlapLoss('tversky', 'tversky', yTrue, yPred, options);
}
