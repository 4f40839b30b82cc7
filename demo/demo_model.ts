/**
 * The networks the demo can train, both with the same two outputs: 'segmentation' (one logit per
 * class) and 'foreground' (one logit), whose losses are weighted by the page's loss weights.
 * - 'two_heads' (the default): two 3×3×3 convolutions and two 1×1×1 heads. In headless Chromium on
 *   SwiftShader (a CPU), a 32³ step takes half the time of a U-Net with 4 base filters, and on the
 *   synthetic shapes its held-out dice rises within 5 steps, where the U-Net still scored 0 on
 *   every foreground class after 30.
 * - 'unet': `vg.unet3d` of depth 3, for a real GPU, where it trains at interactive speed.
 */
import { diceCrossentropy, type Model, unet3d } from '../src/index.js';
import { foregroundLoss, twoHeadModel } from '../src/models/two_heads.js';
import type { Tensor } from '../src/tensor/tensor.js';

export type ModelKind = 'two_heads' | 'unet';

export interface ModelSettings {
  kind: ModelKind;
  /** Edge of the cubic training patch (the model's input); a multiple of 4 for the U-Net. */
  patch: number;
  classes: number;
  /** Channels of the two-head trunk, or of the U-Net's first level. */
  filters: number;
}

/**
 * The losses by output name (unweighted; the weights come with compile). The segmentation adds
 * cross-entropy to dice: with dice alone, the small two-head net settled on merging two classes
 * (the ellipsoid of the synthetic shapes stayed at dice 0 over 30 steps); with both, every class
 * is learnt within 30 steps.
 */
export const DEMO_LOSSES: Record<string, (t: Tensor, p: Tensor) => Tensor> = {
  segmentation: (t, p) => diceCrossentropy(t, p, { activation: 'softmax' }),
  foreground: foregroundLoss,
};

export function buildModel(s: ModelSettings): Model {
  if (s.kind === 'two_heads') return twoHeadModel({ size: s.patch, classes: s.classes, filters: s.filters, seed: 1 });
  if (s.patch % 4 !== 0) throw new Error(`the U-Net needs a patch size divisible by 4, got ${s.patch}`);
  return unet3d({
    inputShape: [s.patch, s.patch, s.patch, 1],
    baseFilters: s.filters,
    depth: 3,
    // One group per `filters` channels divides every level's channel count.
    groups: s.filters,
    heads: {
      segmentation: { classes: s.classes, activation: 'softmax' },
      foreground: { classes: 1, activation: 'sigmoid' },
    },
    name: 'unet',
  });
}
