/**
 * The seam between the ops and the device (the shape of jax-js's `Backend`): allocate, free,
 * write, copy, dispatch, read, sync. Ops and the engine see only this interface and opaque
 * `DeviceBuffer`s; the one implementation, over WebGPU, lives in `webgpu/` and is the only code
 * that touches `GPUDevice`, `GPUBuffer` or command encoders.
 */
import type { Kernel, KernelCall, KernelVariant } from './kernel.js';

/** A device allocation. Opaque outside the backend that made it. */
export interface DeviceBuffer {
  /** Bytes allocated (a pool bucket: at least what was asked for). */
  readonly size: number;
}

/** A byte range of a buffer bound to one kernel binding. */
export interface Binding {
  readonly buffer: DeviceBuffer;
  readonly offset: number;
  readonly size: number;
}

/** The device limits voxgrad plans work with (read from the device, never assumed). */
export interface DeviceLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly minStorageBufferOffsetAlignment: number;
  readonly minUniformBufferOffsetAlignment: number;
  readonly maxUniformBufferBindingSize: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly [name: string]: number;
}

export interface MemoryStats {
  /** Bytes in buffers handed out to tensors (rounded to pool buckets). */
  usedBytes: number;
  /** Bytes in idle pooled buffers kept for reuse. */
  pooledBytes: number;
  /** Bytes of every device buffer allocated and not yet destroyed. */
  allocatedBytes: number;
}

export interface Counters {
  /** Kernel dispatches recorded since the device was opened. */
  dispatches: number;
  /** Command batches submitted. */
  submits: number;
  /** Buffers read back to the host. */
  reads: number;
}

export interface KernelTiming {
  kernel: string;
  dispatches: number;
  ms: number;
}

export interface Backend {
  readonly adapterName: string;
  /**
   * The adapter as the tuner's stored choices know it: its name and the features that decide
   * which kernels a variant runs (subgroups), so choices timed without them are never reused with
   * them.
   */
  readonly tuningKey: string;
  /** A software adapter (lavapipe, SwiftShader): a few CPU cores, where fewer, larger workgroups win. */
  readonly isCpuAdapter: boolean;
  readonly limits: DeviceLimits;
  /**
   * The device's smallest subgroup size when its 'subgroups' feature is on, else 0: kernels that
   * share loads across a subgroup (conv3d_weights_subgroup.wgsl) run where it is at least 8.
   */
  readonly subgroupMinSize: number;
  /** The device's largest subgroup size when its 'subgroups' feature is on, else 0. */
  readonly subgroupMaxSize: number;
  /** Whether the device has every feature `kernel` needs (`Kernel.requires`). */
  supports(kernel: Kernel): boolean;
  readonly counters: Readonly<Counters>;
  readonly isLost: boolean;

  /** A buffer of at least `bytes` bytes (from the pool when one is idle). */
  allocate(bytes: number): DeviceBuffer;
  /** Returns a buffer; it is reused only after the commands recorded so far were submitted. */
  free(buffer: DeviceBuffer): void;
  /** Uploads host data into a buffer no recorded command uses yet. */
  write(buffer: DeviceBuffer, data: ArrayBufferView, byteOffset?: number): void;
  /** Records a device-side copy (offsets and sizes in bytes, multiples of 4). */
  copy(src: DeviceBuffer, srcOffset: number, dst: DeviceBuffer, dstOffset: number, bytes: number): void;
  /** Records one kernel dispatch. */
  dispatch<K extends Kernel>(kernel: K, call: KernelCall<K>): void;
  /**
   * Records the commands of one top-level op (`record` issues them): a device error they cause
   * is a KernelError naming `op`, and never invalidates the commands of other ops.
   */
  recordOp<T>(op: string, record: () => T): T;
  /** Copies byte ranges of buffers to the host with one submit and one wait. */
  read(ranges: readonly { buffer: DeviceBuffer; offset?: number; bytes: number }[]): Promise<ArrayBuffer[]>;
  /** Submits everything recorded so far. */
  flush(): void;
  /** Submits and waits until the device has finished. */
  sync(): Promise<void>;
  /** Compiles a kernel variant ahead of use (in parallel with others). */
  compile(kernel: Kernel, variant?: KernelVariant): Promise<void>;
  memoryStats(): MemoryStats;
  /** Destroys every idle pooled buffer (gives the memory back to the device). */
  releasePool(): void;
  /** Throws the first asynchronous device error since the last call, or a DeviceError once lost. */
  checkHealthy(): void;
  /** Device time of the work `record` records, or null without timestamp queries. */
  gpuTimeMs(record: () => void): Promise<number | null>;
  /** Device time per kernel of the work `record` records, or null without timestamp queries. */
  profileKernels(record: () => void, capacity?: number): Promise<KernelTiming[] | null>;
  readonly hasTimestamps: boolean;
  /** Releases the device (the caller waits for `sync` first). */
  destroy(): void;
}
