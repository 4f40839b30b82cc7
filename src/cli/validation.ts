/**
 * Validation as nnU-Net reports it: each validation case is predicted whole, by sliding-window
 * inference (the patch-trained model never sees a crop of a different size than in training),
 * the label map is the argmax over classes, and dice is computed per case and per foreground
 * class, then averaged over cases. A class absent from both the truth and the prediction of a
 * case has no dice there (NaN, left out of the means), as nnU-Net; absent from the truth but
 * predicted, it scores 0.
 */

import type { VolumeCase } from '../data/volume.js';
import { argmaxClass } from '../data/voxels.js';
import { slidingWindowInference } from '../inference/sliding_window.js';
import type { Model } from '../nn/model.js';

export interface InferenceOptions {
  overlap: number;
  blend: 'gaussian' | 'constant';
  /** Windows per model call (default: slidingWindowInference's, by the windows' size). */
  batchSize?: number;
}

export interface CaseDice {
  name: string;
  /** Dice of classes 1 … C − 1 (index 0 is class 1); NaN where the class is in neither map. */
  dice: number[];
}

export interface ValidationResult {
  cases: CaseDice[];
  /** Per foreground class, the mean over the cases that have a dice for it. */
  meanPerClass: number[];
  /** The mean of meanPerClass over the classes that have one. */
  mean: number;
}

/** The argmax label map of the model's segmentation output over a whole volume. */
export async function predictLabels(model: Model, image: Float32Array, shape: readonly number[], o: InferenceOptions) {
  const prediction = await slidingWindowInference(
    model,
    { image, shape },
    { output: 'segmentation', overlap: o.overlap, blend: o.blend, batchSize: o.batchSize },
  );
  const classes = prediction.shape[prediction.shape.length - 1];
  const voxels = prediction.data.length / classes;
  const labels = new Int32Array(voxels);
  for (let v = 0; v < voxels; v++) labels[v] = argmaxClass(prediction.data, v, classes);
  return labels;
}

/** Dice of each foreground class between two label maps. */
export function classDice(truth: Int32Array, predicted: Int32Array, classes: number): number[] {
  const tp = new Float64Array(classes);
  const t = new Float64Array(classes);
  const p = new Float64Array(classes);
  for (let v = 0; v < truth.length; v++) {
    t[truth[v]]++;
    p[predicted[v]]++;
    if (truth[v] === predicted[v]) tp[truth[v]]++;
  }
  return Array.from({ length: classes - 1 }, (_, i) => {
    const c = i + 1;
    return t[c] + p[c] === 0 ? Number.NaN : (2 * tp[c]) / (t[c] + p[c]);
  });
}

/** NaN-aware mean (NaN when every value is NaN). */
export function meanOf(values: readonly number[]): number {
  const kept = values.filter((v) => !Number.isNaN(v));
  return kept.length ? kept.reduce((a, b) => a + b, 0) / kept.length : Number.NaN;
}

/** Predicts each case whole and scores it; `predictions` receives each case's label map. */
export async function validate(
  model: Model,
  cases: readonly VolumeCase[],
  classes: number,
  o: InferenceOptions,
  predictions?: Map<string, Int32Array>,
): Promise<ValidationResult> {
  const scored: CaseDice[] = [];
  for (const c of cases) {
    const labels = await predictLabels(model, c.image, c.shape, o);
    predictions?.set(c.name ?? '', labels);
    scored.push({ name: c.name ?? '', dice: classDice(c.labels, labels, classes) });
  }
  const meanPerClass = Array.from({ length: classes - 1 }, (_, i) => meanOf(scored.map((s) => s.dice[i])));
  return { cases: scored, meanPerClass, mean: meanOf(meanPerClass) };
}

/** The per-case table printed after each epoch. */
export function validationTable(r: ValidationResult, classNames: readonly string[], dims: Map<string, string>): string {
  const fmt = (v: number): string => (Number.isNaN(v) ? '-' : v.toFixed(3));
  const labels = r.cases.map((c) => `${c.name} (${dims.get(c.name) ?? '?'})`);
  const first = Math.max('mean'.length, ...labels.map((l) => l.length)) + 2;
  const widths = classNames.slice(1).map((n) => Math.max(n.length, 5) + 2);
  const row = (label: string, values: number[], mean: number): string =>
    `    ${label.padEnd(first)}${values.map((v, i) => fmt(v).padStart(widths[i])).join('')}${fmt(mean).padStart(7)}`;
  return [
    `    ${'dice'.padEnd(first)}${classNames
      .slice(1)
      .map((n, i) => n.padStart(widths[i]))
      .join('')}${'mean'.padStart(7)}`,
    ...r.cases.map((c, i) => row(labels[i], c.dice, meanOf(c.dice))),
    row('mean', r.meanPerClass, r.mean),
  ].join('\n');
}
