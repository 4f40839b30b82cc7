/**
 * Whole-volume prediction as `voxgrad predict` runs it: `vg.slidingWindowInference` of a
 * 128×128×96 one-channel volume with the default U-Net of `voxgrad train` (its patch as the
 * window, overlap 0.25, Gaussian blending, the default windows per model call), timed on the wall
 * clock from the host volume to the blended host result, window reads and host blending included.
 * One timed run after a warm-up on one window, which compiles every pipeline the run uses; the
 * full run adds two windows per call (the default before it grew with small windows).
 */
import { buildModel, DEFAULT_MODEL } from '../src/cli/models.js';
import { seededRandom } from '../src/data/synthetic.js';
import * as vg from '../src/index.node.js';
import { defaultWindowBatch } from '../src/inference/sliding_window.js';

export interface SlidingWindowRow {
  name: string;
  shape: number[];
  ms: number;
  voxels: number;
  note: string;
}

const SHAPE = [128, 128, 96, 1];

export async function slidingWindowBench(quick: boolean): Promise<SlidingWindowRow[]> {
  const patch = [...DEFAULT_MODEL.patch] as [number, number, number];
  const model = buildModel({ ...DEFAULT_MODEL, patch, classes: 4, seed: 1 });
  try {
    const random = seededRandom(3);
    const voxels = SHAPE[0] * SHAPE[1] * SHAPE[2];
    const volume = { image: Float32Array.from({ length: voxels }, () => random() * 2 - 1), shape: SHAPE };
    const warmUp = { image: new Float32Array(patch[0] * patch[1] * patch[2]), shape: [...patch, 1] };
    const rows: SlidingWindowRow[] = [];
    for (const batchSize of quick ? [undefined] : [undefined, 2]) {
      const options = { output: 'segmentation', overlap: 0.25, blend: 'gaussian', batchSize } as const;
      await vg.slidingWindowInference(model, warmUp, options);
      const t0 = performance.now();
      await vg.slidingWindowInference(model, volume, options);
      const ms = performance.now() - t0;
      const windows = windowCount(SHAPE.slice(0, 3), patch, 0.25);
      rows.push({
        name: `sliding-window inference, default CLI U-Net, ${batchSize ?? `${defaultWindowBatch(patch)} (default)`} windows a call`,
        shape: SHAPE,
        ms,
        voxels,
        note:
          `${windows} windows of ${patch.join('x')} (depth ${DEFAULT_MODEL.depth}, ${DEFAULT_MODEL.base} base channels), ` +
          `overlap 0.25, gaussian; ${((voxels / ms) * 1e-3).toFixed(2)} Mvoxel/s, wall clock, one run`,
      });
    }
    return rows;
  } finally {
    model.dispose();
  }
}

/** Windows per axis as sliding-window inference places them (⌊patch · (1 − overlap)⌋ apart, the last flush). */
function windowCount(dims: number[], patch: number[], overlap: number): number {
  return dims.reduce((n, d, a) => {
    const step = Math.max(1, Math.floor(patch[a] * (1 - overlap)));
    return n * (d <= patch[a] ? 1 : Math.ceil((d - patch[a]) / step) + 1);
  }, 1);
}
