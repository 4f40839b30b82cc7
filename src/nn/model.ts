/**
 * Functional models with several named outputs, compiled with weighted losses (Keras 3 rules,
 * see compile_loss.ts) and trained with `fit`. Each loss's gradient reaches only the layers on a
 * path from the trainable weights to that output (the tape's filter), so a head no loss touches
 * costs no kernel. Loss values are kept on the GPU during an epoch and read once at its end.
 */
import { argMessage, ShapeError, ValueError } from '../errors.js';
import { lossReach, noGrad } from '../grad/api.js';
import type { Variable } from '../grad/variable.js';
import { diceMetric, iouMetric } from '../losses/metrics.js';
import { checkKeys } from '../options.js';
import { keep, readAll, tidy } from '../tensor/api.js';
import { engine } from '../tensor/engine.js';
import { describe } from '../tensor/ops/check.js';
import { add } from '../tensor/ops/elementwise/index.js';
import { concat, slice } from '../tensor/ops/movement.js';
import { Tensor } from '../tensor/tensor.js';
import type { LossArg, ResolvedLoss, WeightsArg } from './compile_loss.js';
import { computeLosses, resolveLosses } from './compile_loss.js';
import type { Layer } from './layer.js';
import { layerClassName } from './layers/registry.js';
import { InputLayer } from './layers/simple.js';
import type { LayerJSON, LayerRef, ModelArtifacts, ModelJSON } from './model_io.js';
import type { Optimizer } from './optimizers/optimizer.js';
import { loadWeights, saveWeights } from './safetensors.js';
import { SymbolicTensor } from './symbolic.js';

/** What `model.toJSON()` writes as format and version (model_io.ts reads it). */
export const MODEL_FORMAT = 'voxgrad-model';
export const MODEL_FORMAT_VERSION = 1;

/** A model input placeholder of the given per-sample shape. */
export function input(o: { shape: readonly number[]; name?: string }): SymbolicTensor {
  if (!Array.isArray(o.shape) || o.shape.some((d) => !Number.isInteger(d) || d < 1))
    throw new ValueError(
      argMessage('input', 'shape', 'positive integers (per-sample shape, no batch axis)', describe(o.shape)),
    );
  const layer = new InputLayer({ shape: o.shape, name: o.name });
  return new SymbolicTensor(layer.outputShape(), layer, []);
}

export type TensorsArg = Tensor | readonly Tensor[] | Readonly<Record<string, Tensor>>;

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

export interface Logs {
  [name: string]: number;
}

export interface Callback {
  onBatchEnd?(batch: number, info: { size: number }): void;
  /** May return true to stop training. */
  onEpochEnd?(epoch: number, logs: Logs): boolean | undefined | Promise<boolean | undefined>;
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Shuffle the samples every epoch (seeded: the same order every run). Default true. */
  shuffle?: boolean;
  seed?: number;
  validationData?: [TensorsArg, TensorsArg];
  callbacks?: readonly Callback[];
}

export interface History {
  epoch: number[];
  /** 'loss', '<output>_loss' (unweighted), and 'val_…' with validation data. */
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

export class Model {
  readonly name: string;
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
  readonly outputNames: readonly string[];
  /** Layer calls in an order where every call comes after its inputs. */
  readonly #nodes: SymbolicTensor[];
  #losses: ResolvedLoss[] | null = null;
  #metrics: { output: string; name: string; fn: MetricFn }[] = [];
  #optimizer: Optimizer | null = null;
  stopTraining = false;

  /**
   * How each output's values are read, by output name ('softmax', 'sigmoid' or 'linear'): outputs
   * are logits, and this says what turns them into probabilities (used by prediction helpers).
   */
  readonly outputActivations: Readonly<Record<string, OutputActivation>>;

