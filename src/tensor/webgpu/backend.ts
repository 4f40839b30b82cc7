/**
 * The WebGPU implementation of the Backend seam: the one file that records GPU commands.
 *
 * Dispatches are recorded into one command encoder and submitted in batches (every
 * `flags.submitBatchSize` dispatches, and before any read or sync). Each dispatch gets its own
 * slot in a uniform arena that is uploaded with one writeBuffer just before the submit, so batched
 * passes never see each other's parameters. Buffers freed while a batch is open return to the pool
 * only after that batch is submitted.
 *
 * One invalid command makes WebGPU drop its whole command buffer, so nothing invalid may enter a
 * batch: every binding is checked against the pipeline's WGSL before it is recorded (a KernelError
 * naming the op, thrown at once), and a pipeline the device has not yet confirmed as compiled runs
 * in a submit of its own. Each op's commands are recorded inside a validation error scope, so
 * anything the checks did not foresee is still a KernelError naming the op, at the next read, sync
 * or dispatch.
 */
import { DeviceError, KernelError } from '../../errors.js';
import type { Backend, Binding, Counters, DeviceBuffer, DeviceLimits, KernelTiming, MemoryStats } from '../backend.js';
import { flags } from '../flags.js';
import type { Kernel, KernelCall, KernelVariant } from '../kernel.js';
import { checkBindings } from './binding_check.js';
import { BufferPool, PooledBuffer } from './buffer_pool.js';
import { waitThrottled } from './node_poll.js';
import { packParams } from './params.js';
import { PipelineCache } from './pipelines.js';

const MAP_READ = 0x0001;
const COPY_DST = 0x0008;
const UNIFORM = 0x0040;

/** The GPUBuffer behind a DeviceBuffer this backend made. */
function gpuBuffer(b: DeviceBuffer): GPUBuffer {
  if (!(b instanceof PooledBuffer)) throw new Error('a DeviceBuffer that the WebGPU backend did not allocate');
  return b.gpu;
}

/** The limits of a device as plain numbers. */
function limitsOf(device: GPUDevice): DeviceLimits {
  const out: Record<string, number> = {};
  for (const k in device.limits) out[k] = (device.limits as unknown as Record<string, number>)[k];
  return out as DeviceLimits;
}

export class WebGPUBackend implements Backend {
  readonly device: GPUDevice;
  readonly limits: DeviceLimits;
  readonly adapterName: string;
  readonly isCpuAdapter: boolean;
  readonly subgroupMinSize: number;
  readonly subgroupMaxSize: number;
  readonly tuningKey: string;
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly counters: Counters = { dispatches: 0, submits: 0, reads: 0 };

  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #batched = 0;
  readonly #uniforms: GPUBuffer;
  readonly #uniformStaging: Uint8Array;
  #uniformUsed = 0;
  #error: Error | null = null;
  #lost: string | null = null;
  /** The top-level op whose commands are being recorded (for error messages). */
  #op: string | null = null;
  /** Asynchronous validity checks not yet settled (reads and syncs wait for them). */
  readonly #checks = new Set<Promise<void>>();
  /** While `profileKernels` records: the query set and the kernel of each timed dispatch. */
  #profile: { querySet: GPUQuerySet; kernels: string[]; capacity: number } | null = null;

