/**
 * The training settings as typed into the page, checked: a value that cannot be used is an error
 * that names its field and says what it must be, before any training starts.
 */
import type { ModelKind } from './demo_model.js';
import type { TrainSettings } from './training_run.js';

/** The raw field values by name (what the page's inputs hold). */
export type SettingsFields = Record<
  'model' | 'filters' | 'patch' | 'batch' | 'lr' | 'w1' | 'w2' | 'steps' | 'evalEvery',
  string
>;

function count(field: string, text: string, max: number): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < 1 || v > max)
    throw new Error(`${field}: expected a whole number from 1 to ${max}, got '${text}'`);
  return v;
}

function weight(field: string, text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0)
    throw new Error(`${field}: expected a number >= 0, got '${text}'`);
  return v;
}

export function parseSettings(f: SettingsFields): TrainSettings {
  if (f.model !== 'two_heads' && f.model !== 'unet')
    throw new Error(`model: expected 'two_heads' or 'unet', got '${f.model}'`);
  const kind: ModelKind = f.model;
  const patch = count('patch size', f.patch, 256);
  if (kind === 'unet' && patch % 4 !== 0) throw new Error(`patch size: the U-Net needs a multiple of 4, got ${patch}`);
  const learningRate = Number(f.lr);
  if (f.lr.trim() === '' || !Number.isFinite(learningRate) || learningRate <= 0 || learningRate > 1)
    throw new Error(`learning rate: expected a number in (0, 1], got '${f.lr}'`);
  const lossWeights = { segmentation: weight('w₁ (segmentation)', f.w1), foreground: weight('w₂ (foreground)', f.w2) };
  if (lossWeights.segmentation + lossWeights.foreground === 0)
    throw new Error('loss weights: w₁ and w₂ are both 0, so nothing would be trained');
  return {
    kind,
    patch,
    filters: count('filters', f.filters, 64),
    batchSize: count('batch size', f.batch, 64),
    learningRate,
    lossWeights,
    steps: count('steps', f.steps, 1_000_000),
    evaluateEvery: count('predict every', f.evalEvery, 1_000_000),
  };
}