  constructor(config: ModelConfig) {
    const fn = 'model';
    this.name = config.name ?? 'model';
    this.inputs = Array.isArray(config.inputs) ? config.inputs : [config.inputs as SymbolicTensor];
    const outs = config.outputs;
    if (outs instanceof SymbolicTensor || Array.isArray(outs)) {
      this.outputs = outs instanceof SymbolicTensor ? [outs] : outs;
      this.outputNames = this.outputs.map((o) => o.name);
    } else {
      this.outputNames = Object.keys(outs);
      this.outputs = Object.values(outs as Record<string, SymbolicTensor>);
    }
    this.outputActivations = Object.fromEntries(
      this.outputNames.map((n) => [n, config.outputActivations?.[n] ?? 'linear']),
    );
    if (new Set(this.outputNames).size !== this.outputNames.length)
      throw new ValueError(argMessage(fn, 'outputs', 'outputs with distinct names', this.outputNames.join(', ')));
    for (const x of [...this.inputs, ...this.outputs]) {
      if (!(x instanceof SymbolicTensor))
        throw new ValueError(argMessage(fn, 'inputs/outputs', 'symbolic tensors', typeof x));
    }
    this.#nodes = [];
    const seen = new Set<number>();
    const visit = (t: SymbolicTensor): void => {
      if (seen.has(t.id)) return;
      seen.add(t.id);
      if (t.layer instanceof InputLayer) {
        if (!this.inputs.includes(t))
          throw new ValueError(
            `${fn}: the output depends on the input '${t.name}', which is not among the model's inputs`,
          );
        return;
      }
      t.inputs.forEach(visit);
      this.#nodes.push(t);
    };
    this.outputs.forEach(visit);
  }

  /** Every layer, in call order. */
  get layers(): Layer[] {
    return [...new Set(this.#nodes.map((n) => n.layer))];
  }

  get trainableWeights(): Variable[] {
    return this.layers.flatMap((l) => [...l.trainableWeights]);
  }

  /** Runs the model: outputs keyed by output name. */
  call(x: TensorsArg, training = false): Record<string, Tensor> {
    return this.#run('call', x, training);
  }

  /**
   * Runs the graph. Each intermediate value is disposed as soon as its last consumer has run (the
   * tape keeps its own handles on what backward needs), so a forward pass holds only what is still
   * to be read: for a U-Net, the skip connections and the current level.
   */
  #run(fn: string, x: TensorsArg, training: boolean): Record<string, Tensor> {
    const inputs = this.#bindInputs(fn, x);
    const values = new Map<number, Tensor>();
    this.inputs.forEach((s, i) => values.set(s.id, inputs[i]));
    // Pending reads of each tensor object (a layer may return its input unchanged); the inputs
    // and outputs are never disposed here.
    const pending = new Map<Tensor, number>();
    const kept = new Set<Tensor>(inputs);
    const release = (t: Tensor): void => {
      const left = (pending.get(t) ?? 0) - 1;
      pending.set(t, left);
      if (left <= 0 && !kept.has(t)) t.dispose();
    };
    const reads = new Map<number, number>();
    for (const node of this.#nodes) for (const i of node.inputs) reads.set(i.id, (reads.get(i.id) ?? 0) + 1);
    for (const o of this.outputs) reads.set(o.id, (reads.get(o.id) ?? 0) + 1);
    const outputIds = new Set(this.outputs.map((o) => o.id));
    this.inputs.forEach((s, i) => pending.set(inputs[i], (pending.get(inputs[i]) ?? 0) + (reads.get(s.id) ?? 0)));
    for (const node of this.#nodes) {
      const args = node.inputs.map((i) => values.get(i.id)!);
      const out = node.layer.call(args, training);
      values.set(node.id, out);
      pending.set(out, (pending.get(out) ?? 0) + (reads.get(node.id) ?? 0));
      if (outputIds.has(node.id)) kept.add(out);
      for (const a of args) release(a);
    }
    return Object.fromEntries(this.outputNames.map((n, i) => [n, values.get(this.outputs[i].id)!]));
  }

  /** Outputs for x, outside any tape, keyed by output name. */
  predict(x: TensorsArg): Record<string, Tensor> {
    return noGrad(() => this.#run('predict', x, false));
  }

  /** A table of the layers, their output shapes and parameter counts (also printed). */
  summary(print = true): string {
    const rows = this.#nodes.map((n) => [
      `${n.name} (${n.layer.constructor.name})`,
      `[${n.shape.map((d) => (d < 0 ? 'batch' : d)).join(', ')}]`,
      String(n.layer.countParams()),
    ]);
    const head = ['layer (type)', 'output shape', 'params'];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]): string => r.map((c, i) => c.padEnd(w[i])).join('  ');
    const total = this.layers.reduce((n, l) => n + l.countParams(), 0);
    const text = [
      `model "${this.name}"`,
      line(head),
      ...rows.map(line),
      `total params: ${total}`,
      `outputs: ${this.outputNames.join(', ')}`,
    ].join('\n');
    if (print) console.log(text);
    return text;
  }

