/**
 * The training loop of `voxgrad train`: batches of patches from the sampler (prepared on the host
 * while the GPU runs the previous step, see src/data/prefetch.ts), one optimizer step each, and
 * after every step a check that training is still sound, as Keras's TerminateOnNaN: the loss and
 * every weight must be finite. The weights are checked too because the loss of a step is computed
 * before its update: a diverging update shows in the weights at once, in the loss one step later
 * at best (a bounded loss such as dice may even read finite on NaN predictions). The check is one
 * count on the GPU, read with the losses in the step's one wait.
 */
import type { PatchBatch, PatchSampler } from '../data/patch_sampler.js';
import { toTensors } from '../data/patch_sampler.js';
import { NumericsError } from '../errors.js';
import type { Model } from '../nn/model.js';
import { readAll, tidy } from '../tensor/api.js';
import { cast } from '../tensor/ops/cast.js';
import { tensor } from '../tensor/ops/creation.js';
import { abs, add, lessEqual, sub } from '../tensor/ops/elementwise/index.js';
import { sum } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';

/** Losses of the two heads, unweighted, and their weighted total. */
export interface StepLosses {
  loss: number;
  segmentation: number;
  foreground: number;
}

export interface PatchTrainingOptions {
  /** Compiled, with losses for the outputs 'segmentation' and 'foreground'. */
  model: Model;
  sampler: PatchSampler;
  epochs: number;
  /** Batches per epoch. */
  steps: number;
  batchSize: number;
  /** Ends the message when training stops on a non-finite value (what to try). */
  hint: string;
  onBatch?(batch: number): void;
  /** After each epoch, with the epoch's mean losses (validation happens here). */
  onEpoch(epoch: number, means: StepLosses): Promise<void>;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The number of NaN or infinite values over all `weights` (|w| <= FLT_MAX is false for both).
 * Counting the bad ones keeps the float32 sum exact whatever the number of weights.
 */
function nonFiniteCount(weights: readonly Tensor[]): Tensor {
  let total: Tensor | null = null;
  for (const w of weights) {
    const n = sum(sub(1, cast(lessEqual(abs(w), FLOAT32_MAX), 'float32')));
    total = total ? add(total, n) : n;
  }
  return total!;
}

/** Foreground targets (any class > 0) for the sigmoid head: float32 (n, x, y, z, 1). */
function foregroundOf(batch: PatchBatch): Tensor {
  const labels = batch.labels;
  const fg = new Float32Array(labels.length);
  for (let i = 0; i < fg.length; i++) fg[i] = labels[i] > 0 ? 1 : 0;
  return tensor(fg, [...batch.labelShape, 1]);
}

/** Trains; throws a NumericsError naming the epoch and batch as soon as a loss or weight is not finite. */
export async function trainOnPatches(o: PatchTrainingOptions): Promise<void> {
  const weights = o.model.trainableWeights;
  const parameters = weights.reduce((n, w) => n + w.size, 0);
  let sums = { loss: 0, segmentation: 0, foreground: 0 };
  let step = 0;
  for await (const batch of o.sampler.batches({ batchSize: o.batchSize, count: o.epochs * o.steps })) {
    const epoch = Math.floor(step / o.steps);
    const b = step % o.steps;
    const outputs = tidy(() => {
      const { image, labels } = toTensors(batch);
      const { total, perOutput } = o.model.trainStep(image, { segmentation: labels, foreground: foregroundOf(batch) });
      return [total, perOutput.segmentation, perOutput.foreground, nonFiniteCount(weights)];
    });
    let values: number[];
    try {
      values = (await readAll(outputs)).map((d) => d[0]);
    } finally {
      for (const t of outputs) t.dispose();
    }
    const [loss, segmentation, foreground, nonFinite] = values;
    const where = `training stopped at epoch ${epoch + 1}, batch ${b + 1} of ${o.steps}`;
    if (![loss, segmentation, foreground].every(Number.isFinite))
      throw new NumericsError(
        `${where}: the loss is ${loss} (segmentation ${segmentation}, foreground ${foreground}); nothing was written. ${o.hint}`,
      );
    if (nonFinite !== 0)
      throw new NumericsError(
        `${where}: the update left ${nonFinite} of ${parameters} weights NaN or infinite (the loss was ${loss.toFixed(4)}); nothing was written. ${o.hint}`,
      );
    sums = {
      loss: sums.loss + loss,
      segmentation: sums.segmentation + segmentation,
      foreground: sums.foreground + foreground,
    };
    o.onBatch?.(b);
    step++;
    if (b === o.steps - 1) {
      const n = o.steps;
      await o.onEpoch(epoch, {
        loss: sums.loss / n,
        segmentation: sums.segmentation / n,
        foreground: sums.foreground / n,
      });
      sums = { loss: 0, segmentation: 0, foreground: 0 };
    }
  }
}
