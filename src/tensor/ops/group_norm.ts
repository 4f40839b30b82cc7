/**
 * Group normalisation of channels-last volumes (Wu & He 2018), suited to the small batches of 3D
 * segmentation: statistics per sample over the voxels and the channels of each group, then a
 * learned per-channel scale and shift. groups = channels is instance normalisation.
 *
 * Three kernels forward (chunk moments by Welford's update, a deterministic merge into mean and
 * 1/sqrt(var + eps) per (sample, group), the normalisation) and three backward (chunk sums of dy
 * and dy·x̂, their merge into the group means and dgamma, dbeta, the input gradient), instead of
 * the two dozen elementwise, broadcast and reduce dispatches the composition would take.
 */
import { ShapeError, ValueError, argMessage } from '../../errors.js';
import { engine } from '../engine.js';
import { ParamWriter } from '../params.js';
import type { Tensor } from '../tensor.js';
import { bind, checkFloat, describe } from './check.js';
import { groups64 } from './conv3d.js';

export interface GroupNormOptions {
  /** Channel groups (must divide the channel count); the channel count gives instance norm. */
  groups: number;
  /** Added to the variance (default 1e-5). */
  epsilon?: number;
}

/** What the backward pass needs to know of the forward one. */
export interface GroupNormLayout {
  readonly B: number;
  readonly N: number;
  readonly C: number;
  readonly G: number;
  readonly eps: number;
  readonly hasGamma: boolean;
  readonly hasBeta: boolean;
}

/** Chunks of voxels per sample: enough partial sums (~4096) to keep the device busy. */
function chunking(l: GroupNormLayout): { chunks: number; perChunk: number } {
  const chunks = Math.max(1, Math.min(Math.ceil(l.N / 64), Math.ceil(4096 / (l.B * l.C))));
  return { chunks, perChunk: Math.ceil(l.N / chunks) };
}

function layoutParams(l: GroupNormLayout): Uint8Array {
  const { chunks, perChunk } = chunking(l);
  return new ParamWriter().u32(l.B).u32(l.N).u32(l.C).u32(l.G).u32(chunks).u32(perChunk).f32(l.eps)
    .u32((l.hasGamma ? 1 : 0) | (l.hasBeta ? 2 : 0)).bytes();
}

/** (x − mean) / sqrt(var + ε) per (sample, group), times gamma plus beta (both of shape [C]). */
export function groupNorm(x: Tensor, gamma: Tensor | null, beta: Tensor | null, options: GroupNormOptions): Tensor {
  const fn = 'groupNorm';
  checkFloat(fn, 'x', x);
  if (x.rank < 3) throw new ShapeError(argMessage(fn, 'x', 'rank >= 3 (batch, ...spatial, channels)', describe(x)));
  const C = x.shape[x.rank - 1];
  const G = options?.groups;
  if (!Number.isInteger(G) || G < 1 || C % G !== 0) throw new ValueError(argMessage(fn, 'groups', `a divisor of the ${C} channels`, describe(G)));
  const eps = options.epsilon ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0)) throw new ValueError(argMessage(fn, 'epsilon', 'a number > 0', describe(eps)));
  for (const [arg, p] of [['gamma', gamma], ['beta', beta]] as const) {
    if (p && (checkFloat(fn, arg, p).rank !== 1 || p.shape[0] !== C)) throw new ShapeError(argMessage(fn, arg, `shape [${C}]`, describe(p)));
  }
  const layout: GroupNormLayout = { B: x.shape[0], N: x.size / Math.max(1, x.shape[0] * C), C, G, eps, hasGamma: gamma !== null, hasBeta: beta !== null };
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  const [y, stats] = engine.run('groupNorm', inputs, { layout }, () => {
    const out = engine.empty(x.shape, 'float32');
    const st = engine.empty([layout.B, G, 2], 'float32');
    if (x.size === 0) return [out, st];
    const { chunks } = chunking(layout);
    const params = layoutParams(layout);
    const partial = engine.empty([layout.B, chunks, C, 2], 'float32');
    engine.gpu.dispatch({ kernel: 'group_norm_moments' }, params, [bind(x), bind(partial)], groups64(layout.B * chunks * C));
    engine.gpu.dispatch({ kernel: 'group_norm_stats' }, params, [bind(partial), bind(st)], groups64(layout.B * G));
    partial.dispose();
    // Without gamma or beta the kernel reads neither; the stats stand in for the binding.
    engine.gpu.dispatch({ kernel: 'group_norm_apply' }, params, [bind(x), bind(st), bind(gamma ?? st), bind(beta ?? st), bind(out)], groups64(layout.B * layout.N));
    return [out, st];
  });
  stats.dispose();
  return y;
}

/**
 * Gradients of groupNorm from dy: dx (when `needX`), dgamma and dbeta. `stats` is the forward
 * pass's (B, G, 2) mean and rstd.
 */
export function groupNormGrad(x: Tensor, gamma: Tensor | null, stats: Tensor, dy: Tensor, layout: GroupNormLayout, needX: boolean): { dx: Tensor | null; dgamma: Tensor; dbeta: Tensor } {
  const out = engine.run('groupNormGrad', [x, dy], {}, () => {
    const { B, C, G } = layout;
    const { chunks } = chunking(layout);
    const params = layoutParams(layout);
    const partial = engine.empty([B, chunks, C, 2], 'float32');
    const coef = engine.empty([B, G, 2], 'float32');
    const dparams = engine.empty([2, C], 'float32');
    engine.gpu.dispatch({ kernel: 'group_norm_grad_sums' }, params, [bind(x), bind(dy), bind(stats), bind(partial)], groups64(B * chunks * C));
    engine.gpu.dispatch({ kernel: 'group_norm_grad_stats' }, params, [bind(partial), bind(gamma ?? stats), bind(coef), bind(dparams)], groups64(B * G + C));
    partial.dispose();
    let dx: Tensor | null = null;
    if (needX) {
      dx = engine.empty(x.shape, 'float32');
      engine.gpu.dispatch({ kernel: 'group_norm_grad_apply' }, params, [bind(x), bind(dy), bind(stats), bind(gamma ?? stats), bind(coef), bind(dx)], groups64(B * layout.N));
    }
    coef.dispose();
    const dgamma = engine.empty([C], 'float32');
    const dbeta = engine.empty([C], 'float32');
    engine.gpu.copy(dparams.buffer, 0, dgamma.buffer, 0, C * 4);
    engine.gpu.copy(dparams.buffer, C * 4, dbeta.buffer, 0, C * 4);
    dparams.dispose();
    return dx ? [dgamma, dbeta, dx] : [dgamma, dbeta];
  });
  return { dgamma: out[0], dbeta: out[1], dx: out[2] ?? null };
}
