/**
 * One gradient rule per differentiable op, written with voxgrad's own ops (so backward reuses
 * the tested kernels). Broadcasting is undone by `sumToShape`.
 */
import { broadcastTo, cast, pad, reshape, slice, transpose } from '../tensor/ops/movement.js';
import {
  affine, cos, div, equal, exp, greater, greaterEqual, less, lessEqual, log, mul, neg, sigmoid, sign, sin, square,
  sub, unary, where,
} from '../tensor/ops/elementwise.js';
import { conv3dGradInput, conv3dGradWeight } from '../tensor/ops/conv3d.js';
import type { Conv3dGeometry } from '../tensor/ops/conv3d.js';
import { matmul } from '../tensor/ops/matmul.js';
import { pool3dGrad } from '../tensor/ops/pool3d.js';
import { groupNormGrad } from '../tensor/ops/group_norm.js';
import type { GroupNormLayout } from '../tensor/ops/group_norm.js';
import { overlapLossGrad } from '../tensor/ops/overlap_loss.js';
import type { OverlapLossSpec } from '../tensor/ops/overlap_loss.js';
import { overlapSumsGrad } from '../tensor/ops/overlap_sums.js';
import { sum } from '../tensor/ops/reduce.js';
import { zeros } from '../tensor/ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { registerGradient, Saved } from './registry.js';

