/**
 * Multi-output losses as `compile` takes them, with Keras 3's rules
 * (keras/src/trainers/compile_utils.py, CompileLoss): the total is Σ wᵢ·Lᵢ over the outputs that
 * have a loss, a missing weight counts as 1, and each output's loss is also reported unweighted.
 *
 * - `loss`: one loss for every output, a list by output position, or a record keyed by output
 *   name; in a record a missing name or `null` means "no loss for that output" (its labels may
 *   then be omitted), and a name that is not an output is an error listing the valid names.
 * - `lossWeights`: a list by position or a record by name (unknown names are errors).
 * (TensorFlow.js layers has no lossWeights at all.)
 */
import { argMessage, ValueError } from '../errors.js';
import { binaryCrossentropy, categoricalCrossentropy, diceCrossentropy } from '../losses/crossentropy.js';
import { generalizedDice } from '../losses/generalized_dice.js';
import { dice, iou, tversky } from '../losses/overlap.js';
import { meanAbsoluteError, meanSquaredError } from '../losses/regression.js';
import { checkKeys } from '../options.js';
import { describe } from '../tensor/ops/check.js';
import { add, affine } from '../tensor/ops/elementwise/index.js';
import { Tensor } from '../tensor/tensor.js';

/** A loss of (yTrue, yPred, sampleWeight?) returning a scalar. */
export type LossFn = (yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor) => Tensor;
export type LossSpec = LossFn | string | null;
export type LossArg = LossSpec | readonly LossSpec[] | Readonly<Record<string, LossSpec>>;
export type WeightsArg = readonly (number | null)[] | Readonly<Record<string, number | null>>;

const BY_NAME: Record<string, LossFn> = {
  mse: meanSquaredError,
  meanSquaredError,
  mean_squared_error: meanSquaredError,
  mae: meanAbsoluteError,
  meanAbsoluteError,
  mean_absolute_error: meanAbsoluteError,
  dice: (t, p) => dice(t, p),
  iou: (t, p) => iou(t, p),
  jaccard: (t, p) => iou(t, p),
  tversky: (t, p) => tversky(t, p),
  generalizedDice: (t, p) => generalizedDice(t, p),
  diceCrossentropy: (t, p) => diceCrossentropy(t, p),
  categoricalCrossentropy: (t, p) => categoricalCrossentropy(t, p),
  binaryCrossentropy: (t, p) => binaryCrossentropy(t, p),
};

export interface ResolvedLoss {
  output: string;
  fn: LossFn;
  /** The weight given (1 when none). */
  weight: number;
}

function lossFn(fn: string, where: string, spec: LossSpec): LossFn | null {
  if (spec === null || spec === undefined) return null;
  if (typeof spec === 'function') return spec;
  if (typeof spec === 'string' && BY_NAME[spec]) return BY_NAME[spec];
  throw new ValueError(
    argMessage(
      fn,
      where,
      `a loss function, null, or one of ${Object.keys(BY_NAME)
        .map((k) => `'${k}'`)
        .join(', ')}`,
      describe(spec),
    ),
  );
}

function isRecord(x: unknown): x is Readonly<Record<string, unknown>> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** Resolves `loss` and `lossWeights` against the model's output names (in model order). */
export function resolveLosses(
  outputNames: readonly string[],
  loss: LossArg,
  lossWeights?: WeightsArg | null,
  fn = 'compile',
): ResolvedLoss[] {
  let perOutput: (LossFn | null)[];
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
    perOutput = loss.map((l, i) => lossFn(fn, `loss[${i}]`, l));
  } else if (isRecord(loss)) {
    checkKeys(fn, 'loss', loss, outputNames, 'output');
    perOutput = outputNames.map((n) => lossFn(fn, `loss['${n}']`, (loss as Record<string, LossSpec>)[n] ?? null));
  } else {
    const one = lossFn(fn, 'loss', loss as LossSpec);
    perOutput = outputNames.map(() => one);
  }
  let weights: (number | null)[] = outputNames.map(() => null);
  if (lossWeights !== undefined && lossWeights !== null) {
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
      weights = lossWeights.slice();
    } else if (isRecord(lossWeights)) {
      checkKeys(fn, 'lossWeights', lossWeights, outputNames, 'output');
      weights = outputNames.map((n) => (lossWeights as Record<string, number | null>)[n] ?? null);
    } else {
      throw new ValueError(argMessage(fn, 'lossWeights', 'a list or a record of numbers', describe(lossWeights)));
    }
    weights.forEach((w, i) => {
      if (w !== null && (typeof w !== 'number' || !Number.isFinite(w)))
        throw new ValueError(
          argMessage(fn, `lossWeights for '${outputNames[i]}'`, 'a finite number or null', describe(w)),
        );
    });
  }
  const out: ResolvedLoss[] = [];
  outputNames.forEach((name, i) => {
    const f = perOutput[i];
    if (f) out.push({ output: name, fn: f, weight: weights[i] ?? 1 });
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
 * one is an error naming it. `sampleWeight` is one (N) tensor for all outputs or one per output.
 */
export function computeLosses(
  losses: readonly ResolvedLoss[],
  yTrue: Readonly<Record<string, Tensor>>,
  yPred: Readonly<Record<string, Tensor>>,
  sampleWeight?: Tensor | Readonly<Record<string, Tensor>> | null,
  fn = 'computeLosses',
): LossValues {
  const perOutput: Record<string, Tensor> = {};
  let total: Tensor | null = null;
  for (const { output, fn: f, weight } of losses) {
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
    const l = sw ? f(t, p, sw) : f(t, p);
    perOutput[output] = l;
    const term = weight === 1 ? l : affine(l, weight);
    total = total ? add(total, term) : term;
  }
  return { total: total!, perOutput };
}
