/**
 * What a model's public methods take and give: the argument types of compile, fit, evaluate,
 * predict and trainStep, the option keys each accepts (unknown keys are refused by name), and
 * the history fit returns.
 */
import { argMessage, ValueError } from '../errors.js';
import { describe } from '../tensor/ops/check.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Logs } from './batch_means.js';
import type { ClassWeight } from './class_weight.js';
import type { LossArg, WeightsArg } from './compile_loss.js';
import type { Optimizer } from './optimizers/optimizer.js';
import type { Verbose } from './progress.js';
import type { SampleWeightArg } from './sample_weight.js';
import type { SymbolicTensor } from './symbolic.js';

export type TensorsArg = Tensor | readonly Tensor[] | Readonly<Record<string, Tensor>>;
/** Targets: like TensorsArg; a list may hold only the outputs that have a loss (Keras 3). */
export type TargetsArg = Tensor | readonly (Tensor | null)[] | Readonly<Record<string, Tensor | null>>;

export type MetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

export interface CompileOptions {
  optimizer: Optimizer;
  loss: LossArg;
  lossWeights?: WeightsArg | null;
  /**
   * Per output name, metrics logged as '<output>_<metric>' each epoch: 'dice' / 'iou' (the
   * NaN-aware mean of diceMetric / iouMetric, argmax or 0.5 threshold) or named functions.
   */
  metrics?: Readonly<Record<string, readonly (string | MetricFn)[]>>;
}

export type { Logs } from './batch_means.js';

export interface Callback {
  /** After each batch, with the running means of the epoch so far (Keras 3's logs). */
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
  /** After each epoch, with its means and the validation's; may return true to stop training. */
  onEpochEnd?(epoch: number, logs: Logs): boolean | undefined | Promise<boolean | undefined>;
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Shuffle the samples every epoch (seeded: the same order every run). Default true. */
  shuffle?: boolean;
  seed?: number;
  /** [x, y] or [x, y, sampleWeight], evaluated after every epoch; overrides validationSplit. */
  validationData?: readonly [TensorsArg, TargetsArg] | readonly [TensorsArg, TargetsArg, SampleWeightArg | null];
  /** The last fraction of the samples (taken before shuffling) held out for validation. */
  validationSplit?: number;
  /** Keras's sample_weight: one weight per sample, for every output or per output. */
  sampleWeight?: SampleWeightArg | null;
  /** Keras's class_weight (class index → weight), for a model whose losses are on one output. */
  classWeight?: ClassWeight | null;
  callbacks?: readonly Callback[];
  /** 0 silent (default), 1 a progress bar, 2 one line per epoch, 'auto' 1 on a terminal. */
  verbose?: Verbose;
}

export interface EvaluateOptions {
  batchSize?: number;
  sampleWeight?: SampleWeightArg | null;
  /** 0 silent (default), 1 a progress bar, 2 one line at the end, 'auto' 1 on a terminal. */
  verbose?: Verbose;
}

export interface PredictOptions {
  /** Samples per forward pass (default 32); the outputs are concatenated. */
  batchSize?: number;
  /** 0 silent (default), 1 a progress bar, 2 one line at the end, 'auto' 1 on a terminal. */
  verbose?: Verbose;
}

export interface TrainStepOptions {
  sampleWeight?: SampleWeightArg | null;
  classWeight?: ClassWeight | null;
}

export const FIT_KEYS = [
  'epochs',
  'batchSize',
  'shuffle',
  'seed',
  'validationData',
  'validationSplit',
  'sampleWeight',
  'classWeight',
  'callbacks',
  'verbose',
] as const;
export const EVALUATE_KEYS = ['batchSize', 'sampleWeight', 'verbose'] as const;
export const PREDICT_KEYS = ['batchSize', 'verbose'] as const;
export const TRAIN_STEP_KEYS = ['sampleWeight', 'classWeight'] as const;

export interface History {
  epoch: number[];
  /** 'loss', '<output>_loss' (unweighted), metrics, and 'val_…' with validation data. */
  history: Record<string, number[]>;
}

export type OutputActivation = 'softmax' | 'sigmoid' | 'linear';

export interface ModelConfig {
  inputs: SymbolicTensor | readonly SymbolicTensor[];
  /** A list (names from the layers) or a record keyed by output name. */
  outputs: SymbolicTensor | readonly SymbolicTensor[] | Readonly<Record<string, SymbolicTensor>>;
  name?: string;
  /** How each output is read (default 'linear'); see `Model.outputActivations`. */
  outputActivations?: Readonly<Record<string, OutputActivation>>;
}

/** An option that must be a positive integer (epochs, batchSize), checked. */
export function positiveInt(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new ValueError(argMessage(fn, arg, 'a positive integer', describe(v)));
  return v;
}
