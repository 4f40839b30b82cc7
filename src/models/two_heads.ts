/**
 * The demo network (the seed's model): a shared convolutional trunk and two heads — a multi-class
 * segmentation (logits; dice with a fused softmax) and a foreground mask (logit; tversky with a
 * fused sigmoid). Used by the CLI, the browser demo and the main job.
 */
import { dice, tversky } from '../losses/overlap.js';
import { Conv3D } from '../nn/layers/conv3d.js';
import { GroupNormalization } from '../nn/layers/group_normalization.js';
import type { Model } from '../nn/model.js';
import { input, model } from '../nn/model.js';
import type { Tensor } from '../tensor/tensor.js';

export interface TwoHeadOptions {
  /** Edge of the cubic input volume, or its three sizes [x, y, z] (the network is fully convolutional). */
  size: number | readonly [number, number, number];
  classes: number;
  /** Channels of the trunk (default 8). */
  filters?: number;
  seed?: number;
}

export function twoHeadModel(o: TwoHeadOptions): Model {
  const f = o.filters ?? 8;
  const seed = o.seed ?? 1;
  const dims = typeof o.size === 'number' ? [o.size, o.size, o.size] : [...o.size];
  const x = input({ shape: [...dims, 1], name: 'image' });
  let h = new Conv3D({
    filters: f,
    kernelSize: 3,
    padding: 'same',
    activation: 'relu',
    seed,
    name: 'trunk_conv1',
  }).apply(x);
  h = new GroupNormalization({ groups: Math.min(4, f), name: 'trunk_norm' }).apply(h);
  h = new Conv3D({
    filters: f,
    kernelSize: 3,
    padding: 'same',
    activation: 'relu',
    seed: seed + 1,
    name: 'trunk_conv2',
  }).apply(h);
  const segmentation = new Conv3D({ filters: o.classes, kernelSize: 1, seed: seed + 2, name: 'segmentation' }).apply(h);
  const foreground = new Conv3D({ filters: 1, kernelSize: 1, seed: seed + 3, name: 'foreground' }).apply(h);
  return model({ inputs: x, outputs: [segmentation, foreground], name: 'two_heads' });
}

/** Dice on the segmentation logits (softmax fused into the loss kernel). */
export const segmentationLoss = (t: Tensor, p: Tensor): Tensor => dice(t, p, { activation: 'softmax' });
/** Tversky (alpha 0.3 on false positives, beta 0.7 on false negatives) on the foreground logit. */
export const foregroundLoss = (t: Tensor, p: Tensor): Tensor =>
  tversky(t, p, { activation: 'sigmoid', alpha: 0.3, beta: 0.7 });
