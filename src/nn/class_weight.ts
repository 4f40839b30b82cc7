/**
 * Keras's `class_weight` (class index → weight, a missing class weighing 1) as the per-class
 * weights each segmentation loss takes. Keras gives every target element the weight of its
 * class (the index, or the argmax of one-hot labels) and reduces with sum_over_batch_size;
 * voxgrad follows that wherever a loss is a sum over voxels, and weighs per-class terms where
 * the loss is a ratio over the whole volume:
 *
 * - cross-entropy: every voxel weighs the weight of its true class (Keras exactly); with one
 *   sigmoid channel, class 0 weighs the voxels labelled 0 and class 1 those labelled 1;
 * - dice, IoU, tversky (and the dice of dice + CE): each class's per-sample term is multiplied
 *   by its weight before the mean over classes (MONAI's `weight`); a voxel weight inside a
 *   ratio of volume sums would change what the score measures. With one channel, that channel
 *   is class 1 (the foreground), as in the losses' index labels.
 */
import { argMessage, ValueError } from '../errors.js';
import { describe } from '../tensor/ops/check.js';
import type { ResolvedLoss } from './compile_loss.js';

/** Class index → weight (Keras's class_weight); a class not listed weighs 1. */
export type ClassWeight = Readonly<Record<number, number>>;

/** Checks a class weight argument: integer keys >= 0, finite weights >= 0. */
export function checkClassWeight(fn: string, arg: string, value: unknown): ClassWeight {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value))
    throw new ValueError(
      argMessage(fn, arg, 'an object of class index → weight, e.g. { 0: 1, 1: 5 }', describe(value)),
    );
  const out: Record<number, number> = {};
  for (const [key, w] of Object.entries(value)) {
    const index = Number(key);
    if (!/^(0|[1-9]\d*)$/.test(key) || !Number.isSafeInteger(index))
      throw new ValueError(argMessage(fn, arg, 'class indices (integers >= 0) as keys', `the key '${key}'`));
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
      throw new ValueError(argMessage(fn, `${arg}[${key}]`, 'a finite number >= 0', describe(w)));
    out[index] = w;
  }
  return out;
}

/** The largest class index an output of C channels has (one channel: 0 background, 1 foreground). */
export function largestClass(C: number): number {
  return C === 1 ? 1 : C - 1;
}

/** Checks that every class index fits an output of C channels. */
export function checkClassRange(fn: string, arg: string, cw: ClassWeight, C: number, output: string): void {
  const top = largestClass(C);
  for (const key of Object.keys(cw)) {
    if (Number(key) > top)
      throw new ValueError(
        argMessage(
          fn,
          arg,
          `class indices 0 to ${top} (the output '${output}' has ${C} channel${C === 1 ? ': 0 background, 1 foreground' : 's'})`,
          `the key ${key}`,
        ),
      );
  }
}

function weightOf(cw: ClassWeight, c: number): number {
  return cw[c] ?? 1;
}

/** The weights of dice / IoU / tversky's kept classes (one channel: class 1). */
export function overlapClassWeights(cw: ClassWeight, C: number, includeBackground: boolean): number[] {
  if (C === 1) return [weightOf(cw, 1)];
  const first = includeBackground ? 0 : 1;
  return Array.from({ length: C - first }, (_, i) => weightOf(cw, first + i));
}

/** The weights a cross-entropy of C channels takes (binary with one channel: [class 0, class 1]). */
export function crossentropyClassWeights(cw: ClassWeight, C: number, binary: boolean): number[] {
  const n = binary && C === 1 ? 2 : C;
  return Array.from({ length: n }, (_, c) => weightOf(cw, c));
}

/**
 * fit's and trainStep's `classWeight` (as Keras): for a model whose losses are on one output, not
 * with sample weights, and a loss that takes class weights; `channels` is that output's count.
 */
export function bindClassWeight(
  fn: string,
  value: unknown,
  withSampleWeights: boolean,
  losses: readonly ResolvedLoss[],
  channels: (output: string) => number,
): ClassWeight | null {
  if (value === undefined || value === null) return null;
  const cw = checkClassWeight(fn, 'classWeight', value);
  if (withSampleWeights)
    throw new ValueError(
      `${fn}: argument 'classWeight' cannot be given with 'sampleWeight' (as in Keras: give one or the other)`,
    );
  if (losses.length !== 1)
    throw new ValueError(
      argMessage(
        fn,
        'classWeight',
        'a model whose losses are on one output (as Keras: class weights apply to a single output)',
        `losses on ${losses.length} outputs (${losses.map((l) => l.output).join(', ')})`,
      ),
    );
  const [loss] = losses;
  const why = loss.refuses('classWeight');
  if (why)
    throw new ValueError(
      `${fn}: argument 'classWeight' cannot apply to the output '${loss.output}': ${loss.label} ${why}`,
    );
  checkClassRange(fn, 'classWeight', cw, channels(loss.output), loss.output);
  return cw;
}
