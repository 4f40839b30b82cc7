/**
 * Functional models with several named outputs, compiled with weighted losses (Keras 3 rules,
 * see compile_loss.ts) and trained with `fit`. Each loss's gradient reaches only the layers on a
 * path from the trainable weights to that output (the tape's filter), so a head no loss touches
 * costs no kernel. Loss values stay on the GPU during an epoch and are read once at its end (or
 * after every batch when a callback or the progress bar wants them). Every public method leaves
 * behind exactly the tensors it returns, also when it fails.
 */
import { argMessage, DisposedError, ValueError } from '../errors.js';
import { lossReach, noGrad } from '../grad/api.js';
import type { Variable } from '../grad/variable.js';
import { checkOptions } from '../options.js';
import { keep, tidy } from '../tensor/api.js';
import { engine } from '../tensor/engine.js';
import { describe } from '../tensor/ops/check.js';
import { add } from '../tensor/ops/elementwise/index.js';
import { concat } from '../tensor/ops/movement.js';
import type { Tensor } from '../tensor/tensor.js';
import { BatchMeans, type Logs } from './batch_means.js';
import { bindClassWeight, type ClassWeight } from './class_weight.js';
import type { ResolvedLoss } from './compile_loss.js';
import { computeLosses, resolveLosses } from './compile_loss.js';
import { type CompiledMetric, resolveMetrics } from './compile_metrics.js';
import { type FitSettings, fitEpochs, fitSettings, splitValidation } from './fit_loop.js';
import { graphJSON, graphOrder, runGraph } from './graph.js';
import type { Layer } from './layer.js';
import { InputLayer } from './layers/simple.js';
import {
  bindData,
  bindInputs,
  bindTargets,
  countSamples,
  type Data,
  inputParts,
  range,
  type Signature,
  takeBatch,
  takeRows,
} from './model_data.js';
import { modelFolderWriter } from './model_folder.js';
import type { ModelArtifacts, ModelJSON } from './model_io.js';
import {
  type CompileOptions,
  EVALUATE_KEYS,
  type EvaluateOptions,
  FIT_KEYS,
  type FitOptions,
  type History,
  type ModelConfig,
  type OutputActivation,
  PREDICT_KEYS,
  type PredictOptions,
  positiveInt,
  type TargetsArg,
  type TensorsArg,
  TRAIN_STEP_KEYS,
  type TrainStepOptions,
} from './model_options.js';
import type { Optimizer } from './optimizers/optimizer.js';
import { checkVerbose, Progress } from './progress.js';
import { loadWeights, saveWeights } from './safetensors.js';
import { checkSampleWeighting } from './sample_weight.js';
import { SymbolicTensor } from './symbolic.js';

/** A model input placeholder of the given per-sample shape. */
export function input(o: { shape: readonly number[]; name?: string }): SymbolicTensor {
  if (!Array.isArray(o.shape) || o.shape.some((d) => !Number.isInteger(d) || d < 1))
    throw new ValueError(
      argMessage('input', 'shape', 'positive integers (per-sample shape, no batch axis)', describe(o.shape)),
    );
  const layer = new InputLayer({ shape: o.shape, name: o.name });
  return new SymbolicTensor(layer.outputShape(), layer, []);
}

