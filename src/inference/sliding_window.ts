/**
 * Sliding-window inference, as MONAI's `sliding_window_inference`: a model trained on patches
 * predicts a whole volume of any size. Windows of the model's input size lie on a grid with the
 * given overlap covering the volume (the last window on each axis flush with its end; a volume
 * smaller than a window is padded symmetrically and the padding cropped from the result); each
 * batch of windows goes through `model.predict` on the GPU; each window's prediction, weighted by
 * the importance map (Gaussian or constant), is added into the result and the sum is divided by
 * the summed weights.
 *
 * Accumulation happens on the host, and the result is host arrays:
 * - GPU memory is that of one window batch (two while the next is computed), whatever the volume's
 *   size; a host volume is cut into windows on the host and never uploaded whole;
 * - adding a window is O(window) work on its voxels only, where blending on the GPU with the
 *   engine's ops (pad each window to the volume, add) would cost a pass over the whole volume per
 *   window;
 * - what follows a prediction (an argmax label map, a NIfTI file, per-case dice) runs on the host
 *   anyway; `vg.tensor(r.data, r.shape)` puts a result on the GPU when needed.
 * The GPU computes window batch k + 1 while the host adds batch k (each batch's read is issued
 * before the previous one is awaited). Every tensor made here is disposed, also on errors.
 */

import { finite, positiveInt, showArg, size3 } from '../data/check.js';
import { copyBox, type Vec3 } from '../data/crop.js';
import { checkVolume, fromNifti, type HostVolume } from '../data/volume.js';
import { argMessage, ShapeError, ValueError } from '../errors.js';
import type { NiftiVolume } from '../io/nifti.js';
import { Model } from '../nn/model.js';
import { checkKeys, checkOptions } from '../options.js';
import { readAll, tidy } from '../tensor/api.js';
import type { DataArray } from '../tensor/dtype.js';
import { checkFloat, describe } from '../tensor/ops/check.js';
import { tensor } from '../tensor/ops/creation.js';
import { sigmoid } from '../tensor/ops/elementwise/index.js';
import { concat, pad, reshape, slice } from '../tensor/ops/movement.js';
import { softmax } from '../tensor/ops/softmax.js';
import { Tensor } from '../tensor/tensor.js';
import { importanceMap } from './importance_map.js';
import { scanInterval, windowStarts } from './window_grid.js';

export interface SlidingWindowOptions {
  /** Window size [x, y, z]: the model's input size, which is also the default. */
  patch?: readonly number[];
  /** Fraction of a window shared with its neighbour, in [0, 1): one number or one per axis (default 0.25). */
  overlap?: number | readonly number[];
  /** How overlapping windows are weighted: 'gaussian' (default, as nnU-Net) or 'constant' (MONAI's default). */
  blend?: 'gaussian' | 'constant';
  /** σ of the Gaussian as a fraction of the window size: one number or one per axis (default 0.125). */
  sigmaScale?: number | readonly number[];
  /**
   * Windows per `model.predict` call; does not change the result. Default: as many windows as hold
   * about WINDOW_VOXELS_PER_CALL voxels, at most 32 (32 windows of 16³, 4 of 32³, one of 64³ or
   * larger): small windows are cheap to batch, and each call has a fixed cost (its dispatches).
   */
  batchSize?: number;
  /** Only this output of a multi-output model (the result is then one prediction, not a record). */
  output?: string;
  /** Image value of voxels padded in around a volume smaller than a window (default 0). */
  padValue?: number;
  /**
   * Apply each output's activation (`model.outputActivations`: softmax or sigmoid) to every window
   * before blending, giving blended probabilities; by default the model's outputs (logits) are
   * blended, as MONAI and nnU-Net do.
   */
  activate?: boolean;
}

/** One output's prediction for the whole volume, on the host. */
export interface VolumePrediction {
  /** float32, channels-last. */
  data: Float32Array;
  /** [X, Y, Z, K] for a host volume or a rank-4 tensor; [B, X, Y, Z, K] for a rank-5 tensor. */
  shape: number[];
}

const KEYS = ['patch', 'overlap', 'blend', 'sigmaScale', 'batchSize', 'output', 'padValue', 'activate'];

/** Voxels of the windows one model call takes by default (see `batchSize`). */
export const WINDOW_VOXELS_PER_CALL = 131_072;

/** The default windows per call for windows of `patch`. */
export function defaultWindowBatch(patch: readonly number[]): number {
  const voxels = patch.reduce((a, b) => a * b, 1);
  return Math.max(1, Math.min(32, Math.floor(WINDOW_VOXELS_PER_CALL / voxels)));
}

