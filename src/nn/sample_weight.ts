/**
 * Keras's `sample_weight` in fit, evaluate and trainStep: one weight per sample, for every output
 * or per output (a list by position, with the labels' rule that a list may hold only the outputs
 * that have a loss, or a record by output name). Each weights array is a float32 tensor (N) or
 * (N, 1), or host numbers (finite, >= 0), checked before anything is uploaded.
 */
import { argMessage, ShapeError, ValueError } from '../errors.js';
import { checkKeys } from '../options.js';
import { checkFloat, describe } from '../tensor/ops/check.js';
import { tensor } from '../tensor/ops/creation.js';
import { Tensor } from '../tensor/tensor.js';
import type { ResolvedLoss } from './compile_loss.js';

/** One output's sample weights. */
export type SampleWeights = Tensor | Float32Array | Float64Array | readonly number[];
export type SampleWeightArg =
  | SampleWeights
  | readonly (SampleWeights | null)[]
  | Readonly<Record<string, SampleWeights | null>>;

export interface BoundSampleWeights {
  /** (N) or (N, 1) weights of each output that has a loss and weights. */
  byOutput: Record<string, Tensor>;
  /** Tensors made here from host numbers; the caller disposes them when done. */
  owned: Tensor[];
}

function isSingle(v: unknown): v is SampleWeights {
  return (
    v instanceof Tensor ||
    v instanceof Float32Array ||
    v instanceof Float64Array ||
    (Array.isArray(v) && v.every((x) => typeof x === 'number'))
  );
}

/** Checks one weights array for n samples; returns a tensor maker (nothing is uploaded yet). */
function checkOne(fn: string, arg: string, v: unknown, n: number): () => { t: Tensor; owned: boolean } {
  if (v instanceof Tensor) {
    checkFloat(fn, arg, v);
    const ok = (v.rank === 1 && v.shape[0] === n) || (v.rank === 2 && v.shape[0] === n && v.shape[1] === 1);
    if (!ok) throw new ShapeError(argMessage(fn, arg, `one weight per sample: shape [${n}] or [${n}, 1]`, describe(v)));
    return () => ({ t: v, owned: false });
  }
  if (!isSingle(v))
    throw new ValueError(
      argMessage(fn, arg, 'sample weights: a float32 Tensor, a Float32Array or an array of numbers', describe(v)),
    );
  const values = v as ArrayLike<number>;
  if (values.length !== n)
    throw new ShapeError(argMessage(fn, arg, `${n} weights (one per sample)`, `${values.length} weights`));
  for (let i = 0; i < values.length; i++) {
    const w = values[i];
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
      throw new ValueError(argMessage(fn, `${arg}[${i}]`, 'a finite number >= 0', describe(w)));
  }
  return () => ({ t: tensor(Float32Array.from(values), [n]), owned: true });
}

/**
 * Binds `value` to the outputs: `outputs` are all of the model's, `lossOutputs` those with a
 * loss (in model order). Returns null when there are no weights.
 */
export function bindSampleWeights(
  fn: string,
  arg: string,
  value: unknown,
  n: number,
  outputs: readonly string[],
  lossOutputs: readonly string[],
): BoundSampleWeights | null {
  if (value === undefined || value === null) return null;
  const makers: [string, () => { t: Tensor; owned: boolean }][] = [];
  if (isSingle(value)) {
    const make = checkOne(fn, arg, value, n);
    let made: { t: Tensor; owned: boolean } | null = null;
    for (const o of lossOutputs) makers.push([o, () => (made ??= make())]);
  } else {
    let pairs: [string, unknown][];
    if (Array.isArray(value)) {
      const names =
        value.length === outputs.length ? outputs : value.length === lossOutputs.length ? lossOutputs : null;
      if (!names)
        throw new ValueError(
          argMessage(
            fn,
            arg,
            `one weights array for all outputs, or a list of ${outputs.length} (one per output: ${outputs.join(', ')})` +
              (lossOutputs.length < outputs.length ? ` or of ${lossOutputs.length} (the outputs with a loss)` : ''),
            `a list of ${value.length}`,
          ),
        );
      pairs = names.map((name, i) => [name, value[i]]);
    } else if (typeof value === 'object') {
      checkKeys(fn, arg, value as object, outputs, 'output');
      pairs = Object.entries(value as object);
    } else throw new ValueError(argMessage(fn, arg, 'sample weights, a list or a record of them', describe(value)));
    for (const [output, v] of pairs) {
      if (v === undefined || v === null) continue;
      const where = `${arg}['${output}']`;
      if (!lossOutputs.includes(output))
        throw new ValueError(argMessage(fn, where, 'weights only for outputs with a loss', `weights for '${output}'`));
      makers.push([output, checkOne(fn, where, v, n)]);
    }
  }
  const byOutput: Record<string, Tensor> = {};
  const owned = new Set<Tensor>();
  for (const [output, make] of makers) {
    const { t, owned: mine } = make();
    byOutput[output] = t;
    if (mine) owned.add(t);
  }
  return { byOutput, owned: [...owned] };
}

/** Every loss that gets sample weights must have per-sample values (else an error saying why not). */
export function checkSampleWeighting(
  fn: string,
  arg: string,
  sw: Readonly<Record<string, Tensor>> | null,
  losses: readonly ResolvedLoss[],
): void {
  for (const l of losses) {
    const why = sw?.[l.output] ? l.refuses('sampleWeight') : null;
    if (why)
      throw new ValueError(
        `${fn}: argument '${arg}' cannot weigh the samples of the output '${l.output}': ${l.label} ${why}`,
      );
  }
}
