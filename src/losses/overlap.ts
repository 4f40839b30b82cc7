/**
 * Dice, IoU (Jaccard) and Tversky losses. Per (b, c), with tp, po, go from the fused sums
 * (tp = Σ t·p, po = Σ p, go = Σ t unless softLabel / squaredPred say otherwise), FP = po − tp,
 * FN = go − tp and nr / dr the smoothing terms:
 *   dice     1 − (2·tp + nr) / (po + go + dr)
 *   iou      1 − (tp + nr) / (po + go − tp + dr)
 *   tversky  1 − (tp + nr) / (tp + α·FP + β·FN + dr)     α weighs false positives, β false negatives
 * then the mean over samples and classes (the seed's "mean over the batch, then over classes").
 */
import { argMessage, ValueError } from '../errors.js';
import { tidy } from '../tensor/api.js';
import { tensor } from '../tensor/ops/creation.js';
import type { OverlapStats, StatName } from '../tensor/ops/overlap/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { type Prepared, predIsProbability, prepareInputs, type SegInput } from './inputs.js';
import {
  nonNegative,
  type OverlapLossOptions,
  type ResolvedOverlap,
  resolveOverlap,
  type TverskyOptions,
} from './options.js';
import { overlapHead } from './overlap_head.js';
import { checkClassWeights, keptClasses, lossSums } from './terms.js';

export type OverlapKind = 'dice' | 'iou' | 'tversky';
type Kind = OverlapKind;

/**
 * The whole loss from the fused sums: one overlapSums pass, then the one-dispatch loss head.
 * Returns the sums too, with the slots of the statistics (dice + CE reads its log-likelihood there).
 */
export function overlapLossOf(
  fn: string,
  kind: Kind,
  inputs: Prepared,
  o: ResolvedOverlap,
  alpha: number,
  beta: number,
  extra: OverlapStats = {},
): {
  loss: Tensor;
  sums: Tensor;
  slots: Partial<Record<StatName, number>>;
} {
  const { sums, slots } = lossSums(fn, inputs, { softLabel: o.softLabel, squaredPred: o.squaredPred, extra });
  const C = sums.shape[2];
  const drop = !o.includeBackground && C > 1 ? 1 : 0;
  const weights = tensor(Float32Array.from(o.classWeights ?? new Array(C - drop).fill(1)), [C - drop]);
  const loss = overlapHead(sums, weights, {
    kind,
    softLabel: o.softLabel,
    squaredPred: o.squaredPred,
    zeroEmpty: o.emptyGroundTruth === 'zero_loss',
    summed: o.batch === 'summed',
    reduction: o.reduction,
    drop,
    smoothNr: o.smoothNr,
    smoothDr: o.smoothDr,
    alpha,
    beta,
    slots,
  });
  weights.dispose();
  return { loss, sums, slots };
}

/**
 * The options of dice, iou or tversky, checked before any tensor is read (compile checks a named
 * loss's options with this too): the shared overlap options, and tversky's alpha and beta.
 */
export function checkOverlapOptions(
  fn: string,
  kind: Kind,
  options: TverskyOptions,
): { o: ResolvedOverlap; alpha: number; beta: number } {
  const o = resolveOverlap(fn, options, kind === 'tversky' ? ['alpha', 'beta'] : []);
  const alpha = kind === 'tversky' ? nonNegative(fn, 'alpha', options.alpha, 0.5) : 0;
  const beta = kind === 'tversky' ? nonNegative(fn, 'beta', options.beta, 0.5) : 0;
  if (kind === 'tversky' && alpha + beta === 0 && o.smoothDr === 0) {
    throw new ValueError(
      argMessage(
        fn,
        'alpha',
        'alpha + beta > 0 or smoothDr > 0 (else an empty intersection divides by 0)',
        `alpha ${alpha}, beta ${beta}, smoothDr 0`,
      ),
    );
  }
  return { o, alpha, beta };
}

function overlapLoss(fn: string, kind: Kind, yTrue: SegInput, yPred: SegInput, options: TverskyOptions): Tensor {
  const { o, alpha, beta } = checkOverlapOptions(fn, kind, options);
  // Every intermediate (and the tensors made from host data) is freed: only the loss is left.
  return tidy(() => {
    const inputs = prepareInputs(fn, yTrue, yPred, predIsProbability(o.activation, o.predRange), o.activation);
    checkClassWeights(fn, o.classWeights, keptClasses(inputs.geometry.C, o.includeBackground));
    return overlapLossOf(fn, kind, inputs, o, alpha, beta).loss;
  });
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
