/**
 * Unary maths on float32 tensors (kernels/unary.wgsl, one pipeline per function). Tensors larger
 * than one storage binding are processed in windows bound at aligned offsets, so elementwise maths
 * works on any tensor the device can hold. Gradient rules: gradients.ts.
 */
import unarySource from '../../../../kernels/unary.wgsl';
import { argMessage, ValueError } from '../../../errors.js';
import { bindingWindowElements, bindVec4, dispatch, workgroups } from '../../dispatch.js';
import { engine } from '../../engine.js';
import { defineKernel, opCodes } from '../../kernel.js';
import type { Tensor } from '../../tensor.js';
import './gradients.js';
import { checkFinite, checkFloat } from '../check.js';
import { NUMPY_FLOATS } from '../numpy_floats.js';

export const UNARY_OPS = [
  'neg',
  'abs',
  'exp',
  'log',
  'sqrt',
  'square',
  'relu',
  'sigmoid',
  'tanh',
  'softplus',
  'sign',
  'reciprocal',
  'step',
  'affine',
  'powScalar',
  'clip',
  'rsqrt',
  'sin',
  'cos',
  'log1p',
  'oneMinusSquare',
] as const;
export type UnaryName = (typeof UNARY_OPS)[number];

/** alpha and beta: the scalar arguments of affine, powScalar and clip (0 for the others). */
export interface UnaryAttrs {
  alpha: number;
  beta: number;
}

declare module '../../op.js' {
  interface OpAttrs extends Record<UnaryName, UnaryAttrs> {}
}

const UNARY_CODES = opCodes('unary.wgsl', unarySource, UNARY_OPS);

const UNARY = defineKernel({
  name: 'unary',
  file: 'unary.wgsl',
  source: unarySource,
  preludes: [NUMPY_FLOATS],
  params: { n: 'u32', alpha: 'f32', beta: 'f32' },
  bindings: ['x', 'y'],
  overrides: ['OP'],
});

function launchUnary(op: UnaryName, x: Tensor, alpha: number, beta: number): Tensor {
  const y = engine.empty(x.shape, 'float32');
  const window = bindingWindowElements();
  for (let start = 0; start < x.size; start += window) {
    const n = Math.min(window, x.size - start);
    dispatch(UNARY, {
      params: { n, alpha, beta },
      bindings: { x: bindVec4(x, start, n), y: bindVec4(y, start, n) },
      workgroups: workgroups(n, 4096),
      overrides: { OP: UNARY_CODES[op] },
    });
  }
  return y;
}

export function unary(op: UnaryName, x: Tensor, alpha = 0, beta = 0): Tensor {
  checkFloat(op, 'x', x);
  return engine.run(op, [x], { alpha, beta }, () => launchUnary(op, x, alpha, beta));
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/** log(1 + exp(x)), stable for large |x|. */
export const softplus = (x: Tensor): Tensor => unary('softplus', x);
export const sign = (x: Tensor): Tensor => unary('sign', x);
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
export const sin = (x: Tensor): Tensor => unary('sin', x);
export const cos = (x: Tensor): Tensor => unary('cos', x);
export const log1p = (x: Tensor): Tensor => unary('log1p', x);
/** 1 where x > 0, else 0 (the derivative of relu). */
export const step = (x: Tensor): Tensor => unary('step', x);

/** alpha * x + beta in one pass. */
export function affine(x: Tensor, alpha: number, beta = 0): Tensor {
  checkFinite('affine', 'alpha', alpha);
  checkFinite('affine', 'beta', beta);
  return unary('affine', x, alpha, beta);
}

/** Clamps x to [lo, hi]. */
export function clip(x: Tensor, lo: number, hi: number): Tensor {
  if (typeof lo !== 'number' || Number.isNaN(lo)) throw new ValueError(argMessage('clip', 'lo', 'a number', lo));
  if (typeof hi !== 'number' || Number.isNaN(hi) || hi < lo)
    throw new ValueError(argMessage('clip', 'hi', `a number >= lo (${lo})`, hi));
  return unary('clip', x, lo, hi);
}
