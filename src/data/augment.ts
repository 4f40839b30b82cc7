/**
 * Random augmentations of a patch, drawn per patch: flips per spatial axis (the flip itself is
 * done while the patch is copied, see crop.ts), and intensity scale and shift as MONAI's
 * RandScaleIntensity (v · (1 + f), f uniform in `factors`) and RandShiftIntensity (v + o, o
 * uniform in `offsets`). Each applies with its probability `prob`, which defaults to MONAI's 0.1.
 */
import { argMessage, ValueError } from '../errors.js';
import { checkOptions } from '../options.js';
import { describe } from '../tensor/ops/check.js';
import { showArg } from './check.js';

export interface FlipOptions {
  /** Probability that each listed axis is flipped, independently per axis (default 0.1). */
  prob?: number;
  /** Spatial axes that may be flipped, among 0, 1, 2 (default all three). */
  axes?: readonly number[];
}

export interface ScaleIntensityOptions {
  /** f in v · (1 + f): a number a for [−a, a], or [lo, hi]. */
  factors: number | readonly [number, number];
  /** Probability that a patch is scaled (default 0.1). */
  prob?: number;
}

export interface ShiftIntensityOptions {
  /** o in v + o: a number a for [−a, a], or [lo, hi]. */
  offsets: number | readonly [number, number];
  /** Probability that a patch is shifted (default 0.1). */
  prob?: number;
}

/** What was drawn for one patch. */
export interface Augmentation {
  flipped: [boolean, boolean, boolean];
  /** The intensity factor (1 when not scaled). */
  scale: number;
  /** The intensity offset (0 when not shifted). */
  shift: number;
}

/** The checked augmentation options, and the draws for one patch. */
export class Augmenter {
  readonly #flip: { prob: number; axes: boolean[] } | null;
  readonly #scale: { prob: number; lo: number; hi: number } | null;
  readonly #shift: { prob: number; lo: number; hi: number } | null;

  constructor(
    fn: string,
    o: { flip?: FlipOptions; scaleIntensity?: ScaleIntensityOptions; shiftIntensity?: ShiftIntensityOptions },
  ) {
    if (o.flip === undefined) this.#flip = null;
    else {
      const f = checkOptions(fn, o.flip, ['prob', 'axes'], 'flip') as FlipOptions;
      const axes = f.axes ?? [0, 1, 2];
      if (!Array.isArray(axes) || axes.some((a) => a !== 0 && a !== 1 && a !== 2) || new Set(axes).size !== axes.length)
        throw new ValueError(argMessage(fn, 'flip.axes', 'distinct spatial axes among 0, 1, 2', showArg(axes)));
      this.#flip = { prob: probability(fn, 'flip.prob', f.prob), axes: [0, 1, 2].map((a) => axes.includes(a)) };
    }
    this.#scale =
      o.scaleIntensity === undefined ? null : range(fn, 'scaleIntensity', 'factors', o.scaleIntensity as never);
    this.#shift =
      o.shiftIntensity === undefined ? null : range(fn, 'shiftIntensity', 'offsets', o.shiftIntensity as never);
  }

  /** Draws one patch's augmentation (always the same number of draws per enabled option). */
  draw(random: () => number): Augmentation {
    const flipped: [boolean, boolean, boolean] = [false, false, false];
    if (this.#flip) for (let a = 0; a < 3; a++) flipped[a] = random() < this.#flip.prob && this.#flip.axes[a];
    let scale = 1;
    let shift = 0;
    if (this.#scale) {
      const [p, u] = [random(), random()];
      if (p < this.#scale.prob) scale = 1 + this.#scale.lo + (this.#scale.hi - this.#scale.lo) * u;
    }
    if (this.#shift) {
      const [p, u] = [random(), random()];
      if (p < this.#shift.prob) shift = this.#shift.lo + (this.#shift.hi - this.#shift.lo) * u;
    }
    return { flipped, scale, shift };
  }
}

/** Applies v · scale + shift to `count` values of `data` from `offset` (scale first, as MONAI's order). */
export function applyIntensity(data: Float32Array, offset: number, count: number, a: Augmentation): void {
  if (a.scale === 1 && a.shift === 0) return;
  for (let i = offset; i < offset + count; i++) data[i] = data[i] * a.scale + a.shift;
}

function probability(fn: string, arg: string, v: unknown): number {
  if (v === undefined) return 0.1;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1))
    throw new ValueError(argMessage(fn, arg, 'a probability in [0, 1]', describe(v)));
  return v;
}

function range(
  fn: string,
  arg: string,
  key: 'factors' | 'offsets',
  o: Record<string, unknown>,
): { prob: number; lo: number; hi: number } {
  checkOptions(fn, o, [key, 'prob'], arg);
  const v = o[key];
  let lo: number;
  let hi: number;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) [lo, hi] = [-v, v];
  else if (
    Array.isArray(v) &&
    v.length === 2 &&
    v.every((x) => typeof x === 'number' && Number.isFinite(x)) &&
    v[0] <= v[1]
  )
    [lo, hi] = v as [number, number];
  else
    throw new ValueError(
      argMessage(fn, `${arg}.${key}`, 'a finite number >= 0 (for [−a, a]) or [lo, hi] with lo <= hi', showArg(v)),
    );
  return { prob: probability(fn, `${arg}.prob`, o.prob), lo, hi };
}
