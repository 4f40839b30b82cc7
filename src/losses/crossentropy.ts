/**
 * Cross-entropy losses from the same fused pass as the overlap sums: the kernel accumulates
 * Σ t·log p (categorical) or Σ t·log p + (1 − t)·log(1 − p) (binary) per (b, c), with log p
 * taken from the logits when the activation is fused (stable), or from p clamped to
 * [1e-7, 1 − 1e-7] for probabilities (as Keras). `diceCrossentropy` gets dice and cross-entropy
 * from one read of the volume.
 */
import { argMessage, ValueError } from '../errors.js';
import { checkOptions } from '../options.js';
import { tidy } from '../tensor/api.js';
import { fill } from '../tensor/ops/creation.js';
import { add, affine } from '../tensor/ops/elementwise/index.js';
import { reshape, slice } from '../tensor/ops/movement.js';
import type { OverlapStats } from '../tensor/ops/overlap/index.js';
import { sum } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';
import { predIsProbability, prepareInputs, type SegInput } from './inputs.js';
import { bool, nonNegative, type OverlapLossOptions, oneOf, type Reduction, resolveOverlap } from './options.js';
import { overlapLossOf } from './overlap.js';
import { checkClassWeights, keptClasses, lossSums } from './terms.js';

export interface CrossentropyOptions {
  /** y_pred holds logits: softmax (categorical) or sigmoid (binary) is fused into the kernel. */
  fromLogits?: boolean;
  /** 'mean' (default) over voxels (and classes, binary) and samples; 'sum'; 'none': per sample (B). */
  reduction?: Reduction;
}

/** −Σ of one log-likelihood statistic of the (B, S, C) sums: per sample (B) or total. */
function negLogLikelihood(sums: Tensor, slot: number, perSample: boolean): Tensor {
  const [B, , C] = sums.shape;
  const ll = reshape(slice(sums, [0, slot, 0], [B, 1, C]), [B, C]);
  return affine(perSample ? sum(ll, 1) : sum(ll), -1);
}

/** t / count: the mean of `count` values summed in t (NaN when there are none, as NumPy's mean). */
function meanOf(t: Tensor, count: number): Tensor {
  return count === 0 ? fill(t.shape, NaN) : affine(t, 1 / count);
}

function crossentropy(
  fn: string,
  binary: boolean,
  yTrue: SegInput,
  yPred: SegInput,
  options: CrossentropyOptions,
): Tensor {
  checkOptions(fn, options, ['fromLogits', 'reduction']);
  const fromLogits = bool(fn, 'fromLogits', options.fromLogits, false);
  const reduction = oneOf(fn, 'reduction', options.reduction, ['mean', 'sum', 'none'] as const, 'mean');
  const activation = fromLogits ? (binary ? 'sigmoid' : 'softmax') : 'none';
  // Every intermediate (and the tensors made from host data) is freed: only the loss is left.
  return tidy(() => {
    const inputs = prepareInputs(fn, yTrue, yPred, !fromLogits, activation);
    const extra: OverlapStats = binary ? { binaryLogLikelihood: true } : { logLikelihood: true };
    const { sums, slots } = lossSums(fn, inputs, { softLabel: false, squaredPred: false, extra });
    const slot = slots[binary ? 'binaryLogLikelihood' : 'logLikelihood']!;
    const { B, N, C } = inputs.geometry;
    const perValue = binary ? N * C : N;
    if (reduction === 'sum') return negLogLikelihood(sums, slot, false);
    if (reduction === 'none') return meanOf(negLogLikelihood(sums, slot, true), perValue);
    return meanOf(negLogLikelihood(sums, slot, false), perValue * B);
  });
}

/** Categorical cross-entropy −Σ_c t·log p, averaged over voxels and samples. */
export function categoricalCrossentropy(yTrue: SegInput, yPred: SegInput, options: CrossentropyOptions = {}): Tensor {
  return crossentropy('categoricalCrossentropy', false, yTrue, yPred, options);
}

/** Binary cross-entropy −(t·log p + (1 − t)·log(1 − p)), averaged over classes, voxels and samples. */
export function binaryCrossentropy(yTrue: SegInput, yPred: SegInput, options: CrossentropyOptions = {}): Tensor {
  return crossentropy('binaryCrossentropy', true, yTrue, yPred, options);
}

export interface DiceCrossentropyOptions extends OverlapLossOptions {
  /** Weight of the dice term (default 1). */
  lambdaDice?: number;
  /** Weight of the cross-entropy term (default 1). */
  lambdaCe?: number;
}

/**
 * λ_dice·dice + λ_ce·cross-entropy from one fused read. The cross-entropy is binary with
 * `activation: 'sigmoid'` (or a single class) and categorical otherwise, over all classes (the
 * background option only affects dice), averaged over voxels and samples.
 */
export function diceCrossentropy(yTrue: SegInput, yPred: SegInput, options: DiceCrossentropyOptions = {}): Tensor {
  const fn = 'diceCrossentropy';
  const { lambdaDice, lambdaCe, ...rest } = options;
  const o = resolveOverlap(fn, rest);
  const wDice = nonNegative(fn, 'lambdaDice', lambdaDice, 1);
  const wCe = nonNegative(fn, 'lambdaCe', lambdaCe, 1);
  if (o.reduction === 'none')
    throw new ValueError(argMessage(fn, 'reduction', "'mean' or 'sum' (the two terms reduce differently)", "'none'"));
  return tidy(() => {
    const inputs = prepareInputs(fn, yTrue, yPred, predIsProbability(o.activation, o.predRange), o.activation);
    const { B, N, C } = inputs.geometry;
    checkClassWeights(fn, o.classWeights, keptClasses(C, o.includeBackground));
    const binary = o.activation === 'sigmoid' || C === 1;
    const extra: OverlapStats = binary ? { binaryLogLikelihood: true } : { logLikelihood: true };
    const { loss: diceLoss, sums, slots } = overlapLossOf(fn, 'dice', inputs, o, 0, 0, extra);
    const slot = binary ? slots.binaryLogLikelihood! : slots.logLikelihood!;
    const total = negLogLikelihood(sums, slot, false);
    const ce = o.reduction === 'sum' ? total : meanOf(total, (binary ? N * C : N) * B);
    return add(affine(diceLoss, wDice), affine(ce, wCe));
  });
}
