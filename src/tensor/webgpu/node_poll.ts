/**
 * Throttled event polling for Dawn's Node bindings.
 *
 * While a promise of dawn.node (mapAsync, onSubmittedWorkDone) is pending, its AsyncRunner
 * re-arms the global `setImmediate` to call ProcessEvents, a busy loop that takes a whole core
 * (crbug.com/dawn/1127). On a software GPU that core is one the GPU itself needs. During our own
 * waits we swap in a `setImmediate` that defers native callbacks (Dawn's) by a timer tick;
 * JavaScript callbacks pass through unchanged.
 */
import { flags } from '../flags.js';

type SetImmediate = (fn: (...args: unknown[]) => void, ...args: unknown[]) => unknown;

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
let depth = 0;
let original: SetImmediate | null = null;

function isNative(fn: unknown): boolean {
  return typeof fn === 'function' && Function.prototype.toString.call(fn).includes('[native code]');
}

function throttledSetImmediate(fn: (...args: unknown[]) => void, ...args: unknown[]): unknown {
  if (isNative(fn)) return setTimeout(fn, 1, ...args);
  return original!(fn, ...args);
}

/** Runs `start` (which begins a Dawn wait) and awaits its promise with throttled polling. */
export async function waitThrottled<T>(start: () => Promise<T>): Promise<T> {
  if (!isNode || !flags.throttledPoll) return start();
  const g = globalThis as unknown as { setImmediate: SetImmediate };
  if (depth++ === 0) {
    original = g.setImmediate;
    g.setImmediate = throttledSetImmediate;
  }
  try {
    return await start();
  } finally {
    if (--depth === 0) {
      g.setImmediate = original!;
      original = null;
    }
  }
}
