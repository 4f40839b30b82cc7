/**
 * One training run in the tab: a model, its optimizer, and patches drawn by `vg.data`'s sampler
 * from the dataset's cases (a volume larger than the patch gives foreground- and background-centred
 * crops; a smaller one is padded). The held-out or chosen case is predicted whole by
 * `vg.slidingWindowInference` before the first step, every few steps and after the last, and
 * scored per class. Losses are read asynchronously after each step, so the page keeps drawing.
 */
import { patchSampler, toTensors } from '../src/data/patch_sampler.js';
import { Adam, type Model, readAll, slidingWindowInference, tensor, tidy } from '../src/index.js';
import type { DemoCase, DemoDataset } from './dataset.js';
import { buildModel, DEMO_LOSSES, type ModelSettings } from './demo_model.js';
import { argmaxLabels, maskOfLogits, perClassDice } from './dice.js';

export interface TrainSettings extends Omit<ModelSettings, 'classes'> {
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Weight of each output's loss in the total. */
  lossWeights: { segmentation: number; foreground: number };
  /** Steps between two predictions of the shown case. */
  evaluateEvery: number;
}

/** The losses of one step, unweighted per output, and their weighted total. */
export interface StepLosses {
  step: number;
  total: number;
  segmentation: number;
  foreground: number;
}

/** A whole-volume prediction of a case with the weights of `step`, and its scores. */
export interface CasePrediction {
  caseName: string;
  step: number;
  /** The segmentation head's label map (argmax), one class index per voxel. */
  labels: Uint8Array;
  /** The foreground head's mask. */
  foreground: Uint8Array;
  /** Dice of every class of the segmentation head (NaN where a class is absent from both). */
  dice: number[];
  /** Dice of the foreground head's mask. */
  foregroundDice: number;
}

export interface TrainHooks {
  onStep(losses: StepLosses): void;
  onPrediction(prediction: CasePrediction): void;
  stopRequested(): boolean;
}

export class TrainingRun {
  readonly model: Model;
  readonly #optimizer: Adam;
  /** Optimizer steps taken so far. */
  step = 0;

  constructor(
    readonly dataset: DemoDataset,
    readonly settings: TrainSettings,
  ) {
    this.model = buildModel({ ...settings, classes: dataset.classes });
    this.#optimizer = new Adam({ learningRate: settings.learningRate });
    this.model.compile({
      optimizer: this.#optimizer,
      loss: DEMO_LOSSES,
      lossWeights: settings.lossWeights,
    });
  }

  /** Trains `settings.steps` steps (or until a stop is requested), predicting `shown` as it goes. */
  async train(shown: DemoCase, hooks: TrainHooks): Promise<void> {
    const s = this.settings;
    const sampler = patchSampler(this.dataset.training, { patch: [s.patch, s.patch, s.patch], seed: 1 });
    hooks.onPrediction(await this.predict(shown));
    let predictedAt = this.step;
    for await (const batch of sampler.batches({ batchSize: s.batchSize, count: s.steps })) {
      if (hooks.stopRequested()) break;
      const foreground = Float32Array.from(batch.labels, (k) => (k > 0 ? 1 : 0));
      const kept = tidy(() => {
        const { image, labels } = toTensors(batch);
        const { total, perOutput } = this.model.trainStep(image, {
          segmentation: labels,
          foreground: tensor(foreground, [...batch.labelShape, 1]),
        });
        return [total, perOutput.segmentation, perOutput.foreground];
      });
      const [total, segmentation, foregroundLoss] = await readAll(kept);
      for (const t of kept) t.dispose();
      this.step++;
      hooks.onStep({ step: this.step, total: total[0], segmentation: segmentation[0], foreground: foregroundLoss[0] });
      if (this.step % s.evaluateEvery === 0) {
        hooks.onPrediction(await this.predict(shown));
        predictedAt = this.step;
      }
    }
    if (predictedAt !== this.step) hooks.onPrediction(await this.predict(shown));
  }

  /** The whole case predicted window by window with the current weights, and its dice. */
  async predict(c: DemoCase): Promise<CasePrediction> {
    const out = await slidingWindowInference(this.model, c, { overlap: 0.25, batchSize: this.settings.batchSize });
    const classes = this.dataset.classes;
    const labels = argmaxLabels(out.segmentation.data, classes);
    const foreground = maskOfLogits(out.foreground.data);
    const truthMask = Uint8Array.from(c.labels, (k) => (k > 0 ? 1 : 0));
    return {
      caseName: c.name,
      step: this.step,
      labels,
      foreground,
      dice: perClassDice(c.labels, labels, classes),
      foregroundDice: perClassDice(truthMask, foreground, 2)[1],
    };
  }

  /** The weights as safetensors bytes, with what the model was in the metadata. */
  weights(): Promise<Uint8Array> {
    const s = this.settings;
    return this.model.saveWeights({
      model: s.kind,
      classes: String(this.dataset.classes),
      patch: String(s.patch),
      filters: String(s.filters),
      steps: String(this.step),
    });
  }

  /** The names of the weights, as `weights()` stores them. */
  get weightNames(): string[] {
    return this.model.layers.flatMap((l) => l.allWeights.map((w) => w.name));
  }

  dispose(): void {
    this.#optimizer.dispose();
    this.model.dispose();
  }
}