/** Sums `g` over the axes along which an input of `shape` was broadcast, then reshapes to `shape`. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const s = axes.length ? sum(g, axes, true) : g;
  const r = reshape(s, shape);
  if (s !== g) s.dispose();
  return r;
}

const x0 = (s: Saved): Tensor => s.inputs[0]!;
const y0 = (s: Saved): Tensor => s.outputs[0]!;
const asFloat = (t: Tensor): Tensor => cast(t, 'float32');

// --- unary ---------------------------------------------------------------------------------------
registerGradient('neg', { grad: (dy) => [() => neg(dy)] });
registerGradient('abs', { saveInputs: true, grad: (dy, s) => [() => mul(dy, sign(x0(s)))] });
registerGradient('exp', { saveOutputs: true, grad: (dy, s) => [() => mul(dy, y0(s))] });
registerGradient('log', { saveInputs: true, grad: (dy, s) => [() => div(dy, x0(s))] });
registerGradient('log1p', { saveInputs: true, grad: (dy, s) => [() => div(dy, affine(x0(s), 1, 1))] });
registerGradient('sqrt', { saveOutputs: true, grad: (dy, s) => [() => div(dy, affine(y0(s), 2))] });
registerGradient('rsqrt', { saveOutputs: true, grad: (dy, s) => [() => mul(dy, affine(mul(square(y0(s)), y0(s)), -0.5))] });
registerGradient('square', { saveInputs: true, grad: (dy, s) => [() => mul(dy, affine(x0(s), 2))] });
registerGradient('relu', { saveInputs: true, grad: (dy, s) => [() => mul(dy, unary('step', x0(s)))] });
registerGradient('sigmoid', { saveOutputs: true, grad: (dy, s) => [() => mul(dy, mul(y0(s), affine(y0(s), -1, 1)))] });
registerGradient('tanh', { saveOutputs: true, grad: (dy, s) => [() => mul(dy, unary('oneMinusSquare', y0(s)))] });
registerGradient('softplus', { saveInputs: true, grad: (dy, s) => [() => mul(dy, sigmoid(x0(s)))] });
registerGradient('reciprocal', { saveOutputs: true, grad: (dy, s) => [() => neg(mul(dy, square(y0(s))))] });
registerGradient('sin', { saveInputs: true, grad: (dy, s) => [() => mul(dy, cos(x0(s)))] });
registerGradient('cos', { saveInputs: true, grad: (dy, s) => [() => neg(mul(dy, sin(x0(s))))] });
registerGradient('affine', { grad: (dy, s) => [() => affine(dy, s.attrs.alpha as number)] });
registerGradient('powScalar', {
  saveInputs: true,
  grad: (dy, s) => {
    const a = s.attrs.alpha as number;
    return [() => mul(dy, affine(unary('powScalar', x0(s), a - 1), a))];
  },
});
registerGradient('clip', {
  saveInputs: true,
  grad: (dy, s) => [() => {
    const inside = mul(asFloat(greaterEqual(x0(s), s.attrs.alpha as number)), asFloat(lessEqual(x0(s), s.attrs.beta as number)));
    return mul(dy, inside);
  }],
});
for (const name of ['sign', 'step']) registerGradient(name, { grad: (dy) => [() => zeros(dy.shape)] });

// --- binary --------------------------------------------------------------------------------------
const shapeA = (s: Saved): readonly number[] => s.inputShapes[0];
const shapeB = (s: Saved): readonly number[] => s.inputShapes[1];
const a_ = (s: Saved): Tensor => s.inputs[0]!;
const b_ = (s: Saved): Tensor => s.inputs[1]!;

registerGradient('add', { grad: (dy, s) => [() => sumToShape(dy, shapeA(s)), () => sumToShape(dy, shapeB(s))] });
registerGradient('sub', { grad: (dy, s) => [() => sumToShape(dy, shapeA(s)), () => sumToShape(neg(dy), shapeB(s))] });
registerGradient('mul', {
  saveInputs: true,
  grad: (dy, s) => [() => sumToShape(mul(dy, b_(s)), shapeA(s)), () => sumToShape(mul(dy, a_(s)), shapeB(s))],
});
registerGradient('div', {
  saveInputs: true,
  grad: (dy, s) => [
    () => sumToShape(div(dy, b_(s)), shapeA(s)),
    () => sumToShape(neg(div(mul(dy, a_(s)), square(b_(s)))), shapeB(s)),
  ],
});
registerGradient('pow', {
  saveInputs: true,
  saveOutputs: true,
  grad: (dy, s) => [
    () => sumToShape(mul(dy, mul(b_(s), div(y0(s), a_(s)))), shapeA(s)),
    // d/db a^b = a^b log a, defined as 0 where a <= 0 (as TensorFlow does).
    () => sumToShape(mul(dy, where(greater(a_(s), 0), mul(y0(s), log(a_(s))), zeros([]))), shapeB(s)),
  ],
});
registerGradient('maximum', {
  saveInputs: true,
  grad: (dy, s) => [
    () => sumToShape(mul(dy, asFloat(greaterEqual(a_(s), b_(s)))), shapeA(s)),
    () => sumToShape(mul(dy, asFloat(less(a_(s), b_(s)))), shapeB(s)),
  ],
});
registerGradient('minimum', {
  saveInputs: true,
  grad: (dy, s) => [
    () => sumToShape(mul(dy, asFloat(lessEqual(a_(s), b_(s)))), shapeA(s)),
    () => sumToShape(mul(dy, asFloat(greater(a_(s), b_(s)))), shapeB(s)),
  ],
});
for (const name of ['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual']) {
  registerGradient(name, { grad: () => [null, null] });
}
registerGradient('where', {
  saveInputs: [0],
  grad: (dy, s) => {
    const zero = (): Tensor => zeros([]);
    return [
      null,
      () => sumToShape(where(s.inputs[0]!, dy, zero()), s.inputShapes[1]),
      () => sumToShape(where(s.inputs[0]!, zero(), dy), s.inputShapes[2]),
    ];
  },
});

// --- reductions ----------------------------------------------------------------------------------
/** dy of a reduction, reshaped with the reduced axes kept and broadcast back to the input. */
function expandReduced(dy: Tensor, s: Saved): Tensor {
  const shape = s.inputShapes[0];
  const axes = s.attrs.axes as number[];
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return broadcastTo(reshape(dy, kept), shape);
}
registerGradient('sum', { grad: (dy, s) => [() => expandReduced(dy, s)] });
registerGradient('mean', {
  grad: (dy, s) => {
    const count = (s.attrs.axes as number[]).reduce((a, ax) => a * s.inputShapes[0][ax], 1);
    return [() => affine(expandReduced(dy, s), 1 / count)];
  },
});
for (const name of ['max', 'min']) {
  // The gradient flows to every element equal to the extreme (as tfjs does).
  registerGradient(name, {
    saveInputs: true,
    saveOutputs: true,
    grad: (dy, s) => [() => mul(expandReduced(dy, s), asFloat(equal(x0(s), expandReduced(y0(s), s))))],
  });
}

// --- softmax -------------------------------------------------------------------------------------
registerGradient('softmax', {
  saveOutputs: true,
  grad: (dy, s) => [() => {
    const y = y0(s);
    return mul(y, sub(dy, sum(mul(dy, y), s.attrs.axis as number, true)));
  }],
});
registerGradient('logSoftmax', {
  saveOutputs: true,
  grad: (dy, s) => [() => sub(dy, mul(exp(y0(s)), sum(dy, s.attrs.axis as number, true)))],
});

// --- overlap statistics ----------------------------------------------------------------------
// One fused broadcast kernel writes dL/dy_pred, dL/dy_true or both in the same pass; the label
// input (int32 indices) has no gradient.
registerGradient('overlapSums', {
  saveInputs: true,
  grad: (dy, s, needed) => {
    const floatTruth = s.inputDTypes[1] === 'float32';
    if (floatTruth && needed[0] && needed[1]) {
      const [dp, dt] = overlapSumsGrad(s.inputs[1]!, x0(s), dy, s.attrs, 'both');
      return [() => dp, () => dt];
    }
    return [
      () => overlapSumsGrad(s.inputs[1]!, x0(s), dy, s.attrs, 'pred')[0],
      floatTruth ? () => overlapSumsGrad(s.inputs[1]!, x0(s), dy, s.attrs, 'true')[0] : null,
    ];
  },
});

