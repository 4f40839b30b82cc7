/**
 * Data movement: reshape (a view, no copy), transpose, slice, pad, concat and broadcastTo, with
 * their gradient rules. All copies go through kernels/strided_copy.wgsl, which works on raw
 * 32-bit words and so serves both dtypes.
 */
import { argMessage, DTypeError, ShapeError, show, ValueError } from '../../errors.js';
import { scalarBits } from '../dtype.js';
import { engine } from '../engine.js';
import { defineOp } from '../op.js';
import {
  broadcastShapes,
  broadcastStrides,
  checkShape,
  normalizeAxis,
  shapesEqual,
  sizeOf,
  stridesOf,
} from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkTensor } from './check.js';
import { sumToShape } from './reduce.js';
import { stridedCopy } from './strided_copy.js';

declare module '../op.js' {
  interface OpAttrs {
    reshape: { shape: readonly number[] };
    transpose: { perm: readonly number[] };
    slice: { begin: readonly number[]; size: readonly number[] };
    pad: { paddings: readonly (readonly [number, number])[]; value: number };
    concat: { axis: number };
    broadcastTo: { shape: readonly number[] };
  }
}

/** The same data with a new shape of equal size; one dim may be -1 (inferred). No copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const fn = 'reshape';
  checkTensor(fn, 'x', x);
  const inferAt = shape.indexOf(-1);
  const known = shape.filter((_d, i) => i !== inferAt);
  checkShape(fn, 'shape', known);
  if (shape.filter((d) => d === -1).length > 1)
    throw new ShapeError(argMessage(fn, 'shape', 'at most one -1', show(shape)));
  const target = shape.slice();
  if (inferAt >= 0) {
    const rest = sizeOf(known);
    if (rest === 0 || x.size % rest !== 0)
      throw new ShapeError(
        `${fn}: cannot infer -1 in ${show(shape)} for a tensor of ${x.size} elements (shape ${show(x.shape)})`,
      );
    target[inferAt] = x.size / rest;
  }
  if (sizeOf(target) !== x.size) {
    throw new ShapeError(
      argMessage(
        fn,
        'shape',
        `a shape with ${x.size} elements (input ${show(x.shape)})`,
        `${show(shape)} (${sizeOf(target)} elements)`,
      ),
    );
  }
  return engine.run(fn, [x], { shape: target }, () => engine.view(x, target));
}

/** Permutes axes (default: reverse them). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const fn = 'transpose';
  checkTensor(fn, 'x', x);
  const p = perm ? perm.slice() : [...Array(x.rank).keys()].reverse();
  const sorted = p.map((a) => normalizeAxis(fn, a, x.rank));
  if (p.length !== x.rank || new Set(sorted).size !== x.rank) {
    throw new ShapeError(argMessage(fn, 'perm', `a permutation of [0..${x.rank - 1}]`, show(p)));
  }
  return engine.run(fn, [x], { perm: sorted }, () => {
    const shape = sorted.map((a) => x.shape[a]);
    const out = engine.empty(shape, x.dtype);
    const strides = stridesOf(x.shape);
    stridedCopy(x, out, { shape, srcStrides: sorted.map((a) => strides[a]) });
    return out;
  });
}

/** A box of `x`: `begin` per axis (negative counts from the end), `size` per axis (-1 = to the end). */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  const fn = 'slice';
  checkTensor(fn, 'x', x);
  if (begin.length !== x.rank)
    throw new ShapeError(argMessage(fn, 'begin', `${x.rank} entries (one per axis of ${show(x.shape)})`, show(begin)));
  if (size && size.length !== x.rank) throw new ShapeError(argMessage(fn, 'size', `${x.rank} entries`, show(size)));
  const b = begin.map((v, i) => {
    const d = x.shape[i];
    const s = v < 0 ? v + d : v;
    if (!Number.isInteger(v) || s < 0 || s > d)
      throw new ValueError(argMessage(fn, `begin[${i}]`, `an integer in [${-d}, ${d}]`, v));
    return s;
  });
  const sz = x.shape.map((d, i) => {
    const v = size?.[i] ?? -1;
    const s = v === -1 ? d - b[i] : v;
    if (!Number.isInteger(s) || s < 0 || b[i] + s > d)
      throw new ValueError(argMessage(fn, `size[${i}]`, `an integer in [0, ${d - b[i]}] or -1`, v));
    return s;
  });
  return engine.run(fn, [x], { begin: b, size: sz }, () => {
    const out = engine.empty(sz, x.dtype);
    const strides = stridesOf(x.shape);
    stridedCopy(x, out, { shape: sz, srcOffset: b.reduce((a, v, i) => a + v * strides[i], 0), srcStrides: strides });
    return out;
  });
}

