/** Softmax and log-softmax over one axis, numerically stable (the line's max is subtracted first). */
import softmaxSource from '../../../kernels/softmax.wgsl';
import { bind, dispatch, workgroups } from '../dispatch.js';
import { engine } from '../engine.js';
import { defineKernel } from '../kernel.js';
import { defineOp } from '../op.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkFloat } from './check.js';
import { exp, mul, sub } from './elementwise/index.js';
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
  params: { outer: 'u32', axis_len: 'u32', inner: 'u32' },
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
    dispatch(SOFTMAX, {
      params: { outer, axis_len: x.shape[ax], inner },
      bindings: { x: bind(x), y: bind(y) },
      workgroups: workgroups(outer * inner, 256),
      overrides: { LOG: name === 'logSoftmax' ? 1 : 0 },
    });
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