// The fused loss head: gradient with respect to the sums only (class weights are constants).
registerGradient('overlapLoss', {
  saveInputs: true,
  grad: (dy, s) => [() => overlapLossGrad(x0(s), s.inputs[1]!, dy, s.attrs.spec as OverlapLossSpec), null],
});

// --- conv3d --------------------------------------------------------------------------------------
// A fused relu masks dy by its output (y > 0 exactly where the pre-activation was); the bias
// gradient sums the masked dy over every axis but the channels.
registerGradient('conv3d', {
  saveInputs: [0, 1],
  saveOutputs: true,
  grad: (dy, s, needed) => {
    const g = s.attrs.geometry as Conv3dGeometry;
    const masked = s.attrs.activation === 'relu' ? mul(dy, unary('step', y0(s))) : dy;
    const thunks: (() => Tensor)[] = [() => conv3dGradInput(masked, s.inputs[1]!, g), () => conv3dGradWeight(x0(s), masked, g)];
    if (s.inputShapes.length === 3) thunks.push(() => sum(masked, [0, 1, 2, 3]));
    if (masked === dy) return thunks;
    // The mask is shared by the thunks: free it once the last one that is needed has run.
    let left = needed.filter(Boolean).length;
    return thunks.map((f) => () => {
      const r = f();
      if (--left === 0) masked.dispose();
      return r;
    });
  },
});

// --- groupNorm: all three gradients from one backward chain (kernels/group_norm_grad_*.wgsl) ----
registerGradient('groupNorm', {
  saveInputs: true,
  saveOutputs: true,
  grad: (dy, s, needed) => {
    const layout = s.attrs.layout as GroupNormLayout;
    const gamma = layout.hasGamma ? s.inputs[1]! : null;
    const { dx, dgamma, dbeta } = groupNormGrad(x0(s), gamma, s.outputs[1]!, dy, layout, needed[0]);
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

for (const [name, kind] of [['maxPool3d', 'max'], ['avgPool3d', 'avg']] as const) {
  registerGradient(name, {
    saveInputs: true,
    grad: (dy, s) => [() => pool3dGrad(kind, dy, x0(s), s.attrs.geometry as Conv3dGeometry)],
  });
}

// --- matmul --------------------------------------------------------------------------------------
registerGradient('matmul', {
  saveInputs: true,
  grad: (dy, s) => {
    const tA = s.attrs.transposeA as boolean;
    const tB = s.attrs.transposeB as boolean;
    const A = a_(s);
    const B = b_(s);
    return [
      () => sumToShape(tA ? matmul(B, dy, { transposeA: tB, transposeB: true }) : matmul(dy, B, { transposeB: !tB }), shapeA(s)),
      () => sumToShape(tB ? matmul(dy, A, { transposeA: true, transposeB: tA }) : matmul(A, dy, { transposeA: !tA }), shapeB(s)),
    ];
  },
});

// --- movement ------------------------------------------------------------------------------------
registerGradient('reshape', { grad: (dy, s) => [() => reshape(dy, s.inputShapes[0])] });
registerGradient('transpose', {
  grad: (dy, s) => {
    const perm = s.attrs.perm as number[];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [() => transpose(dy, inverse)];
  },
});
registerGradient('slice', {
  grad: (dy, s) => {
    const begin = s.attrs.begin as number[];
    const size = s.attrs.size as number[];
    const shape = s.inputShapes[0];
    return [() => pad(dy, shape.map((d, i) => [begin[i], d - begin[i] - size[i]] as [number, number]))];
  },
});
registerGradient('pad', {
  grad: (dy, s) => {
    const p = s.attrs.paddings as [number, number][];
    return [() => slice(dy, p.map((x) => x[0]), s.inputShapes[0])];
  },
});
registerGradient('concat', {
  grad: (dy, s) => {
    const axis = s.attrs.axis as number;
    let offset = 0;
    return s.inputShapes.map((shape) => {
      const begin = shape.map((_, i) => (i === axis ? offset : 0));
      offset += shape[axis];
      return () => slice(dy, begin, shape);
    });
  },
});
registerGradient('broadcastTo', { grad: (dy, s) => [() => sumToShape(dy, s.inputShapes[0])] });
// Only a float32 -> float32 cast carries a gradient; integers are not differentiable.
registerGradient('cast', {
  grad: (dy, s) => [s.attrs.dtype === 'float32' && s.inputDTypes[0] === 'float32' ? () => cast(dy, 'float32') : null],
});
