/** Elementwise ops: unary maths, binary arithmetic and comparisons with broadcasting, where. */
import { DTypeError, ValueError, argMessage } from '../../errors.js';
import { wgslType } from '../dtype.js';
import { engine } from '../engine.js';
import { ParamWriter } from '../params.js';
import { broadcastShapes, broadcastStrides, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { bind, bindingWindowElements, bindVec4, checkFinite, checkFloat, checkSameDType, checkTensor, groups256, groups4096 } from './check.js';
import { scalar } from './creation.js';

/** Unary op codes of kernels/unary.wgsl. */
export const UNARY = {
  neg: 0, abs: 1, exp: 2, log: 3, sqrt: 4, square: 5, relu: 6, sigmoid: 7, tanh: 8, softplus: 9,
  sign: 10, reciprocal: 11, step: 12, affine: 13, powScalar: 14, clip: 15, rsqrt: 16, sin: 17, cos: 18,
  log1p: 19, oneMinusSquare: 20,
} as const;
export type UnaryName = keyof typeof UNARY;

/**
 * Runs unary.wgsl. Tensors larger than one storage binding are processed in chunks bound at
 * aligned offsets, so elementwise maths works on any tensor the device can hold.
 */
function launchUnary(op: UnaryName, x: Tensor, alpha = 0, beta = 0): Tensor {
  const y = engine.empty(x.shape, 'float32');
  const gpu = engine.gpu;
  const maxElems = bindingWindowElements();
  for (let start = 0; start < x.size || start === 0; start += maxElems) {
    const n = Math.min(maxElems, x.size - start);
    const params = new ParamWriter().u32(n).f32(alpha).f32(beta).bytes();
    gpu.dispatch({ kernel: 'unary', constants: { OP: UNARY[op] } }, params, [bindVec4(x, start, n), bindVec4(y, start, n)], groups4096(n));
    if (x.size === 0) break;
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
  if (typeof hi !== 'number' || Number.isNaN(hi) || hi < lo) throw new ValueError(argMessage('clip', 'hi', `a number >= lo (${lo})`, hi));
  return unary('clip', x, lo, hi);
}

// --- binary ------------------------------------------------------------------------------------

export const BINARY = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6,
  equal: 10, notEqual: 11, less: 12, lessEqual: 13, greater: 14, greaterEqual: 15,
} as const;
export type BinaryName = keyof typeof BINARY;

const FLOAT_ONLY = new Set<BinaryName>(['pow']);

/** Whether `shape`, broadcast to `out`, only repeats along leading axes (like a bias). */
function repeatsAlongLeadingAxes(shape: readonly number[], out: readonly number[]): boolean {
  let first = 0;
  while (first < shape.length && shape[first] === 1) first++;
  const kept = shape.slice(first);
  return kept.length > 0 && kept.every((d, k) => d === out[out.length - kept.length + k]);
}

function launchBinary(op: BinaryName, a: Tensor, b: Tensor, outShape: number[]): Tensor {
  const isCompare = BINARY[op] >= 10;
  const outDType = isCompare ? 'int32' : a.dtype;
  const out = engine.empty(outShape, outDType);
  if (out.size === 0) return out;
  const sameA = shapesEqual(a.shape, outShape);
  const sameB = shapesEqual(b.shape, outShape);
  const aliases = { T: wgslType(a.dtype), U: wgslType(outDType) };
  const gpu = engine.gpu;
  const maxElems = bindingWindowElements();
  if (sameA && sameB) {
    // Same-shape operands: 16 elements per invocation, in binding-sized aligned chunks.
    const spec = { kernel: 'binary_contiguous', aliases, constants: { OP: BINARY[op] } };
    for (let start = 0; start < out.size; start += maxElems) {
      const n = Math.min(maxElems, out.size - start);
      const params = new ParamWriter().u32(n).bytes();
      gpu.dispatch(spec, params, [bindVec4(a, start, n), bindVec4(b, start, n), bindVec4(out, start, n)], groups4096(n));
    }
    return out;
  }
  const spec = { kernel: 'binary', aliases, constants: { OP: BINARY[op] } };
  const tileA = !sameA && repeatsAlongLeadingAxes(a.shape, outShape);
  const tileB = !sameB && repeatsAlongLeadingAxes(b.shape, outShape);
  const flags = (sameA ? 1 : 0) | (sameB ? 2 : 0) | (tileA ? 4 : 0) | (tileB ? 8 : 0);
  const params = new ParamWriter()
    .u32(out.size).u32(outShape.length).u32(flags).u32(a.size).u32(b.size).u32(0).u32(0).u32(0)
    .dims(outShape).dims(broadcastStrides(a.shape, outShape)).dims(broadcastStrides(b.shape, outShape))
    .bytes();
  gpu.dispatch(spec, params, [bind(a), bind(b), bind(out)], groups256(out.size));
  return out;
}

function asTensor(fn: string, arg: string, v: Tensor | number, like: Tensor): Tensor {
  if (typeof v === 'number') {
    if (like.dtype === 'int32' && !Number.isInteger(v)) throw new ValueError(argMessage(fn, arg, 'an integer (the other operand is int32)', v));
    return scalar(v, like.dtype);
  }
  return checkTensor(fn, arg, v);
}

/**
 * A binary op with NumPy broadcasting. Either operand may be a number; float add/sub/mul/div by
 * a number run as one fused affine pass without a scalar buffer.
 */
export function binary(op: BinaryName, a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === 'number' && typeof b === 'number') throw new ValueError(`${op}: at least one of 'a' and 'b' must be a Tensor, got two numbers`);
  if (typeof b === 'number' && typeof a !== 'number' && checkTensor(op, 'a', a).dtype === 'float32') {
    const x = checkFloat(op, 'a', a);
    if (op === 'add' || op === 'sub') return affine(x, 1, op === 'add' ? checkFinite(op, 'b', b) : -checkFinite(op, 'b', b));
    if (op === 'mul') return affine(x, checkFinite(op, 'b', b), 0);
    if (op === 'div') {
      checkFinite(op, 'b', b);
      if (b === 0) throw new ValueError(argMessage(op, 'b', 'a non-zero number', b));
      return affine(x, 1 / b, 0);
    }
  }
  const first = typeof a === 'number' ? checkTensor(op, 'b', b) : checkTensor(op, 'a', a);
  const ta = asTensor(op, 'a', a, first);
  const tb = asTensor(op, 'b', b, first);
  try {
    checkSameDType(op, ta, tb);
    if (FLOAT_ONLY.has(op) && ta.dtype !== 'float32') throw new DTypeError(argMessage(op, 'a', 'float32 operands', ta.dtype));
    const outShape = broadcastShapes(op, ta.shape, tb.shape);
    return engine.run(op, [ta, tb], {}, () => launchBinary(op, ta, tb, outShape));
  } finally {
    // Scalars made from numbers are constants; the tape keeps its own reference if it needs one.
    if (typeof a === 'number') ta.dispose();
    if (typeof b === 'number') tb.dispose();
  }
}

