/**
 * Binary arithmetic and comparisons with NumPy broadcasting (kernels/binary.wgsl, and
 * kernels/binary_contiguous.wgsl for operands of the output's shape; both share the op table
 * kernels/binary_ops.wgsl). Comparisons return int32 0/1. Gradient rules: gradients.ts.
 */
import binarySource from '../../../../kernels/binary.wgsl';
import binaryContiguousSource from '../../../../kernels/binary_contiguous.wgsl';
import binaryOpsSource from '../../../../kernels/binary_ops.wgsl';
import { argMessage, DTypeError, ValueError } from '../../../errors.js';
import {
  bindingWindowElements,
  bindRange,
  bindVec4,
  dispatch,
  splitWorkgroups,
  stridedRange,
  workgroups,
} from '../../dispatch.js';
import { wgslType } from '../../dtype.js';
import { engine } from '../../engine.js';
import { defineKernel, opCodes } from '../../kernel.js';
import { defineOp, NOT_DIFFERENTIABLE, type NoAttrs } from '../../op.js';
import { broadcastShapes, broadcastStrides, shapesEqual } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { checkFinite, checkFloat, checkSameDType, checkTensor } from '../check.js';
import { scalar } from '../creation.js';
import { NUMPY_FLOATS } from '../numpy_floats.js';
import './gradients.js';
import { affine } from './unary.js';

export const ARITHMETIC_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const;
export const COMPARISON_OPS = ['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual'] as const;
export type BinaryName = (typeof ARITHMETIC_OPS)[number] | (typeof COMPARISON_OPS)[number];

declare module '../../op.js' {
  interface OpAttrs extends Record<BinaryName, NoAttrs> {}
}

const BINARY_CODES = opCodes('binary_ops.wgsl', binaryOpsSource, [...ARITHMETIC_OPS, ...COMPARISON_OPS]);
const COMPARISONS = new Set<BinaryName>(COMPARISON_OPS);
const FLOAT_ONLY = new Set<BinaryName>(['pow']);
for (const name of COMPARISON_OPS) defineOp(name, NOT_DIFFERENTIABLE);

const opTable = { file: 'binary_ops.wgsl', source: binaryOpsSource };

const BINARY = defineKernel({
  name: 'binary',
  file: 'binary.wgsl',
  source: binarySource,
  preludes: [NUMPY_FLOATS, opTable],
  params: {
    n: 'u32',
    rank: 'u32',
    flags: 'u32',
    a_period: 'u32',
    b_period: 'u32',
    first: 'u32',
    end: 'u32',
    out_base: 'u32',
    a_base: 'u32',
    b_base: 'u32',
    shape: 'array<vec4<u32>, 2>',
    a_strides: 'array<vec4<u32>, 2>',
    b_strides: 'array<vec4<u32>, 2>',
  },
  bindings: ['a', 'b', 'out'],
  overrides: ['OP'],
  aliases: ['T', 'U'],
});

const BINARY_CONTIGUOUS = defineKernel({
  name: 'binary_contiguous',
  file: 'binary_contiguous.wgsl',
  source: binaryContiguousSource,
  preludes: [NUMPY_FLOATS, opTable],
  params: { n: 'u32' },
  bindings: ['a', 'b', 'out'],
  overrides: ['OP'],
  aliases: ['T', 'U'],
});

/** Whether `shape`, broadcast to `out`, only repeats along leading axes (like a bias). */
function repeatsAlongLeadingAxes(shape: readonly number[], out: readonly number[]): boolean {
  let first = 0;
  while (first < shape.length && shape[first] === 1) first++;
  const kept = shape.slice(first);
  return kept.length > 0 && kept.every((d, k) => d === out[out.length - kept.length + k]);
}

function launchBinary(op: BinaryName, a: Tensor, b: Tensor, outShape: number[]): Tensor {
  const outDType = COMPARISONS.has(op) ? 'int32' : a.dtype;
  const out = engine.empty(outShape, outDType);
  if (out.size === 0) return out;
  const sameA = shapesEqual(a.shape, outShape);
  const sameB = shapesEqual(b.shape, outShape);
  const aliases = { T: wgslType(a.dtype), U: wgslType(outDType) };
  const overrides = { OP: BINARY_CODES[op] };
  if (sameA && sameB) {
    // Same-shape operands: 16 elements per invocation, in binding-sized aligned windows.
    const window = bindingWindowElements();
    for (let start = 0; start < out.size; start += window) {
      const n = Math.min(window, out.size - start);
      dispatch(BINARY_CONTIGUOUS, {
        params: { n },
        bindings: { a: bindVec4(a, start, n), b: bindVec4(b, start, n), out: bindVec4(out, start, n) },
        workgroups: workgroups(n, 4096),
        overrides,
        aliases,
      });
    }
    return out;
  }
  const tileA = !sameA && repeatsAlongLeadingAxes(a.shape, outShape);
  const tileB = !sameB && repeatsAlongLeadingAxes(b.shape, outShape);
  const aStrides = broadcastStrides(a.shape, outShape);
  const bStrides = broadcastStrides(b.shape, outShape);
  // Output ranges whose reads of a and b each fit one binding window.
  const windows = splitWorkgroups(workgroups(out.size, 256), (w0, w1) => {
    const [i0, i1] = [w0 * 256, Math.min(out.size, w1 * 256)];
    return [[i0, i1], stridedRange(outShape, aStrides, i0, i1), stridedRange(outShape, bStrides, i0, i1)];
  });
  for (const w of windows) {
    const [[o0, o1], [a0, a1], [b0, b1]] = w.ranges;
    dispatch(BINARY, {
      params: {
        n: out.size,
        rank: outShape.length,
        flags: (sameA ? 1 : 0) | (sameB ? 2 : 0) | (tileA ? 4 : 0) | (tileB ? 8 : 0),
        a_period: a.size,
        b_period: b.size,
        first: w.w0 * 256,
        end: w.w1 * 256,
        out_base: o0,
        a_base: a0,
        b_base: b0,
        shape: outShape,
        a_strides: aStrides,
        b_strides: bStrides,
      },
      bindings: { a: bindRange(a, a0, a1), b: bindRange(b, b0, b1), out: bindRange(out, o0, o1) },
      workgroups: w.w1 - w.w0,
      overrides,
      aliases,
    });
  }
  return out;
}

function asTensor(fn: string, arg: string, v: Tensor | number, like: Tensor): Tensor {
  if (typeof v === 'number') {
    if (like.dtype === 'int32' && !Number.isInteger(v))
      throw new ValueError(argMessage(fn, arg, 'an integer (the other operand is int32)', v));
    return scalar(v, like.dtype);
  }
  return checkTensor(fn, arg, v);
}

/**
 * A binary op with NumPy broadcasting. Either operand may be a number; float add/sub/mul/div by
 * a number run as one fused affine pass without a scalar buffer.
 */
export function binary(op: BinaryName, a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === 'number' && typeof b === 'number')
    throw new ValueError(`${op}: at least one of 'a' and 'b' must be a Tensor, got two numbers`);
  if (typeof b === 'number' && typeof a !== 'number' && checkTensor(op, 'a', a).dtype === 'float32') {
    const x = checkFloat(op, 'a', a);
    if (op === 'add' || op === 'sub')
      return affine(x, 1, op === 'add' ? checkFinite(op, 'b', b) : -checkFinite(op, 'b', b));
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
    if (FLOAT_ONLY.has(op) && ta.dtype !== 'float32')
      throw new DTypeError(argMessage(op, 'a', 'float32 operands', ta.dtype));
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
