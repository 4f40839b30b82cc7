/**
 * Training patches from volumes of any size, as a MONAI pipeline of SpatialPad → RandCropByPosNegLabel
 * → RandFlip → RandScaleIntensity → RandShiftIntensity, collated into batches on the host.
 *
 * For each patch, in this order and from one seeded generator:
 * 1. a case: cases are visited in a seeded random order, each once per pass, `samplesPerCase`
 *    patches in a row from each (MONAI's num_samples);
 * 2. a centre voxel: from the foreground (label > 0) with probability pos / (pos + neg), else from
 *    the background (label 0). A case without foreground gives background centres only and one
 *    without background foreground centres only (MONAI warns and does the same); with an
 *    `imageThreshold` a case can have neither, and its centre is then any voxel ('uniform');
 * 3. the crop around it, moved inside the volume, so the centre voxel is always in the patch (a
 *    positive patch always holds foreground); an axis shorter than the patch is padded
 *    symmetrically: the image with `padValue`, the labels with 0;
 * 4. flips per axis, then intensity v · (1 + f) + o (padded voxels included, as when the pad comes
 *    first in a MONAI pipeline). Labels get the same flips, so they stay aligned with the image.
 *
 * Cases are read in place (not copied): do not change their arrays while a sampler uses them.
 */
import { argMessage, ShapeError, ValueError } from '../errors.js';
import { checkOptions } from '../options.js';
import { describe } from '../tensor/ops/check.js';
import { tensor } from '../tensor/ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  type Augmentation,
  Augmenter,
  applyIntensity,
  type FlipOptions,
  type ScaleIntensityOptions,
  type ShiftIntensityOptions,
} from './augment.js';
import { finite, nonNegative, positiveInt, size3 } from './check.js';
import { copyBox, type Vec3 } from './crop.js';
import { cropStart, VoxelSets } from './pos_neg.js';
import { prefetch, yieldToHost } from './prefetch.js';
import { seededRandom } from './synthetic.js';
import { type CheckedVolume, checkVolume, type VolumeCase } from './volume.js';

export interface PatchSamplerOptions {
  /** Patch size [x, y, z] in voxels. */
  patch: readonly number[];
  /** Relative weight of foreground-centred patches (default 1). */
  pos?: number;
  /** Relative weight of background-centred patches (default 1). */
  neg?: number;
  /** Consecutive patches from each case before the next (default 1). */
  samplesPerCase?: number;
  /** Draw centres only where some channel's intensity is above this (MONAI's image_threshold). */
  imageThreshold?: number;
  /** Image value of voxels padded in (default 0); labels are padded with 0. */
  padValue?: number;
  /** Random flips per spatial axis. */
  flip?: FlipOptions;
  /** Random intensity scaling v · (1 + f). */
  scaleIntensity?: ScaleIntensityOptions;
  /** Random intensity shift v + o. */
  shiftIntensity?: ShiftIntensityOptions;
  /**
   * 'indices' (default): int32 (n, x, y, z), what the losses and `fit` / `trainStep` read
   * directly; 'oneHot': float32 (n, x, y, z, classes).
   */
  labels?: 'indices' | 'oneHot';
  /** Classes of 'oneHot' labels; every case's labels must be below it. */
  classes?: number;
  /** Seed of every random choice (default 1): the same seed gives the same patches. */
  seed?: number;
}

/** How one patch of a batch was made. */
export interface PatchInfo {
  /** Index of the case in the sampler's list, and its name. */
  case: number;
  name: string;
  /** 'positive' (foreground centre), 'negative' (background) or 'uniform' (neither exists). */
  kind: 'positive' | 'negative' | 'uniform';
  /** The drawn centre voxel, in the case's voxel coordinates. */
  centre: [number, number, number];
  /** The case voxel at the patch's first corner before flipping (negative where padded). */
  start: [number, number, number];
  flipped: [boolean, boolean, boolean];
  /** The intensity factor and offset applied (1 and 0 when not). */
  scale: number;
  shift: number;
}

/** A batch of patches on the host. */
export interface PatchBatch {
  /** (n, x, y, z, channels) float32. */
  image: Float32Array;
  imageShape: number[];
  /** (n, x, y, z) int32 class indices, or (n, x, y, z, classes) float32 one-hot. */
  labels: Int32Array | Float32Array;
  labelShape: number[];
  patches: PatchInfo[];
}

