/**
 * A model's data as call, predict, evaluate, fit and trainStep take it, checked before any GPU
 * work: the inputs (a tensor, a list, or a record by input name, each of its input's shape), the
 * targets by Keras 3's rules (a list may hold only the outputs with a loss), the sample weights,
 * and one sample count among them all; then the batches of rows a run takes from it.
 */
import { argMessage, ShapeError, ValueError } from '../errors.js';
import { checkKeys } from '../options.js';
import { checkTensor, describe } from '../tensor/ops/check.js';
import { concat, slice } from '../tensor/ops/movement.js';
import { Tensor } from '../tensor/tensor.js';
import { bindSampleWeights } from './sample_weight.js';
import type { SymbolicTensor } from './symbolic.js';

/** What binding needs of a model: its inputs, its output names, and those with a loss. */
export interface Signature {
  readonly inputs: readonly SymbolicTensor[];
  readonly outputNames: readonly string[];
  readonly lossOutputs: readonly string[];
}

/** A dataset bound to a model: inputs in order, targets and sample weights by output name. */
export interface Data {
  x: readonly Tensor[];
  y: Readonly<Record<string, Tensor>>;
  sw: Readonly<Record<string, Tensor>> | null;
  n: number;
  /** Tensors made from host numbers while binding; disposed when the call ends. */
  owned: Tensor[];
}

/** The inputs in model order, each checked against its input's per-sample shape. */
export function bindInputs(fn: string, inputs: readonly SymbolicTensor[], x: unknown, arg = 'x'): Tensor[] {
  const names = inputs.map((i) => i.name);
  const expected = `${inputs.length} input tensor(s) (${names.join(', ')})`;
  let list: unknown[];
  if (x instanceof Tensor) list = [x];
  else if (Array.isArray(x)) list = x;
  else if (x !== null && typeof x === 'object' && !ArrayBuffer.isView(x)) {
    checkKeys(fn, arg, x, names, 'input');
    list = names.map((n) => (x as Record<string, unknown>)[n]);
  } else throw new ValueError(argMessage(fn, arg, expected, describe(x)));
  if (list.length !== inputs.length || list.some((t) => !(t instanceof Tensor)))
    throw new ValueError(argMessage(fn, arg, expected, describe(x)));
  const tensors = list as Tensor[];
  tensors.forEach((t, i) => {
    checkTensor(fn, inputs.length === 1 ? arg : `${arg}['${names[i]}']`, t);
    const want = inputs[i].shape;
    if (t.rank !== want.length || want.some((d, k) => d >= 0 && d !== t.shape[k])) {
      throw new ShapeError(
        argMessage(
          fn,
          arg,
          `shape [${want.map((d) => (d < 0 ? 'batch' : d)).join(', ')}] for the input '${names[i]}'`,
          describe(t),
        ),
      );
    }
  });
  return tensors;
}

/**
 * Targets by output name (Keras 3's rules): one tensor for a single output (or for the only
 * output with a loss), a list by output position or holding only the outputs with a loss, or a
 * record by output name. Every output with a loss needs its labels.
 */
export function bindTargets(fn: string, sig: Signature, y: unknown, arg = 'y'): Record<string, Tensor> {
  const all = sig.outputNames;
  const withLoss = sig.lossOutputs;
  const lists =
    `a list of ${all.length} targets (${all.join(', ')})` +
    (withLoss.length < all.length ? ` or of ${withLoss.length} (the outputs with a loss: ${withLoss.join(', ')})` : '');
  let pairs: [string, unknown][];
  if (y instanceof Tensor) {
    if (withLoss.length !== 1)
      throw new ValueError(argMessage(fn, arg, `${lists}, or a record by output name`, 'one tensor'));
    pairs = [[withLoss[0], y]];
  } else if (Array.isArray(y)) {
    const names = y.length === all.length ? all : y.length === withLoss.length ? withLoss : null;
    if (!names) throw new ValueError(argMessage(fn, arg, lists, `a list of ${y.length}`));
    pairs = names.map((n, i) => [n, y[i]]);
  } else if (y !== null && typeof y === 'object' && !ArrayBuffer.isView(y)) {
    checkKeys(fn, arg, y, all, 'output');
    pairs = Object.entries(y);
  } else throw new ValueError(argMessage(fn, arg, `targets: a tensor, ${lists}, or a record`, describe(y)));
  const out: Record<string, Tensor> = {};
  for (const [name, t] of pairs) {
    if (t === null || t === undefined) continue;
    checkTensor(fn, all.length === 1 ? arg : `${arg}['${name}']`, t);
    out[name] = t as Tensor;
  }
  for (const name of withLoss)
    if (!out[name])
      throw new ValueError(
        argMessage(
          fn,
          arg,
          `labels for the output '${name}' (it has a loss)`,
          `none (given: ${Object.keys(out).join(', ') || 'nothing'})`,
        ),
      );
  return out;
}