/** A window: the volume of the batch it reads, and its first voxel (negative where padded). */
interface Window {
  b: number;
  start: Vec3;
}

/**
 * Predicts `volume` (a host volume `{ image, shape }`, a volume from `readNifti`, or a float32
 * tensor (X, Y, Z, C) or (B, X, Y, Z, C)) window by window and blends the windows. Returns one prediction per output
 * name, or the prediction of `options.output`. Options and shapes are checked before any work.
 */
export function slidingWindowInference(
  model: Model,
  volume: Tensor | HostVolume | NiftiVolume,
  options: SlidingWindowOptions & { output: string },
): Promise<VolumePrediction>;
export function slidingWindowInference(
  model: Model,
  volume: Tensor | HostVolume | NiftiVolume,
  options?: SlidingWindowOptions,
): Promise<Record<string, VolumePrediction>>;
export async function slidingWindowInference(
  model: Model,
  volume: Tensor | HostVolume | NiftiVolume,
  options?: SlidingWindowOptions,
): Promise<VolumePrediction | Record<string, VolumePrediction>> {
  const plan = planInference(model, volume, options);
  const results = await run(plan);
  return plan.single ? results[plan.outputs[0]] : results;
}

interface Plan {
  model: Model;
  outputs: string[];
  classes: number[];
  single: boolean;
  activate: boolean;
  patch: Vec3;
  channels: number;
  /** The volume: on the host, or a rank-5 tensor (B, X, Y, Z, C). */
  host: { image: Float32Array; dims: Vec3 } | null;
  device: Tensor | null;
  batches: number;
  dims: Vec3;
  /** Padding before the volume on each axis (when it is smaller than the window). */
  padBefore: Vec3;
  windows: Window[];
  weights: Float32Array;
  batchSize: number;
  padValue: number;
  resultShape: number[];
}

function planInference(model: Model, volume: Tensor | HostVolume | NiftiVolume, options?: SlidingWindowOptions): Plan {
  const fn = 'slidingWindowInference';
  if (!(model instanceof Model)) throw new ValueError(argMessage(fn, 'model', 'a Model', describe(model)));
  const input = model.inputs[0]?.shape ?? [];
  if (model.inputs.length !== 1 || input.length !== 5)
    throw new ValueError(
      argMessage(fn, 'model', 'a model with one (batch, x, y, z, channels) input', `${model.inputs.length} input(s)`),
    );
  const modelPatch: Vec3 = [input[1], input[2], input[3]];
  const channels = input[4];
  const o = checkOptions(fn, options, KEYS) as SlidingWindowOptions;
  const patch = o.patch === undefined ? modelPatch : size3(fn, 'patch', o.patch);
  if (patch.some((d, a) => d !== modelPatch[a]))
    throw new ShapeError(
      argMessage(
        fn,
        'patch',
        `the model's input size [${modelPatch.join(', ')}] (for other windows, build the model with that input shape and load the weights)`,
        showArg(o.patch),
      ),
    );
  const overlap = perAxis(fn, 'overlap', o.overlap ?? 0.25, (v) => v >= 0 && v < 1, 'in [0, 1)');
  const blend = o.blend ?? 'gaussian';
  if (blend !== 'gaussian' && blend !== 'constant')
    throw new ValueError(argMessage(fn, 'blend', "'gaussian' or 'constant'", describe(blend)));
  const sigmaScale = perAxis(fn, 'sigmaScale', o.sigmaScale ?? 0.125, (v) => v > 0, '> 0');
  const batchSize = positiveInt(fn, 'batchSize', o.batchSize ?? defaultWindowBatch(patch));
  const padValue = finite(fn, 'padValue', o.padValue ?? 0);
  if (o.activate !== undefined && typeof o.activate !== 'boolean')
    throw new ValueError(argMessage(fn, 'activate', 'a boolean', describe(o.activate)));
  let outputs = [...model.outputNames];
  if (o.output !== undefined) {
    if (typeof o.output !== 'string')
      throw new ValueError(argMessage(fn, 'output', 'an output name', describe(o.output)));
    checkKeys(fn, 'output', { [o.output]: true }, model.outputNames, 'output');
    outputs = [o.output];
  }
  const classes = outputs.map((name) => {
    const s = model.outputs[model.outputNames.indexOf(name)].shape;
    if (s.length !== 5 || s[1] !== patch[0] || s[2] !== patch[1] || s[3] !== patch[2])
      throw new ShapeError(
        argMessage(
          fn,
          'model',
          `outputs of the window's size [${patch.join(', ')}] (per voxel predictions)`,
          `the output '${name}' of shape [${s.map((d) => (d < 0 ? 'batch' : d)).join(', ')}]`,
        ),
      );
    return s[4];
  });

  let host: Plan['host'] = null;
  let device: Tensor | null = null;
  let batches = 1;
  let dims: Vec3;
  let resultShape: number[];
  if (volume instanceof Tensor) {
    checkFloat(fn, 'volume', volume);
    if (volume.rank !== 4 && volume.rank !== 5)
      throw new ShapeError(
        argMessage(fn, 'volume', 'a tensor (x, y, z, channels) or (batch, x, y, z, channels)', describe(volume)),
      );
    const s = volume.rank === 4 ? [1, ...volume.shape] : [...volume.shape];
    if (s[4] !== channels)
      throw new ShapeError(
        argMessage(fn, 'volume', `${channels} channel(s), the model's input channels`, describe(volume)),
      );
    device = volume;
    batches = s[0];
    dims = [s[1], s[2], s[3]];
    resultShape = volume.rank === 4 ? [...dims] : [batches, ...dims];
  } else {
    const v = checkVolume(fn, 'volume', fromNifti(volume), { withLabels: false });
    if (v.channels !== channels)
      throw new ShapeError(
        argMessage(
          fn,
          'volume.shape',
          `${channels} channel(s), the model's input channels`,
          `${v.channels} channel(s)`,
        ),
      );
    host = { image: v.image, dims: v.dims };
    dims = v.dims;
    resultShape = [...dims];
  }

  // A volume smaller than the window is padded symmetrically (MONAI: ⌊diff/2⌋ before).
  const padBefore = dims.map((d, a) => Math.max(0, Math.floor((patch[a] - d) / 2))) as unknown as Vec3;
  const starts = dims.map((d, a) => {
    const size = Math.max(d, patch[a]);
    return windowStarts(size, patch[a], scanInterval(size, patch[a], overlap[a])).map((s) => s - padBefore[a]);
  });
  const windows: Window[] = [];
  for (let b = 0; b < batches; b++)
    for (const x of starts[0])
      for (const y of starts[1]) for (const z of starts[2]) windows.push({ b, start: [x, y, z] });
  return {
    model,
    outputs,
    classes,
    single: o.output !== undefined,
    activate: o.activate ?? false,
    patch,
    channels,
    host,
    device,
    batches,
    dims,
    padBefore,
    windows,
    weights: importanceMap(patch, blend, sigmaScale),
    batchSize,
    padValue,
    resultShape,
  };
}

