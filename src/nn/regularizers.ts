/** Weight penalties l1·Σ|w| + l2·Σw², added to the total loss (Keras' L1L2 regularizer). */
import { argMessage, ValueError } from '../errors.js';
import { checkOptions } from '../options.js';
import { tidy } from '../tensor/api.js';
import { abs, add, affine, square } from '../tensor/ops/elementwise/index.js';
import { sum } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';

export interface Regularizer {
  l1?: number;
  l2?: number;
}

/** A kernel regulariser option: undefined or null (none), or { l1?, l2? }; both filled in (0 = off). */
export function checkRegularizer(fn: string, r: Regularizer | null | undefined): Required<Regularizer> | null {
  if (r === undefined || r === null) return null;
  checkOptions(fn, r, ['l1', 'l2'], 'kernelRegularizer');
  for (const k of ['l1', 'l2'] as const) {
    const v = r[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
      throw new ValueError(argMessage(fn, `kernelRegularizer.${k}`, 'a finite number >= 0', v));
  }
  return { l1: r.l1 ?? 0, l2: r.l2 ?? 0 };
}

/** The penalty of `w` (a scalar; its intermediates are freed), or null when both factors are 0. */
export function penalty(r: Regularizer, w: Tensor): Tensor | null {
  if (!r.l1 && !r.l2) return null;
  return tidy(() => {
    const terms: Tensor[] = [];
    if (r.l1) terms.push(affine(sum(abs(w)), r.l1));
    if (r.l2) terms.push(affine(sum(square(w)), r.l2));
    return terms.length === 1 ? terms[0] : add(terms[0], terms[1]);
  });
}