/** Pads with a constant: `paddings[i] = [before, after]` for every axis. */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  const fn = 'pad';
  checkTensor(fn, 'x', x);
  if (paddings.length !== x.rank)
    throw new ShapeError(argMessage(fn, 'paddings', `${x.rank} [before, after] pairs`, `${paddings.length} pairs`));
  paddings.forEach(([lo, hi], i) => {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < 0) {
      throw new ValueError(argMessage(fn, `paddings[${i}]`, 'two non-negative integers', show([lo, hi])));
    }
  });
  if (typeof value !== 'number' || (x.dtype === 'int32' && !Number.isInteger(value))) {
    throw new ValueError(argMessage(fn, 'value', x.dtype === 'int32' ? 'an integer' : 'a number', value));
  }
  const lo = paddings.map((p) => p[0]);
  return engine.run(fn, [x], { paddings: paddings.map((p) => [p[0], p[1]]), value }, () => {
    const shape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
    const out = engine.empty(shape, x.dtype);
    stridedCopy(x, out, {
      shape,
      srcShape: x.shape,
      srcStrides: stridesOf(x.shape),
      padLo: lo,
      padBits: scalarBits(value, x.dtype),
    });
    return out;
  });
}

/** Joins tensors along `axis`; all other dims and the dtype must agree. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  const fn = 'concat';
  if (!Array.isArray(xs as unknown) || xs.length === 0)
    throw new ValueError(argMessage(fn, 'xs', 'a non-empty array of tensors', xs));
  xs.forEach((t, i) => checkTensor(fn, `xs[${i}]`, t));
  const first = xs[0];
  const ax = normalizeAxis(fn, axis, first.rank);
  xs.forEach((t, i) => {
    if (t.dtype !== first.dtype)
      throw new DTypeError(argMessage(fn, `xs[${i}]`, `dtype ${first.dtype} (as xs[0])`, t.dtype));
    if (t.rank !== first.rank || t.shape.some((d: number, k: number) => k !== ax && d !== first.shape[k])) {
      throw new ShapeError(
        argMessage(
          fn,
          `xs[${i}]`,
          `shape ${show(first.shape.map((d: number, k: number) => (k === ax ? '*' : d)))}`,
          show(t.shape),
        ),
      );
    }
  });
  return engine.run(fn, xs, { axis: ax }, () => {
    const shape = first.shape.slice();
    shape[ax] = xs.reduce((a, t) => a + t.shape[ax], 0);
    const out = engine.empty(shape, first.dtype);
    const dstStrides = stridesOf(shape);
    let offset = 0;
    for (const t of xs) {
      stridedCopy(t, out, {
        shape: t.shape,
        srcStrides: stridesOf(t.shape),
        dstOffset: offset * dstStrides[ax],
        dstStrides,
      });
      offset += t.shape[ax];
    }
    return out;
  });
}

/** Materialises NumPy broadcasting of `x` to `shape`. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const fn = 'broadcastTo';
  checkTensor(fn, 'x', x);
  const target = checkShape(fn, 'shape', shape);
  const b = broadcastShapes(fn, x.shape, target);
  if (!shapesEqual(b, target))
    throw new ShapeError(argMessage(fn, 'shape', `a shape ${show(x.shape)} broadcasts to`, show(target)));
  return engine.run(fn, [x], { shape: target }, () => {
    const out = engine.empty(target, x.dtype);
    stridedCopy(x, out, { shape: target, srcStrides: broadcastStrides(x.shape, target) });
    return out;
  });
}

/** Inserts a size-1 axis at `axis`. */
export function expandDims(x: Tensor, axis = 0): Tensor {
  checkTensor('expandDims', 'x', x);
  const ax = normalizeAxis('expandDims', axis, x.rank + 1);
  const shape = x.shape.slice();
  shape.splice(ax, 0, 1);
  return reshape(x, shape);
}

/** Removes size-1 axes (all of them, or those listed). */
export function squeeze(x: Tensor, axes?: readonly number[]): Tensor {
  checkTensor('squeeze', 'x', x);
  const drop = axes
    ? axes.map((a) => normalizeAxis('squeeze', a, x.rank))
    : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of drop)
    if (x.shape[a] !== 1)
      throw new ShapeError(
        argMessage('squeeze', 'axes', 'axes of size 1', `axis ${a} of size ${x.shape[a]} in ${show(x.shape)}`),
      );
  return reshape(
    x,
    x.shape.filter((_, i) => !drop.includes(i)),
  );
}

// --- gradients: each movement's inverse movement -------------------------------------------------
defineOp('reshape', { grad: (dy, s) => [() => reshape(dy, s.inputShapes[0])] });
defineOp('transpose', {
  grad: (dy, s) => {
    const perm = s.attrs.perm;
    return [
      () =>
        transpose(
          dy,
          perm.map((_, i) => perm.indexOf(i)),
        ),
    ];
  },
});
defineOp('slice', {
  grad: (dy, s) => {
    const { begin, size } = s.attrs;
    return [
      () =>
        pad(
          dy,
          s.inputShapes[0].map((d, i) => [begin[i], d - begin[i] - size[i]] as [number, number]),
        ),
    ];
  },
});
defineOp('pad', {
  grad: (dy, s) => [
    () =>
      slice(
        dy,
        s.attrs.paddings.map((p) => p[0]),
        s.inputShapes[0],
      ),
  ],
});
defineOp('concat', {
  grad: (dy, s) => {
    const axis = s.attrs.axis;
    let offset = 0;
    return s.inputShapes.map((shape) => {
      const begin = shape.map((_, i) => (i === axis ? offset : 0));
      offset += shape[axis];
      return () => slice(dy, begin, shape);
    });
  },
});
defineOp('broadcastTo', { grad: (dy, s) => [() => sumToShape(dy, s.inputShapes[0])] });