export class Model {
  readonly name: string;
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
  readonly outputNames: readonly string[];
  /** Layer calls in an order where every call comes after its inputs. */
  readonly #nodes: SymbolicTensor[];
  #losses: ResolvedLoss[] | null = null;
  #metrics: CompiledMetric[] = [];
  #optimizer: Optimizer | null = null;
  #disposed = false;
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
    this.#nodes = graphOrder(fn, this.inputs, this.outputs);
  }

  /** Every layer, in call order. */
  get layers(): Layer[] {
    return [...new Set(this.#nodes.map((n) => n.layer))];
  }

  get trainableWeights(): Variable[] {
    return this.layers.flatMap((l) => [...l.trainableWeights]);
  }

  /** Runs the model (recorded on the tape when one is active): outputs keyed by output name. */
  call(x: TensorsArg, training = false): Record<string, Tensor> {
    this.#alive('call');
    return this.#run(bindInputs('call', this.inputs, x), training);
  }

  /** Runs the graph on real inputs (graph.ts): the outputs by name. */
  #run(inputs: readonly Tensor[], training: boolean): Record<string, Tensor> {
    const values = runGraph(this.#nodes, this.inputs, this.outputs, inputs, training);
    return Object.fromEntries(this.outputNames.map((n, i) => [n, values[i]]));
  }

  /**
   * The outputs for x, keyed by output name, outside any tape: one tensor per output holding the
   * model's raw outputs (logits; `outputActivations` says how to read them), in batches of
   * `batchSize` samples concatenated in order. Leaves behind only the returned tensors.
   */
  predict(x: TensorsArg, options: PredictOptions = {}): Record<string, Tensor> {
    const fn = 'predict';
    this.#alive(fn);
    const o = checkOptions(fn, options ?? undefined, PREDICT_KEYS) as PredictOptions;
    const inputs = bindInputs(fn, this.inputs, x);
    const n = countSamples(fn, inputParts(this.inputs, inputs, 'x'));
    const batchSize = positiveInt(fn, 'batchSize', o.batchSize ?? 32);
    const progress = new Progress(Math.ceil(n / batchSize), checkVerbose(fn, o.verbose));
    const parts: Record<string, Tensor>[] = [];
    let out: Record<string, Tensor> | null = null;
    try {
      for (let start = 0, step = 1; start < n; start += batchSize, step++) {
        const idx = range(start, Math.min(n, start + batchSize));
        parts.push(
          tidy(() =>
            noGrad(() =>
              this.#run(
                inputs.map((t) => takeRows(t, idx)),
                false,
              ),
            ),
          ),
        );
        progress.update(step, null);
      }
      out =
        parts.length === 1
          ? parts[0]
          : Object.fromEntries(
              this.outputNames.map((name) => [
                name,
                concat(
                  parts.map((p) => p[name]),
                  0,
                ),
              ]),
            );
      progress.finish(null);
      return out;
    } finally {
      // The batches' outputs, unless they are the result (one batch).
      if (out !== parts[0]) for (const p of parts) for (const t of Object.values(p)) t.dispose();
    }
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

  /**
   * Sets the optimizer and the losses (a loss for all, a list by position or a record by output
   * name; functions, names or `{ name, ...options }`), their weights and the metrics.
   */
  compile(o: CompileOptions): void {
    const fn = 'compile';
    this.#alive(fn);
    checkOptions(fn, o ?? undefined, ['optimizer', 'loss', 'lossWeights', 'metrics']);
    if (!o?.optimizer || typeof (o.optimizer as Optimizer).applyGradients !== 'function')
      throw new ValueError(argMessage(fn, 'optimizer', 'an optimizer (SGD, Adam, AdamW)', describe(o?.optimizer)));
    this.#losses = resolveLosses(this.outputNames, o.loss, o.lossWeights, 'compile', this.outputActivations);
    this.#metrics = resolveMetrics(this.outputNames, o.metrics ?? {});
    this.#optimizer = o.optimizer;
  }

  /** Per loss (by output name): the layers its gradient reaches, for a sample batch. */
  lossPaths(x: TensorsArg, y: TargetsArg): Record<string, string[]> {
    const fn = 'lossPaths';
    this.#alive(fn);
    const losses = this.#compiled(fn);
    const inputs = bindInputs(fn, this.inputs, x);
    const yTrue = bindTargets(fn, this.#signature(losses), y);
    const weights = this.trainableWeights;
    const reach = tidy(() =>
      lossReach(() => computeLosses(losses, yTrue, this.#run(inputs, true), null, { fn }).perOutput, weights),
    );
    const layerOf = new Map(this.layers.flatMap((l) => l.trainableWeights.map((w) => [w.name, l.name] as const)));
    return Object.fromEntries(
      Object.entries(reach).map(([k, names]) => [k, [...new Set(names.map((n) => layerOf.get(n)!))]]),
    );
  }

  /**
   * One optimizer step on a batch, with optional Keras sample or class weights; returns the total
   * and the unweighted per-output losses (and metrics), unread, in the caller's scope.
   */
  trainStep(
    x: TensorsArg,
    y: TargetsArg,
    options: TrainStepOptions = {},
  ): { total: Tensor; perOutput: Record<string, Tensor> } {
    const fn = 'trainStep';
    this.#alive(fn);
    const o = checkOptions(fn, options ?? undefined, TRAIN_STEP_KEYS) as TrainStepOptions;
    const losses = this.#compiled(fn);
    const data = this.#bindData(fn, losses, x, y, o.sampleWeight);
    try {
      checkSampleWeighting(fn, 'sampleWeight', data.sw, losses);
      const classWeight = this.#bindClassWeight(fn, o.classWeight, data, losses);
      return this.#step(fn, data.x, data.y, data.sw, classWeight, losses);
    } finally {
      for (const t of data.owned) t.dispose();
    }
  }

  #step(
    fn: string,
    x: readonly Tensor[],
    y: Readonly<Record<string, Tensor>>,
    sw: Readonly<Record<string, Tensor>> | null,
    classWeight: ClassWeight | null,
    losses: readonly ResolvedLoss[],
  ): { total: Tensor; perOutput: Record<string, Tensor> } {
    const perOutput: Record<string, Tensor> = {};
    const kept: Tensor[] = [];
    const keepOne = (name: string, t: Tensor): void => {
      perOutput[name] = keep(t);
      kept.push(t);
    };
    try {
      const total = this.#optimizer!.minimize(() => {
        const predictions = this.#run(x, true);
        const values = computeLosses(losses, y, predictions, sw, { classWeight, fn });
        for (const [k, v] of Object.entries(values.perOutput)) keepOne(k, v);
        for (const m of this.#metrics)
          keepOne(
            `${m.output}_${m.name}`,
            noGrad(() => m.fn(y[m.output], predictions[m.output])),
          );
        return this.#withRegularization(values.total);
      }, this.trainableWeights);
      // Kept to outlive the loss function's scope; now the caller's scope owns them, like `total`.
      for (const v of kept) engine.unkeep(v);
      return { total, perOutput };
    } catch (e) {
      for (const v of kept) v.dispose();
      throw e;
    }
  }

  /**
   * Mean losses and metrics over a dataset, in batches, without training ('loss',
   * '<output>_loss', metrics), with optional Keras sample weights. Leaves no tensor behind.
   */
  async evaluate(x: TensorsArg, y: TargetsArg, options: EvaluateOptions = {}): Promise<Logs> {
    const fn = 'evaluate';
    this.#alive(fn);
    const o = checkOptions(fn, options ?? undefined, EVALUATE_KEYS) as EvaluateOptions;
    const losses = this.#compiled(fn);
    const batchSize = positiveInt(fn, 'batchSize', o.batchSize ?? 32);
    const verbose = checkVerbose(fn, o.verbose);
    const data = this.#bindData(fn, losses, x, y, o.sampleWeight);
    try {
      checkSampleWeighting(fn, 'sampleWeight', data.sw, losses);
      const rows = range(0, data.n);
      const progress = new Progress(Math.ceil(rows.length / batchSize), verbose);
      return await this.#evaluateRows(fn, data, rows, batchSize, losses, progress);
    } finally {
      for (const t of data.owned) t.dispose();
    }
  }

  async #evaluateRows(
    fn: string,
    data: Data,
    rows: readonly number[],
    batchSize: number,
    losses: readonly ResolvedLoss[],
    progress: Progress | null,
  ): Promise<Logs> {
    const means = this.#batchMeans(losses);
    try {
      for (let start = 0, step = 1; start < rows.length; start += batchSize, step++) {
        const idx = rows.slice(start, start + batchSize);
        const values = tidy(() =>
          noGrad(() => {
            const b = takeBatch(data, idx);
            const preds = this.#run(b.x, false);
            const r = computeLosses(losses, b.y, preds, b.sw, { fn });
            return [
              this.#withRegularization(r.total),
              ...losses.map((l) => r.perOutput[l.output]),
              ...this.#metrics.map((m) => m.fn(b.y[m.output], preds[m.output])),
            ];
          }),
        );
        means.add(values, idx.length);
        if (progress?.wantsStepLogs) await means.read();
        progress?.update(step, progress.wantsStepLogs ? means.means() : null);
      }
      await means.read();
      const logs = means.means();
      progress?.finish(logs);
      return logs;
    } finally {
      means.dispose();
    }
  }

  /**
   * Trains for `epochs` over the data in shuffled batches (Keras 3's fit: sample and class
   * weights, validation data or split, callbacks with logs, verbose); returns the History.
   * Every argument is checked before the first step; the finished batches' values are freed
   * when a loss or a callback throws.
   */
  async fit(x: TensorsArg, y: TargetsArg, options: FitOptions = {}): Promise<History> {
    const fn = 'fit';
    this.#alive(fn);
    const o = checkOptions(fn, options ?? undefined, FIT_KEYS) as FitOptions;
    const losses = this.#compiled(fn);
    const settings = fitSettings(fn, o);
    const owned: Tensor[] = [];
    try {
      const data = this.#bindData(fn, losses, x, y, o.sampleWeight);
      owned.push(...data.owned);
      checkSampleWeighting(fn, 'sampleWeight', data.sw, losses);
      const classWeight = this.#bindClassWeight(fn, o.classWeight, data, losses);
      const { trainRows, validation } = splitValidation(fn, o, data, (v) => {
        const vd = this.#bindData(fn, losses, v[0], v[1], v[2], 'validationData');
        owned.push(...vd.owned);
        checkSampleWeighting(fn, 'validationData[2]', vd.sw, losses);
        return vd;
      });
      return await this.#train(fn, data, trainRows, validation, { ...settings, classWeight, losses });
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  /** Keras' epoch loop (fit_loop.ts) over this model's training step and its validation. */
  #train(
    fn: string,
    data: Data,
    trainRows: readonly number[],
    validation: { data: Data; rows: number[] } | null,
    o: FitSettings & { classWeight: ClassWeight | null; losses: readonly ResolvedLoss[] },
  ): Promise<History> {
    const { batchSize, losses } = o;
    this.stopTraining = false;
    return fitEpochs(trainRows, o, {
      means: () => this.#batchMeans(losses),
      step: (idx) => {
        const b = takeBatch(data, idx);
        const { total, perOutput } = this.#step(fn, b.x, b.y, b.sw, o.classWeight, losses);
        return [
          total,
          ...losses.map((l) => perOutput[l.output]),
          ...this.#metrics.map((m) => perOutput[`${m.output}_${m.name}`]),
        ];
      },
      validate: validation
        ? () => this.#evaluateRows(fn, validation.data, validation.rows, batchSize, losses, null)
        : null,
      stopped: () => this.stopTraining,
      stop: () => {
        this.stopTraining = true;
      },
    });
  }

  /**
   * The topology as JSON values (model.json; `JSON.stringify(model)` gives it too): every layer
   * in graph order with its class and config, the inbound layers of each of its calls, the inputs,
   * the outputs and how each is read. `modelFromJSON` rebuilds the model (Keras' model.to_json).
   */
  toJSON(): ModelJSON {
    const { name, inputs, outputs, outputNames, outputActivations } = this;
    return graphJSON('model.toJSON', { name, inputs, outputs, outputNames, outputActivations, order: this.#nodes });
  }

  /**
   * The whole model as two artifacts, in any environment: the topology (model.json's text) and
   * the weights (safetensors bytes). `modelFromArtifacts` rebuilds it; in Node, `saveModel(model,
   * dir)` writes them to a folder.
   */
  async toArtifacts(): Promise<ModelArtifacts> {
    this.#alive('toArtifacts');
    const modelJson = `${JSON.stringify(this.toJSON(), null, 2)}\n`;
    const weights = await this.saveWeights({ format: 'voxgrad', model: this.name });
    return { modelJson, weights };
  }

  /**
   * Writes the whole model to the folder `dir` in Node (Keras 3's model.save): model.json and
   * weights.safetensors, as `vg.saveModel(model, dir)`; `vg.loadModel(dir)` reads it back.
   */
  async save(dir: string): Promise<void> {
    const fn = 'model.save';
    this.#alive(fn);
    const write = modelFolderWriter();
    if (!write)
      throw new ValueError(
        `${fn}: writing a folder needs Node (import voxgrad in Node); here use model.toArtifacts() and store its modelJson and weights`,
      );
    await write(this, dir);
  }

  /**
   * Frees the weights of every layer (layers shared with another model too) and the optimizer's
   * state for them; the model cannot run after. Calling it again does nothing.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#optimizer?.dispose(this.trainableWeights);
    for (const l of this.layers) for (const w of l.allWeights) w.dispose();
  }

  /** The weights of every layer in the safetensors format, by name (bit-exact). */
  saveWeights(metadata: Record<string, string> = {}): Promise<Uint8Array> {
    this.#alive('saveWeights');
    return saveWeights(
      this.layers.flatMap((l) => [...l.allWeights]),
      metadata,
    );
  }

  /** Loads weights saved by `saveWeights` (by name; nothing is assigned on any mismatch). */
  loadWeights(bytes: Uint8Array): Promise<void> {
    this.#alive('loadWeights');
    return loadWeights(
      this.layers.flatMap((l) => [...l.allWeights]),
      bytes,
    );
  }

  #alive(fn: string): void {
    if (this.#disposed) throw new DisposedError(`${fn}: the model '${this.name}' was disposed (its weights are freed)`);
  }

  /** The means of a run's batches: the total loss, each output's loss, then the metrics. */
  #batchMeans(losses: readonly ResolvedLoss[]): BatchMeans {
    return new BatchMeans(
      ['loss', ...losses.map((l) => `${l.output}_loss`), ...this.#metrics.map((m) => `${m.output}_${m.name}`)],
      1 + losses.length,
    );
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

  #signature(losses: readonly ResolvedLoss[]): Signature {
    return { inputs: this.inputs, outputNames: this.outputNames, lossOutputs: losses.map((l) => l.output) };
  }

  /** x, y and sample weights as arguments of `fn`, or the parts of `validationData` ([x, y, sw]). */
  #bindData(
    fn: string,
    losses: readonly ResolvedLoss[],
    x: unknown,
    y: unknown,
    sampleWeight: unknown,
    within?: string,
  ): Data {
    const args = within
      ? { x: `${within}[0]`, y: `${within}[1]`, sampleWeight: `${within}[2]` }
      : { x: 'x', y: 'y', sampleWeight: 'sampleWeight' };
    return bindData(fn, this.#signature(losses), { x, y, sampleWeight }, args);
  }

  #bindClassWeight(fn: string, value: unknown, data: Data, losses: readonly ResolvedLoss[]): ClassWeight | null {
    return bindClassWeight(fn, value, data.sw !== null, losses, (output) => {
      const shape = this.outputs[this.outputNames.indexOf(output)].shape;
      return shape[shape.length - 1];
    });
  }
}

/** A functional model from its inputs and outputs (a list, or a record keyed by output name). */
export function model(config: ModelConfig): Model {
  return new Model(config);
}