  /** Sets the optimizer and the losses (a loss for all, a list by position or a record by output name). */
  compile(o: CompileOptions): void {
    if (!o?.optimizer || typeof (o.optimizer as Optimizer).applyGradients !== 'function')
      throw new ValueError(
        argMessage('compile', 'optimizer', 'an optimizer (SGD, Adam, AdamW)', describe(o?.optimizer)),
      );
    this.#losses = resolveLosses(this.outputNames, o.loss, o.lossWeights);
    this.#metrics = resolveMetrics(this.outputNames, o.metrics ?? {});
    this.#optimizer = o.optimizer;
  }

  /** Per loss (by output name): the layers its gradient reaches, for a sample batch. */
  lossPaths(x: TensorsArg, y: TensorsArg): Record<string, string[]> {
    const losses = this.#compiled('lossPaths');
    const yTrue = this.#bindTargets('lossPaths', y);
    const weights = this.trainableWeights;
    const reach = lossReach(() => computeLosses(losses, yTrue, this.call(x, true)).perOutput, weights);
    const layerOf = new Map(this.layers.flatMap((l) => l.trainableWeights.map((w) => [w.name, l.name] as const)));
    return Object.fromEntries(
      Object.entries(reach).map(([k, names]) => [k, [...new Set(names.map((n) => layerOf.get(n)!))]]),
    );
  }

