/** Softmax and log-softmax over one axis, numerically stable (the line's max is subtracted first). */
import softmaxSource from '../../../kernels/softmax.wgsl';
import { bindRange, dispatch, splitWorkgroups, workgroups } from '../dispatch.js';
import { engine } from '../engine.js';
import { defineKernel } from '../kernel.js';
import { defineOp } from '../op.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkFloat } from './check.js';
import { exp, mul, sub } from './elementwise/index.js';
import { NUMPY_FLOATS } from './numpy_floats.js';
import { sum } from './reduce.js';

declare module '../op.js' {
  interface OpAttrs {
    softmax: { axis: number };
    logSoftmax: { axis: number };
  }
}

const SOFTMAX = defineKernel({
  name: 'softmax',
  file: 'softmax.wgsl',
  source: softmaxSource,
  preludes: [NUMPY_FLOATS],
  params: { outer: 'u32', axis_len: 'u32', inner: 'u32', first: 'u32', end: 'u32', base: 'u32' },
  bindings: ['x', 'y'],
  overrides: ['LOG'],
});

function softmaxImpl(name: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  checkFloat(name, 'x', x);
  const ax = normalizeAxis(name, axis, x.rank);
  return engine.run(name, [x], { axis: ax }, () => {
    const y = engine.empty(x.shape, 'float32');
    if (x.size === 0) return y;
    const outer = x.shape.slice(0, ax).reduce((a, b) => a * b, 1);
    const inner = x.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
    const A = x.shape[ax];
    const lines = outer * inner;
    // Lines [l0, l1) read and write the elements of rows o0..o1 of the (O, A, I) view.
    const windows = splitWorkgroups(workgroups(lines, 256), (w0, w1) => {
      const o0 = Math.floor((w0 * 256) / inner);
      const o1 = Math.floor((Math.min(lines, w1 * 256) - 1) / inner);
      return [[o0 * A * inner, (o1 + 1) * A * inner]];
    });
    for (const w of windows) {
      const [[e0, e1]] = w.ranges;
      dispatch(SOFTMAX, {
        params: { outer, axis_len: A, inner, first: w.w0 * 256, end: w.w1 * 256, base: e0 },
        bindings: { x: bindRange(x, e0, e1), y: bindRange(y, e0, e1) },
        workgroups: w.w1 - w.w0,
        overrides: { LOG: name === 'logSoftmax' ? 1 : 0 },
      });
    }
    return y;
  });
}

/** exp(x - max) / sum(exp(x - max)) along `axis` (default: last). */
export const softmax = (x: Tensor, axis = -1): Tensor => softmaxImpl('softmax', x, axis);
/** (x - max) - log(sum(exp(x - max))) along `axis` (default: last). */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => softmaxImpl('logSoftmax', x, axis);

defineOp('softmax', {
  saveOutputs: true,
  grad: (dy, s) => [
    () => {
      const y = s.outputs[0]!;
      return mul(y, sub(dy, sum(mul(dy, y), s.attrs.axis, true)));
    },
  ],
});
defineOp('logSoftmax', {
  saveOutputs: true,
  grad: (dy, s) => [() => sub(dy, mul(exp(s.outputs[0]!), sum(dy, s.attrs.axis, true)))],
});
