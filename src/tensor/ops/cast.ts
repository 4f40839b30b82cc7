/** Conversion between float32 and int32 (kernels/cast.wgsl): float -> int truncates toward zero, NaN -> 0. */
import castSource from '../../../kernels/cast.wgsl';
import { argMessage, DTypeError } from '../../errors.js';
import { bind, bindingWindowElements, dispatch, workgroups } from '../dispatch.js';
import { type DType, isDType } from '../dtype.js';
import { engine } from '../engine.js';
import { defineKernel } from '../kernel.js';
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';
import { checkTensor } from './check.js';

declare module '../op.js' {
  interface OpAttrs {
    cast: { dtype: DType };
  }
}

const CAST = defineKernel({
  name: 'cast',
  file: 'cast.wgsl',
  source: castSource,
  params: { n: 'u32' },
  bindings: ['x', 'y'],
  overrides: ['TO_INT'],
});

export function cast(x: Tensor, dtype: DType): Tensor {
  const fn = 'cast';
  checkTensor(fn, 'x', x);
  if (!isDType(dtype)) throw new DTypeError(argMessage(fn, 'dtype', "'float32' or 'int32'", dtype));
  return engine.run(fn, [x], { dtype }, () => {
    if (x.dtype === dtype) return engine.view(x);
    const out = engine.empty(x.shape, dtype);
    // Element i of a window is element start + i of both tensors (window starts stay aligned).
    const window = bindingWindowElements();
    for (let start = 0; start < x.size; start += window) {
      const n = Math.min(window, x.size - start);
      dispatch(CAST, {
        params: { n },
        bindings: { x: bind(x, start, n), y: bind(out, start, n) },
        workgroups: workgroups(n, 256),
        overrides: { TO_INT: dtype === 'int32' ? 1 : 0 },
      });
    }
    return out;
  });
}

// Only a float32 -> float32 cast carries a gradient; integers are not differentiable.
defineOp('cast', {
  grad: (dy, s) => [s.attrs.dtype === 'float32' && s.inputDTypes[0] === 'float32' ? () => cast(dy, 'float32') : null],
});
