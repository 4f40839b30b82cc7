/**
 * Multi-output losses as `compile` takes them, with Keras 3's rules
 * (keras/src/trainers/compile_utils.py, CompileLoss): the total is Σ wᵢ·Lᵢ over the outputs that
 * have a loss, a missing weight counts as 1, and each output's loss is also reported unweighted.
 *
 * - `loss`: one loss for every output, a list by output position, or a record keyed by output
 *   name; in a record a missing name or `null` means "no loss for that output" (its labels may
 *   then be omitted), and a name that is not an output is an error listing the valid names. A
 *   loss is a function, a name (`'dice'`) or a name with options (`{ name: 'dice', activation:
 *   'softmax' }`), whose options are checked here, before any GPU work.
 * - `lossWeights`: a list by position or a record by name (unknown names are errors), or one
 *   number when there is one output or one loss for all of them; each weight finite and >= 0.
 * - Sample weights reduce as Keras's `sum_over_batch_size`: Σ sw_b·ℓ_b / B over the per-sample
 *   losses ℓ_b, which the segmentation losses compute from their per-sample, per-class sums (the
 *   same fused pass as their mean); class weights apply as class_weight.ts describes.
 * (TensorFlow.js layers has no lossWeights at all.)
 */
import { argMessage, ValueError, VoxgradError } from '../errors.js';
import {
  binaryCrossentropy,
  categoricalCrossentropy,
  checkCrossentropyOptions,
  checkDiceCrossentropyOptions,
  diceCrossentropy,
} from '../losses/crossentropy.js';
import { checkGeneralizedDiceOptions, generalizedDice } from '../losses/generalized_dice.js';
import { checkOverlapOptions, dice, iou, type OverlapKind, tversky } from '../losses/overlap.js';
import { meanAbsoluteError, meanSquaredError } from '../losses/regression.js';
import { checkKeys, nearest } from '../options.js';
import { describe } from '../tensor/ops/check.js';
import { add, affine, mul } from '../tensor/ops/elementwise/index.js';
import { reshape } from '../tensor/ops/movement.js';
import { mean, sum } from '../tensor/ops/reduce.js';
import { Tensor } from '../tensor/tensor.js';
import { type ClassWeight, crossentropyClassWeights, overlapClassWeights } from './class_weight.js';
import type { OutputActivation } from './model_options.js';

/** A loss of (yTrue, yPred, sampleWeight?) returning a scalar. */
export type LossFn = (yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor) => Tensor;
/** A loss by name with its options, e.g. `{ name: 'dice', activation: 'softmax' }`. */
export interface NamedLoss {
  name: string;
  [option: string]: unknown;
}
export type LossSpec = LossFn | string | NamedLoss | null;
export type LossArg = LossSpec | readonly LossSpec[] | Readonly<Record<string, LossSpec>>;
export type WeightsArg = number | readonly (number | null)[] | Readonly<Record<string, number | null>>;

type Options = Readonly<Record<string, unknown>>;

/** What compile knows of a named loss. */
interface LossKind {
  /** Checks the options (throws the loss's own error naming the option); no GPU work. */
  check(fn: string, options: Options): void;
  /** The loss's mean over the batch. */
  value(yTrue: Tensor, yPred: Tensor, options: Options): Tensor;
  /** Per-sample losses (B), class weights applied (the segmentation losses). */
  perSample?(yTrue: Tensor, yPred: Tensor, options: Options, cw: ClassWeight | null): Tensor;
  /** The sample-weighted loss, for losses that take Keras's sample weights themselves (regression). */
  sampleWeighted?(yTrue: Tensor, yPred: Tensor, sampleWeight: Tensor): Tensor;
  /** Why sample or class weights cannot apply with these options, or null. */
  refuses(options: Options, what: 'sampleWeight' | 'classWeight'): string | null;
}

const classes = (yPred: Tensor): number => yPred.shape[yPred.rank - 1];

const SUMMED_BATCH = "gives one value for the whole batch with batch: 'summed', not one per sample";