  /** One optimizer step on a batch; returns the total and unweighted per-output losses (kept, unread). */
  trainStep(x: TensorsArg, y: TensorsArg): { total: Tensor; perOutput: Record<string, Tensor> } {
    const losses = this.#compiled('trainStep');
    const yTrue = this.#bindTargets('trainStep', y);
    let perOutput: Record<string, Tensor> = {};
    let predictions: Record<string, Tensor> = {};
    const total = this.#optimizer!.minimize(() => {
      predictions = this.call(x, true);
      const values = computeLosses(losses, yTrue, predictions);
      perOutput = Object.fromEntries(Object.entries(values.perOutput).map(([k, v]) => [k, keep(v)]));
      for (const m of this.#metrics)
        perOutput[`${m.output}_${m.name}`] = keep(noGrad(() => m.fn(yTrue[m.output], predictions[m.output])));
      return this.#withRegularization(values.total);
    }, this.trainableWeights);
    // Kept to outlive the loss function's scope; now the caller's scope owns them, like `total`.
    for (const v of Object.values(perOutput)) engine.unkeep(v);
    return { total, perOutput };
  }

  /** Mean losses over a dataset, in batches, without training ('loss', '<output>_loss'). */
  async evaluate(x: TensorsArg, y: TensorsArg, options: { batchSize?: number } = {}): Promise<Logs> {
    const losses = this.#compiled('evaluate');
    const n = this.#count('evaluate', x, y);
    const batchSize = options.batchSize ?? 32;
    const kept: { size: number; values: Tensor[] }[] = [];
    for (let start = 0; start < n; start += batchSize) {
      const idx = range(start, Math.min(n, start + batchSize));
      const values = tidy(() =>
        noGrad(() => {
          const yb = this.#bindTargets('evaluate', takeRows(y, idx));
          const preds = this.call(takeRows(x, idx), false);
          const r = computeLosses(losses, yb, preds);
          return [
            this.#withRegularization(r.total),
            ...losses.map((l) => r.perOutput[l.output]),
            ...this.#metrics.map((m) => m.fn(yb[m.output], preds[m.output])),
          ];
        }),
      );
      kept.push({ size: idx.length, values });
    }
    return this.#meanLogs(kept, losses, '');
  }

  /** Trains for `epochs` over the data in shuffled batches; returns the per-epoch History. */
  async fit(x: TensorsArg, y: TensorsArg, options: FitOptions = {}): Promise<History> {
    const fn = 'fit';
    const losses = this.#compiled(fn);
    // Inputs and targets are checked before any step runs.
    this.#bindInputs(fn, x);
    this.#bindTargets(fn, y);
    const n = this.#count(fn, x, y);
    const epochs = positiveInt(fn, 'epochs', options.epochs ?? 1);
    const batchSize = positiveInt(fn, 'batchSize', options.batchSize ?? 32);
    const history: History = { epoch: [], history: {} };
    this.stopTraining = false;
    for (let epoch = 0; epoch < epochs && !this.stopTraining; epoch++) {
      const order = options.shuffle === false ? range(0, n) : shuffled(n, (options.seed ?? 1) * 7919 + epoch);
      const kept: { size: number; values: Tensor[] }[] = [];
      for (let start = 0, batch = 0; start < n; start += batchSize, batch++) {
        const idx = order.slice(start, start + batchSize);
        const values = tidy(() => {
          const { total, perOutput } = this.trainStep(takeRows(x, idx), takeRows(y, idx));
          return [
            total,
            ...losses.map((l) => perOutput[l.output]),
            ...this.#metrics.map((m) => perOutput[`${m.output}_${m.name}`]),
          ];
        });
        kept.push({ size: idx.length, values });
        for (const c of options.callbacks ?? []) c.onBatchEnd?.(batch, { size: idx.length });
      }
      const logs = await this.#meanLogs(kept, losses, '');
      if (options.validationData)
        Object.assign(
          logs,
          prefixed(await this.evaluate(options.validationData[0], options.validationData[1], { batchSize }), 'val_'),
        );
      history.epoch.push(epoch);
      for (const [k, v] of Object.entries(logs)) {
        history.history[k] ??= [];
        history.history[k].push(v);
      }
      for (const c of options.callbacks ?? [])
        if ((await c.onEpochEnd?.(epoch, logs)) === true) this.stopTraining = true;
    }
    return history;
  }

  /**
   * The topology as JSON values (model.json; `JSON.stringify(model)` gives it too): every layer
   * in graph order with its class and config, the inbound layers of each of its calls, the inputs,
   * the outputs and how each is read. `modelFromJSON` rebuilds the model (Keras' model.to_json).
   */
  toJSON(): ModelJSON {
    const fn = 'model.toJSON';
    // Each layer's calls in this graph, in order: a layer used twice is written once.
    const calls = new Map<Layer, SymbolicTensor[]>();
    for (const n of this.#nodes) {
      const list = calls.get(n.layer);
      if (list) list.push(n);
      else calls.set(n.layer, [n]);
    }
    const layers = [...this.inputs.map((i) => i.layer), ...calls.keys()];
    const names = new Set<string>();
    for (const l of layers) {
      if (names.has(l.name))
        throw new ValueError(argMessage(fn, 'layers', 'layers with distinct names', `two layers named '${l.name}'`));
      names.add(l.name);
    }
    // A layer's output by name (its first call) or as [name, call] for a later call.
    const ref = (t: SymbolicTensor): LayerRef => {
      const k = calls.get(t.layer)?.indexOf(t) ?? 0;
      return k === 0 ? t.name : [t.name, k];
    };
    const entry = (layer: Layer): LayerJSON => ({
      className: layerClassName(fn, layer),
      config: layer.getConfig(),
      inbound: (calls.get(layer) ?? []).map((n) => n.inputs.map(ref)),
    });
    return {
      format: MODEL_FORMAT,
      version: MODEL_FORMAT_VERSION,
      name: this.name,
      layers: layers.map(entry),
      inputs: this.inputs.map((i) => i.name),
      outputs: this.outputNames.map((name, i) => ({ name, from: ref(this.outputs[i]) })),
      outputActivations: { ...this.outputActivations },
    };
  }

  /**
   * The whole model as two artifacts, in any environment: the topology (model.json's text) and
   * the weights (safetensors bytes). `modelFromArtifacts` rebuilds it; in Node, `saveModel(model,
   * dir)` writes them to a folder.
   */
  async toArtifacts(): Promise<ModelArtifacts> {
    const modelJson = `${JSON.stringify(this.toJSON(), null, 2)}\n`;
    const weights = await this.saveWeights({ format: 'voxgrad', model: this.name });
    return { modelJson, weights };
  }

  /** Frees the weights of every layer (layers shared with another model too); the model cannot run after. */
  dispose(): void {
    for (const l of this.layers) for (const w of l.allWeights) w.dispose();
  }

  /** The weights of every layer in the safetensors format, by name (bit-exact). */
  saveWeights(metadata: Record<string, string> = {}): Promise<Uint8Array> {
    return saveWeights(
      this.layers.flatMap((l) => [...l.allWeights]),
      metadata,
    );
  }

  /** Loads weights saved by `saveWeights` (by name; nothing is assigned on any mismatch). */
  loadWeights(bytes: Uint8Array): Promise<void> {
    return loadWeights(
      this.layers.flatMap((l) => [...l.allWeights]),
      bytes,
    );
  }

  /** Reads the kept per-batch losses with one wait and averages them, weighted by batch size. */
  async #meanLogs(
    kept: { size: number; values: Tensor[] }[],
    losses: readonly ResolvedLoss[],
    prefix: string,
  ): Promise<Logs> {
    const data = await readAll(kept.flatMap((k) => k.values));
    const names = [
      'loss',
      ...losses.map((l) => `${l.output}_loss`),
      ...this.#metrics.map((m) => `${m.output}_${m.name}`),
    ];
    // Batch means weighted by batch size; a metric that is NaN for a batch (nothing to score) is skipped.
    const sums = names.map(() => 0);
    const counts = names.map(() => 0);
    let at = 0;
    for (const k of kept) {
      k.values.forEach((t, i) => {
        const v = data[at + i][0];
        if (!Number.isNaN(v)) {
          sums[i] += v * k.size;
          counts[i] += k.size;
        }
        t.dispose();
      });
      at += k.values.length;
    }
    return Object.fromEntries(names.map((name, i) => [`${prefix}${name}`, counts[i] ? sums[i] / counts[i] : NaN]));
  }

  /** The loss plus every layer's regularisation penalty (Keras adds them to the optimised total). */
  #withRegularization(total: Tensor): Tensor {
    let t = total;
    for (const l of this.layers) {
      const p = l.regularization();
      if (p) t = add(t, p);
    }
    return t;
  }

  #compiled(fn: string): ResolvedLoss[] {
    if (!this.#losses || !this.#optimizer)
      throw new ValueError(`${fn}: the model is not compiled; call model.compile({ optimizer, loss }) first`);
    return this.#losses;
  }

  #bindInputs(fn: string, x: TensorsArg): Tensor[] {
    const list =
      x instanceof Tensor ? [x] : Array.isArray(x) ? x : this.inputs.map((i) => (x as Record<string, Tensor>)[i.name]);
    if (list.length !== this.inputs.length || list.some((t) => !(t instanceof Tensor))) {
      throw new ValueError(
        argMessage(
          fn,
          'x',
          `${this.inputs.length} input tensor(s) (${this.inputs.map((i) => i.name).join(', ')})`,
          describe(x),
        ),
      );
    }
    list.forEach((t, i) => {
      const want = this.inputs[i].shape;
      if (t.rank !== want.length || want.some((d, k) => d >= 0 && d !== t.shape[k])) {
        throw new ShapeError(
          argMessage(
            fn,
            'x',
            `shape [${want.map((d) => (d < 0 ? 'batch' : d)).join(', ')}] for the input '${this.inputs[i].name}'`,
            describe(t),
          ),
        );
      }
    });
    return list;
  }

  #bindTargets(fn: string, y: TensorsArg): Record<string, Tensor> {
    if (y instanceof Tensor) {
      if (this.outputNames.length !== 1)
        throw new ValueError(
          argMessage(
            fn,
            'y',
            `a list or a record of ${this.outputNames.length} targets (${this.outputNames.join(', ')})`,
            'one tensor',
          ),
        );
      return { [this.outputNames[0]]: y };
    }
    if (Array.isArray(y)) {
      if (y.length !== this.outputNames.length)
        throw new ValueError(
          argMessage(fn, 'y', `${this.outputNames.length} targets (${this.outputNames.join(', ')})`, `${y.length}`),
        );
      return Object.fromEntries(this.outputNames.map((n, i) => [n, y[i]]));
    }
    checkKeys(fn, 'y', y, this.outputNames, 'output');
    return y as Record<string, Tensor>;
  }

  #count(fn: string, x: TensorsArg, y: TensorsArg): number {
    const all = [...tensorsOf(x), ...tensorsOf(y)];
    const n = all[0]?.shape[0] ?? 0;
    if (all.some((t) => t.shape[0] !== n))
      throw new ShapeError(
        argMessage(
          fn,
          'y',
          `the same number of samples in every input and target (${n}, as in x)`,
          `sample counts ${all.map((t) => t.shape[0]).join(', ')}`,
        ),
      );
    return n;
  }
}