  constructor(device: GPUDevice, adapterName: string) {
    this.device = device;
    this.limits = limitsOf(device);
    this.adapterName = adapterName;
    this.isCpuAdapter = /llvmpipe|lavapipe|swiftshader|software/i.test(adapterName);
    // adapterInfo is recent in WebGPU; a device without it is treated as having no subgroups.
    const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const subgroups = device.features.has('subgroups');
    this.subgroupMinSize = subgroups ? (info?.subgroupMinSize ?? 0) : 0;
    this.subgroupMaxSize = subgroups ? (info?.subgroupMaxSize ?? 0) : 0;
    this.tuningKey = subgroups
      ? `${adapterName} (subgroups ${this.subgroupMinSize}-${this.subgroupMaxSize})`
      : adapterName;
    this.pool = new BufferPool(device);
    this.pipelines = new PipelineCache(device);
    this.pipelines.onError = (e) => this.#recordError(e);
    this.pipelines.onCheck = (checked) => this.#track(checked);
    this.pool.onError = (e) => this.#recordError(e);
    this.#uniforms = device.createBuffer({
      size: flags.uniformArenaBytes,
      usage: UNIFORM | COPY_DST,
      label: 'voxgrad-uniforms',
    });
    this.#uniformStaging = new Uint8Array(flags.uniformArenaBytes);
    device.addEventListener('uncapturederror', (ev) => {
      this.#recordError(new KernelError(`WebGPU error: ${(ev as GPUUncapturedErrorEvent).error.message}`));
    });
    void device.lost.then((info) => {
      this.#lost = `${info.reason}: ${info.message}`;
    });
  }

  get isLost(): boolean {
    return this.#lost !== null;
  }

  #recordError(e: Error): void {
    // A shader that fails to compile is reported (asynchronously) as a compile error naming the
    // kernel file and line, and also cascades into "invalid due to a previous error" messages
    // from the dispatches that used it: keep the root cause.
    const cascade = this.#error?.message.includes('invalid due to a previous error') ?? false;
    if (!this.#error || (cascade && !e.message.includes('invalid due to a previous error'))) this.#error = e;
  }

  #track(check: Promise<void>): void {
    const settled = check.catch(() => {}).finally(() => this.#checks.delete(settled));
    this.#checks.add(settled);
  }

  /** Waits for the validity checks pending now (so a read never returns what an invalid op left). */
  async #settleChecks(): Promise<void> {
    if (this.#checks.size > 0) await waitThrottled(() => Promise.all([...this.#checks]));
  }

  /**
   * Records one top-level op (`record` issues its dispatches) inside a validation error scope: a
   * validation error of its commands becomes a KernelError naming the op, thrown at the next read,
   * sync or dispatch.
   */
  recordOp<T>(op: string, record: () => T): T {
    const outer = this.#op;
    this.#op = op;
    this.device.pushErrorScope('validation');
    try {
      return record();
    } finally {
      this.#op = outer;
      this.#track(
        this.device.popErrorScope().then((err) => {
          if (err) this.#recordError(new KernelError(`${op}: ${err.message}`));
        }),
      );
    }
  }

  /** Throws (once) the first asynchronous GPU error, or a DeviceError once the device is lost. */
  checkHealthy(): void {
    if (this.#lost !== null) throw new DeviceError(`the WebGPU device was lost (${this.#lost}); call init() again`);
    const e = this.#error;
    if (e) {
      this.#error = null;
      throw e;
    }
  }

  /** Splits a workgroup count over (x, y, z) within maxComputeWorkgroupsPerDimension. */
  grid(workgroups: number): [number, number, number] {
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (workgroups <= max) return [workgroups, 1, 1];
    if (workgroups <= max * max) {
      const x = Math.ceil(Math.sqrt(workgroups));
      return [x, Math.ceil(workgroups / x), 1];
    }
    const x = Math.ceil(Math.cbrt(workgroups));
    const y = x;
    const z = Math.ceil(workgroups / (x * y));
    if (z > max) throw new DeviceError(`dispatch of ${workgroups} workgroups exceeds the device limit of ${max}^3`);
    return [x, y, z];
  }

  #ensurePass(): GPUComputePassEncoder {
    this.#encoder ??= this.device.createCommandEncoder({ label: 'voxgrad-batch' });
    this.#pass ??= this.#encoder.beginComputePass();
    return this.#pass;
  }

  #endPass(): GPUCommandEncoder {
    this.#encoder ??= this.device.createCommandEncoder({ label: 'voxgrad-batch' });
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
    return this.#encoder;
  }

  /**
   * Records one dispatch: the params packed into this dispatch's slot of the uniform arena, the
   * named bindings bound at 1..n in the kernel's order, the workgroup count folded by `grid`.
   */
  dispatch<K extends Kernel>(kernel: K, call: KernelCall<K>): void {
    if (
      flags.loseDeviceAfterDispatches > 0 &&
      this.counters.dispatches >= flags.loseDeviceAfterDispatches &&
      !this.isLost
    ) {
      this.#lost = `destroyed: device loss injected after ${this.counters.dispatches} dispatches`;
      this.device.destroy();
    }
    this.checkHealthy();
    if (call.workgroups === 0) return;
    const params = packParams(kernel.name, kernel.params, call.params);
    const variant: KernelVariant = { overrides: call.overrides, consts: call.consts, aliases: call.aliases };
    const cached = this.pipelines.get(kernel, variant, this.#op ?? undefined);
    const bindings = call.bindings as Readonly<Record<string, Binding>>;
    checkBindings(kernel, cached.bindings, bindings, this.limits);
    const entries: GPUBindGroupEntry[] = kernel.bindings.map((name, i) => {
      const b = bindings[name];
      return { binding: i + 1, resource: { buffer: gpuBuffer(b.buffer), offset: b.offset, size: b.size } };
    });
    // Until the device confirms the pipeline compiled, its commands are submitted on their own: if
    // it did not, only they are lost.
    const isolated = !cached.valid;
    if (isolated) this.flush();
    const align = this.limits.minUniformBufferOffsetAlignment;
    const slot = Math.ceil(params.byteLength / align) * align;
    if (this.#uniformUsed + slot > this.#uniformStaging.byteLength) this.flush();
    const offset = this.#uniformUsed;
    this.#uniformStaging.set(params, offset);
    this.#uniformUsed += slot;
    entries.unshift({ binding: 0, resource: { buffer: this.#uniforms, offset, size: params.byteLength } });
    const pipeline = cached.pipeline;
    const bindGroup = this.device.createBindGroup({ layout: cached.layout, entries });
    const pass = this.#profile
      ? this.#profiledPass(call.consts ? `${kernel.name} ${JSON.stringify(call.consts)}` : kernel.name)
      : this.#ensurePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y, z] = this.grid(call.workgroups);
    pass.dispatchWorkgroups(x, y, z);
    this.counters.dispatches++;
    if (++this.#batched >= flags.submitBatchSize || isolated) this.flush();
  }

  /** A pass of its own for one dispatch, bracketed by timestamps (while profiling). */
  #profiledPass(kernel: string): GPUComputePassEncoder {
    const p = this.#profile!;
    this.#endPass();
    if (p.kernels.length >= p.capacity) return this.#ensurePass();
    const index = 2 * p.kernels.length;
    p.kernels.push(kernel);
    this.#pass = this.#encoder!.beginComputePass({
      timestampWrites: { querySet: p.querySet, beginningOfPassWriteIndex: index, endOfPassWriteIndex: index + 1 },
    });
    return this.#pass;
  }

  allocate(bytes: number): DeviceBuffer {
    return this.pool.acquire(bytes);
  }

  /** Returns a buffer to the pool (reusable once the current batch is submitted). */
  free(buffer: DeviceBuffer): void {
    if (!(buffer instanceof PooledBuffer)) throw new Error('a DeviceBuffer that the WebGPU backend did not allocate');
    this.pool.release(buffer);
    if (!this.#encoder) this.pool.settle();
  }

  memoryStats(): MemoryStats {
    return { ...this.pool.stats };
  }

  releasePool(): void {
    this.pool.releaseCache();
  }

  /** Records a buffer-to-buffer copy (sizes and offsets in bytes, multiples of 4). */
  copy(src: DeviceBuffer, srcOffset: number, dst: DeviceBuffer, dstOffset: number, bytes: number): void {
    this.checkHealthy();
    if (bytes === 0) return;
    this.#endPass().copyBufferToBuffer(gpuBuffer(src), srcOffset, gpuBuffer(dst), dstOffset, bytes);
  }

  /** Uploads into a buffer that no recorded command uses yet (a fresh tensor's). */
  write(buffer: DeviceBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.checkHealthy();
    if (data.byteLength === 0) return;
    this.device.queue.writeBuffer(gpuBuffer(buffer), byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  supports(kernel: Kernel): boolean {
    return kernel.requires.every((f) => this.device.features.has(f));
  }

  async compile(kernel: Kernel, variant: KernelVariant = {}): Promise<void> {
    await this.pipelines.compileAsync(kernel, variant);
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.#encoder) return;
    const encoder = this.#endPass();
    this.#encoder = null;
    if (this.#uniformUsed > 0) {
      this.device.queue.writeBuffer(this.#uniforms, 0, this.#uniformStaging.buffer, 0, this.#uniformUsed);
    }
    this.device.queue.submit([encoder.finish()]);
    this.counters.submits++;
    this.#uniformUsed = 0;
    this.#batched = 0;
    this.pool.settle();
  }

  /** Copies byte ranges of buffers to the CPU with one submit and one wait. */
  async read(ranges: readonly { buffer: DeviceBuffer; offset?: number; bytes: number }[]): Promise<ArrayBuffer[]> {
    return this.#readGpu(ranges.map((r) => ({ buffer: gpuBuffer(r.buffer), offset: r.offset, bytes: r.bytes })));
  }

  async #readGpu(ranges: readonly { buffer: GPUBuffer; offset?: number; bytes: number }[]): Promise<ArrayBuffer[]> {
    this.checkHealthy();
    const staging = ranges.map((r) => {
      const size = Math.max(4, Math.ceil(r.bytes / 4) * 4);
      const s = this.device.createBuffer({ size, usage: MAP_READ | COPY_DST, label: 'voxgrad-readback' });
      const bytes = Math.ceil(r.bytes / 4) * 4;
      if (bytes > 0) this.#endPass().copyBufferToBuffer(r.buffer, r.offset ?? 0, s, 0, bytes);
      return s;
    });
    this.flush();
    try {
      await waitThrottled(() => Promise.all(staging.map((s) => s.mapAsync(MAP_READ))));
      await this.#settleChecks();
      this.counters.reads += ranges.length;
      return staging.map((s, i) =>
        s.getMappedRange(0, Math.ceil(ranges[i].bytes / 4) * 4 || 4).slice(0, ranges[i].bytes),
      );
    } catch (e) {
      this.checkHealthy();
      throw e;
    } finally {
      for (const s of staging) s.destroy();
      this.checkHealthy();
    }
  }

  /** Submits pending work and waits until the GPU has finished it. */
  async sync(): Promise<void> {
    this.checkHealthy();
    this.flush();
    await waitThrottled(() => this.device.queue.onSubmittedWorkDone());
    await this.#settleChecks();
    this.checkHealthy();
  }

  /** Whether GPU timestamps can bracket work (the 'timestamp-query' feature). */
  get hasTimestamps(): boolean {
    return this.device.features.has('timestamp-query');
  }

  /**
   * GPU time in milliseconds of the work `record` records, measured by timestamps written by
   * empty compute passes before and after it (no host wake-up latency in the figure), or null
   * when the device has no timestamp queries.
   */
  async gpuTimeMs(record: () => void): Promise<number | null> {
    if (!this.hasTimestamps) return null;
    this.flush();
    const querySet = this.device.createQuerySet({ type: 'timestamp', count: 2 });
    const resolved = this.device.createBuffer({ size: 16, usage: 0x0200 | 0x0004 /* QUERY_RESOLVE | COPY_SRC */ });
    try {
      const stamp = (index: number): void => {
        const encoder = this.device.createCommandEncoder();
        encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: index } }).end();
        if (index === 1) encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
        this.device.queue.submit([encoder.finish()]);
      };
      stamp(0);
      record();
      this.flush();
      stamp(1);
      const [bytes] = await this.#readGpu([{ buffer: resolved, bytes: 16 }]);
      const [t0, t1] = new BigInt64Array(bytes);
      return Number(t1 - t0) / 1e6;
    } finally {
      querySet.destroy();
      resolved.destroy();
    }
  }

  /**
   * GPU time per kernel of the work `record` records: each dispatch runs in a compute pass of its
   * own bracketed by timestamps (so the figures include a pass boundary each, and the batch runs a
   * little slower than unprofiled). Kernels in order of total time; null without timestamp queries.
   */
  async profileKernels(record: () => void, capacity = 2048): Promise<KernelTiming[] | null> {
    if (!this.hasTimestamps) return null;
    this.flush();
    const querySet = this.device.createQuerySet({ type: 'timestamp', count: 2 * capacity });
    const resolved = this.device.createBuffer({
      size: 16 * capacity,
      usage: 0x0200 | 0x0004 /* QUERY_RESOLVE | COPY_SRC */,
    });
    this.#profile = { querySet, kernels: [], capacity };
    try {
      record();
      const kernels = this.#profile.kernels;
      const encoder = this.#endPass();
      if (kernels.length > 0) encoder.resolveQuerySet(querySet, 0, 2 * kernels.length, resolved, 0);
      this.#profile = null;
      const [bytes] = await this.#readGpu([{ buffer: resolved, bytes: 16 * Math.max(1, kernels.length) }]);
      const stamps = new BigInt64Array(bytes);
      const byKernel = new Map<string, KernelTiming>();
      kernels.forEach((kernel, i) => {
        const row = byKernel.get(kernel) ?? { kernel, dispatches: 0, ms: 0 };
        row.dispatches++;
        row.ms += Number(stamps[2 * i + 1] - stamps[2 * i]) / 1e6;
        byKernel.set(kernel, row);
      });
      return [...byKernel.values()].sort((a, b) => b.ms - a.ms);
    } finally {
      this.#profile = null;
      querySet.destroy();
      resolved.destroy();
    }
  }

  destroy(): void {
    this.#encoder = null;
    this.#pass = null;
    this.pool.releaseCache();
    this.#uniforms.destroy();
    this.device.destroy();
  }
}