export const add = (a: Tensor | number, b: Tensor | number): Tensor => binary('add', a, b);
export const sub = (a: Tensor | number, b: Tensor | number): Tensor => binary('sub', a, b);
export const mul = (a: Tensor | number, b: Tensor | number): Tensor => binary('mul', a, b);
export const div = (a: Tensor | number, b: Tensor | number): Tensor => binary('div', a, b);
export const pow = (a: Tensor | number, b: Tensor | number): Tensor => binary('pow', a, b);
export const maximum = (a: Tensor | number, b: Tensor | number): Tensor => binary('maximum', a, b);
export const minimum = (a: Tensor | number, b: Tensor | number): Tensor => binary('minimum', a, b);
/** Comparisons return int32 0/1 tensors. */
export const equal = (a: Tensor | number, b: Tensor | number): Tensor => binary('equal', a, b);
export const notEqual = (a: Tensor | number, b: Tensor | number): Tensor => binary('notEqual', a, b);
export const less = (a: Tensor | number, b: Tensor | number): Tensor => binary('less', a, b);
export const lessEqual = (a: Tensor | number, b: Tensor | number): Tensor => binary('lessEqual', a, b);
export const greater = (a: Tensor | number, b: Tensor | number): Tensor => binary('greater', a, b);
export const greaterEqual = (a: Tensor | number, b: Tensor | number): Tensor => binary('greaterEqual', a, b);

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
    const params = new ParamWriter()
      .u32(out.size).u32(outShape.length).u32(0).u32(0)
      .dims(outShape).dims(broadcastStrides(cond.shape, outShape))
      .dims(broadcastStrides(a.shape, outShape)).dims(broadcastStrides(b.shape, outShape))
      .bytes();
    engine.gpu.dispatch({ kernel: 'where', constants: { COND_IS_FLOAT: cond.dtype === 'float32' ? 1 : 0 } }, params,
      [bind(cond), bind(a), bind(b), bind(out)], groups256(out.size));
    return out;
  });
}
