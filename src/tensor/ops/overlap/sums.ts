/**
 * The fused overlap statistics of a segmentation volume: for every sample b and class c the sums
 * S_tp = Σ t·p, S_t = Σ t, S_p = Σ p over all voxels (plus the optional statistics of
 * geometry.ts), computed by kernels/overlap_sums.wgsl in one read of y_true and y_pred. Every
 * overlap loss and metric is a small function of these sums; their backward is one broadcast pass
 * (sums_grad.ts). Arguments keep the losses' order, (y_true, y_pred), down to the kernel's bindings.
 *
 * With C = 1, class index 1 is foreground; an index outside [0, C) (or other than 0/1 for C = 1)
 * marks no class.
 */
import overlapSumsSource from '../../../../kernels/overlap_sums.wgsl';
import { bindRange, dispatch } from '../../dispatch.js';
import { engine } from '../../engine.js';
import { defineKernel } from '../../kernel.js';
import { defineOp } from '../../op.js';
import type { Tensor } from '../../tensor.js';
import { fill } from '../creation.js';
import { reshape } from '../movement.js';
import { NUMPY_FLOATS } from '../numpy_floats.js';
import { sum } from '../reduce.js';
import { type Activation, checkActivation, checkStats, type OverlapStats, overlapGeometry } from './geometry.js';
import {
  OVERLAP_OVERRIDES,
  OVERLAP_PARAMS,
  OVERLAP_VOXEL,
  type OverlapSumsAttrs,
  overlapParams,
  overlapVariant,
  planOverlap,
} from './plan.js';
import { overlapSumsGrad } from './sums_grad.js';

export interface OverlapSumsOptions extends OverlapStats {
  /** Applied to y_pred inside the kernel: 'sigmoid' element-wise, 'softmax' over the classes. */
  activation?: Activation;
}

declare module '../../op.js' {
  interface OpAttrs {
    overlapSums: OverlapSumsAttrs;
  }
}

const OVERLAP_SUMS = defineKernel({
  name: 'overlap_sums',
  file: 'overlap_sums.wgsl',
  source: overlapSumsSource,
  preludes: [NUMPY_FLOATS, OVERLAP_VOXEL],
  params: OVERLAP_PARAMS,
  bindings: ['y_true', 'labels', 'y_pred', 'partials'],
  overrides: OVERLAP_OVERRIDES,
  consts: ['C', 'CV', 'NSTAT'],
});

/**
 * Per-sample, per-class overlap statistics: returns float32 (B, S, C) where axis 1 holds, in
 * order, S_tp, S_t, S_p and the optional statistics asked for (see `statSlots`). Differentiable
 * with respect to y_pred (through the fused activation) and to a float32 y_true.
 */
export function overlapSums(yTrue: Tensor, yPred: Tensor, options: OverlapSumsOptions = {}): Tensor {
  const fn = 'overlapSums';
  const geometry = overlapGeometry(fn, yTrue, yPred);
  const activation = checkActivation(fn, options.activation ?? 'none', geometry.C);
  return overlapSumsOf(yTrue, yPred, { geometry, activation, stats: checkStats(fn, activation, options) });
}

/** overlapSums for arguments a loss has already checked (`overlapGeometry`, `checkActivation`, `checkStats`). */
export function overlapSumsOf(yTrue: Tensor, yPred: Tensor, attrs: OverlapSumsAttrs): Tensor {
  return engine.run('overlapSums', [yTrue, yPred], attrs, () => overlapForward(yTrue, yPred, attrs));
}

function overlapForward(yTrue: Tensor, yPred: Tensor, attrs: OverlapSumsAttrs): Tensor {
  const g = attrs.geometry;
  const { consts, overrides } = overlapVariant(attrs);
  const nstat = consts.NSTAT;
  if (g.B * g.N === 0) return fill([g.B, nstat, g.C], 0);
  const { groups, voxelsPerGroup, windows } = planOverlap(g);
  const partials = engine.empty([g.B * groups * nstat * g.C], 'float32');
  // The kernel reads either y_true or the labels; a small buffer stands in for the other.
  const dummy = engine.empty([4], 'float32');
  const dummyLabels = engine.empty([4], 'int32');
  try {
    for (const w of windows) {
      const [[e0], [v0]] = w.ranges;
      const e1 = w.ranges[0][1];
      const v1 = w.ranges[1][1];
      dispatch(OVERLAP_SUMS, {
        params: overlapParams(g, groups, voxelsPerGroup, w),
        bindings: {
          y_true: g.labels ? bindRange(dummy, 0, 4) : bindRange(yTrue, e0, e1),
          labels: g.labels ? bindRange(yTrue, v0, v1) : bindRange(dummyLabels, 0, 4),
          y_pred: bindRange(yPred, e0, e1),
          partials: bindRange(partials, 0, partials.size),
        },
        workgroups: w.w1 - w.w0,
        overrides,
        consts,
      });
    }
  } finally {
    dummy.dispose();
    dummyLabels.dispose();
  }
  if (groups === 1) return reshape(partials, [g.B, nstat, g.C]);
  const out = sum(reshape(partials, [g.B, groups, nstat, g.C]), 1);
  partials.dispose();
  return out;
}

// One fused broadcast kernel writes dL/dy_true, dL/dy_pred or both in the same pass; int32 labels
// have no gradient.
defineOp('overlapSums', {
  saveInputs: true,
  grad: (dy, s, needed) => {
    const [yTrue, yPred] = [s.inputs[0]!, s.inputs[1]!];
    const floatTruth = s.inputDTypes[0] === 'float32';
    if (floatTruth && needed[0] && needed[1]) {
      const [dt, dp] = overlapSumsGrad(yTrue, yPred, dy, s.attrs, 'both');
      return [() => dt, () => dp];
    }
    return [
      floatTruth ? () => overlapSumsGrad(yTrue, yPred, dy, s.attrs, 'true')[0] : null,
      () => overlapSumsGrad(yTrue, yPred, dy, s.attrs, 'pred')[0],
    ];
  },
});
