/**
 * Keras' mean squared and mean absolute error with 'sum_over_batch_size' reduction: per sample
 * (every index but the last axis) the mean over the last axis, then Σ sw·ℓ / (number of values),
 * where the optional sample weights (N) broadcast over the remaining axes. A rank-1 y holds one
 * scalar per sample.
 */
import { argMessage, ShapeError } from '../errors.js';
import { tidy } from '../tensor/api.js';
import { checkFloat, describe } from '../tensor/ops/check.js';
import { abs, affine, mul, square, sub } from '../tensor/ops/elementwise/index.js';
import { reshape } from '../tensor/ops/movement.js';
import { mean, sum } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';

function regression(
  fn: string,
  yTrue: Tensor,
  yPred: Tensor,
  sampleWeight: Tensor | undefined,
  f: (d: Tensor) => Tensor,
): Tensor {
  checkFloat(fn, 'yTrue', yTrue);
  checkFloat(fn, 'yPred', yPred);
  if (yTrue.rank !== yPred.rank || yTrue.shape.some((d, i) => d !== yPred.shape[i])) {
    throw new ShapeError(argMessage(fn, 'yTrue', `yPred's shape [${yPred.shape.join(', ')}]`, describe(yTrue)));
  }
  const N = yPred.rank === 0 ? 1 : yPred.shape[0];
  if (sampleWeight !== undefined) {
    checkFloat(fn, 'sampleWeight', sampleWeight);
    if (sampleWeight.size !== N)
      throw new ShapeError(argMessage(fn, 'sampleWeight', `${N} weights (one per sample)`, describe(sampleWeight)));
  }
  // Every intermediate is freed: only the loss is left.
  return tidy(() => {
    const err = f(sub(yPred, yTrue));
    const values = yPred.rank <= 1 ? err : mean(err, -1);
    // Keras divides with divide_no_nan: no values give 0.
    const count = Math.max(1, values.size);
    if (!sampleWeight) return affine(sum(values), 1 / count);
    const sw = reshape(sampleWeight, [N, ...values.shape.slice(1).map(() => 1)]);
    return affine(sum(mul(values, sw)), 1 / count);
  });
}

/** mean((ŷ − y)²) per sample, then the sample-weighted sum over the batch size. */
export function meanSquaredError(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): Tensor {
  return regression('meanSquaredError', yTrue, yPred, sampleWeight, square);
}

/** mean(|ŷ − y|) per sample, then the sample-weighted sum over the batch size. */
export function meanAbsoluteError(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): Tensor {
  return regression('meanAbsoluteError', yTrue, yPred, sampleWeight, abs);
}
