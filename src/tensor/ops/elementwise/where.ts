/** cond ? a : b elementwise with NumPy broadcasting over all three (kernels/where.wgsl). */
import whereSource from '../../../../kernels/where.wgsl';
import { bind, dispatch, workgroups } from '../../dispatch.js';
import { engine } from '../../engine.js';
import { defineKernel } from '../../kernel.js';
import type { NoAttrs } from '../../op.js';
import { broadcastShapes, broadcastStrides } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import './gradients.js';
import { checkSameDType, checkTensor } from '../check.js';

declare module '../../op.js' {
  interface OpAttrs {
    where: NoAttrs;
  }
}

const WHERE = defineKernel({
  name: 'where',
  file: 'where.wgsl',
  source: whereSource,
  params: {
    n: 'u32',
    rank: 'u32',
    shape: 'array<vec4<u32>, 2>',
    c_strides: 'array<vec4<u32>, 2>',
    a_strides: 'array<vec4<u32>, 2>',
    b_strides: 'array<vec4<u32>, 2>',
  },
  bindings: ['cond', 'a', 'b', 'out'],
  overrides: ['COND_IS_FLOAT'],
});

/** cond ? a : b elementwise with broadcasting over all three; cond is int32 or float32 (nonzero = true). */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const fn = 'where';
  checkTensor(fn, 'cond', cond);
  checkTensor(fn, 'a', a);
  checkTensor(fn, 'b', b);
  checkSameDType(fn, a, b);
  const outShape = broadcastShapes(fn, broadcastShapes(fn, cond.shape, a.shape), b.shape);
  return engine.run(fn, [cond, a, b], {}, () => {
    const out = engine.empty(outShape, a.dtype);
    if (out.size === 0) return out;
    dispatch(WHERE, {
      params: {
        n: out.size,
        rank: outShape.length,
        shape: outShape,
        c_strides: broadcastStrides(cond.shape, outShape),
        a_strides: broadcastStrides(a.shape, outShape),
        b_strides: broadcastStrides(b.shape, outShape),
      },
      bindings: { cond: bind(cond), a: bind(a), b: bind(b), out: bind(out) },
      workgroups: workgroups(out.size, 256),
      overrides: { COND_IS_FLOAT: cond.dtype === 'float32' ? 1 : 0 },
    });
    return out;
  });
}
