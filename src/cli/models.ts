/**
 * The networks `voxgrad train` builds. Both have the same two heads, so `--loss-weights` means the
 * same for either: `segmentation` (one logit per class, softmax) and `foreground` (one logit,
 * sigmoid: any class > 0).
 * - 'unet': `vg.unet3d`, `depth` levels from `base` channels, group (or instance, or no) normalisation;
 * - 'small': the two-head demo network (two 3×3×3 convolutions, `base` channels).
 * The input is one channel of `patch` voxels: the model trains on patches and predicts whole
 * volumes window by window.
 */
import { twoHeadModel } from '../models/two_heads.js';
import { unet3d } from '../models/unet3d.js';
import type { Model } from '../nn/model.js';

export type ModelKind = 'unet' | 'small';
export type UNetNorm = 'group' | 'instance' | 'none';
export const NORMS: readonly UNetNorm[] = ['group', 'instance', 'none'];
export const MODEL_KINDS: readonly ModelKind[] = ['unet', 'small'];

export interface CliModelOptions {
  kind: ModelKind;
  patch: readonly [number, number, number];
  classes: number;
  /** Channels of the first level (unet) or of the trunk (small). */
  base: number;
  /** Resolution levels of the U-Net. */
  depth: number;
  /** The U-Net's normalisation. */
  norm: UNetNorm;
  seed: number;
}

/** What `npm start` trains: small enough for about a minute on a 2-core software GPU. */
export const DEFAULT_MODEL = { kind: 'unet', patch: [16, 16, 16], base: 8, depth: 3, norm: 'group' } as const;

/** Patch sizes the U-Net takes: each side divisible by 2^(depth − 1) (its poolings). */
export function patchMultiple(kind: ModelKind, depth: number): number {
  return kind === 'unet' ? 2 ** (depth - 1) : 1;
}

/**
 * Why `base` does not fit the model's group normalisation (channels divisible into their groups
 * at every level), or null when it does. Checked before any GPU work.
 */
export function baseProblem(kind: ModelKind, base: number, depth: number, norm: UNetNorm): string | null {
  if (kind === 'unet' && norm !== 'group') return null;
  const groupsOf = kind === 'unet' ? 8 : 4;
  const levels = kind === 'unet' ? depth : 1;
  for (let level = 0; level < levels; level++) {
    const channels = base * 2 ** level;
    if (channels % Math.min(groupsOf, channels) !== 0)
      return `${channels} channels at level ${level} do not split into ${groupsOf} normalisation groups`;
  }
  return null;
}

export function buildModel(o: CliModelOptions): Model {
  if (o.kind === 'small') return twoHeadModel({ size: o.patch, classes: o.classes, filters: o.base, seed: o.seed });
  return unet3d({
    inputShape: [...o.patch, 1],
    baseFilters: o.base,
    depth: o.depth,
    norm: o.norm,
    heads: {
      segmentation: { classes: o.classes, activation: 'softmax' },
      foreground: { classes: 1, activation: 'sigmoid' },
    },
    seed: o.seed,
  });
}