/** A functional model from its inputs and outputs (a list, or a record keyed by output name). */
export function model(config: ModelConfig): Model {
  return new Model(config);
}

function resolveMetrics(
  outputs: readonly string[],
  metrics: Readonly<Record<string, readonly (string | MetricFn)[]>>,
): { output: string; name: string; fn: MetricFn }[] {
  const fn = 'compile';
  const out: { output: string; name: string; fn: MetricFn }[] = [];
  for (const [output, list] of Object.entries(metrics)) {
    checkKeys(fn, 'metrics', { [output]: list }, outputs, 'output');
    for (const m of list) {
      if (m === 'dice') out.push({ output, name: 'dice', fn: (t, p) => diceMetric(t, p) });
      else if (m === 'iou') out.push({ output, name: 'iou', fn: (t, p) => iouMetric(t, p) });
      else if (typeof m === 'function' && m.name) out.push({ output, name: m.name, fn: m });
      else
        throw new ValueError(argMessage(fn, `metrics['${output}']`, "'dice', 'iou' or a named function", describe(m)));
    }
  }
  return out;
}

function tensorsOf(x: TensorsArg): Tensor[] {
  return x instanceof Tensor ? [x] : Array.isArray(x) ? [...x] : Object.values(x);
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

/** A seeded Fisher–Yates permutation. */
function shuffled(n: number, seed: number): number[] {
  const out = range(0, n);
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Rows `idx` of every tensor (axis 0): one slice per run of consecutive indices, then a concat. */
function takeRows<T extends TensorsArg>(x: T, idx: readonly number[]): T {
  const take = (t: Tensor): Tensor => {
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
  };
  if (x instanceof Tensor) return take(x) as T;
  if (Array.isArray(x)) return x.map(take) as unknown as T;
  return Object.fromEntries(Object.entries(x as Record<string, Tensor>).map(([k, v]) => [k, take(v)])) as T;
}

function prefixed(logs: Logs, prefix: string): Logs {
  return Object.fromEntries(Object.entries(logs).map(([k, v]) => [`${prefix}${k}`, v]));
}

function positiveInt(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new ValueError(argMessage(fn, arg, 'a positive integer', describe(v)));
  return v;
}
