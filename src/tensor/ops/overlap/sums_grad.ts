/**
 * The backward of overlapSums in one broadcast pass (kernels/overlap_sums_grad.wgsl): from
 * dy = dL/dS of shape (B, S, C) it writes dL/dy_true, dL/dy_pred (with respect to the logits under
 * a fused activation) or both, on the forward pass's grid and windows. Not differentiable again.
 */
import overlapSumsGradSource from '../../../../kernels/overlap_sums_grad.wgsl';
import { bindRange, dispatch } from '../../dispatch.js';
import { engine } from '../../engine.js';
import { defineKernel } from '../../kernel.js';
import { defineOp, NOT_DIFFERENTIABLE } from '../../op.js';
import type { Tensor } from '../../tensor.js';
import { NUMPY_FLOATS } from '../numpy_floats.js';
import {
  OVERLAP_OVERRIDES,
  OVERLAP_PARAMS,
  OVERLAP_VOXEL,
  type OverlapSumsAttrs,
  overlapParams,
  overlapVariant,
  planOverlap,
} from './plan.js';

declare module '../../op.js' {
  interface OpAttrs {
    overlapSumsGrad: { wrt: 'true' | 'pred' | 'both' };
  }
}
defineOp('overlapSumsGrad', NOT_DIFFERENTIABLE);

const OVERLAP_SUMS_GRAD = defineKernel({
  name: 'overlap_sums_grad',
  file: 'overlap_sums_grad.wgsl',
  source: overlapSumsGradSource,
  preludes: [NUMPY_FLOATS, OVERLAP_VOXEL],
  params: OVERLAP_PARAMS,
  bindings: ['y_true', 'labels', 'y_pred', 'g', 'd_true', 'd_pred'],
  overrides: [...OVERLAP_OVERRIDES, 'OUT_TRUE', 'OUT_PRED'],
  consts: ['C', 'CV', 'NSTAT'],
});

/** [dL/dy_true] for 'true', [dL/dy_pred] for 'pred', [dL/dy_true, dL/dy_pred] for 'both'. */
export function overlapSumsGrad(
  yTrue: Tensor,
  yPred: Tensor,
  dy: Tensor,
  attrs: OverlapSumsAttrs,
  wrt: 'true' | 'pred' | 'both',
): Tensor[] {
  const g = attrs.geometry;
  return engine.run('overlapSumsGrad', [yTrue, yPred, dy], { wrt }, () => {
    const outTrue = wrt !== 'pred' ? engine.empty(yPred.shape, 'float32') : null;
    const outPred = wrt !== 'true' ? engine.empty(yPred.shape, 'float32') : null;
    const outs = [outTrue, outPred].filter((x): x is Tensor => x !== null);
    if (g.B * g.N === 0) return outs;
    const { consts, overrides } = overlapVariant(attrs);
    // Unused bindings get a small stand-in buffer.
    const dummy = engine.empty([4], 'float32');
    const dummyOut = engine.empty([4], 'float32');
    const dummyLabels = engine.empty([4], 'int32');
    try {
      const { groups, voxelsPerGroup, windows } = planOverlap(g);
      for (const w of windows) {
        const [[e0, e1], [v0, v1]] = w.ranges;
        dispatch(OVERLAP_SUMS_GRAD, {
          params: overlapParams(g, groups, voxelsPerGroup, w),
          bindings: {
            y_true: g.labels ? bindRange(dummy, 0, 4) : bindRange(yTrue, e0, e1),
            labels: g.labels ? bindRange(yTrue, v0, v1) : bindRange(dummyLabels, 0, 4),
            y_pred: bindRange(yPred, e0, e1),
            g: bindRange(dy, 0, dy.size),
            d_true: outTrue ? bindRange(outTrue, e0, e1) : bindRange(dummyOut, 0, 4),
            d_pred: outPred ? bindRange(outPred, e0, e1) : bindRange(dummyOut, 0, 4),
          },
          workgroups: w.w1 - w.w0,
          overrides: { ...overrides, OUT_TRUE: outTrue ? 1 : 0, OUT_PRED: outPred ? 1 : 0 },
          consts,
        });
      }
    } finally {
      dummy.dispose();
      dummyOut.dispose();
      dummyLabels.dispose();
    }
    return outs;
  });
}
