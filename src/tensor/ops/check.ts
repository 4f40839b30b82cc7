/** Argument checks shared by ops: each throws before any GPU work, naming op, argument, expected and given. */
import { DTypeError, ValueError, argMessage } from '../../errors.js';
import type { DType } from '../dtype.js';
import { engine } from '../engine.js';
import { flags } from '../flags.js';
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
    throw new DTypeError(`${fn}: argument '${argB}' expected dtype ${a.dtype} (the dtype of '${argA}'; use cast()), got ${b.dtype}`);
  }
}

export function checkFinite(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(argMessage(fn, arg, 'a finite number', describe(v)));
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

/** Workgroups of 256 invocations covering n elements. */
export function groups256(n: number): number {
  return Math.ceil(n / 256);
}

/** Workgroups of the vec4 elementwise kernels (256 invocations x 16 elements) covering n elements. */
export function groups4096(n: number): number {
  return Math.ceil(n / 4096);
}

/**
 * A tensor's buffer bound over its logical bytes rounded up to 16, for kernels that read and
 * write vec4s (pool buffers are multiples of 256 bytes, so the rounded range is always there).
 */
export function bindVec4(t: Tensor, offsetElements = 0, elements = t.size - offsetElements): { buffer: GPUBuffer; offset: number; size: number } {
  return { buffer: t.buffer, offset: offsetElements * 4, size: Math.max(16, Math.ceil(elements / 4) * 16) };
}

/**
 * The most bytes one storage binding may cover in ops that split large tensors into windows: a
 * multiple of 256 (binding offsets) below the device's maxStorageBufferBindingSize, or below
 * flags.maxBindingWindowBytes when a test lowers it.
 */
export function bindingWindowBytes(): number {
  const device = Math.min(engine.gpu.limits.maxStorageBufferBindingSize, 2 ** 31);
  const max = flags.maxBindingWindowBytes > 0 ? Math.min(device, flags.maxBindingWindowBytes) : device;
  return Math.max(256, Math.floor(max / 256) * 256 - 256);
}

/** `bindingWindowBytes` in float32 elements, a multiple of 64 (so window offsets stay 256-byte aligned). */
export function bindingWindowElements(): number {
  return Math.max(64, Math.floor(bindingWindowBytes() / 4 / 64) * 64);
}

/** A tensor's buffer bound over its logical bytes (pool buckets may be larger than the tensor). */
export function bind(t: Tensor, offsetElements = 0, elements = t.size - offsetElements): { buffer: GPUBuffer; offset: number; size: number } {
  return { buffer: t.buffer, offset: offsetElements * 4, size: Math.max(4, elements * 4) };
}
