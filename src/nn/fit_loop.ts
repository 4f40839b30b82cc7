/**
 * Keras' `fit` apart from what a step is: its options checked, the validation rows (data or a
 * split), and the epoch loop. Each epoch visits the training rows in batches (shuffled by a seed
 * and the epoch), keeps the batch values on the GPU and reads them once at its end (after every
 * batch only when a callback or the progress bar wants them), adds the validation logs with a
 * 'val_' prefix, and records the History. A callback's onEpochEnd returning true, or `stop()`
 * from anywhere (model.stopTraining), ends training after the epoch.
 */
import { argMessage, ValueError } from '../errors.js';
import { tidy } from '../tensor/api.js';
import { checkInt, describe } from '../tensor/ops/check.js';
import type { Tensor } from '../tensor/tensor.js';
import { autoTune } from '../tensor/tune.js';
import type { BatchMeans, Logs } from './batch_means.js';
import { checkCallbacks } from './callbacks.js';
import { type Data, range, shuffled } from './model_data.js';
import { type Callback, type FitOptions, type History, positiveInt } from './model_options.js';
import { checkVerbose, Progress } from './progress.js';

/** The checked settings of `fit` the loop reads. */
export interface FitSettings {
  readonly epochs: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly verbose: 0 | 1 | 2;
  readonly callbacks: readonly Callback[];
}

/** fit's loop options, checked (every one before the first step). */
export function fitSettings(fn: string, o: FitOptions): FitSettings {
  const epochs = positiveInt(fn, 'epochs', o.epochs ?? 1);
  const batchSize = positiveInt(fn, 'batchSize', o.batchSize ?? 32);
  const shuffle = o.shuffle ?? true;
  if (typeof shuffle !== 'boolean') throw new ValueError(argMessage(fn, 'shuffle', 'true or false', describe(shuffle)));
  const seed = checkInt(fn, 'seed', o.seed ?? 1, 0, 2 ** 32 - 1);
  return {
    epochs,
    batchSize,
    shuffle,
    seed,
    verbose: checkVerbose(fn, o.verbose),
    callbacks: checkCallbacks(fn, o.callbacks),
  };
}

/**
 * The rows fit trains on and its validation (Keras 3): `validationData` ([x, y] or [x, y,
 * sampleWeight], bound by `bind`), or the last `validationSplit` of the samples before any
 * shuffling (both parts non-empty), or none.
 */
export function splitValidation(
  fn: string,
  o: FitOptions,
  data: Data,
  bind: (v: readonly unknown[]) => Data,
): { trainRows: number[]; validation: { data: Data; rows: number[] } | null } {
  if (o.validationData !== undefined && o.validationData !== null) {
    const v: unknown = o.validationData;
    if (!Array.isArray(v) || v.length < 2 || v.length > 3)
      throw new ValueError(argMessage(fn, 'validationData', '[x, y] or [x, y, sampleWeight]', describe(v)));
    const vd = bind(v);
    return { trainRows: range(0, data.n), validation: { data: vd, rows: range(0, vd.n) } };
  }
  if (o.validationSplit !== undefined && o.validationSplit !== 0) {
    const split = o.validationSplit;
    if (typeof split !== 'number' || !(split > 0 && split < 1))
      throw new ValueError(argMessage(fn, 'validationSplit', 'a number in [0, 1)', describe(split)));
    const at = Math.floor(data.n * (1 - split));
    if (at === 0 || at === data.n)
      throw new ValueError(
        argMessage(
          fn,
          'validationSplit',
          `a fraction that leaves samples for both training and validation (${data.n} samples)`,
          `${split} (${data.n - at} for validation)`,
        ),
      );
    return { trainRows: range(0, at), validation: { data, rows: range(at, data.n) } };
  }
  return { trainRows: range(0, data.n), validation: null };
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
