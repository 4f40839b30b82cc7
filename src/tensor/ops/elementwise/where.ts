/** cond ? a : b elementwise with NumPy broadcasting over all three (kernels/where.wgsl). */
import whereSource from '../../../../kernels/where.wgsl';
import { bindRange, dispatch, splitWorkgroups, stridedRange, workgroups } from '../../dispatch.js';
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
    first: 'u32',
    end: 'u32',
    out_base: 'u32',
    c_base: 'u32',
    a_base: 'u32',
    b_base: 'u32',
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
    const strides = [cond, a, b].map((t) => broadcastStrides(t.shape, outShape));
    // Output ranges whose reads of cond, a and b each fit one binding window.
    const windows = splitWorkgroups(workgroups(out.size, 256), (w0, w1) => {
      const [i0, i1] = [w0 * 256, Math.min(out.size, w1 * 256)];
      return [[i0, i1], ...strides.map((st) => stridedRange(outShape, st, i0, i1))];
    });
    for (const w of windows) {
      const [[o0, o1], [c0, c1], [a0, a1], [b0, b1]] = w.ranges;
      dispatch(WHERE, {
        params: {
          n: out.size,
          rank: outShape.length,
          first: w.w0 * 256,
          end: w.w1 * 256,
          out_base: o0,
          c_base: c0,
          a_base: a0,
          b_base: b0,
          shape: outShape,
          c_strides: strides[0],
          a_strides: strides[1],
          b_strides: strides[2],
        },
        bindings: {
          cond: bindRange(cond, c0, c1),
          a: bindRange(a, a0, a1),
          b: bindRange(b, b0, b1),
          out: bindRange(out, o0, o1),
        },
        workgroups: w.w1 - w.w0,
        overrides: { COND_IS_FLOAT: cond.dtype === 'float32' ? 1 : 0 },
      });
    }
    return out;
  });
}