function overlapKind(kind: OverlapKind, f: typeof dice): LossKind {
  return {
    check: (fn, o) => void checkOverlapOptions(fn, kind, o),
    value: (t, p, o) => f(t, p, o),
    perSample: (t, p, o, cw) => {
      const extra = cw ? { classWeights: overlapClassWeights(cw, classes(p), o.includeBackground !== false) } : {};
      return mean(f(t, p, { ...o, ...extra, reduction: 'none' }), 1);
    },
    refuses: (o, what) =>
      o.batch === 'summed'
        ? SUMMED_BATCH
        : what === 'classWeight' && o.classWeights !== undefined
          ? 'already has classWeights in its options'
          : null,
  };
}

function crossentropyKind(binary: boolean): LossKind {
  const f = binary ? binaryCrossentropy : categoricalCrossentropy;
  return {
    check: (fn, o) => void checkCrossentropyOptions(fn, o),
    value: (t, p, o) => f(t, p, o),
    perSample: (t, p, o, cw) => {
      const extra = cw ? { classWeights: crossentropyClassWeights(cw, classes(p), binary) } : {};
      return f(t, p, { ...o, ...extra, reduction: 'none' });
    },
    refuses: (o, what) =>
      what === 'classWeight' && o.classWeights !== undefined ? 'already has classWeights in its options' : null,
  };
}

const diceCrossentropyKind: LossKind = {
  check: (fn, o) => void checkDiceCrossentropyOptions(fn, o),
  value: (t, p, o) => diceCrossentropy(t, p, o),
  perSample: (t, p, o, cw) => {
    const C = classes(p);
    const binary = o.activation === 'sigmoid' || C === 1;
    const extra = cw
      ? {
          classWeights: overlapClassWeights(cw, C, o.includeBackground !== false),
          ceClassWeights: crossentropyClassWeights(cw, C, binary),
        }
      : {};
    return diceCrossentropy(t, p, { ...o, ...extra, reduction: 'none' });
  },
  refuses: (o, what) =>
    o.batch === 'summed'
      ? SUMMED_BATCH
      : what === 'classWeight' && (o.classWeights !== undefined || o.ceClassWeights !== undefined)
        ? 'already has class weights in its options'
        : null,
};

const generalizedDiceKind: LossKind = {
  check: (fn, o) => void checkGeneralizedDiceOptions(fn, o),
  value: (t, p, o) => generalizedDice(t, p, o),
  perSample: (t, p, o) => generalizedDice(t, p, { ...o, reduction: 'none' }),
  refuses: (o, what) =>
    what === 'classWeight'
      ? 'takes its class weights from the class volumes (weightType)'
      : (o.batch ?? o.gdlBatch ?? 'summed') === 'summed'
        ? `${SUMMED_BATCH} (its default): give batch: 'per_sample'`
        : null,
};

function regressionKind(f: typeof meanSquaredError): LossKind {
  return {
    check: (fn, o) => {
      const keys = Object.keys(o);
      if (keys.length) throw new ValueError(argMessage(fn, 'options', 'no options', `the option '${keys[0]}'`));
    },
    value: (t, p) => f(t, p),
    sampleWeighted: (t, p, sw) => f(t, p, sw),
    refuses: (_o, what) => (what === 'classWeight' ? 'is a regression loss, with no classes' : null),
  };
}

const mse = regressionKind(meanSquaredError);
const mae = regressionKind(meanAbsoluteError);
const cce = crossentropyKind(false);
const bce = crossentropyKind(true);

