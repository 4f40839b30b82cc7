/** Argument checks shared by ops: each throws before any GPU work, naming op, argument, expected and given. */
import { argMessage, DTypeError, ValueError } from '../../errors.js';
import type { DType } from '../dtype.js';
import { Tensor } from '../tensor.js';

export function checkTensor(fn: string, arg: string, t: unknown, dtype?: DType): Tensor {
  if (!(t instanceof Tensor)) throw new ValueError(argMessage(fn, arg, 'a Tensor', describe(t)));
  t.storageFor(fn, arg);
  if (dtype && t.dtype !== dtype) {
    throw new DTypeError(argMessage(fn, arg, `dtype ${dtype}`, `${t.dtype} tensor of shape [${t.shape.join(', ')}]`));
  }
  return t;
}

export function checkFloat(fn: string, arg: string, t: unknown): Tensor {
  return checkTensor(fn, arg, t, 'float32');
}

export function checkSameDType(fn: string, a: Tensor, b: Tensor, argA = 'a', argB = 'b'): void {
  if (a.dtype !== b.dtype) {
    throw new DTypeError(
      `${fn}: argument '${argB}' expected dtype ${a.dtype} (the dtype of '${argA}'; use cast()), got ${b.dtype}`,
    );
  }
}

export function checkFinite(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ValueError(argMessage(fn, arg, 'a finite number', describe(v)));
  return v;
}

export function checkInt(fn: string, arg: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = min === -Infinity && max === Infinity ? 'an integer' : `an integer in [${min}, ${max}]`;
    throw new ValueError(argMessage(fn, arg, range, describe(v)));
  }
  return v;
}

export function describe(v: unknown): string {
  if (v instanceof Tensor) return v.toString();
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array of length ${v.length}`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}
