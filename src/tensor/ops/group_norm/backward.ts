/**
 * The backward chain of group normalisation: chunk sums of dy and dy·x̂, their merge into the
 * per-group coefficients and dgamma, dbeta, then the input gradient (three kernels).
 */
import groupNormGradApplySource from '../../../../kernels/group_norm_grad_apply.wgsl';
import groupNormGradStatsSource from '../../../../kernels/group_norm_grad_stats.wgsl';
import groupNormGradSumsSource from '../../../../kernels/group_norm_grad_sums.wgsl';
import { bind, bindRange, dispatch, workgroups } from '../../dispatch.js';
import { engine } from '../../engine.js';
import { defineKernel } from '../../kernel.js';
import { defineOp, NOT_DIFFERENTIABLE } from '../../op.js';
import type { Tensor } from '../../tensor.js';
import { applyVariant, type GroupNormLayout, LAYOUT, LAYOUT_PARAMS, layoutParams, volumeWindows } from './layout.js';

declare module '../../op.js' {
  interface OpAttrs {
    groupNormGrad: { layout: GroupNormLayout };
  }
}
defineOp('groupNormGrad', NOT_DIFFERENTIABLE);

const GROUP_NORM_GRAD_SUMS = defineKernel({
  name: 'group_norm_grad_sums',
  file: 'group_norm_grad_sums.wgsl',
  source: groupNormGradSumsSource,
  preludes: [LAYOUT],
  params: LAYOUT_PARAMS,
  bindings: ['x', 'dy', 'stats', 'partial', 'y'],
  overrides: ['ACT'],
});

const GROUP_NORM_GRAD_STATS = defineKernel({
  name: 'group_norm_grad_stats',
  file: 'group_norm_grad_stats.wgsl',
  source: groupNormGradStatsSource,
  preludes: [LAYOUT],
  params: LAYOUT_PARAMS,
  bindings: ['partial', 'gamma', 'stats', 'chan', 'dparams'],
});

const GROUP_NORM_GRAD_APPLY = defineKernel({
  name: 'group_norm_grad_apply',
  file: 'group_norm_grad_apply.wgsl',
  source: groupNormGradApplySource,
  preludes: [LAYOUT],
  params: LAYOUT_PARAMS,
  bindings: ['x', 'dy', 'chan', 'gamma', 'dx', 'y'],
  overrides: ['ACT'],
  consts: ['VW', 'VPI'],
  aliases: ['V', 'VU'],
});

/**
 * Gradients of groupNorm from dy: dx (when `needX`), dgamma and dbeta. `stats` is the forward
 * pass's (B, G, 2) mean and rstd; `reluOutput`, for a fused relu, its output y, whose step masks
 * dy (dy · step(y), NaN where y is NaN, in the kernels' own passes).
 */
export function groupNormGrad(
  x: Tensor,
  gamma: Tensor | null,
  stats: Tensor,
  dy: Tensor,
  layout: GroupNormLayout,
  needX: boolean,
  reluOutput: Tensor | null = null,
): { dx: Tensor | null; dgamma: Tensor; dbeta: Tensor } {
  const ACT = reluOutput ? 1 : 0;
  const y = reluOutput ?? dy;
  const out = engine.run('groupNormGrad', reluOutput ? [x, dy, reluOutput] : [x, dy], { layout }, () => {
    const { B, C, G } = layout;
    const params = layoutParams(layout);
    const partial = engine.empty([B, params.chunks, C, 2], 'float32');
    // Each channel's group mean, rstd and gradient means, which the input-gradient pass loads as
    // vec4s of channels.
    const chan = engine.empty([B, 4, C], 'float32');
    const dparams = engine.empty([2, C], 'float32');
    for (const w of volumeWindows(layout, 'slot')) {
      dispatch(GROUP_NORM_GRAD_SUMS, {
        params: w.params,
        bindings: {
          x: bindRange(x, ...w.range),
          dy: bindRange(dy, ...w.range),
          stats: bind(stats),
          partial: bind(partial),
          y: bindRange(y, ...w.range),
        },
        workgroups: w.workgroups,
        overrides: { ACT },
      });
    }
    dispatch(GROUP_NORM_GRAD_STATS, {
      params,
      bindings: {
        partial: bind(partial),
        gamma: bind(gamma ?? stats),
        stats: bind(stats),
        chan: bind(chan),
        dparams: bind(dparams),
      },
      workgroups: workgroups(B * G + C, 64),
    });
    partial.dispose();
    let dx: Tensor | null = null;
    if (needX) {
      dx = engine.empty(x.shape, 'float32');
      const { voxelsPerInvocation, consts, aliases } = applyVariant(layout);
      for (const w of volumeWindows(layout, 'voxel', voxelsPerInvocation)) {
        dispatch(GROUP_NORM_GRAD_APPLY, {
          params: w.params,
          bindings: {
            x: bindRange(x, ...w.range),
            dy: bindRange(dy, ...w.range),
            chan: bind(chan),
            gamma: bind(gamma ?? chan),
            dx: bindRange(dx, ...w.range),
            y: bindRange(y, ...w.range),
          },
          workgroups: w.workgroups,
          overrides: { ACT },
          consts,
          aliases: { ...aliases, VU: aliases.V === 'f32' ? 'u32' : 'vec4<u32>' },
        });
      }
    }
    chan.dispose();
    const dgamma = engine.empty([C], 'float32');
    const dbeta = engine.empty([C], 'float32');
    engine.backend.copy(dparams.buffer, 0, dgamma.buffer, 0, C * 4);
    engine.backend.copy(dparams.buffer, C * 4, dbeta.buffer, 0, C * 4);
    dparams.dispose();
    return dx ? [dgamma, dbeta, dx] : [dgamma, dbeta];
  });
  return { dgamma: out[0], dbeta: out[1], dx: out[2] ?? null };
}