/** Every loss name compile knows (Keras's snake_case names too) and its loss function's name. */
const KINDS: Readonly<Record<string, { kind: LossKind; fn: string }>> = {
  mse: { kind: mse, fn: 'meanSquaredError' },
  meanSquaredError: { kind: mse, fn: 'meanSquaredError' },
  mean_squared_error: { kind: mse, fn: 'meanSquaredError' },
  mae: { kind: mae, fn: 'meanAbsoluteError' },
  meanAbsoluteError: { kind: mae, fn: 'meanAbsoluteError' },
  mean_absolute_error: { kind: mae, fn: 'meanAbsoluteError' },
  dice: { kind: overlapKind('dice', dice), fn: 'dice' },
  iou: { kind: overlapKind('iou', iou), fn: 'iou' },
  jaccard: { kind: overlapKind('iou', iou), fn: 'iou' },
  tversky: { kind: overlapKind('tversky', tversky), fn: 'tversky' },
  generalizedDice: { kind: generalizedDiceKind, fn: 'generalizedDice' },
  diceCrossentropy: { kind: diceCrossentropyKind, fn: 'diceCrossentropy' },
  categoricalCrossentropy: { kind: cce, fn: 'categoricalCrossentropy' },
  categorical_crossentropy: { kind: cce, fn: 'categoricalCrossentropy' },
  binaryCrossentropy: { kind: bce, fn: 'binaryCrossentropy' },
  binary_crossentropy: { kind: bce, fn: 'binaryCrossentropy' },
};

export interface ResolvedLoss {
  output: string;
  /** The weight given (1 when none). */
  weight: number;
  /** How messages name it: "the loss 'dice'", or 'the loss function'. */
  label: string;
  /** The loss of a batch: its mean, or Keras's sample-weighted sum over the batch size. */
  fn: LossFn;
  /** Per-sample losses with class weights applied (named segmentation losses only). */
  perSample: ((yTrue: Tensor, yPred: Tensor, cw: ClassWeight | null) => Tensor) | null;
  /** Why sample or class weights cannot apply to this loss, or null. */
  refuses(what: 'sampleWeight' | 'classWeight'): string | null;
}

type Resolved = Omit<ResolvedLoss, 'output' | 'weight'>;

function unknownName(fn: string, where: string, name: unknown): ValueError {
  const names = Object.keys(KINDS);
  const guess = typeof name === 'string' ? nearest(name, names) : null;
  return new ValueError(
    argMessage(
      fn,
      where,
      `a loss function, null, a loss name or { name, ...options } with a name among ${names.map((k) => `'${k}'`).join(', ')}`,
      `${describe(name)}${guess ? ` (did you mean '${guess}'?)` : ''}`,
    ),
  );
}

/** A named loss with its options, checked now: errors name the loss and the option. */
function namedLoss(fn: string, where: string, name: string, options: Options): Resolved {
  const entry = Object.hasOwn(KINDS, name) ? KINDS[name] : undefined;
  if (!entry) throw unknownName(fn, where, name);
  const context = `${fn}: ${where} '${name}'`;
  if ('reduction' in options)
    throw new ValueError(
      `${context}: argument 'reduction' expected no reduction (compile reduces each loss as Keras's sum_over_batch_size: per-sample losses, sample-weighted, summed and divided by the batch size), got ${describe(options.reduction)}`,
    );
  try {
    entry.kind.check(entry.fn, options);
  } catch (e) {
    if (!(e instanceof VoxgradError)) throw e;
    const message = e.message.startsWith(`${entry.fn}: `) ? e.message.slice(entry.fn.length + 2) : e.message;
    throw new ValueError(`${context}: ${message}`);
  }
  const { kind } = entry;
  const perSample = kind.perSample;
  return {
    label: `the loss '${name}'`,
    fn: (t, p, sw) => {
      if (!sw) return kind.value(t, p, options);
      if (kind.sampleWeighted) return kind.sampleWeighted(t, p, sw);
      return sampleWeightedMean(perSample!(t, p, options, null), sw);
    },
    perSample: perSample ? (t, p, cw) => perSample(t, p, options, cw) : null,
    refuses: (what) => kind.refuses(options, what),
  };
}

/**
 * A named loss on an output the model reads through softmax or sigmoid (`outputActivations`,
 * e.g. vg.unet3d's heads) applies that activation to the logits, unless its options say how to
 * read the prediction: the model's outputs are logits, and a loss reading them as probabilities
 * would train on nonsense without a word.
 */
