/**
 * A 3D U-Net (Çiçek et al. 2016, as MONAI's BasicUNet and nnU-Net's plain U-Net build it) with any
 * number of named output heads: `depth` resolution levels, each a block of two 3×3×3 convolutions
 * with normalisation and relu; max-pooling down, nearest upsampling up, skip connections
 * concatenated on the channels; and per head a 1×1×1 convolution giving its logits.
 *
 * Blocks are conv (no bias: the normalisation removes it) → group norm with the relu fused in, so
 * a block keeps two tensors for backward instead of three. With `norm: 'none'` the bias and the
 * relu are fused into the convolution instead.
 */
import { argMessage, ShapeError, ValueError } from '../errors.js';
import { Conv3D } from '../nn/layers/conv3d.js';
import { GroupNormalization } from '../nn/layers/group_normalization.js';
import { Concatenate, MaxPool3D, UpSampling3D } from '../nn/layers/simple.js';
import { input, type Model, model } from '../nn/model.js';
import type { SymbolicTensor } from '../nn/symbolic.js';
import { checkOptions } from '../options.js';
import { describe } from '../tensor/ops/check.js';

export interface UNetHead {
  /** Output channels (classes; 1 for a binary mask). */
  classes: number;
  /**
   * How the head's logits are read: 'softmax' over classes, 'sigmoid' per class, or 'linear'. The
   * head always outputs logits; losses fuse this activation, and prediction applies it.
   */
  activation?: 'softmax' | 'sigmoid' | 'linear';
}

export interface UNet3dOptions {
  /** Per-sample input shape [x, y, z, channels]; x, y, z divisible by 2^(depth − 1). */
  inputShape: readonly number[];
  /** Channels of the first level, doubled at each level down (default 16). */
  baseFilters?: number;
  /** Resolution levels, so depth − 1 poolings (default 3). */
  depth?: number;
  /** 'group' (default), 'instance' (groups = channels) or 'none'. */
  norm?: 'group' | 'instance' | 'none';
  /** Channel groups of 'group' normalisation (default 8, fewer when a level has fewer channels). */
  groups?: number;
  /** The outputs, by name. */
  heads: Readonly<Record<string, UNetHead>>;
  /** Seed of the weight initialisers (default 1). */
  seed?: number;
  name?: string;
}

const KEYS = ['inputShape', 'baseFilters', 'depth', 'norm', 'groups', 'heads', 'seed', 'name'];

function positiveInt(arg: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new ValueError(argMessage('unet3d', arg, 'a positive integer', describe(v)));
  return v;
}

/** A functional U-Net model with one output per head (named by the heads' keys). */
export function unet3d(options: UNet3dOptions): Model {
  const fn = 'unet3d';
  const o = checkOptions(fn, options, KEYS) as UNet3dOptions;
  const shape = o.inputShape;
  if (!Array.isArray(shape) || shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(argMessage(fn, 'inputShape', '[x, y, z, channels] of positive integers', describe(shape)));
  }
  const base = positiveInt('baseFilters', o.baseFilters, 16);
  const depth = positiveInt('depth', o.depth, 3);
  const groups = positiveInt('groups', o.groups, 8);
  const norm = o.norm ?? 'group';
  if (norm !== 'group' && norm !== 'instance' && norm !== 'none')
    throw new ValueError(argMessage(fn, 'norm', "'group', 'instance' or 'none'", describe(norm)));
  const factor = 2 ** (depth - 1);
  if (shape.slice(0, 3).some((d) => d % factor !== 0)) {
    throw new ShapeError(
      argMessage(
        fn,
        'inputShape',
        `spatial sizes divisible by ${factor} (2^(depth − 1) for depth ${depth})`,
        describe(shape),
      ),
    );
  }
  const heads = o.heads;
  if (!heads || typeof heads !== 'object' || Array.isArray(heads) || Object.keys(heads).length === 0) {
    throw new ValueError(
      argMessage(fn, 'heads', 'a record of at least one head { classes, activation }', describe(heads)),
    );
  }
  for (const [name, h] of Object.entries(heads)) {
    checkOptions(fn, h, ['classes', 'activation'], `heads['${name}']`);
    positiveInt(`heads['${name}'].classes`, h.classes, 1);
    const act = h.activation ?? 'linear';
    if (act !== 'softmax' && act !== 'sigmoid' && act !== 'linear') {
      throw new ValueError(
        argMessage(fn, `heads['${name}'].activation`, "'softmax', 'sigmoid' or 'linear'", describe(act)),
      );
    }
    if (act === 'softmax' && h.classes < 2)
      throw new ValueError(argMessage(fn, `heads['${name}'].activation`, "'sigmoid' for a single class", "'softmax'"));
  }
  let seed = o.seed ?? 1;
  const conv = (filters: number, name: string, kernel = 3): Conv3D =>
    new Conv3D({
      filters,
      kernelSize: kernel,
      padding: 'same',
      useBias: norm === 'none',
      activation: norm === 'none' ? 'relu' : 'linear',
      kernelInitializer: 'heNormal',
      seed: seed++,
      name,
    });
  const block = (h: SymbolicTensor, filters: number, prefix: string): SymbolicTensor => {
    let out = h;
    for (const k of [1, 2]) {
      out = conv(filters, `${prefix}_conv${k}`).apply(out);
      if (norm !== 'none') {
        const g = norm === 'instance' ? filters : Math.min(groups, filters);
        if (filters % g !== 0)
          throw new ValueError(argMessage(fn, 'groups', `a divisor of ${filters} (the channels of ${prefix})`, g));
        out = new GroupNormalization({ groups: g, activation: 'relu', name: `${prefix}_norm${k}` }).apply(out);
      }
    }
    return out;
  };
  const x = input({ shape, name: 'image' });
  const skips: SymbolicTensor[] = [];
  let h: SymbolicTensor = x;
  for (let level = 0; level < depth; level++) {
    h = block(h, base * 2 ** level, `enc${level}`);
    if (level < depth - 1) {
      skips.push(h);
      h = new MaxPool3D({ poolSize: 2, name: `down${level}` }).apply(h);
    }
  }
  for (let level = depth - 2; level >= 0; level--) {
    h = new UpSampling3D({ size: 2, name: `up${level}` }).apply(h);
    h = new Concatenate({ name: `skip${level}` }).apply([skips[level], h]);
    h = block(h, base * 2 ** level, `dec${level}`);
  }
  const outputs: Record<string, SymbolicTensor> = {};
  for (const [name, head] of Object.entries(heads)) {
    outputs[name] = new Conv3D({ filters: head.classes, kernelSize: 1, seed: seed++, name }).apply(h);
  }
  const activations = Object.fromEntries(Object.entries(heads).map(([n, hd]) => [n, hd.activation ?? 'linear']));
  return model({ inputs: x, outputs, name: o.name ?? 'unet3d', outputActivations: activations });
}
