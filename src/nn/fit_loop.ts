/**
 * Keras' epoch loop for `fit`: each epoch visits the training rows in batches (shuffled by a seed
 * and the epoch), keeps the batch values on the GPU and reads them once at its end (after every
 * batch only when a callback or the progress bar wants them), adds the validation logs with a
 * 'val_' prefix, and records the History. A callback's onEpochEnd returning true, or `stop()`
 * from anywhere (model.stopTraining), ends training after the epoch.
 */
import { tidy } from '../tensor/api.js';
import type { Tensor } from '../tensor/tensor.js';
import { autoTune } from '../tensor/tune.js';
import type { BatchMeans, Logs } from './batch_means.js';
import { shuffled } from './model_data.js';
import type { Callback, History } from './model_options.js';
import { Progress } from './progress.js';

/** The checked settings of `fit` the loop reads. */
export interface FitSettings {
  readonly epochs: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly verbose: 0 | 1 | 2;
  readonly callbacks: readonly Callback[];
}

/** What the loop runs: the model's training step and its validation. */
export interface FitHooks {
  /** A fresh accumulator of the batch values (`step` returns them in its order). */
  means(): BatchMeans;
  /** One optimizer step on the rows `idx`; its values (the total loss first), unread. */
  step(idx: readonly number[]): Tensor[];
  /** The validation logs after an epoch, or null for none. */
  validate: (() => Promise<Logs>) | null;
  stopped(): boolean;
  stop(): void;
}

export async function fitEpochs(trainRows: readonly number[], o: FitSettings, hooks: FitHooks): Promise<History> {
  const { epochs, batchSize } = o;
  const history: History = { epoch: [], history: {} };
  const steps = Math.ceil(trainRows.length / batchSize);
  const batchLogs = o.callbacks.some((c) => c.onBatchEnd);
  for (let epoch = 0; epoch < epochs && !hooks.stopped(); epoch++) {
    const order = o.shuffle
      ? shuffled(trainRows.length, o.seed * 7919 + epoch).map((i) => trainRows[i])
      : [...trainRows];
    const progress = new Progress(steps, o.verbose, `Epoch ${epoch + 1}/${epochs}`);
    const readEachStep = batchLogs || progress.wantsStepLogs;
    const means = hooks.means();
    let logs: Logs;
    try {
      for (let start = 0, batch = 0; start < order.length; start += batchSize, batch++) {
        const idx = order.slice(start, start + batchSize);
        means.add(
          tidy(() => hooks.step(idx)),
          idx.length,
        );
        // The first step has run each kernel shape class of this model once: time the variants
        // of the classes new to this adapter, within the process's budget (flags.autoTuneMs).
        if (epoch === 0 && batch === 0) await autoTune();
        if (!readEachStep) continue;
        await means.read();
        const running = means.means();
        progress.update(batch + 1, running);
        for (const c of o.callbacks) await c.onBatchEnd?.(batch, { ...running });
      }
      await means.read();
      logs = means.means();
    } finally {
      means.dispose();
    }
    if (hooks.validate) for (const [k, v] of Object.entries(await hooks.validate())) logs[`val_${k}`] = v;
    progress.finish(logs);
    history.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) {
      history.history[k] ??= [];
      history.history[k].push(v);
    }
    for (const c of o.callbacks) if ((await c.onEpochEnd?.(epoch, { ...logs })) === true) hooks.stop();
  }
  return history;
}
