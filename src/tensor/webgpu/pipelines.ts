/**
 * Compute pipeline cache keyed by kernel identity: kernel, aliases, override constants and
 * `const` sizes. Synchronous creation serves dispatches; `compileAsync` (used by `warmup`)
 * compiles in parallel and dedupes compiles in flight. Compile failures become KernelErrors naming
 * the kernel file, line and column (and the op that first used the kernel). Each pipeline knows
 * its storage bindings, and whether it is known to be valid yet: WebGPU reports a failed compile
 * only asynchronously, so until then the backend runs its dispatches in a submit of their own.
 */
import { KernelError } from '../../errors.js';
import { flags } from '../flags.js';
import type { Kernel, KernelVariant } from '../kernel.js';
import { type StorageBinding, storageBindings } from './binding_layout.js';
import { type KernelSource, kernelSource, sourceLocation, variantKey } from './kernel_source.js';

export interface CachedPipeline {
  readonly pipeline: GPUComputePipeline;
  /** Its bind group layout, asked for once (each getBindGroupLayout call makes a new object). */
  readonly layout: GPUBindGroupLayout;
  /** The storage bindings 1..n as the compiled source declares them. */
  readonly bindings: readonly StorageBinding[];
  /** True once the device has confirmed that the pipeline compiled. */
  valid: boolean;
  /** Its compile error, once the device has reported one (every later use throws it). */
  error: KernelError | null;
}

async function describeCompileError(module: GPUShaderModule, source: KernelSource, fallback: string): Promise<string> {
  const info = await module.getCompilationInfo();
  const lines = info.messages
    .filter((m) => m.type === 'error')
    .map((m) => `${sourceLocation(source, m.lineNum)}:${m.linePos}: ${m.message}`);
  return lines.length ? lines.join('\n') : `kernels/${source.file}: ${fallback}`;
}

export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #pipelines = new Map<string, CachedPipeline>();
  readonly #inFlight = new Map<string, Promise<GPUComputePipeline>>();
  /** The first compile error seen by a synchronous compile; surfaced by the next sync point. */
  onError: (e: KernelError) => void = () => {};

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  get size(): number {
    return this.#pipelines.size;
  }

  #module(kernel: Kernel, variant: KernelVariant): { module: GPUShaderModule; source: KernelSource } {
    const source = kernelSource(kernel, variant);
    if (flags.debugShaders) console.log(`[voxgrad] compiling ${variantKey(kernel, variant)}\n${source.code}`);
    return { module: this.#device.createShaderModule({ code: source.code, label: kernel.file }), source };
  }

  #descriptor(kernel: Kernel, variant: KernelVariant, module: GPUShaderModule): GPUComputePipelineDescriptor {
    const constants: Record<string, number> = {};
    for (const [name, value] of Object.entries(variant.overrides ?? {})) {
      if (value === undefined) continue;
      if (!kernel.overrides.includes(name)) throw new Error(`kernel ${kernel.name} has no override constant ${name}`);
      constants[name] = value;
    }
    return { label: variantKey(kernel, variant), layout: 'auto', compute: { module, entryPoint: 'main', constants } };
  }

  /**
   * The pipeline of a kernel variant, created on first use (`op` names the op using it, for the
   * message of a compile error). Throws the compile error of a pipeline known to have failed.
   */
  get(kernel: Kernel, variant: KernelVariant, op?: string): CachedPipeline {
    const key = variantKey(kernel, variant);
    const hit = this.#pipelines.get(key);
    if (hit) {
      if (hit.error) throw hit.error;
      return hit;
    }
    this.#device.pushErrorScope('validation');
    const { module, source } = this.#module(kernel, variant);
    const pipeline = this.#device.createComputePipeline(this.#descriptor(kernel, variant, module));
    const entry: CachedPipeline = {
      pipeline,
      layout: pipeline.getBindGroupLayout(0),
      bindings: storageBindings(source.code),
      valid: false,
      error: null,
    };
    const checked = this.#device.popErrorScope().then(async (err) => {
      if (!err) {
        entry.valid = true;
        return;
      }
      const message = await describeCompileError(module, source, err.message);
      entry.error = new KernelError(op ? `${op}: ${message}` : message);
      this.onError(entry.error);
    });
    this.onCheck(checked);
    this.#pipelines.set(key, entry);
    return entry;
  }

  /** Receives the promise of each pipeline's asynchronous validity check (the backend awaits them). */
  onCheck: (checked: Promise<void>) => void = () => {};

  /** Compiles without blocking; concurrent requests for one key share a compile. */
  compileAsync(kernel: Kernel, variant: KernelVariant = {}): Promise<GPUComputePipeline> {
    const key = variantKey(kernel, variant);
    const hit = this.#pipelines.get(key);
    if (hit) return hit.error ? Promise.reject(hit.error) : Promise.resolve(hit.pipeline);
    const running = this.#inFlight.get(key);
    if (running) return running;
    // The scope catches the module's own validation error so it is reported once, here.
    this.#device.pushErrorScope('validation');
    const { module, source } = this.#module(kernel, variant);
    const moduleError = this.#device.popErrorScope();
    const p = this.#device
      .createComputePipelineAsync(this.#descriptor(kernel, variant, module))
      .then(
        async (pipeline) => {
          const err = await moduleError;
          if (err) throw new KernelError(await describeCompileError(module, source, err.message));
          this.#pipelines.set(key, {
            pipeline,
            layout: pipeline.getBindGroupLayout(0),
            bindings: storageBindings(source.code),
            valid: true,
            error: null,
          });
          return pipeline;
        },
        async (err: unknown) => {
          await moduleError;
          throw new KernelError(await describeCompileError(module, source, String((err as Error)?.message ?? err)));
        },
      )
      .finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, p);
    return p;
  }
}
