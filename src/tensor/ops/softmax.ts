/** Softmax and log-softmax over one axis, numerically stable (the line's max is subtracted first). */
import { engine } from '../engine.js';
import { ParamWriter } from '../params.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { bind, checkFloat, groups256 } from './check.js';

function softmaxImpl(name: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  checkFloat(name, 'x', x);
  const ax = normalizeAxis(name, axis, x.rank);
  return engine.run(name, [x], { axis: ax }, () => {
    const y = engine.empty(x.shape, 'float32');
    const O = x.shape.slice(0, ax).reduce((a, b) => a * b, 1);
    const A = x.shape[ax];
    const I = x.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
    if (x.size === 0) return y;
    const params = new ParamWriter().u32(O).u32(A).u32(I).u32(0).bytes();
    engine.gpu.dispatch({ kernel: 'softmax', constants: { LOG: name === 'logSoftmax' ? 1 : 0 } }, params, [bind(x), bind(y)], groups256(O * I));
    return y;
  });
}

/** exp(x - max) / sum(exp(x - max)) along `axis` (default: last). */
export const softmax = (x: Tensor, axis = -1): Tensor => softmaxImpl('softmax', x, axis);
/** (x - max) - log(sum(exp(x - max))) along `axis` (default: last). */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => softmaxImpl('logSoftmax', x, axis);
