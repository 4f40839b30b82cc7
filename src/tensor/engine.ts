/**
 * The engine: the current device, tensor bookkeeping (live counts, scopes) and the hook through
 * which the autodiff tape observes top-level ops. Ops reach the device only through
 * `engine.backend`, the Backend seam.
 */
import { DeviceError, KernelError, NumericsError } from '../errors.js';
import { type AsyncContext, type Platform, platform } from '../platform.js';
import type { Backend } from './backend.js';
import { BYTES_PER_ELEMENT, type DataArray, type DType } from './dtype.js';
import { flags } from './flags.js';
import { type OpAttrs, type OpName, opDefinition } from './op.js';
import type { Shape } from './shape.js';
import { Storage, setTensorHost, Tensor } from './tensor.js';
import { closeDevice, type InitOptions, type OpenedDevice, openDevice } from './webgpu/device.js';

/** What the tape sees of one op call. */
export interface OpRecord<N extends OpName = OpName> {
  readonly name: N;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Readonly<OpAttrs[N]>;
}

/** The autodiff tape implements this; the engine calls it for every top-level op while recording. */
export interface OpObserver {
  /** Whether an op with these inputs should be recorded now. */
  wants(inputs: readonly Tensor[]): boolean;
  record<N extends OpName>(op: OpRecord<N>): void;
}

export interface MemoryInfo {
  /** Tensor handles not yet disposed (including internal ones, e.g. saved for backward). */
  liveTensors: number;
  /** GPU buffers held by tensors. */
  liveBuffers: number;
  /** Logical bytes of those buffers. */
  liveBytes: number;
  /** The most live bytes at any moment since the device was opened or `resetPeakBytes()`. */
  peakBytes: number;
  /** Bytes in idle pooled buffers. */
  pooledBytes: number;
  /** Bytes of every device buffer currently allocated (held + pooled, rounded to buckets). */
  allocatedBytes: number;
  /** Compute dispatches recorded since init. */
  dispatches: number;
}

class Engine {
  #opened: OpenedDevice | null = null;
  /** The device being opened by an init() still in progress (a concurrent init() shares it). */
  #opening: Promise<Backend> | null = null;
  /** Incremented each time a device is opened; tensors remember the one they were made on. */
  #generation = 0;
  #liveTensors = 0;
  #liveBuffers = 0;
  #liveBytes = 0;
  #peakBytes = 0;
  /** The scopes, innermost last, where no async context is available (or outside any). */
  readonly #globalScopes: Scope[] = [];
  /** Each async scope's own stack (its enclosing scopes, then itself), across its awaits. */
  #context: AsyncContext<Scope[]> | null = null;
  /** The platform #context came from (a new platform brings its own). */
  #contextOf: Platform | null = null;
  /** Scopes of async functions not yet settled, when there is no async context. */
  readonly #async = new WeakSet<Scope>();
  /** Depth of nested op calls: only depth-0 ops are recorded on the tape. */
  #opDepth = 0;
  observer: OpObserver | null = null;
  /** Counts the finite values of a tensor on the GPU (installed by numerics.ts). */
  numericsProbe: ((t: Tensor) => Tensor) | null = null;
  #probing = false;
  #opCalls = 0;
  #pendingNumerics: { op: OpName; call: number; shape: readonly number[]; size: number; finite: Tensor }[] = [];

