/**
 * Creating tensors: from host data, constants (kernels/fill.wgsl) and seeded random numbers
 * (kernels/random.wgsl), written in binding-sized windows. None is differentiable.
 */
import fillSource from '../../../kernels/fill.wgsl';
import randomSource from '../../../kernels/random.wgsl';
import { argMessage, DTypeError, ShapeError, show, ValueError } from '../../errors.js';
import { bind, bindingWindowElements, bindVec4, dispatch, workgroups } from '../dispatch.js';
import { type DataArray, type DType, isDType, scalarBits } from '../dtype.js';
import { engine } from '../engine.js';
import { flattenNested, isNumberArray, type NumberArray } from '../host_data.js';
import { defineKernel } from '../kernel.js';
import { defineOp, NOT_DIFFERENTIABLE, type NoAttrs } from '../op.js';
import { checkShape, sizeOf } from '../shape.js';
import type { NestedArray, Tensor } from '../tensor.js';
import { checkFinite, checkInt } from './check.js';

declare module '../op.js' {
  interface OpAttrs {
    fill: NoAttrs;
    zeros: NoAttrs;
    ones: NoAttrs;
    randomUniform: NoAttrs;
    randomNormal: NoAttrs;
  }
}
for (const name of ['fill', 'zeros', 'ones', 'randomUniform', 'randomNormal'] as const)
  defineOp(name, NOT_DIFFERENTIABLE);

const FILL = defineKernel({
  name: 'fill',
  file: 'fill.wgsl',
  source: fillSource,
  params: { n: 'u32', bits: 'u32' },
  bindings: ['y'],
});

const RANDOM = defineKernel({
  name: 'random',
  file: 'random.wgsl',
  source: randomSource,
  params: { n: 'u32', seed_lo: 'u32', seed_hi: 'u32', first: 'u32', a: 'f32', b: 'f32' },
  bindings: ['y'],
  overrides: ['DIST'],
});

/** Values `tensor` accepts: a number, nested arrays of numbers, or a typed array of numbers. */
export type TensorLike = number | NestedArray | NumberArray;

/**
 * A tensor from a typed array, nested arrays or a scalar. The shape is inferred from nested
 * arrays or given; the dtype defaults to int32 for an Int32Array and float32 otherwise.
 */
export function tensor(values: TensorLike, shape?: readonly number[], dtype?: DType): Tensor {
  const fn = 'tensor';
  if (dtype !== undefined && !isDType(dtype))
    throw new DTypeError(argMessage(fn, 'dtype', "'float32' or 'int32'", dtype));
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (isNumberArray(fn, 'values', values)) {
    flat = values;
    inferred = [flat.length];
    dtype ??= values instanceof Int32Array ? 'int32' : 'float32';
  } else if (typeof values === 'number') {
    flat = [values];
    inferred = [];
  } else if (Array.isArray(values)) {
    ({ shape: inferred, flat } = flattenNested(fn, 'values', values));
  } else {
    throw new ValueError(argMessage(fn, 'values', 'a number, nested number arrays or a typed array', typeof values));
  }
  dtype ??= 'float32';
  const finalShape = shape === undefined ? inferred : checkShape(fn, 'shape', shape);
  if (sizeOf(finalShape) !== flat.length) {
    throw new ShapeError(
      argMessage(
        fn,
        'shape',
        `a shape with ${flat.length} elements (the values given)`,
        `${show(finalShape)} (${sizeOf(finalShape)} elements)`,
      ),
    );
  }
  let data: DataArray;
  if (dtype === 'int32') {
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw new ValueError(argMessage(fn, 'values', `int32 values (integers in [-2^31, 2^31)) at index ${i}`, v));
      }
    }
    data = flat instanceof Int32Array ? flat : Int32Array.from(flat);
  } else {
    data = flat instanceof Float32Array ? flat : Float32Array.from(flat);
  }
  const t = engine.empty(finalShape, dtype);
  engine.backend.write(t.buffer, data);
  return t;
}

export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return tensor(value, [], dtype);
}

/** A tensor of `shape` with every element `value`. */
export function fill(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  return filled('fill', shape, value, dtype);
}

function filled(fn: 'fill' | 'zeros' | 'ones', shape: readonly number[], value: number, dtype: DType): Tensor {
  const s = checkShape(fn, 'shape', shape);
  if (typeof value !== 'number' || (dtype === 'int32' && !Number.isInteger(value))) {
    throw new ValueError(argMessage(fn, 'value', dtype === 'int32' ? 'an integer' : 'a number', value));
  }
  return engine.run(fn, [], {}, () => {
    const t = engine.empty(s, dtype);
    const window = bindingWindowElements();
    for (let start = 0; start < t.size; start += window) {
      const n = Math.min(window, t.size - start);
      dispatch(FILL, {
        params: { n, bits: scalarBits(value, dtype) },
        bindings: { y: bindVec4(t, start, n) },
        workgroups: workgroups(n, 4096),
      });
    }
    return t;
  });
}

export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return filled('zeros', shape, 0, dtype);
}

export function ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return filled('ones', shape, 1, dtype);
}

export function zerosLike(t: Tensor): Tensor {
  return fill(t.shape, 0, t.dtype);
}

export function onesLike(t: Tensor): Tensor {
  return fill(t.shape, 1, t.dtype);
}

function seedWords(fn: string, seed: number): [number, number] {
  checkInt(fn, 'seed', seed, 0, Number.MAX_SAFE_INTEGER);
  return [seed % 2 ** 32, Math.floor(seed / 2 ** 32)];
}

function random(
  fn: 'randomUniform' | 'randomNormal',
  dist: 0 | 1,
  shape: readonly number[],
  a: number,
  b: number,
  seed: number,
): Tensor {
  const s = checkShape(fn, 'shape', shape);
  const [lo, hi] = seedWords(fn, seed);
  return engine.run(fn, [], {}, () => {
    const t = engine.empty(s, 'float32');
    const window = bindingWindowElements();
    for (let start = 0; start < t.size; start += window) {
      const n = Math.min(window, t.size - start);
      dispatch(RANDOM, {
        params: { n, seed_lo: lo, seed_hi: hi, first: start, a, b },
        bindings: { y: bind(t, start, n) },
        workgroups: workgroups(n, 256),
        overrides: { DIST: dist },
      });
    }
    return t;
  });
}

/** Uniform numbers in [minval, maxval), a pure function of (seed, element index). */
export function randomUniform(
  shape: readonly number[],
  options: { minval?: number; maxval?: number; seed?: number } = {},
): Tensor {
  const fn = 'randomUniform';
  const minval = checkFinite(fn, 'minval', options.minval ?? 0);
  const maxval = checkFinite(fn, 'maxval', options.maxval ?? 1);
  if (!(maxval > minval))
    throw new ValueError(argMessage(fn, 'maxval', `a number greater than minval (${minval})`, maxval));
  return random(fn, 0, shape, minval, maxval, options.seed ?? 0);
}

/** Normal numbers with the given mean and standard deviation, a pure function of (seed, index). */
export function randomNormal(
  shape: readonly number[],
  options: { mean?: number; stddev?: number; seed?: number } = {},
): Tensor {
  const fn = 'randomNormal';
  const mean = checkFinite(fn, 'mean', options.mean ?? 0);
  const stddev = checkFinite(fn, 'stddev', options.stddev ?? 1);
  if (stddev < 0) throw new ValueError(argMessage(fn, 'stddev', 'a number >= 0', stddev));
  return random(fn, 1, shape, mean, stddev, options.seed ?? 0);
}
