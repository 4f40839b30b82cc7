/** Engine-level user API: device lifecycle, scopes, memory counters, batched reads. */
import { argMessage, ValueError } from '../errors.js';
import type { DeviceLimits } from './backend.js';
import type { DataArray } from './dtype.js';
import { engine, type MemoryInfo, type Scope } from './engine.js';
import { definedKernels, type Kernel, type KernelVariant } from './kernel.js';
import { checkTensor, describe } from './ops/check.js';
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
export async function readAll(tensors: readonly Tensor[]): Promise<DataArray[]> {
  if (!Array.isArray(tensors))
    throw new ValueError(argMessage('readAll', 'tensors', 'an array of Tensors', describe(tensors)));
  tensors.forEach((t, i) => {
    checkTensor('readAll', `tensors[${i}]`, t);
  });
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
 * Runs `fn` and disposes every tensor it created except those it returns (and `keep()`s). An
 * async `fn` (one returning a Promise) is run as `tidyAsync` would run it.
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new ValueError(argMessage('tidy', 'fn', 'a function', describe(fn)));
  const { scope, result } = engine.withScope(fn);
  if (result instanceof Promise) return settleScope(scope, result) as T;
  engine.endScope(result, scope);
  return result;
}

/** Ends `scope` when `pending` settles: its result survives, everything else made meanwhile is freed. */
async function settleScope<T>(scope: Scope, pending: Promise<T>): Promise<T> {
  engine.markAsync(scope);
  let result: T;
  try {
    result = await pending;
  } catch (e) {
    engine.endScope(undefined, scope);
    throw e;
  }
  engine.endScope(result, scope);
  return result;
}

/**
 * The async form of `tidy`: tensors created by `fn` across its awaits are disposed when it
 * settles, except those it returns. Scopes nest, and calls that run concurrently (awaited
 * together) each keep their own tensors: in Node each call's scope follows its own awaits (an
 * async context). Where there is no async context (browsers), concurrent calls share one stack of
 * scopes: each still returns its results intact, but a tensor one call makes while another call's
 * scope is innermost is freed when that call ends (using it later is a DisposedError that says so).
 */
export function tidyAsync<T>(fn: () => Promise<T>): Promise<T> {
  if (typeof fn !== 'function')
    return Promise.reject(new ValueError(argMessage('tidyAsync', 'fn', 'a function', describe(fn))));
  let scope: Scope;
  let pending: Promise<T>;
  try {
    ({ scope, result: pending } = engine.withScope(() => Promise.resolve(fn())));
  } catch (e) {
    return Promise.reject(e);
  }
  return settleScope(scope, pending);
}

/** Exempts a tensor from the scopes it was created in. */
export function keep<T extends Tensor>(t: T): T {
  return engine.keep(t);
}

/**
 * Compiles kernels ahead of use, in parallel: the given variants, or the default pipeline of
 * every defined kernel the device can run (those that need a feature it lacks, such as
 * subgroups, are left out).
 */
export async function warmup(kernels?: readonly { kernel: Kernel; variant?: KernelVariant }[]): Promise<void> {
  const backend = engine.backend;
  const list: readonly { kernel: Kernel; variant?: KernelVariant }[] =
    kernels ?? definedKernels().flatMap((kernel) => (backend.supports(kernel) ? [{ kernel }] : []));
  await Promise.all(list.map((k) => backend.compile(k.kernel, k.variant)));
}
