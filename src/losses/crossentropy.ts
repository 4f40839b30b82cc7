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
import { describe } from '../tensor/ops/check.js';
import { fill, tensor } from '../tensor/ops/creation.js';
import { add, affine, mul } from '../tensor/ops/elementwise/index.js';
import { reshape, slice } from '../tensor/ops/movement.js';
import type { OverlapStats, StatName } from '../tensor/ops/overlap/index.js';
import { mean, sum } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';
import { predIsProbability, prepareInputs, type SegInput } from './inputs.js';
import {
  bool,
  nonNegative,
  type OverlapLossOptions,
  oneOf,
  type Reduction,
  type ResolvedOverlap,
  resolveOverlap,
} from './options.js';
import { overlapLossOf } from './overlap.js';
import { checkClassWeights, keptClasses, lossSums } from './terms.js';

export interface CrossentropyOptions {
  /** y_pred holds logits: softmax (categorical) or sigmoid (binary) is fused into the kernel. */
  fromLogits?: boolean;
  /** 'mean' (default) over voxels (and classes, binary) and samples; 'sum'; 'none': per sample (B). */
  reduction?: Reduction;
  /**
   * Keras's class_weight, voxel by voxel: categorical, a voxel of class c weighs w[c] (soft labels:
   * Σ_c w[c]·t_c·log p_c), C weights; binary with one channel, [negatives, positives] (2 weights);
   * binary with C channels, channel c weighs w[c]. The reduction still divides by the number of
   * values (Keras's sum_over_batch_size), not by the weights' sum.
   */
  classWeights?: readonly number[];
}

/** How many class weights a cross-entropy of C channels takes (binary with one channel: 2). */
export function crossentropyWeightCount(binary: boolean, C: number): number {
  return binary && C === 1 ? 2 : C;
}

function checkWeightList(fn: string, arg: string, w: unknown): readonly number[] | null {
  if (w === undefined) return null;
  if (!Array.isArray(w) || w.some((v) => typeof v !== 'number' || !Number.isFinite(v) || v < 0))
    throw new ValueError(argMessage(fn, arg, 'an array of finite numbers >= 0', describe(w)));
  return w.slice();
}

function checkWeightCount(fn: string, arg: string, w: readonly number[] | null, binary: boolean, C: number): void {
  const want = crossentropyWeightCount(binary, C);
  if (w && w.length !== want) {
    const what = binary && C === 1 ? 'negatives and positives' : binary ? 'one per channel' : 'one per class';
    throw new ValueError(argMessage(fn, arg, `${want} weights (${what})`, `${w.length} weights`));
  }
}

/** The statistics a cross-entropy needs: with [negatives, positives] weights, Σ t·log p as well. */
function llStats(binary: boolean, C: number, weighted: boolean): OverlapStats {
  return binary ? { binaryLogLikelihood: true, logLikelihood: weighted && C === 1 } : { logLikelihood: true };
}

/**
 * −Σ_c w_c·LL_c from the (B, S, C) sums, per sample (B) or in total. LL is Σ t·log p
 * (categorical) or Σ t·log p + (1 − t)·log(1 − p) (binary, per channel); with one binary channel
 * and weights [w0, w1], w1·Σ t·log p + w0·Σ (1 − t)·log(1 − p).
 */
function negLogLikelihood(
  sums: Tensor,
  slots: Partial<Record<StatName, number>>,
  binary: boolean,
  perSample: boolean,
  classWeights: readonly number[] | null,
): Tensor {
  const [B, , C] = sums.shape;
  const stat = (name: StatName): Tensor => reshape(slice(sums, [0, slots[name]!, 0], [B, 1, C]), [B, C]);
  let ll: Tensor;
  if (!classWeights) ll = stat(binary ? 'binaryLogLikelihood' : 'logLikelihood');
  else if (binary && C === 1) {
    const [w0, w1] = classWeights;
    ll = add(affine(stat('logLikelihood'), w1 - w0), affine(stat('binaryLogLikelihood'), w0));
  } else {
    const w = tensor(Float32Array.from(classWeights), [C]);
    ll = mul(stat(binary ? 'binaryLogLikelihood' : 'logLikelihood'), w);
    w.dispose();
  }
  return affine(perSample ? sum(ll, 1) : sum(ll), -1);
}

