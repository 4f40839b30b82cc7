/**
 * What every launcher needs to turn tensors into a dispatch: bindings over a tensor's bytes (or a
 * window of them), workgroup counts, and the binding window that ops split large tensors into.
 *
 * Tensors larger than one storage binding (the device's maxStorageBufferBindingSize) are handled
 * one way everywhere: the op's invocations are split into consecutive ranges whose element ranges
 * fit one window; each range is dispatched with its bindings starting at an aligned offset, and the
 * kernel subtracts that offset (a `*_base` param) from the global index it computes.
 */
import { DeviceError } from '../errors.js';
import type { Binding } from './backend.js';
import { engine } from './engine.js';
import { flags } from './flags.js';
import type { Kernel, KernelCall } from './kernel.js';
import type { Tensor } from './tensor.js';

/** Records one dispatch of `kernel` on the current device. */
export function dispatch<K extends Kernel>(kernel: K, call: KernelCall<K>): void {
  engine.backend.dispatch(kernel, call);
}

/** Workgroups of `perGroup` elements (invocations × elements per invocation) covering n. */
export function workgroups(n: number, perGroup: number): number {
  return Math.ceil(n / perGroup);
}

/** A tensor's buffer bound over its logical bytes (pool buckets may be larger than the tensor). */
export function bind(t: Tensor, firstElement = 0, elements = t.size - firstElement): Binding {
  return { buffer: t.buffer, offset: firstElement * 4, size: Math.max(4, elements * 4) };
}

/**
 * A tensor's buffer bound over its logical bytes rounded up to 16, for kernels that read and
 * write vec4s (pool buffers are multiples of 256 bytes, so the rounded range is always there).
 */
export function bindVec4(t: Tensor, firstElement = 0, elements = t.size - firstElement): Binding {
  return { buffer: t.buffer, offset: firstElement * 4, size: Math.max(16, Math.ceil(elements / 4) * 16) };
}

/**
 * The elements [first, end) of a tensor as a binding rounded out to 16 bytes; `first` must be a
 * multiple of `windowAlignElements()`.
 */
export function bindRange(t: Tensor, first: number, end: number): Binding {
  return { buffer: t.buffer, offset: first * 4, size: Math.ceil(Math.max(4, (end - first) * 4) / 16) * 16 };
}

/**
 * The most bytes one storage binding may cover in ops that split large tensors into windows: a
 * multiple of 256 (binding offsets) below the device's maxStorageBufferBindingSize, or below
 * flags.maxBindingWindowBytes when a test lowers it.
 */
export function bindingWindowBytes(): number {
  const device = Math.min(engine.backend.limits.maxStorageBufferBindingSize, 2 ** 31);
  const max = flags.maxBindingWindowBytes > 0 ? Math.min(device, flags.maxBindingWindowBytes) : device;
  return Math.max(256, Math.floor(max / 256) * 256 - 256);
}

/** Elements a window offset must be a multiple of (256 bytes: WebGPU's binding offset alignment). */
export function windowAlignElements(): number {
  return Math.max(64, engine.backend.limits.minStorageBufferOffsetAlignment / 4);
}

/** `bindingWindowBytes` in 4-byte elements, a multiple of the window alignment. */
export function bindingWindowElements(): number {
  const align = windowAlignElements();
  return Math.max(align, Math.floor(bindingWindowBytes() / 4 / align) * align);
}

/** n rounded down to a multiple of the window alignment. */
export function alignDown(n: number): number {
  const align = windowAlignElements();
  return Math.floor(n / align) * align;
}

/** A range of workgroups dispatched together, and where each windowed binding starts. */
export interface WorkgroupWindow {
  /** Workgroups [w0, w1) of the whole grid. */
  readonly w0: number;
  readonly w1: number;
  /** Per windowed binding: the first element its binding covers (aligned) and one past the last. */
  readonly ranges: readonly (readonly [number, number])[];
}

