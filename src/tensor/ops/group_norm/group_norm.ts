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
import groupNormApplySource from '../../../../kernels/group_norm_apply.wgsl';
import groupNormMomentsSource from '../../../../kernels/group_norm_moments.wgsl';
import groupNormStatsSource from '../../../../kernels/group_norm_stats.wgsl';
import { argMessage, ShapeError, ValueError } from '../../../errors.js';
import { bind, bindRange, dispatch, workgroups } from '../../dispatch.js';
import { engine } from '../../engine.js';
import { defineKernel } from '../../kernel.js';
import { defineOp } from '../../op.js';
import type { Tensor } from '../../tensor.js';
import { checkFloat, describe } from '../check.js';
import { groupNormGrad } from './backward.js';
import { applyVariant, type GroupNormLayout, LAYOUT, LAYOUT_PARAMS, layoutParams, volumeWindows } from './layout.js';

declare module '../../op.js' {
  interface OpAttrs {
    groupNorm: { layout: GroupNormLayout; activation: 'linear' | 'relu' };
  }
}

const GROUP_NORM_MOMENTS = defineKernel({
  name: 'group_norm_moments',
  file: 'group_norm_moments.wgsl',
  source: groupNormMomentsSource,
  preludes: [LAYOUT],
  params: LAYOUT_PARAMS,
  bindings: ['x', 'partial'],
});

const GROUP_NORM_STATS = defineKernel({
  name: 'group_norm_stats',
  file: 'group_norm_stats.wgsl',
  source: groupNormStatsSource,
  preludes: [LAYOUT],
  params: LAYOUT_PARAMS,
  bindings: ['partial', 'stats', 'chan'],
});

const GROUP_NORM_APPLY = defineKernel({
  name: 'group_norm_apply',
  file: 'group_norm_apply.wgsl',
  source: groupNormApplySource,
  preludes: [LAYOUT],
  params: LAYOUT_PARAMS,
  bindings: ['x', 'chan', 'gamma', 'beta', 'y'],
  overrides: ['ACT'],
  consts: ['VW', 'VPI'],
  aliases: ['V'],
});

export interface GroupNormOptions {
  /** Channel groups (must divide the channel count); the channel count gives instance norm. */
  groups: number;
  /** Added to the variance (default 1e-5). */
  epsilon?: number;
  /** 'linear' (default) or 'relu', fused into the normalisation's output pass. */
  activation?: 'linear' | 'relu';
}

/** (x − mean) / sqrt(var + ε) per (sample, group), times gamma plus beta (both of shape [C]). */
export function groupNorm(x: Tensor, gamma: Tensor | null, beta: Tensor | null, options: GroupNormOptions): Tensor {
  const fn = 'groupNorm';
  checkFloat(fn, 'x', x);
  if (x.rank < 3) throw new ShapeError(argMessage(fn, 'x', 'rank >= 3 (batch, ...spatial, channels)', describe(x)));
  const C = x.shape[x.rank - 1];
  const G = options?.groups;
  if (!Number.isInteger(G) || G < 1 || C % G !== 0)
    throw new ValueError(argMessage(fn, 'groups', `a divisor of the ${C} channels`, describe(G)));
  const eps = options.epsilon ?? 1e-5;
  const activation = options.activation ?? 'linear';
  if (activation !== 'linear' && activation !== 'relu')
    throw new ValueError(argMessage(fn, 'activation', "'linear' or 'relu'", describe(activation)));
  if (typeof eps !== 'number' || !(eps > 0))
    throw new ValueError(argMessage(fn, 'epsilon', 'a number > 0', describe(eps)));
  for (const [arg, p] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (p && (checkFloat(fn, arg, p).rank !== 1 || p.shape[0] !== C))
      throw new ShapeError(argMessage(fn, arg, `shape [${C}]`, describe(p)));
  }
  const layout: GroupNormLayout = {
    B: x.shape[0],
    N: x.size / Math.max(1, x.shape[0] * C),
    C,
    G,
    eps,
    hasGamma: gamma !== null,
    hasBeta: beta !== null,
  };
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  const [y, stats] = engine.run('groupNorm', inputs, { layout, activation }, () => {
    const out = engine.empty(x.shape, 'float32');
    const st = engine.empty([layout.B, G, 2], 'float32');
    if (x.size === 0) return [out, st];
    const params = layoutParams(layout);
    const partial = engine.empty([layout.B, params.chunks, C, 2], 'float32');
    for (const w of volumeWindows(layout, 'slot')) {
      dispatch(GROUP_NORM_MOMENTS, {
        params: w.params,
        bindings: { x: bindRange(x, ...w.range), partial: bind(partial) },
        workgroups: w.workgroups,
      });
    }
    // Each channel's group mean and rstd, which the output pass loads as vec4s of channels.
    const chan = engine.empty([layout.B, 2, C], 'float32');
    dispatch(GROUP_NORM_STATS, {
      params,
      bindings: { partial: bind(partial), stats: bind(st), chan: bind(chan) },
      workgroups: workgroups(layout.B * G, 64),
    });
    partial.dispose();
    // Without gamma or beta the kernel reads neither; the channel statistics stand in for the binding.
    const { voxelsPerInvocation, consts, aliases } = applyVariant(layout);
    for (const w of volumeWindows(layout, 'voxel', voxelsPerInvocation)) {
      dispatch(GROUP_NORM_APPLY, {
        params: w.params,
        bindings: {
          x: bindRange(x, ...w.range),
          chan: bind(chan),
          gamma: bind(gamma ?? chan),
          beta: bind(beta ?? chan),
          y: bindRange(out, ...w.range),
        },
        workgroups: w.workgroups,
        overrides: { ACT: activation === 'relu' ? 1 : 0 },
        consts,
        aliases,
      });
    }
    chan.dispose();
    return [out, st];
  });
  stats.dispose();
  return y;
}

// --- gradient: dx, dgamma and dbeta from one backward chain (kernels/group_norm_grad_*.wgsl) ------
defineOp('groupNorm', {
  saveInputs: true,
  // The statistics always; the normalised output only masks the gradient of a fused relu.
  saveOutputs: (attrs) => (attrs.activation === 'relu' ? [0, 1] : [1]),
  grad: (dy, s, needed) => {
    const layout = s.attrs.layout;
    const gamma = layout.hasGamma ? s.inputs[1]! : null;
    // A fused relu passes the gradient where its output is positive (masked inside the kernels).
    const relu = s.attrs.activation === 'relu' ? s.outputs[0]! : null;
    const { dx, dgamma, dbeta } = groupNormGrad(s.inputs[0]!, gamma, s.outputs[1]!, dy, layout, needed[0], relu);
    // One chain computes them all: hand out what is needed and free the rest now.
    const results = [dx, ...(layout.hasGamma ? [dgamma] : []), ...(layout.hasBeta ? [dbeta] : [])];
    if (!layout.hasGamma) dgamma.dispose();
    if (!layout.hasBeta) dbeta.dispose();
    return results.map((t, i) => {
      if (!needed[i]) {
        t?.dispose();
        return null;
      }
      return () => t!;
    });
  },
});