  get backend(): Backend {
    if (!this.#opened)
      throw new DeviceError('voxgrad has no device: call `await init()` first (or again after dispose())');
    return this.#opened.backend;
  }

  get ready(): boolean {
    return this.#opened !== null;
  }

  async init(options?: InitOptions): Promise<Backend> {
    if (this.#opening) return this.#opening;
    if (this.#opened && !this.#opened.backend.isLost) return this.#opened.backend;
    this.#opening = (async () => {
      if (this.#opened) await this.#close();
      this.#opened = await openDevice(options);
      this.#generation++;
      return this.#opened.backend;
    })();
    try {
      return await this.#opening;
    } finally {
      this.#opening = null;
    }
  }

  /**
   * Waits for the GPU to finish, then destroys the device. Destroying a device with work still
   * in flight, or letting the process exit before Dawn settles, crashes dawn.node.
   */
  async dispose(): Promise<void> {
    // A device still being opened is closed once it is open.
    if (this.#opening) await this.#opening.catch(() => {});
    await this.#close();
  }

  async #close(): Promise<void> {
    if (!this.#opened) return;
    const opened = this.#opened;
    this.#opened = null;
    this.#liveBuffers = 0;
    this.#liveBytes = 0;
    if (!opened.backend.isLost) {
      try {
        await opened.backend.sync();
      } catch {
        // The device is being closed; an error it reports now has no one left to act on it.
      }
    }
    await closeDevice(opened);
  }

  memory(): MemoryInfo {
    const stats = this.#opened?.backend.memoryStats();
    return {
      liveTensors: this.#liveTensors,
      liveBuffers: this.#liveBuffers,
      liveBytes: this.#liveBytes,
      peakBytes: this.#peakBytes,
      pooledBytes: stats?.pooledBytes ?? 0,
      allocatedBytes: stats?.allocatedBytes ?? 0,
      dispatches: this.#opened?.backend.counters.dispatches ?? 0,
    };
  }

  /** Returns the peak of live bytes so far and starts a new one from the bytes live now. */
  resetPeakBytes(): number {
    const p = this.#peakBytes;
    this.#peakBytes = this.#liveBytes;
    return p;
  }

  // --- tensors -------------------------------------------------------------------------------

  /** A new tensor over a fresh (uninitialised) buffer, tracked by the current scope. */
  empty(shape: Shape, dtype: DType): Tensor {
    const bytes = shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT;
    const backend = this.backend;
    if (bytes > backend.limits.maxBufferSize) {
      throw new DeviceError(
        `a ${dtype} tensor of shape [${shape.join(', ')}] needs ${bytes} bytes, more than this device's maxBufferSize (${backend.limits.maxBufferSize} bytes)`,
      );
    }
    this.#checkBudget(bytes, shape, dtype);
    const storage = new Storage(backend.allocate(bytes), bytes, this.#generation);
    this.#liveBuffers++;
    this.#liveBytes += bytes;
    if (this.#liveBytes > this.#peakBytes) this.#peakBytes = this.#liveBytes;
    return this.adopt(new Tensor(shape, dtype, storage));
  }

  /**
   * With a memory budget (flags.memoryBudgetBytes), an allocation that would take the device
   * memory past it first gives the idle pooled buffers back, and fails only if that is not enough.
   */
  #checkBudget(bytes: number, shape: Shape, dtype: DType): void {
    const budget = flags.memoryBudgetBytes;
    if (budget <= 0) return;
    const backend = this.backend;
    if (backend.memoryStats().allocatedBytes + bytes <= budget) return;
    backend.releasePool();
    const allocated = backend.memoryStats().allocatedBytes;
    if (allocated + bytes <= budget) return;
    throw new DeviceError(
      `out of memory: a ${dtype} tensor of shape [${shape.join(', ')}] needs ${bytes} bytes, and ${allocated} of the memory budget's ${budget} bytes are in use (flags.memoryBudgetBytes)`,
    );
  }

  /** Another tensor over `t`'s storage with a new shape of the same size (no copy). */
  view(t: Tensor, shape: Shape = t.shape): Tensor {
    const s = t.storageFor('view');
    s.refs++;
    return this.adopt(new Tensor(shape, t.dtype, s));
  }

  /** Registers a tensor object with the live counters and the current scope. */
  adopt<T extends Tensor>(t: T): T {
    this.#liveTensors++;
    this.#stack().at(-1)?.add(t);
    return t;
  }

  /** Which device (counting every one opened) is current; storage remembers the one it came from. */
  get generation(): number {
    return this.#generation;
  }

  releaseStorage(s: Storage): void {
    if (--s.refs > 0) return;
    // A buffer of an earlier device went with that device (its counters were reset then).
    if (s.generation !== this.#generation) return;
    this.#liveBuffers--;
    this.#liveBytes -= s.bytes;
    if (this.#opened) this.#opened.backend.free(s.buffer);
  }

  tensorDisposed(t: Tensor): void {
    this.#liveTensors--;
    for (const scope of this.#stack()) scope.delete(t);
  }

  async read(t: Tensor): Promise<DataArray> {
    return (await this.readMany([t]))[0];
  }

  /** Reads several tensors with one submit and one wait (and the pending numerics checks). */
  async readMany(ts: readonly Tensor[]): Promise<DataArray[]> {
    const pending = this.#pendingNumerics;
    this.#pendingNumerics = [];
    const ranges = [...ts, ...pending.map((p) => p.finite)].map((t, i) => ({
      buffer: t.storageFor('read', `tensors[${i}]`).buffer,
      bytes: t.byteSize,
    }));
    const raw = await this.backend.read(ranges);
    const first = pending.find((p, i) => new Float32Array(raw[ts.length + i])[0] !== p.size);
    const report = first
      ? `op '${first.op}' (call ${first.call}) produced ${first.size - new Float32Array(raw[ts.length + pending.indexOf(first)])[0]} non-finite value(s) in its output of shape [${first.shape.join(', ')}]`
      : '';
    for (const p of pending) p.finite.dispose();
    if (first) throw new NumericsError(`checkNumerics: ${report}; it is the first such op since the last check`);
    return raw.slice(0, ts.length).map((b, i) => (ts[i].dtype === 'float32' ? new Float32Array(b) : new Int32Array(b)));
  }

  /** Queues the finite-value count of each float32 output of a top-level op. */
  #probe(name: OpName, out: Tensor | Tensor[]): void {
    const call = ++this.#opCalls;
    this.#probing = true;
    try {
      this.withoutObserver(() => {
        for (const t of Array.isArray(out) ? out : [out]) {
          if (t.dtype !== 'float32' || t.size === 0) continue;
          this.#pendingNumerics.push({
            op: name,
            call,
            shape: t.shape,
            size: t.size,
            finite: this.keep(this.numericsProbe!(t)),
          });
        }
      });
    } finally {
      this.#probing = false;
    }
  }

  // --- scopes --------------------------------------------------------------------------------

  /** The scopes of the code running now, innermost last. */
  #stack(): Scope[] {
    const p = platform();
    if (p !== this.#contextOf) {
      this.#contextOf = p;
      this.#context = p.asyncContext<Scope[]>();
    }
    return this.#context?.get() ?? this.#globalScopes;
  }

  /**
   * Runs `fn` in a new scope: tensors created while it is the innermost one belong to it (end it
   * with `endScope`). With an async context (Node), the scope is the innermost of `fn`'s own stack,
   * which its continuations keep after every await: what an async `fn` makes after an await
   * belongs to it even while other async scopes run, and the caller's own code is never in it.
   */
  withScope<T>(fn: () => T): { scope: Scope; result: T } {
    const stack = this.#stack();
    const scope: Scope = new Set();
    const own = this.#context ? [...stack, scope] : null;
    if (!own) stack.push(scope);
    try {
      return { scope, result: own ? this.#context!.run(own, fn) : fn() };
    } catch (e) {
      this.endScope(undefined, scope);
      throw e;
    }
  }

  /** Marks `scope` as the scope of an async function that has not settled yet. */
  markAsync(scope: Scope): void {
    if (!this.#context) this.#async.add(scope);
  }

  /**
   * Ends `scope`: disposes what was created in it except the tensors in `result`, which move to
   * the scope that encloses the code ending it. Without an async context, async scopes that run
   * concurrently share one stack and end in any order: a scope is removed from where it is, and
   * its results are also taken out of the scopes opened after it (its tensors may have been
   * created while one of those was innermost), so a result is never freed by another's end.
   */
  endScope(result: unknown, scope: Scope): void {
    const stack = this.#stack();
    const at = stack.lastIndexOf(scope);
    if (at >= 0) stack.splice(at, 1);
    const later = at >= 0 ? stack.slice(at) : [];
    const below = at >= 0 ? stack.slice(0, at) : stack;
    // Without an async context, an async scope below a pending async one may be its sibling
    // (started by the same caller), not its child: its results then go to the nearest scope that
    // is not a pending async one, where no sibling's end can free them.
    const parent = this.#async.has(scope) ? [...below].reverse().find((s) => !this.#async.has(s)) : below.at(-1);
    this.#async.delete(scope);
    const keep = new Set<Tensor>();
    collectTensors(result, keep);
    for (const t of keep) {
      if (!scope.has(t) && !later.some((l) => l.has(t))) continue;
      for (const l of later) l.delete(t);
      scope.delete(t);
      parent?.add(t);
    }
    for (const t of scope) {
      if (t.kept) continue;
      t.freedByScope = true;
      t.dispose();
    }
  }

  /** Removes a tensor from every scope so it outlives them. */
  keep<T extends Tensor>(t: T): T {
    t.kept = true;
    for (const scope of this.#stack()) scope.delete(t);
    return t;
  }

  /** Undoes `keep`: the tensor belongs to the innermost scope again (as if created there). */
  unkeep<T extends Tensor>(t: T): T {
    t.kept = false;
    this.#stack().at(-1)?.add(t);
    return t;
  }

  // --- ops -------------------------------------------------------------------------------------

  /**
   * Runs an op's forward. Nested op calls (ops built from ops) are not recorded: only the
   * outermost op is a node on the tape, with its own gradient rule.
   */
  run<N extends OpName, T extends Tensor | Tensor[]>(
    name: N,
    inputs: readonly Tensor[],
    attrs: OpAttrs[N],
    forward: () => T,
  ): T {
    opDefinition(name);
    const observer = this.#opDepth === 0 ? this.observer : null;
    const recording = observer?.wants(inputs);
    this.#opDepth++;
    // Every tensor the op creates is tracked, so an op that fails half-way (a binding over the
    // device's limit, a device lost mid-op) frees what it made instead of leaking it.
    const made = new Set<Tensor>();
    const stack = this.#stack();
    stack.push(made);
    let out: T;
    try {
      // A top-level op records its commands in an error scope of its own (when a device is open:
      // without one, the first allocation says so).
      out = this.#opDepth === 1 && this.#opened ? this.#opened.backend.recordOp(name, forward) : forward();
    } catch (e) {
      for (const t of made) if (!t.kept) t.dispose();
      throw this.#opDepth === 1 ? named(name, e) : e;
    } finally {
      stack.splice(stack.lastIndexOf(made), 1);
      this.#opDepth--;
    }
    // An op leaves behind only what it returns: the intermediates of an op built from ops are
    // freed here, whatever scope it was called in (or none).
    const outputs: Tensor[] = Array.isArray(out) ? out : [out as Tensor];
    const returned = new Set(outputs);
    const parent = stack.at(-1);
    for (const t of made) {
      if (returned.has(t)) parent?.add(t);
      else if (!t.kept) t.dispose();
    }
    if (recording && observer) observer.record<N>({ name, inputs, outputs, attrs });
    if (flags.checkNumerics && this.#opDepth === 0 && !this.#probing && this.numericsProbe) this.#probe(name, out);
    return out;
  }

  /** Runs `fn` with the tape paused (and restores it even on error). */
  withoutObserver<T>(fn: () => T): T {
    const saved = this.observer;
    this.observer = null;
    try {
      return fn();
    } finally {
      this.observer = saved;
    }
  }
}

/** A device or kernel error raised inside an op, with the op's name in front of its message. */
function named(op: string, e: unknown): unknown {
  if (!(e instanceof DeviceError || e instanceof KernelError) || e.message.startsWith(`${op}:`)) return e;
  return e instanceof DeviceError ? new DeviceError(`${op}: ${e.message}`) : new KernelError(`${op}: ${e.message}`);
}

/** The tensors in a value (itself, or inside arrays, Maps and plain objects). */
export function tensorsIn(x: unknown): Set<Tensor> {
  const out = new Set<Tensor>();
  collectTensors(x, out);
  return out;
}

function collectTensors(x: unknown, into: Set<Tensor>, seen = new Set<unknown>()): void {
  if (x instanceof Tensor) {
    into.add(x);
    return;
  }
  if (x === null || typeof x !== 'object' || seen.has(x)) return;
  seen.add(x);
  if (Array.isArray(x)) for (const v of x) collectTensors(v, into, seen);
  else if (x instanceof Map) for (const v of x.values()) collectTensors(v, into, seen);
  else if (Object.getPrototypeOf(x) === Object.prototype)
    for (const v of Object.values(x)) collectTensors(v, into, seen);
}

/** The tensors created while a scope was the innermost one. */
export type Scope = Set<Tensor>;

export const engine = new Engine();
setTensorHost(engine);
