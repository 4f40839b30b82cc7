/**
 * Host data as public functions accept it: nested arrays of numbers (rectangular) and typed arrays
 * of numbers. A ragged nested array is a ValueError naming the argument and the first position
 * whose length differs; a typed array of another kind (BigInt64Array, BigUint64Array, a DataView)
 * is a DTypeError naming the kinds accepted. Both are checked before anything reaches the GPU.
 */
import { argMessage, DTypeError, ValueError } from '../errors.js';

/** The typed arrays whose elements are plain numbers (converted to float32 or int32 on upload). */
const NUMBER_ARRAYS = [
  Float32Array,
  Float64Array,
  Int32Array,
  Int16Array,
  Int8Array,
  Uint32Array,
  Uint16Array,
  Uint8Array,
  Uint8ClampedArray,
] as const;

export type NumberArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | Uint8ClampedArray;

const ACCEPTED =
  'Float32Array, Float64Array, Int32Array, Int16Array, Int8Array, Uint32Array, Uint16Array, Uint8Array or Uint8ClampedArray';

/** Whether `v` is a typed array of numbers; any other ArrayBuffer view is a DTypeError. */
export function isNumberArray(fn: string, arg: string, v: unknown): v is NumberArray {
  if (!ArrayBuffer.isView(v)) return false;
  if (NUMBER_ARRAYS.some((T) => v instanceof T)) return true;
  throw new DTypeError(
    argMessage(fn, arg, `numbers: a nested array or a typed array of numbers (${ACCEPTED})`, v.constructor.name),
  );
}

/** The shape of a rectangular nested array and its values in row-major order. */
export function flattenNested(
  fn: string,
  arg: string,
  values: readonly unknown[],
): { shape: number[]; flat: number[] } {
  // The shape is read along the first elements; every other array must agree with it.
  const shape: number[] = [];
  let v: unknown = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  const flat: number[] = [];
  const walk = (x: unknown, depth: number, at: string): void => {
    if (depth === shape.length) {
      if (typeof x !== 'number') {
        const kind = Array.isArray(x)
          ? `an array at ${at} (deeper than ${arg}${'[0]'.repeat(depth)})`
          : `${typeof x} at ${at}`;
        throw new ValueError(argMessage(fn, arg, `a nested array of numbers of shape [${shape.join(', ')}]`, kind));
      }
      flat.push(x);
      return;
    }
    if (!Array.isArray(x)) {
      throw new ValueError(
        argMessage(
          fn,
          arg,
          `a rectangular nested array of shape [${shape.join(', ')}]`,
          `a ragged array: ${at} is ${x === null ? 'null' : typeof x}, not an array of length ${shape[depth]}`,
        ),
      );
    }
    if (x.length !== shape[depth]) {
      throw new ValueError(
        argMessage(
          fn,
          arg,
          `a rectangular nested array of shape [${shape.join(', ')}]`,
          `a ragged array: ${at} has length ${x.length}, not ${shape[depth]}`,
        ),
      );
    }
    for (let i = 0; i < x.length; i++) walk(x[i], depth + 1, `${at}[${i}]`);
  };
  walk(values, 0, arg);
  return { shape, flat };
}