/**
 * Splits the workgroups [0, total) of a grid into consecutive ranges whose bindings each fit one
 * binding window. `extent(w0, w1)` returns, per windowed binding, the element range [first, end)
 * that workgroups [w0, w1) read or write; it must grow with w1. Each range binds its buffers from
 * `alignDown(first)`; the kernel subtracts that base from the indices it computes. A tensor that
 * fits one window gives a single range covering every workgroup.
 */
export function splitWorkgroups(
  total: number,
  extent: (w0: number, w1: number) => readonly (readonly [number, number])[],
): WorkgroupWindow[] {
  const limit = bindingWindowElements();
  const fits = (w0: number, w1: number): boolean =>
    extent(w0, w1).every(([first, end]) => end - alignDown(first) <= limit);
  const out: WorkgroupWindow[] = [];
  let w0 = 0;
  while (w0 < total) {
    // The largest w1 that fits: doubling, then bisection (extents grow with w1).
    let lo = w0 + 1;
    if (!fits(w0, lo))
      throw new DeviceError(
        `one workgroup's bindings need more than the binding window of ${limit * 4} bytes (under this device's maxStorageBufferBindingSize)`,
      );
    let step = 1;
    while (lo + step <= total && fits(w0, lo + step)) {
      lo += step;
      step *= 2;
    }
    let hi = Math.min(total, lo + step);
    while (hi > lo) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fits(w0, mid)) lo = mid;
      else hi = mid - 1;
    }
    out.push({ w0, w1: lo, ranges: extent(w0, lo).map(([first, end]) => [alignDown(first), end] as const) });
    w0 = lo;
  }
  return out;
}

/**
 * The element range [min, max + 1) that a strided operand (`strides` over the iteration `shape`,
 * 0 on broadcast axes, offsets from `offset`) reads for the iteration elements [i0, i1) in
 * row-major order: exact, from the interval split into at most two boxes per axis.
 */
export function stridedRange(
  shape: readonly number[],
  strides: readonly number[],
  i0: number,
  i1: number,
  offset = 0,
): [number, number] {
  if (i1 <= i0) return [offset, offset];
  const rank = shape.length;
  const last = shape.map((d) => d - 1);
  const zero = shape.map(() => 0);
  // Σ strides·(d - 1) over the axes from k: the largest offset the axes inside k add.
  const inner = new Array<number>(rank + 1).fill(0);
  for (let k = rank - 1; k >= 0; k--) inner[k] = inner[k + 1] + strides[k] * last[k];
  // Extremes over the coordinates from lo to hi (inclusive, row-major) with the axes before k fixed.
  const extremes = (lo: readonly number[], hi: readonly number[], k: number, prefix: number): [number, number] => {
    if (k === rank) return [prefix, prefix];
    // A whole box (every axis from k spans its full extent): no need to split further.
    let whole = true;
    for (let j = k; j < rank && whole; j++) whole = lo[j] === 0 && hi[j] === last[j];
    if (whole) return [prefix, prefix + inner[k]];
    if (lo[k] === hi[k]) return extremes(lo, hi, k + 1, prefix + strides[k] * lo[k]);
    const left = extremes(lo, last, k + 1, prefix + strides[k] * lo[k]);
    const right = extremes(zero, hi, k + 1, prefix + strides[k] * hi[k]);
    let min = Math.min(left[0], right[0]);
    let max = Math.max(left[1], right[1]);
    if (hi[k] - lo[k] >= 2) {
      min = Math.min(min, prefix + strides[k] * (lo[k] + 1));
      max = Math.max(max, prefix + strides[k] * (hi[k] - 1) + inner[k + 1]);
    }
    return [min, max];
  };
  const [min, max] = extremes(coordsOf(shape, i0), coordsOf(shape, i1 - 1), 0, offset);
  return [min, max + 1];
}

/** Row-major coordinates of flat index i in `shape`. */
export function coordsOf(shape: readonly number[], i: number): number[] {
  const out = new Array<number>(shape.length);
  let rem = i;
  for (let k = shape.length - 1; k >= 0; k--) {
    out[k] = rem % shape[k];
    rem = Math.floor(rem / shape[k]);
  }
  return out;
}