function readAs(lossFn: string, options: Options, activation: OutputActivation | undefined): Options {
  if (activation !== 'softmax' && activation !== 'sigmoid') return options;
  switch (lossFn) {
    case 'dice':
    case 'iou':
    case 'tversky':
    case 'generalizedDice':
    case 'diceCrossentropy':
      return 'activation' in options ? options : { ...options, activation };
    case 'categoricalCrossentropy':
      return activation === 'softmax' && !('fromLogits' in options) ? { ...options, fromLogits: true } : options;
    case 'binaryCrossentropy':
      return activation === 'sigmoid' && !('fromLogits' in options) ? { ...options, fromLogits: true } : options;
    default:
      return options;
  }
}

function resolveSpec(fn: string, where: string, spec: unknown, activation?: OutputActivation): Resolved | null {
  if (spec === null || spec === undefined) return null;
  if (typeof spec === 'function') {
    const f = spec as LossFn;
    return {
      label: 'the loss function',
      fn: (t, p, sw) => (sw ? f(t, p, sw) : f(t, p)),
      perSample: null,
      refuses: (what) =>
        what === 'classWeight' ? 'takes no class weights (weigh the classes inside it, or use a named loss)' : null,
    };
  }
  if (typeof spec === 'string')
    return namedLoss(fn, where, spec, readAs(Object.hasOwn(KINDS, spec) ? KINDS[spec]!.fn : '', {}, activation));
  if (isRecord(spec) && typeof spec.name === 'string') {
    const { name, ...options } = spec;
    return namedLoss(fn, where, name, readAs(Object.hasOwn(KINDS, name) ? KINDS[name]!.fn : '', options, activation));
  }
  throw unknownName(fn, where, spec);
}

/** Keras's sum_over_batch_size of per-sample losses ℓ (B) with sample weights sw (B): Σ sw·ℓ / B. */
export function sampleWeightedMean(perSample: Tensor, sw: Tensor): Tensor {
  const B = perSample.shape[0];
  return affine(sum(mul(perSample, reshape(sw, [B]))), 1 / Math.max(1, B));
}

function isRecord(x: unknown): x is Readonly<Record<string, unknown>> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** A single loss spec given where a record of them could be: `{ name: 'dice', ... }` when no output is named 'name'. */
function isSingleNamedLoss(loss: unknown, outputNames: readonly string[]): boolean {
  return isRecord(loss) && typeof loss.name === 'string' && !outputNames.includes('name');
}

function checkWeight(fn: string, arg: string, w: unknown): number | null {
  if (w === null || w === undefined) return null;
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
    throw new ValueError(argMessage(fn, arg, 'a finite number >= 0 (or null)', describe(w)));
  return w;
}

/**
 * Resolves `loss` and `lossWeights` against the model's output names (in model order); named
 * losses read each output as `activations` says (see readAs).
 */