/** The options of the cross-entropies, checked before any tensor is read (compile checks them too). */
export function checkCrossentropyOptions(
  fn: string,
  options: CrossentropyOptions,
): { fromLogits: boolean; reduction: Reduction; classWeights: readonly number[] | null } {
  checkOptions(fn, options, ['fromLogits', 'reduction', 'classWeights']);
  return {
    fromLogits: bool(fn, 'fromLogits', options.fromLogits, false),
    reduction: oneOf(fn, 'reduction', options.reduction, ['mean', 'sum', 'none'] as const, 'mean'),
    classWeights: checkWeightList(fn, 'classWeights', options.classWeights),
  };
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
  const { fromLogits, reduction, classWeights } = checkCrossentropyOptions(fn, options);
  const activation = fromLogits ? (binary ? 'sigmoid' : 'softmax') : 'none';
  // Every intermediate (and the tensors made from host data) is freed: only the loss is left.
  return tidy(() => {
    const inputs = prepareInputs(fn, yTrue, yPred, !fromLogits, activation);
    const { B, N, C } = inputs.geometry;
    checkWeightCount(fn, 'classWeights', classWeights, binary, C);
    const extra = llStats(binary, C, classWeights !== null);
    const { sums, slots } = lossSums(fn, inputs, { softLabel: false, squaredPred: false, extra });
    const perValue = binary ? N * C : N;
    if (reduction === 'sum') return negLogLikelihood(sums, slots, binary, false, classWeights);
    if (reduction === 'none') return meanOf(negLogLikelihood(sums, slots, binary, true, classWeights), perValue);
    return meanOf(negLogLikelihood(sums, slots, binary, false, classWeights), perValue * B);
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
  /** The cross-entropy term's class weights (`classWeights` of the cross-entropies); `classWeights` weighs dice. */
  ceClassWeights?: readonly number[];
}

/** The options of dice + cross-entropy, checked before any tensor is read (compile checks them too). */
export function checkDiceCrossentropyOptions(
  fn: string,
  options: DiceCrossentropyOptions,
): { o: ResolvedOverlap; wDice: number; wCe: number; ceClassWeights: readonly number[] | null } {
  const { lambdaDice, lambdaCe, ceClassWeights, ...rest } = options ?? {};
  const o = resolveOverlap(fn, rest, ['lambdaDice', 'lambdaCe', 'ceClassWeights']);
  if (o.reduction === 'none' && o.batch === 'summed')
    throw new ValueError(
      argMessage(fn, 'reduction', "'mean' or 'sum' with batch 'summed' (it has no per-sample values)", "'none'"),
    );
  return {
    o,
    wDice: nonNegative(fn, 'lambdaDice', lambdaDice, 1),
    wCe: nonNegative(fn, 'lambdaCe', lambdaCe, 1),
    ceClassWeights: checkWeightList(fn, 'ceClassWeights', ceClassWeights),
  };
}

/**
 * λ_dice·dice + λ_ce·cross-entropy from one fused read. The cross-entropy is binary with
 * `activation: 'sigmoid'` (or a single class) and categorical otherwise, over all classes (the
 * background option only affects dice), averaged over voxels and samples. `reduction: 'none'`
 * gives one value per sample (B): λ_dice·(dice averaged over the classes) + λ_ce·(cross-entropy
 * averaged over the voxels), whose mean is the 'mean' reduction.
 */
export function diceCrossentropy(yTrue: SegInput, yPred: SegInput, options: DiceCrossentropyOptions = {}): Tensor {
  const fn = 'diceCrossentropy';
  const { o, wDice, wCe, ceClassWeights } = checkDiceCrossentropyOptions(fn, options);
  // Every intermediate (and the tensors made from host data) is freed: only the loss is left.
  return tidy(() => {
    const inputs = prepareInputs(fn, yTrue, yPred, predIsProbability(o.activation, o.predRange), o.activation);
    const { B, N, C } = inputs.geometry;
    checkClassWeights(fn, o.classWeights, keptClasses(C, o.includeBackground));
    const binary = o.activation === 'sigmoid' || C === 1;
    checkWeightCount(fn, 'ceClassWeights', ceClassWeights, binary, C);
    const extra = llStats(binary, C, ceClassWeights !== null);
    const { loss: diceLoss, sums, slots } = overlapLossOf(fn, 'dice', inputs, o, 0, 0, extra);
    const perSample = o.reduction === 'none';
    const nll = negLogLikelihood(sums, slots, binary, perSample, ceClassWeights);
    const ce = o.reduction === 'sum' ? nll : meanOf(nll, (binary ? N * C : N) * (perSample ? 1 : B));
    return add(affine(perSample ? mean(diceLoss, 1) : diceLoss, wDice), affine(ce, wCe));
  });
}
