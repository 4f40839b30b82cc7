/**
 * What differs between the places voxgrad runs, behind one small interface: where the WebGPU
 * entry point comes from, what to tell a user who has none, and where tuning results persist.
 * The browser entry (src/index.ts) uses the defaults below (navigator.gpu, localStorage); the
 * Node entry (src/index.node.ts) installs src/node/platform.ts (dawn.node, a JSON file). Nothing
 * outside src/node imports a Node module, so the browser bundle has none.
 */

export interface GpuRequest {
  /** dawn.node only: the adapter name (its `adapter=` option). */
  adapter?: string;
  /** dawn.node only: the backend ('vulkan', 'metal', 'd3d12', ...). */
  backend?: string;
}

/** A value that follows asynchronous code across its awaits (Node's AsyncLocalStorage). */
export interface AsyncContext<T> {
  /** The value of the innermost `run` this code (or the code that scheduled it) runs in. */
  get(): T | undefined;
  run<R>(value: T, fn: () => R): R;
}

export interface Platform {
  /** The WebGPU entry point, or a DeviceError saying why there is none. */
  gpu(request: GpuRequest): Promise<GPU>;
  /** What to do when no adapter is found. */
  readonly noAdapterHelp: string;
  /** Reads and writes the tuner's choices (a small JSON value); null when nothing is stored. */
  loadTuning(): unknown;
  saveTuning(value: unknown): void;
  /**
   * A new async context, or null where there is none (browsers, until TC39's AsyncContext): with
   * one, tensors made after an await belong to the tidyAsync that awaited, even when several run
   * concurrently.
   */
  asyncContext<T>(): AsyncContext<T> | null;
}

const TUNING_KEY = 'voxgrad.tuning';

/** The browser's: navigator.gpu, and localStorage for the tuner. */
const browserPlatform: Platform = {
  async gpu() {
    const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (!gpu) throw new Error('this browser has no WebGPU (navigator.gpu is undefined)');
    return gpu;
  },
  noAdapterHelp: 'Use a browser with WebGPU enabled (Chrome/Edge 113+, or Chromium with --enable-unsafe-webgpu).',
  loadTuning() {
    try {
      const text = (globalThis as { localStorage?: Storage }).localStorage?.getItem(TUNING_KEY);
      return text ? JSON.parse(text) : null;
    } catch {
      return null;
    }
  },
  saveTuning(value) {
    try {
      (globalThis as { localStorage?: Storage }).localStorage?.setItem(TUNING_KEY, JSON.stringify(value));
    } catch {
      // Storage may be full or disabled: tuning then lasts for the session only.
    }
  },
  asyncContext() {
    return null;
  },
};

let current: Platform = browserPlatform;

export function platform(): Platform {
  return current;
}

/** Installs the platform (the Node entry does, once, when it loads). */
export function setPlatform(p: Platform): void {
  current = p;
}
