/**
 * Dice / IoU / tversky losses from overlap sums in one dispatch (kernels/overlap_loss.wgsl), and
 * their gradient with respect to the sums in one more. Together with overlapSums a whole overlap
 * loss is four dispatches forward and backward.
 */
import { engine } from '../engine.js';
import { ParamWriter } from '../params.js';
import type { Tensor } from '../tensor.js';
import { bind } from './check.js';
import type { StatName } from './overlap_sums.js';

export interface OverlapLossSpec {
  kind: 'dice' | 'iou' | 'tversky';
  softLabel: boolean;
  squaredPred: boolean;
  zeroEmpty: boolean;
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

const KIND = { dice: 0, iou: 1, tversky: 2 } as const;

function constants(spec: OverlapLossSpec, mode: 0 | 1): Record<string, number> {
  return {
    MODE: mode, KIND: KIND[spec.kind], SOFT: spec.softLabel && !spec.squaredPred ? 1 : 0, SQUARED: spec.squaredPred ? 1 : 0,
    ZERO_EMPTY: spec.zeroEmpty ? 1 : 0, SUMMED: spec.summed ? 1 : 0, REDUCE: spec.reduction === 'none' ? 0 : 1,
  };
}

function params(sums: Tensor, spec: OverlapLossSpec): Uint8Array {
  const [B, S, C] = sums.shape;
  const rows = spec.summed ? 1 : B;
  const count = rows * (C - spec.drop);
  const slot = (n: StatName): number => spec.slots[n] ?? 0;
  return new ParamWriter()
    .u32(B).u32(C).u32(S).u32(spec.drop)
    .u32(slot('tp')).u32(slot('t')).u32(slot('p')).u32(slot('absDiff')).u32(slot('pp')).u32(slot('tt'))
    .f32(spec.smoothNr).f32(spec.smoothDr).f32(spec.alpha).f32(spec.beta)
    .f32(spec.reduction === 'mean' ? 1 / Math.max(1, count) : 1).u32(0)
    .bytes();
}

/**
 * The loss from (B, S, C) sums and C' class weights: a scalar, or (B, C') / (C') per entry with
 * reduction 'none'. Differentiable with respect to the sums.
 */
export function overlapLossFromSums(sums: Tensor, weights: Tensor, spec: OverlapLossSpec): Tensor {
  return engine.run('overlapLoss', [sums, weights], { spec }, () => {
    const [B, , C] = sums.shape;
    const kept = C - spec.drop;
    const shape = spec.reduction !== 'none' ? [] : spec.summed ? [kept] : [B, kept];
    const out = engine.empty(shape, 'float32');
    const dummy = engine.empty([1], 'float32');
    try {
      engine.gpu.dispatch({ kernel: 'overlap_loss', constants: constants(spec, 0) }, params(sums, spec), [bind(sums), bind(weights), bind(out), bind(dummy)], 1);
    } finally {
      dummy.dispose();
    }
    return out;
  });
}

/** dL/dsums (B, S, C) from the loss's upstream gradient dy. */
export function overlapLossGrad(sums: Tensor, weights: Tensor, dy: Tensor, spec: OverlapLossSpec): Tensor {
  return engine.run('overlapLossGrad', [sums, weights, dy], { spec }, () => {
    const out = engine.empty(sums.shape, 'float32');
    const [B, , C] = sums.shape;
    engine.gpu.dispatch({ kernel: 'overlap_loss', constants: constants(spec, 1) }, params(sums, spec), [bind(sums), bind(weights), bind(dy), bind(out)], Math.ceil((B * C) / 256));
    return out;
  });
}
