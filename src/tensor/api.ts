/** Engine-level user API: device lifecycle, scopes, memory counters, batched reads. */
import type { DeviceLimits } from './backend.js';
import type { DataArray } from './dtype.js';
import { engine, type MemoryInfo } from './engine.js';
import { definedKernels, type Kernel, type KernelVariant } from './kernel.js';
import type { Tensor } from './tensor.js';
import type { InitOptions } from './webgpu/device.js';

export interface DeviceInfo {
  adapter: string;
  limits: Readonly<Record<string, number>>;
}

/**
 * Selects a WebGPU device (dawn.node in Node, navigator.gpu in a browser, or the `device` passed
 * in). Calling it again returns the same device until `dispose()`.
 */
export async function init(options?: InitOptions): Promise<DeviceInfo> {
  const backend = await engine.init(options);
  return describeDevice(backend.adapterName, backend.limits);
}

/** The current device's adapter name and limits (after `init()`). */
export function deviceInfo(): DeviceInfo {
  const backend = engine.backend;
  return describeDevice(backend.adapterName, backend.limits);
}

function describeDevice(adapter: string, limits: DeviceLimits): DeviceInfo {
  return { adapter, limits: { ...limits } };
}

/** Waits for the GPU, then releases the device and every pooled buffer; afterwards the process can exit. */
export function dispose(): Promise<void> {
  return engine.dispose();
}

export function memory(): MemoryInfo {
  return engine.memory();
}

/** Returns the peak of live bytes so far (`memory().peakBytes`) and starts measuring a new one. */
export function resetPeakBytes(): number {
  return engine.resetPeakBytes();
}

/** Waits until the GPU has finished everything recorded so far. */
export function sync(): Promise<void> {
  return engine.backend.sync();
}

/** Reads several tensors back with one submit and one wait. */
export function readAll(tensors: readonly Tensor[]): Promise<DataArray[]> {
  return engine.readMany(tensors);
}

/**
 * Gives the device memory of idle pooled buffers back (when shapes change between phases, or
 * before work that needs memory elsewhere). Allocations that would exceed
 * `flags.memoryBudgetBytes` do this by themselves first.
 */
export function releasePool(): void {
  engine.backend.releasePool();
}

/**
 * Runs `fn` and disposes every tensor it created except those it returns (and `keep()`s).
 * For synchronous code.
 */
export function tidy<T>(fn: () => T): T {
  engine.startScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    engine.endScope(undefined);
    throw e;
  }
  if (result instanceof Promise) {
    engine.endScope(undefined);
    throw new TypeError('tidy: fn returned a Promise; use tidyAsync for async code');
  }
  engine.endScope(result);
  return result;
}

/**
 * The async form of `tidy`: tensors created by `fn` across its awaits are disposed when it
 * settles, except those it returns. Scopes nest; do not interleave two tidyAsync calls
 * concurrently (they share one scope stack).
 */
export async function tidyAsync<T>(fn: () => Promise<T>): Promise<T> {
  engine.startScope();
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    engine.endScope(undefined);
    throw e;
  }
  engine.endScope(result);
  return result;
}

/** Exempts a tensor from the scopes it was created in. */
export function keep<T extends Tensor>(t: T): T {
  return engine.keep(t);
}

/**
 * Compiles kernels ahead of use, in parallel: the given variants, or every defined kernel's
 * default pipeline.
 */
export async function warmup(
  kernels: readonly { kernel: Kernel; variant?: KernelVariant }[] = definedKernels().map((kernel) => ({ kernel })),
): Promise<void> {
  const backend = engine.backend;
  await Promise.all(kernels.map((k) => backend.compile(k.kernel, k.variant)));
}