export interface BatchesOptions {
  /** Patches per batch. */
  batchSize: number;
  /** Batches to make (default: no end; leave the loop with `break`). */
  count?: number;
  /** Batches prepared ahead of the one in use (default 1). */
  depth?: number;
}

const KEYS = [
  'patch',
  'pos',
  'neg',
  'samplesPerCase',
  'imageThreshold',
  'padValue',
  'flip',
  'scaleIntensity',
  'shiftIntensity',
  'labels',
  'classes',
  'seed',
];

/** Seeded patch sampling from a list of cases; see the file's header for what each patch is. */
export class PatchSampler {
  /** Patch size [x, y, z]. */
  readonly patch: Vec3;
  /** Image channels (the same in every case). */
  readonly channels: number;
  readonly #cases: CheckedVolume[];
  readonly #sets: (VoxelSets | null)[];
  readonly #posRatio: number;
  readonly #samplesPerCase: number;
  readonly #threshold: number | undefined;
  readonly #padValue: number;
  readonly #augmenter: Augmenter;
  readonly #classes: number | null;
  readonly #random: () => number;
  #order: number[] = [];
  #cursor = 0;
  #repeat = 0;

  constructor(cases: readonly VolumeCase[], options: PatchSamplerOptions) {
    const fn = 'PatchSampler';
    const o = checkOptions(fn, options, KEYS) as PatchSamplerOptions;
    this.patch = size3(fn, 'patch', o.patch);
    const pos = nonNegative(fn, 'pos', o.pos ?? 1);
    const neg = nonNegative(fn, 'neg', o.neg ?? 1);
    if (pos + neg === 0) throw new ValueError(argMessage(fn, 'pos', 'pos + neg > 0', 'pos = neg = 0'));
    this.#posRatio = pos / (pos + neg);
    this.#samplesPerCase = positiveInt(fn, 'samplesPerCase', o.samplesPerCase ?? 1);
    if (o.imageThreshold !== undefined) finite(fn, 'imageThreshold', o.imageThreshold);
    this.#threshold = o.imageThreshold;
    this.#padValue = finite(fn, 'padValue', o.padValue ?? 0);
    this.#augmenter = new Augmenter(fn, o);
    const format = o.labels ?? 'indices';
    if (format !== 'indices' && format !== 'oneHot')
      throw new ValueError(argMessage(fn, 'labels', "'indices' or 'oneHot'", describe(format)));
    if (format === 'oneHot') this.#classes = positiveInt(fn, 'classes', o.classes);
    else if (o.classes !== undefined)
      throw new ValueError(argMessage(fn, 'classes', "no value unless labels: 'oneHot'", describe(o.classes)));
    else this.#classes = null;
    const seed = o.seed ?? 1;
    if (!Number.isInteger(seed)) throw new ValueError(argMessage(fn, 'seed', 'an integer', describe(seed)));
    if (!Array.isArray(cases) || cases.length === 0)
      throw new ValueError(
        argMessage(fn, 'cases', 'a non-empty array of cases { image, labels, shape }', describe(cases)),
      );
    this.#cases = cases.map((c, i) =>
      checkVolume(fn, `cases[${i}]`, c, { withLabels: true, classes: this.#classes ?? undefined }),
    );
    this.channels = this.#cases[0].channels;
    this.#cases.forEach((c, i) => {
      if (c.channels !== this.channels)
        throw new ShapeError(
          argMessage(fn, `cases[${i}].shape`, `${this.channels} channels (as cases[0])`, `${c.channels} channels`),
        );
    });
    this.#sets = this.#cases.map(() => null);
    this.#random = seededRandom(seed);
  }

  /** The number of cases. */
  get size(): number {
    return this.#cases.length;
  }

  /** The next `n` patches, collated (synchronously, on the calling thread). */
  batch(n: number): PatchBatch {
    positiveInt('PatchSampler.batch', 'n', n);
    const b = this.#allocate(n);
    for (let s = 0; s < n; s++) this.#fill(b, s);
    return b;
  }

  /**
   * Batches prepared ahead while the caller's GPU step runs (see prefetch.ts): each patch is
   * built on its own macrotask. Do not call `batch()` while iterating: both draw from one
   * generator, in call order.
   */
  batches(options: BatchesOptions): AsyncGenerator<PatchBatch, void, undefined> {
    const fn = 'PatchSampler.batches';
    const o = checkOptions(fn, options, ['batchSize', 'count', 'depth']) as BatchesOptions;
    const n = positiveInt(fn, 'batchSize', o.batchSize);
    return prefetch(
      async () => {
        const b = this.#allocate(n);
        for (let s = 0; s < n; s++) {
          if (s > 0) await yieldToHost();
          this.#fill(b, s);
        }
        return b;
      },
      { count: o.count, depth: o.depth },
    );
  }

  #allocate(n: number): PatchBatch {
    const [x, y, z] = this.patch;
    const k = this.#classes;
    return {
      image: new Float32Array(n * x * y * z * this.channels),
      imageShape: [n, x, y, z, this.channels],
      labels: k === null ? new Int32Array(n * x * y * z) : new Float32Array(n * x * y * z * k),
      labelShape: k === null ? [n, x, y, z] : [n, x, y, z, k],
      patches: [],
    };
  }

  #nextCase(): number {
    if (this.#repeat > 0) {
      this.#repeat--;
      return this.#order[this.#cursor - 1];
    }
    if (this.#cursor === this.#order.length) {
      this.#order = shuffled(this.#cases.length, this.#random);
      this.#cursor = 0;
    }
    this.#repeat = this.#samplesPerCase - 1;
    return this.#order[this.#cursor++];
  }

  /** Draws patch s of the batch and writes it. */
  #fill(b: PatchBatch, s: number): void {
    const index = this.#nextCase();
    const c = this.#cases[index];
    this.#sets[index] ??= new VoxelSets(c.labels!, c.image, c.channels, this.#threshold);
    const sets = this.#sets[index];
    const positive = this.#random() < this.#posRatio;
    let kind: PatchInfo['kind'];
    if (sets.foreground === 0 && sets.background === 0) kind = 'uniform';
    else if (sets.foreground === 0) kind = 'negative';
    else if (sets.background === 0) kind = 'positive';
    else kind = positive ? 'positive' : 'negative';
    const [X, Y, Z] = c.dims;
    const v =
      kind === 'uniform'
        ? Math.floor(this.#random() * X * Y * Z)
        : sets.pick(kind === 'positive' ? 'fg' : 'bg', this.#random);
    const centre: [number, number, number] = [Math.floor(v / (Y * Z)), Math.floor(v / Z) % Y, v % Z];
    const start: [number, number, number] = [0, 1, 2].map((a) => cropStart(centre[a], c.dims[a], this.patch[a])) as [
      number,
      number,
      number,
    ];
    const aug: Augmentation = this.#augmenter.draw(this.#random);
    const voxels = this.patch[0] * this.patch[1] * this.patch[2];
    const C = this.channels;
    copyBox(c.image, c.dims, C, start, this.patch, aug.flipped, this.#padValue, b.image, s * voxels * C);
    applyIntensity(b.image as Float32Array, s * voxels * C, voxels * C, aug);
    if (this.#classes === null) {
      copyBox(c.labels!, c.dims, 1, start, this.patch, aug.flipped, 0, b.labels, s * voxels);
    } else {
      const k = this.#classes;
      const idx = new Int32Array(voxels);
      copyBox(c.labels!, c.dims, 1, start, this.patch, aug.flipped, 0, idx, 0);
      for (let i = 0; i < voxels; i++) b.labels[(s * voxels + i) * k + idx[i]] = 1;
    }
    b.patches.push({ case: index, name: c.name, kind, centre, start, ...aug });
  }
}

/** A seeded patch sampler over `cases` (see PatchSampler). */
export function patchSampler(cases: readonly VolumeCase[], options: PatchSamplerOptions): PatchSampler {
  return new PatchSampler(cases, options);
}

/** A batch's image and labels as tensors (the caller disposes them). */
export function toTensors(batch: PatchBatch): { image: Tensor; labels: Tensor } {
  const image = tensor(batch.image, batch.imageShape);
  try {
    return { image, labels: tensor(batch.labels, batch.labelShape) };
  } catch (e) {
    image.dispose();
    throw e;
  }
}

/** A seeded Fisher–Yates permutation of 0 … n − 1. */
function shuffled(n: number, random: () => number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
