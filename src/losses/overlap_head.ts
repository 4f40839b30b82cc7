/**
 * The loss head of dice, IoU and tversky: the loss from the (B, S, C) overlap sums in one dispatch
 * (kernels/overlap_loss.wgsl, MODE 0), and its gradient with respect to the sums in one more
 * (MODE 1). A whole overlap loss is then the sums pass (plus the merge of its partial sums when
 * the volume is split over several workgroups per sample), this head, its gradient and one
 * broadcast pass back to the volume. Class weights are constants (they carry no gradient).
 */
import overlapLossSource from '../../kernels/overlap_loss.wgsl';
import { bind, dispatch, workgroups } from '../tensor/dispatch.js';
import { engine } from '../tensor/engine.js';
import { defineKernel, type ParamValues } from '../tensor/kernel.js';
import { defineOp, NOT_DIFFERENTIABLE } from '../tensor/op.js';
import { NUMPY_FLOATS } from '../tensor/ops/numpy_floats.js';
import type { StatName } from '../tensor/ops/overlap/index.js';
import type { Tensor } from '../tensor/tensor.js';

/** What the head computes: the loss kind, which terms it is written in, and its reduction. */
export interface OverlapHeadSpec {
  kind: 'dice' | 'iou' | 'tversky';
  softLabel: boolean;
  squaredPred: boolean;
  /** A class with empty ground truth contributes 0 (still counted in the mean). */
  zeroEmpty: boolean;
  /** Sums over the batch before the ratio (one score per class). */
  summed: boolean;
  reduction: 'mean' | 'sum' | 'none';
  /** 1 drops class 0. */
  drop: 0 | 1;
  smoothNr: number;
  smoothDr: number;
  alpha: number;
  beta: number;
  /** Slots of the statistics in the sums' axis 1. */
  slots: Partial<Record<StatName, number>>;
}

declare module '../tensor/op.js' {
  interface OpAttrs {
    overlapHead: { spec: OverlapHeadSpec };
    overlapHeadGrad: { spec: OverlapHeadSpec };
  }
}

const OVERLAP_LOSS = defineKernel({
  name: 'overlap_loss',
  file: 'overlap_loss.wgsl',
  source: overlapLossSource,
  preludes: [NUMPY_FLOATS],
  params: {
    batch: 'u32',
    classes: 'u32',
    nstat: 'u32',
    drop: 'u32',
    s_tp: 'u32',
    s_t: 'u32',
    s_p: 'u32',
    s_abs: 'u32',
    s_pp: 'u32',
    s_tt: 'u32',
    nr: 'f32',
    dr: 'f32',
    alpha: 'f32',
    beta: 'f32',
    scale: 'f32',
  },
  bindings: ['sums', 'weights', 'io', 'd_sums'],
  overrides: ['MODE', 'KIND', 'SOFT', 'SQUARED', 'ZERO_EMPTY', 'SUMMED', 'REDUCE'],
});

const KIND = { dice: 0, iou: 1, tversky: 2 } as const;

function overrides(spec: OverlapHeadSpec, mode: 0 | 1) {
  return {
    MODE: mode,
    KIND: KIND[spec.kind],
    SOFT: spec.softLabel && !spec.squaredPred ? 1 : 0,
    SQUARED: spec.squaredPred ? 1 : 0,
    ZERO_EMPTY: spec.zeroEmpty ? 1 : 0,
    SUMMED: spec.summed ? 1 : 0,
    REDUCE: spec.reduction === 'none' ? 0 : 1,
  };
}

function params(sums: Tensor, spec: OverlapHeadSpec): ParamValues<typeof OVERLAP_LOSS.params> {
  const [B, S, C] = sums.shape;
  const count = (spec.summed ? 1 : B) * (C - spec.drop);
  const slot = (n: StatName): number => spec.slots[n] ?? 0;
  return {
    batch: B,
    classes: C,
    nstat: S,
    drop: spec.drop,
    s_tp: slot('tp'),
    s_t: slot('t'),
    s_p: slot('p'),
    s_abs: slot('absDiff'),
    s_pp: slot('pp'),
    s_tt: slot('tt'),
    nr: spec.smoothNr,
    dr: spec.smoothDr,
    alpha: spec.alpha,
    beta: spec.beta,
    // The mean of no entries is NaN (as NumPy's); the kernel multiplies their sum, 0, by it.
    scale: spec.reduction !== 'mean' ? 1 : count === 0 ? NaN : 1 / count,
  };
}

/**
 * The loss from (B, S, C) sums and C' class weights: a scalar, or (B, C') / (C') per entry with
 * reduction 'none'. Differentiable with respect to the sums.
 */
export function overlapHead(sums: Tensor, weights: Tensor, spec: OverlapHeadSpec): Tensor {
  return engine.run('overlapHead', [sums, weights], { spec }, () => {
    const [B, , C] = sums.shape;
    const kept = C - spec.drop;
    const out = engine.empty(spec.reduction !== 'none' ? [] : spec.summed ? [kept] : [B, kept], 'float32');
    if (out.size === 0) return out;
    // The forward pass writes no d_sums; a small buffer stands in for the binding.
    const dummy = engine.empty([1], 'float32');
    try {
      dispatch(OVERLAP_LOSS, {
        params: params(sums, spec),
        bindings: { sums: bind(sums), weights: bind(weights), io: bind(out), d_sums: bind(dummy) },
        workgroups: 1,
        overrides: overrides(spec, 0),
      });
    } finally {
      dummy.dispose();
    }
    return out;
  });
}

/** dL/dsums (B, S, C) from the loss's upstream gradient dy. */
export function overlapHeadGrad(sums: Tensor, weights: Tensor, dy: Tensor, spec: OverlapHeadSpec): Tensor {
  return engine.run('overlapHeadGrad', [sums, weights, dy], { spec }, () => {
    const out = engine.empty(sums.shape, 'float32');
    if (out.size === 0) return out;
    const [B, , C] = sums.shape;
    dispatch(OVERLAP_LOSS, {
      params: params(sums, spec),
      bindings: { sums: bind(sums), weights: bind(weights), io: bind(dy), d_sums: bind(out) },
      workgroups: workgroups(B * C, 256),
      overrides: overrides(spec, 1),
    });
    return out;
  });
}

defineOp('overlapHead', {
  saveInputs: true,
  grad: (dy, s) => [() => overlapHeadGrad(s.inputs[0]!, s.inputs[1]!, dy, s.attrs.spec), null],
});
defineOp('overlapHeadGrad', NOT_DIFFERENTIABLE);