/** A window batch on its way: the predictions (disposed once read) and their read. */
interface InFlight {
  windows: Window[];
  tensors: Tensor[];
  read: Promise<DataArray[]>;
}

async function run(plan: Plan): Promise<Record<string, VolumePrediction>> {
  const [X, Y, Z] = plan.dims;
  const voxels = X * Y * Z;
  const sums = plan.outputs.map((_, k) => new Float32Array(plan.batches * voxels * plan.classes[k]));
  // The summed weights of each voxel: the same grid of windows covers every volume of a batch.
  const weightSum = new Float32Array(voxels);
  for (const w of plan.windows) if (w.b === 0) addWindow(plan, w, null, 1, weightSum, 0);
  // A tensor volume smaller than the window is padded once, on the GPU.
  let source: Tensor | null = null;
  let inFlight: InFlight[] = [];
  try {
    if (plan.device) source = deviceSource(plan, plan.device);
    const groups: Window[][] = [];
    for (let i = 0; i < plan.windows.length; i += plan.batchSize)
      groups.push(plan.windows.slice(i, i + plan.batchSize));
    const launch = (windows: Window[]): InFlight => {
      const tensors = tidy(() => predictWindows(plan, windows, source));
      const read = readAll(tensors);
      read.catch(() => undefined); // awaited below; handled here in case an earlier batch throws first
      const job = { windows, tensors, read };
      inFlight.push(job);
      return job;
    };
    let current = groups.length > 0 ? launch(groups[0]) : null;
    for (let g = 0; current; g++) {
      const next = g + 1 < groups.length ? launch(groups[g + 1]) : null;
      const data = await current.read;
      for (const t of current.tensors) t.dispose();
      inFlight = inFlight.filter((j) => j !== current);
      const windowVoxels = plan.patch[0] * plan.patch[1] * plan.patch[2];
      current.windows.forEach((w, j) => {
        plan.outputs.forEach((_, k) => {
          const K = plan.classes[k];
          const pred = (data[k] as Float32Array).subarray(j * windowVoxels * K, (j + 1) * windowVoxels * K);
          addWindow(plan, w, pred, K, sums[k], w.b * voxels * K);
        });
      });
      current = next;
    }
  } finally {
    for (const job of inFlight) for (const t of job.tensors) t.dispose();
    if (source && source !== plan.device) source.dispose();
  }
  const out: Record<string, VolumePrediction> = {};
  plan.outputs.forEach((name, k) => {
    const K = plan.classes[k];
    const s = sums[k];
    for (let b = 0; b < plan.batches; b++)
      for (let v = 0; v < voxels; v++) {
        const base = (b * voxels + v) * K;
        for (let c = 0; c < K; c++) s[base + c] /= weightSum[v];
      }
    out[name] = { data: s, shape: [...plan.resultShape, K] };
  });
  return out;
}

