/** The pictures of a training run: loss and validation dice curves, and a slice of a validation case. */
import type { VolumeCase } from '../data/volume.js';
import { lineChartSvg, slicePng } from './plots.js';

/** One epoch in history.json: mean training losses and, with validation, the dice of every case. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  segmentation_loss: number;
  foreground_loss: number;
  /** Since training started, validation included. */
  seconds: number;
  val?: {
    mean: number;
    meanPerClass: Record<string, number>;
    /** Per case, the dice of each foreground class (null where it has none). */
    cases: Record<string, number[]>;
  };
}

export function lossChart(history: readonly EpochRecord[]): string {
  const series = (key: 'loss' | 'segmentation_loss' | 'foreground_loss', name: string) => ({
    name,
    values: history.map((h) => h[key]),
  });
  return lineChartSvg('training losses (per head unweighted; total weighted)', [
    series('loss', 'total'),
    series('segmentation_loss', 'segmentation'),
    series('foreground_loss', 'foreground'),
  ]);
}

export function diceChart(history: readonly EpochRecord[], classNames: readonly string[]): string {
  const val = history.map((h) => h.val!);
  return lineChartSvg(
    'validation dice (whole volumes, sliding window)',
    [
      { name: 'mean', values: val.map((v) => v.mean) },
      ...classNames.slice(1).map((n) => ({ name: n, values: val.map((v) => v.meanPerClass[n]) })),
    ],
    'dice',
  );
}

/** The middle z slice of a case: image, label map and prediction side by side. */
export function middleSlice(c: VolumeCase, predicted: Int32Array): Uint8Array {
  const [X, Y, Z] = c.shape;
  const z = Math.floor(Z / 2);
  const image = new Float32Array(X * Y);
  const label = new Int32Array(X * Y);
  const prediction = new Int32Array(X * Y);
  for (let x = 0; x < X; x++)
    for (let y = 0; y < Y; y++) {
      const v = (x * Y + y) * Z + z;
      image[x * Y + y] = c.image[v];
      label[x * Y + y] = c.labels[v];
      prediction[x * Y + y] = predicted[v];
    }
  return slicePng([X, Y], image, label, prediction);
}
