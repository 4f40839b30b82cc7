/**
 * Segmentation metrics: per-(b, c) dice coefficient and IoU of binarised predictions, from the
 * fused overlap sums. A class with empty ground truth in a sample is NaN (ignored) by default and
 * every average skips NaNs (NaN only when all of its values are NaN), as MONAI's DiceMetric; with
 * `ignoreEmpty: false` it scores 1 when the prediction is empty too, else 0.
 */

import { checkOptions } from '../options.js';
import { tidy } from '../tensor/api.js';
import { cast } from '../tensor/ops/cast.js';
import { fill, ones } from '../tensor/ops/creation.js';
import { add, affine, div, equal, greater, notEqual, sub, where } from '../tensor/ops/elementwise/index.js';
import { reshape } from '../tensor/ops/movement.js';
import { max, sum } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';
import { type Prepared, prepareInputs, type SegInput } from './inputs.js';
import { bool, nonNegative, oneOf } from './options.js';
import { overlapTerms } from './terms.js';

export interface MetricOptions {
  /** false drops class 0 (when there is more than one class). Default true. */
  includeBackground?: boolean;
  /** Empty-ground-truth classes give NaN and are skipped by the averages (default true). */
  ignoreEmpty?: boolean;
  /**
   * How y_pred becomes a mask: 'auto' (default) = argmax over classes when C > 1, threshold
   * otherwise; 'argmax'; 'threshold' (p > threshold); 'none' (use the values: a soft score).
   */
  binarize?: 'auto' | 'argmax' | 'threshold' | 'none';
  /** Threshold for 'threshold' (default 0.5). */
  threshold?: number;
  /**
   * 'mean' (default): one number over samples and classes; 'mean_batch': per class (C');
   * 'mean_channel': per sample (B); 'none': the (B, C') matrix with NaN for ignored entries.
   */
  reduction?: 'mean' | 'mean_batch' | 'mean_channel' | 'none';
}

/** The mask of y_pred, with NumPy's NaN rules: NaN > t is false, and argmax picks a NaN class. */
function binarized(p: Tensor, mode: 'argmax' | 'threshold' | 'none', threshold: number): Tensor {
  if (mode === 'none') return p;
  if (mode === 'threshold') return cast(greater(p, threshold), 'float32');
  // A row's max is NaN when the row holds one (notEqual(x, x) is NaN's test); then its NaN classes win.
  const m = max(p, -1, true);
  return cast(where(notEqual(m, m), notEqual(p, p), equal(p, m)), 'float32');
}

/** NaN-aware mean over `axes` of values whose entries are valid where `valid` is 1. */
function nanMean(values: Tensor, valid: Tensor, axis?: number): Tensor {
  const kept = where(greater(valid, 0), values, fill(values.shape, 0));
  return div(axis === undefined ? sum(kept) : sum(kept, axis), axis === undefined ? sum(valid) : sum(valid, axis));
}

function metric(fn: string, kind: 'dice' | 'iou', yTrue: SegInput, yPred: SegInput, options: MetricOptions): Tensor {
  checkOptions(fn, options, ['includeBackground', 'ignoreEmpty', 'binarize', 'threshold', 'reduction']);
  const includeBackground = bool(fn, 'includeBackground', options.includeBackground, true);
  const ignoreEmpty = bool(fn, 'ignoreEmpty', options.ignoreEmpty, true);
  const mode = oneOf(fn, 'binarize', options.binarize, ['auto', 'argmax', 'threshold', 'none'] as const, 'auto');
  const threshold = nonNegative(fn, 'threshold', options.threshold, 0.5);
  const reduction = oneOf(
    fn,
    'reduction',
    options.reduction,
    ['mean', 'mean_batch', 'mean_channel', 'none'] as const,
    'mean',
  );
  // Every intermediate (and the tensors made from host data) is freed: only the metric is left.
  return tidy(() => {
    const inputs = prepareInputs(fn, yTrue, yPred, mode !== 'argmax' && mode !== 'auto');
    const resolved = mode === 'auto' ? (inputs.geometry.C > 1 ? 'argmax' : 'threshold') : mode;
    const masked: Prepared = { ...inputs, yPred: binarized(inputs.yPred, resolved, threshold) };
    const { tp, po, go, T } = overlapTerms(fn, masked, {
      includeBackground,
      summed: false,
      softLabel: false,
      squaredPred: false,
    });
    const den = kind === 'dice' ? add(po, go) : sub(add(po, go), tp);
    const num = kind === 'dice' ? affine(tp, 2) : tp;
    const denZero = equal(den, 0);
    // Both empty: 1 (perfect) unless ignored; the safe denominator keeps 0/0 out of the kernel (a
    // NaN denominator is not zero: it gives NaN).
    const raw = where(denZero, ones(den.shape), div(num, where(denZero, ones(den.shape), den)));
    const valid = ignoreEmpty ? cast(greater(T, 0), 'float32') : ones(T.shape);
    if (reduction === 'none') return ignoreEmpty ? where(greater(valid, 0), raw, fill(raw.shape, NaN)) : raw;
    if (reduction === 'mean_batch') return nanMean(raw, valid, 0);
    if (reduction === 'mean_channel') return nanMean(raw, valid, 1);
    return reshape(nanMean(raw, valid), []);
  });
}

/** Dice coefficient 2·|A∩B| / (|A| + |B|) per (b, c), reduced NaN-aware. */
export function diceMetric(yTrue: SegInput, yPred: SegInput, options: MetricOptions = {}): Tensor {
  return metric('diceMetric', 'dice', yTrue, yPred, options);
}

/** IoU |A∩B| / |A∪B| per (b, c), reduced NaN-aware. */
export function iouMetric(yTrue: SegInput, yPred: SegInput, options: MetricOptions = {}): Tensor {
  return metric('iouMetric', 'iou', yTrue, yPred, options);
}