/** The rank-5 volume windows are sliced from: the tensor itself, or a padded copy. */
function deviceSource(plan: Plan, volume: Tensor): Tensor {
  const pads = plan.padBefore.map((lo, a) => {
    const total = Math.max(0, plan.patch[a] - plan.dims[a]);
    return [lo, total - lo] as [number, number];
  });
  const padded = pads.some(([lo, hi]) => lo + hi > 0);
  if (volume.rank === 5 && !padded) return volume;
  return tidy(() => {
    const v5 = volume.rank === 5 ? volume : reshape(volume, [1, ...volume.shape]);
    return padded ? pad(v5, [[0, 0], ...pads, [0, 0]], plan.padValue) : v5;
  });
}

/** The selected outputs of one window batch (activated when asked), on the GPU. */
function predictWindows(plan: Plan, windows: Window[], source: Tensor | null): Tensor[] {
  const [px, py, pz] = plan.patch;
  const C = plan.channels;
  let x: Tensor;
  if (plan.host) {
    const data = new Float32Array(windows.length * px * py * pz * C);
    windows.forEach((w, j) =>
      copyBox(
        plan.host!.image,
        plan.host!.dims,
        C,
        w.start,
        plan.patch,
        [false, false, false],
        plan.padValue,
        data,
        j * px * py * pz * C,
      ),
    );
    x = tensor(data, [windows.length, px, py, pz, C]);
  } else {
    // Starts are in the volume's coordinates; the source is padded by padBefore.
    const parts = windows.map((w) =>
      slice(source!, [w.b, ...w.start.map((s, a) => s + plan.padBefore[a]), 0], [1, px, py, pz, C]),
    );
    x = parts.length === 1 ? parts[0] : concat(parts, 0);
  }
  const predictions = plan.model.predict(x);
  return plan.outputs.map((name) => {
    const t = predictions[name];
    if (!plan.activate) return t;
    const activation = plan.model.outputActivations[name];
    return activation === 'softmax' ? softmax(t, -1) : activation === 'sigmoid' ? sigmoid(t) : t;
  });
}

/**
 * Adds weights[p] · values[p, c] (or weights[p] alone when `values` is null) into `target` (the
 * volume's voxels, K channels, from `offset`) for the voxels of window `w` inside the volume: the
 * padding is dropped here.
 */
function addWindow(
  plan: Plan,
  w: Window,
  values: Float32Array | null,
  K: number,
  target: Float32Array,
  offset: number,
): void {
  const [X, Y, Z] = plan.dims;
  const [px, py, pz] = plan.patch;
  const [sx, sy, sz] = w.start;
  const weights = plan.weights;
  const x0 = Math.max(0, -sx);
  const x1 = Math.min(px, X - sx);
  const y0 = Math.max(0, -sy);
  const y1 = Math.min(py, Y - sy);
  const z0 = Math.max(0, -sz);
  const z1 = Math.min(pz, Z - sz);
  for (let x = x0; x < x1; x++)
    for (let y = y0; y < y1; y++) {
      let p = (x * py + y) * pz + z0;
      let v = offset + (((sx + x) * Y + sy + y) * Z + sz + z0) * K;
      for (let z = z0; z < z1; z++, p++) {
        const wp = weights[p];
        if (values === null) target[v++] += wp;
        else for (let c = 0; c < K; c++) target[v++] += wp * values[p * K + c];
      }
    }
}

/** One value for every axis, or one per axis, each passing `ok`. */
function perAxis(fn: string, arg: string, v: unknown, ok: (x: number) => boolean, expected: string): Vec3 {
  const list = typeof v === 'number' ? [v, v, v] : v;
  if (!Array.isArray(list) || list.length !== 3 || list.some((x) => typeof x !== 'number' || !ok(x)))
    throw new ValueError(argMessage(fn, arg, `a number ${expected}, or three of them (one per axis)`, showArg(v)));
  return [list[0], list[1], list[2]];
}
