/**
 * Dice, IoU (Jaccard) and Tversky losses. Per (b, c), with tp, po, go from the fused sums
 * (tp = Σ t·p, po = Σ p, go = Σ t unless softLabel / squaredPred say otherwise), FP = po − tp,
 * FN = go − tp and nr / dr the smoothing terms:
 *   dice     1 − (2·tp + nr) / (po + go + dr)
 *   iou      1 − (tp + nr) / (po + go − tp + dr)
 *   tversky  1 − (tp + nr) / (tp + α·FP + β·FN + dr)     α weighs false positives, β false negatives
 * then the mean over samples and classes (the seed's "mean over the batch, then over classes").
 */
import { ValueError, argMessage } from '../errors.js';
import { tensor } from '../tensor/ops/creation.js';
import { overlapLossFromSums } from '../tensor/ops/overlap_loss.js';
import { overlapSums, statSlots } from '../tensor/ops/overlap_sums.js';
import type { OverlapStats } from '../tensor/ops/overlap_sums.js';
import type { Tensor } from '../tensor/tensor.js';
import { prepareInputs, predIsProbability } from './inputs.js';
import type { SegInput } from './inputs.js';
import { nonNegative, resolveOverlap } from './options.js';
import type { OverlapLossOptions, ResolvedOverlap, TverskyOptions } from './options.js';
import { checkClassWeights, keptClasses } from './terms.js';

type Kind = 'dice' | 'iou' | 'tversky';

/** The whole loss from the fused sums: one overlapSums pass, then the one-dispatch loss head. */
export function overlapLossOf(kind: Kind, yTrue: Tensor, yPred: Tensor, o: ResolvedOverlap, alpha: number, beta: number, extra: OverlapStats = {}): { loss: Tensor; sums: Tensor } {
  const stats: OverlapStats = { absDiff: o.softLabel && !o.squaredPred, squares: o.squaredPred, ...extra };
  const sums = overlapSums(yTrue, yPred, { activation: o.activation, ...stats });
  const C = sums.shape[2];
  const drop = !o.includeBackground && C > 1 ? 1 : 0;
  const weights = tensor(Float32Array.from(o.classWeights ?? new Array(C - drop).fill(1)), [C - drop]);
  const loss = overlapLossFromSums(sums, weights, {
    kind, softLabel: o.softLabel, squaredPred: o.squaredPred, zeroEmpty: o.emptyGroundTruth === 'zero_loss',
    summed: o.batch === 'summed', reduction: o.reduction, drop, smoothNr: o.smoothNr, smoothDr: o.smoothDr, alpha, beta,
    slots: statSlots(stats),
  });
  weights.dispose();
  return { loss, sums };
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
    const { loss, sums } = overlapLossOf(kind, t, p, o, alpha, beta);
    sums.dispose();
    return loss;
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
