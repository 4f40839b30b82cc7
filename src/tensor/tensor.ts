/**
 * Tensors: an immutable shape and dtype over a refcounted GPU buffer (a Storage). Several
 * tensors may share one storage (reshape, saved-for-backward views); the buffer returns to the
 * pool when the last of them is disposed.
 */
import { DeviceError, DisposedError } from '../errors.js';
import type { DeviceBuffer } from './backend.js';
import { BYTES_PER_ELEMENT, type DataArray, type DType } from './dtype.js';
import type { Shape } from './shape.js';

export class Storage {
  refs = 1;
  constructor(
    readonly buffer: DeviceBuffer,
    /** Logical bytes (the buffer may be larger: pool buckets round up). */
    readonly bytes: number,
    /** Which device (in the order voxgrad opened them) owns the buffer. */
    readonly generation = 0,
  ) {}
}

/** Hooks the engine installs so tensors can release storage and read back without an import cycle. */
export interface TensorHost {
  releaseStorage(s: Storage): void;
  tensorDisposed(t: Tensor): void;
  /** The current device's generation (storage from an earlier device is unusable). */
  readonly generation: number;
  read(t: Tensor): Promise<DataArray>;
}

let host: TensorHost | null = null;
export function setTensorHost(h: TensorHost): void {
  host = h;
}

let nextId = 0;

export type NestedArray = number | NestedArray[];

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  #storage: Storage | null;
  /** True for trainable variables: a tape records every op that reads one. */
  requiresGrad = false;
  /** Set by `keep()`: scopes leave this tensor alone. */
  kept = false;
  /** Set when the end of a tidy / tidyAsync scope disposed it (for the message of a later use). */
  freedByScope = false;

  constructor(shape: Shape, dtype: DType, storage: Storage) {
    this.shape = Object.freeze(shape.slice());
    this.dtype = dtype;
    this.size = shape.reduce((a, b) => a * b, 1);
    this.#storage = storage;
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.#storage === null;
  }

  /** The storage, or a DisposedError naming `fn` and `arg`. */
  storageFor(fn = 'tensor', arg = 'tensor'): Storage {
    if (this.#storage === null) {
      const why = this.freedByScope
        ? '; the end of a tidy / tidyAsync scope freed it (return it from the scope or keep() it; without an async context, as in browsers, a tensor made while another concurrent tidyAsync call is innermost belongs to that call)'
        : '';
      throw new DisposedError(
        `${fn}: argument '${arg}' expected a live tensor, got a disposed tensor (id ${this.id}, shape [${this.shape.join(', ')}], ${this.dtype})${why}`,
      );
    }
    if (host && this.#storage.generation !== host.generation) {
      throw new DeviceError(
        `${fn}: argument '${arg}' (tensor id ${this.id}, shape [${this.shape.join(', ')}]) lives on a WebGPU device that was lost or released; create it again on the current device`,
      );
    }
    return this.#storage;
  }

  get buffer(): DeviceBuffer {
    return this.storageFor().buffer;
  }

  get byteSize(): number {
    return this.size * BYTES_PER_ELEMENT;
  }

  /** Replaces the storage (variables only); releases the old one. */
  protected swapStorage(s: Storage): void {
    const old = this.storageFor('assign', 'variable');
    this.#storage = s;
    host!.releaseStorage(old);
  }

  /** Reads the values back (async; never blocks). */
  async data(): Promise<DataArray> {
    this.storageFor('data');
    return host!.read(this);
  }

  /** Reads the values back as nested arrays of this tensor's shape. */
  async array(): Promise<NestedArray> {
    const flat = Array.from(await this.data());
    return nest(flat, this.shape);
  }

  dispose(): void {
    if (this.#storage === null) return;
    const s = this.#storage;
    this.#storage = null;
    host!.releaseStorage(s);
    host!.tensorDisposed(this);
  }

  toString(): string {
    return `Tensor(id=${this.id}, shape=[${this.shape.join(', ')}], ${this.dtype}${this.isDisposed ? ', disposed' : ''})`;
  }
}

function nest(flat: number[], shape: readonly number[]): NestedArray {
  if (shape.length === 0) return flat[0];
  const [d, ...rest] = shape;
  const step = rest.reduce((a, b) => a * b, 1);
  const out: NestedArray[] = [];
  for (let i = 0; i < d; i++) out.push(nest(flat.slice(i * step, (i + 1) * step), rest));
  return out;
}