/** The inputs' entries for `countSamples`. */
export function inputParts(inputs: readonly SymbolicTensor[], xs: readonly Tensor[], arg: string): Part[] {
  return xs.map((t, i) => [arg, `the input '${inputs[i].name}'`, t]);
}

/** [argument, what (for the message), tensor]. */
export type Part = [string, string, Tensor];

/**
 * The one sample count of several tensors (axis 0), at least 1. A ragged set is a ShapeError
 * naming the argument and the part.
 */
export function countSamples(fn: string, parts: readonly Part[]): number {
  const [firstArg, firstWhat, first] = parts[0];
  const n = first.rank > 0 ? first.shape[0] : 0;
  const samples = (k: number): string => `${k} sample${k === 1 ? '' : 's'}`;
  for (const [arg, what, t] of parts) {
    const m = t.rank > 0 ? t.shape[0] : 0;
    if (m !== n)
      throw new ShapeError(
        argMessage(
          fn,
          arg,
          `${samples(n)} in ${what}, as in ${firstWhat} of '${firstArg}' (one row per sample everywhere)`,
          `${samples(m)} (${describe(t)})`,
        ),
      );
  }
  if (n === 0) throw new ValueError(argMessage(fn, firstArg, 'at least one sample', `0 samples (${describe(first)})`));
  return n;
}

/** Inputs, targets and sample weights, with one sample count among them all (at least 1). */
export function bindData(
  fn: string,
  sig: Signature,
  data: { x: unknown; y: unknown; sampleWeight: unknown },
  args: { x: string; y: string; sampleWeight: string },
): Data {
  const xs = bindInputs(fn, sig.inputs, data.x, args.x);
  const ys = bindTargets(fn, sig, data.y, args.y);
  const n = countSamples(fn, [
    ...inputParts(sig.inputs, xs, args.x),
    ...Object.entries(ys).map(([k, t]): Part => [args.y, `the targets of '${k}'`, t]),
  ]);
  const sw = bindSampleWeights(fn, args.sampleWeight, data.sampleWeight, n, sig.outputNames, sig.lossOutputs);
  return { x: xs, y: ys, sw: sw?.byOutput ?? null, n, owned: sw?.owned ?? [] };
}

export function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

/** A seeded Fisher–Yates permutation of 0 … n − 1. */
export function shuffled(n: number, seed: number): number[] {
  const out = range(0, n);
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Rows `idx` of a tensor (axis 0): the tensor itself when they are all its rows in order, else
 * one slice per run of consecutive indices, then a concat.
 */
export function takeRows(t: Tensor, idx: readonly number[]): Tensor {
  if (idx.length === t.shape[0] && idx.every((v, i) => v === i)) return t;
  const runs: [number, number][] = [];
  for (const i of idx) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === i) last[1]++;
    else runs.push([i, 1]);
  }
  const parts = runs.map(([start, count]) =>
    slice(t, [start, ...t.shape.slice(1).map(() => 0)], [count, ...t.shape.slice(1)]),
  );
  return parts.length === 1 ? parts[0] : concat(parts, 0);
}

/** A batch of rows of a dataset; a tensor shared by several outputs is sliced once. */
export function takeBatch(
  d: Data,
  idx: readonly number[],
): { x: Tensor[]; y: Record<string, Tensor>; sw: Record<string, Tensor> | null } {
  const taken = new Map<Tensor, Tensor>();
  const take = (t: Tensor): Tensor => {
    let r = taken.get(t);
    if (!r) {
      r = takeRows(t, idx);
      taken.set(t, r);
    }
    return r;
  };
  const map = (r: Readonly<Record<string, Tensor>>): Record<string, Tensor> =>
    Object.fromEntries(Object.entries(r).map(([k, t]) => [k, take(t)]));
  return { x: d.x.map(take), y: map(d.y), sw: d.sw ? map(d.sw) : null };
}