export function resolveLosses(
  outputNames: readonly string[],
  loss: LossArg,
  lossWeights?: WeightsArg | null,
  fn = 'compile',
  activations: Readonly<Record<string, OutputActivation>> = {},
): ResolvedLoss[] {
  let perOutput: (Resolved | null)[];
  const shared = !Array.isArray(loss) && (!isRecord(loss) || isSingleNamedLoss(loss, outputNames));
  if (Array.isArray(loss)) {
    if (loss.length !== outputNames.length) {
      throw new ValueError(
        argMessage(
          fn,
          'loss',
          `a list of ${outputNames.length} losses (one per output: ${outputNames.join(', ')})`,
          `${loss.length}`,
        ),
      );
    }
    perOutput = loss.map((l, i) => resolveSpec(fn, `loss[${i}]`, l, activations[outputNames[i]!]));
  } else if (!shared) {
    checkKeys(fn, 'loss', loss as object, outputNames, 'output');
    perOutput = outputNames.map((n) =>
      resolveSpec(fn, `loss['${n}']`, (loss as Record<string, LossSpec>)[n] ?? null, activations[n]),
    );
  } else {
    perOutput = outputNames.map((n) => resolveSpec(fn, 'loss', loss, activations[n]));
  }
  let weights: (number | null)[] = outputNames.map(() => null);
  if (typeof lossWeights === 'number') {
    if (outputNames.length > 1 && !shared)
      throw new ValueError(
        argMessage(
          fn,
          'lossWeights',
          `a list or a record of weights (one number only for one output or one loss shared by all; outputs: ${outputNames.join(', ')})`,
          lossWeights,
        ),
      );
    const w = checkWeight(fn, 'lossWeights', lossWeights);
    weights = outputNames.map(() => w);
  } else if (lossWeights !== undefined && lossWeights !== null) {
    if (Array.isArray(lossWeights)) {
      if (lossWeights.length !== outputNames.length) {
        throw new ValueError(
          argMessage(
            fn,
            'lossWeights',
            `a list of ${outputNames.length} weights (one per output: ${outputNames.join(', ')})`,
            `${lossWeights.length}`,
          ),
        );
      }
      weights = lossWeights.map((w, i) => checkWeight(fn, `lossWeights for '${outputNames[i]}'`, w));
    } else if (isRecord(lossWeights)) {
      checkKeys(fn, 'lossWeights', lossWeights, outputNames, 'output');
      weights = outputNames.map((n) =>
        checkWeight(fn, `lossWeights for '${n}'`, (lossWeights as Record<string, unknown>)[n]),
      );
    } else {
      throw new ValueError(
        argMessage(fn, 'lossWeights', 'a number, a list or a record of numbers', describe(lossWeights)),
      );
    }
  }
  const out: ResolvedLoss[] = [];
  outputNames.forEach((name, i) => {
    const r = perOutput[i];
    if (r) out.push({ ...r, output: name, weight: weights[i] ?? 1 });
  });
  if (!out.length) throw new ValueError(argMessage(fn, 'loss', 'a loss for at least one output', 'none'));
  return out;
}

export interface LossValues {
  /** Σ wᵢ·Lᵢ (scalar). */
  total: Tensor;
  /** Each output's loss, unweighted (as Keras logs `<name>_loss`). */
  perOutput: Record<string, Tensor>;
}

/**
 * Evaluates the resolved losses. `yTrue` needs entries only for outputs with a loss; a missing
 * one is an error naming it. `sampleWeight` is one (N) tensor for all outputs or one per output;
 * `classWeight` applies to the losses (fit checks that they take it).
 */
export function computeLosses(
  losses: readonly ResolvedLoss[],
  yTrue: Readonly<Record<string, Tensor>>,
  yPred: Readonly<Record<string, Tensor>>,
  sampleWeight?: Tensor | Readonly<Record<string, Tensor>> | null,
  options: { classWeight?: ClassWeight | null; fn?: string } = {},
): LossValues {
  const fn = options.fn ?? 'computeLosses';
  const perOutput: Record<string, Tensor> = {};
  let total: Tensor | null = null;
  for (const loss of losses) {
    const { output, weight } = loss;
    const t = yTrue[output];
    if (!t)
      throw new ValueError(
        argMessage(
          fn,
          'y',
          `labels for the output '${output}' (it has a loss)`,
          `none (given: ${Object.keys(yTrue).join(', ') || 'nothing'})`,
        ),
      );
    const p = yPred[output];
    const sw = sampleWeight instanceof Tensor ? sampleWeight : sampleWeight ? sampleWeight[output] : undefined;
    const cw = options.classWeight ?? null;
    for (const [what, given] of [
      ['sampleWeight', sw],
      ['classWeight', cw],
    ] as const) {
      const why = given ? loss.refuses(what) : null;
      if (why)
        throw new ValueError(`${fn}: argument '${what}' cannot apply to the output '${output}': ${loss.label} ${why}`);
    }
    let l: Tensor;
    if (cw && loss.perSample) {
      const values = loss.perSample(t, p, cw);
      l = sw ? sampleWeightedMean(values, sw) : mean(values);
    } else l = loss.fn(t, p, sw ?? undefined);
    perOutput[output] = l;
    const term = weight === 1 ? l : affine(l, weight);
    total = total ? add(total, term) : term;
  }
  return { total: total!, perOutput };
}
