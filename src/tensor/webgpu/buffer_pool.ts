/**
 * A size-bucketed pool of GPU storage buffers with hard caps.
 *
 * Sizes are rounded up to a bucket (256-byte steps up to 4 KiB, then four steps per power of two,
 * at most 25 % slack) so volumes of many sizes share buckets instead of creating one each.
 * A freed buffer is only reusable after the commands that used it were submitted: the backend
 * releases into `#pending` while a batch is open and calls `settle()` after each submit.
 */
import { DeviceError } from '../../errors.js';
import type { DeviceBuffer, MemoryStats } from '../backend.js';
import { flags } from '../flags.js';

// Storage for every kernel, uniform for the kernels that read small operands (a conv kernel's
// weights) through the uniform path, copies both ways.
const BUFFER_USAGE_STORAGE = 0x0080 | 0x0040 | 0x0004 | 0x0008; // STORAGE | UNIFORM | COPY_SRC | COPY_DST

/** The backend's DeviceBuffer: a GPUBuffer the rest of voxgrad sees only as opaque. */
export class PooledBuffer implements DeviceBuffer {
  /** Handed out and not yet released (a released buffer may be reused or destroyed at any submit). */
  live = true;
  constructor(readonly gpu: GPUBuffer) {}
  get size(): number {
    return this.gpu.size;
  }
}

export function bucketSize(bytes: number): number {
  const b = Math.max(bytes, 16);
  if (b <= 4096) return Math.ceil(b / 256) * 256;
  const pow = 2 ** Math.floor(Math.log2(b));
  const step = pow / 4;
  return Math.ceil(b / step) * step;
}

export class BufferPool {
  readonly #device: GPUDevice;
  readonly #free = new Map<number, PooledBuffer[]>();
  #pending: PooledBuffer[] = [];
  #stats: MemoryStats = { usedBytes: 0, pooledBytes: 0, allocatedBytes: 0 };
  #nextLabel = 0;

  /** Where an asynchronous allocation failure goes (the backend records it). */
  onError: (e: DeviceError) => void = () => {};

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  get stats(): Readonly<MemoryStats> {
    return this.#stats;
  }

  acquire(bytes: number): PooledBuffer {
    const size = bucketSize(bytes);
    const list = this.#free.get(size);
    let buffer = list?.pop();
    if (buffer) {
      this.#stats.pooledBytes -= size;
    } else {
      // A device out of memory reports it asynchronously: it reaches the caller at the next sync point.
      this.#device.pushErrorScope('out-of-memory');
      buffer = new PooledBuffer(
        this.#device.createBuffer({ size, usage: BUFFER_USAGE_STORAGE, label: `voxgrad-${this.#nextLabel++}` }),
      );
      void this.#device.popErrorScope().then((err) => {
        if (err)
          this.onError(
            new DeviceError(`out of memory: the device could not allocate a buffer of ${size} bytes (${err.message})`),
          );
      });
      this.#stats.allocatedBytes += size;
    }
    this.#stats.usedBytes += size;
    buffer.live = true;
    return buffer;
  }

  /** Returns a buffer; it becomes reusable at the next `settle()`. */
  release(buffer: PooledBuffer): void {
    // Pooling a buffer twice would hand it to two tensors.
    if (!buffer.live) return;
    buffer.live = false;
    this.#stats.usedBytes -= buffer.size;
    this.#pending.push(buffer);
  }

  /** Called after a submit: released buffers go back to their buckets or are destroyed. */
  settle(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const buffer of pending) {
      const size = buffer.size;
      const list = this.#free.get(size) ?? [];
      const fits =
        size <= flags.poolMaxBufferBytes &&
        list.length < flags.poolBucketCap &&
        this.#stats.pooledBytes + size <= flags.poolCapBytes;
      if (fits) {
        list.push(buffer);
        this.#free.set(size, list);
        this.#stats.pooledBytes += size;
      } else {
        buffer.gpu.destroy();
        this.#stats.allocatedBytes -= size;
      }
    }
  }

  /** Destroys every idle buffer (for loops whose shapes change, and at shutdown). */
  releaseCache(): void {
    for (const list of this.#free.values()) {
      for (const buffer of list) {
        buffer.gpu.destroy();
        this.#stats.allocatedBytes -= buffer.size;
      }
    }
    this.#free.clear();
    this.#stats.pooledBytes = 0;
  }
}
