/**
 * Compute pipeline cache keyed by kernel identity: name, alias specialisation and override
 * constants. Synchronous creation serves dispatches; `compileAsync` (used by `warmup`) compiles
 * in parallel and dedupes compiles in flight. Compile failures become KernelErrors naming the
 * kernel file, line and column.
 */
import { KernelError } from '../errors.js';
import { flags } from './flags.js';
import { kernelSource, sourceLocation, specialise, specialiseConsts } from './kernels.js';
import type { KernelSource } from './kernels.js';

export interface KernelSpec {
  readonly kernel: string;
  readonly aliases?: Readonly<Record<string, string>>;
  readonly constants?: Readonly<Record<string, number>>;
  /** Values for the kernel's `const NAME: u32` lines (array sizes fixed at shader creation). */
  readonly consts?: Readonly<Record<string, number>>;
}

export function pipelineKey(spec: KernelSpec): string {
  return `${spec.kernel}|${JSON.stringify(spec.aliases ?? {})}|${JSON.stringify(spec.constants ?? {})}|${JSON.stringify(spec.consts ?? {})}`;
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
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #inFlight = new Map<string, Promise<GPUComputePipeline>>();
  /** The first compile error seen by a synchronous compile; surfaced by the next sync point. */
  onError: (e: KernelError) => void = () => {};

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  get size(): number {
    return this.#pipelines.size;
  }

  #module(spec: KernelSpec): { module: GPUShaderModule; file: string; source: KernelSource } {
    const src = kernelSource(spec.kernel);
    let code = spec.aliases ? specialise(src.code, spec.aliases) : src.code;
    if (spec.consts) code = specialiseConsts(code, spec.consts);
    if (flags.debugShaders) console.log(`[voxgrad] compiling ${src.file} ${pipelineKey(spec)}\n${code}`);
    return { module: this.#device.createShaderModule({ code, label: src.file }), file: src.file, source: src };
  }

  #descriptor(spec: KernelSpec, module: GPUShaderModule, file: string): GPUComputePipelineDescriptor {
    return {
      label: `${file} ${pipelineKey(spec)}`,
      layout: 'auto',
      compute: { module, entryPoint: 'main', constants: { ...(spec.constants ?? {}) } },
    };
  }

  get(spec: KernelSpec): GPUComputePipeline {
    const key = pipelineKey(spec);
    const hit = this.#pipelines.get(key);
    if (hit) return hit;
    this.#device.pushErrorScope('validation');
    const { module, file, source } = this.#module(spec);
    const pipeline = this.#device.createComputePipeline(this.#descriptor(spec, module, file));
    void this.#device.popErrorScope().then(async (err) => {
      if (err) this.onError(new KernelError(await describeCompileError(module, source, err.message)));
    });
    this.#pipelines.set(key, pipeline);
    return pipeline;
  }

  /** Compiles without blocking; concurrent requests for one key share a compile. */
  compileAsync(spec: KernelSpec): Promise<GPUComputePipeline> {
    const key = pipelineKey(spec);
    const hit = this.#pipelines.get(key);
    if (hit) return Promise.resolve(hit);
    const running = this.#inFlight.get(key);
    if (running) return running;
    // The scope catches the module's own validation error so it is reported once, here.
    this.#device.pushErrorScope('validation');
    const { module, file, source } = this.#module(spec);
    const moduleError = this.#device.popErrorScope();
    const p = this.#device
      .createComputePipelineAsync(this.#descriptor(spec, module, file))
      .then(
        async (pipeline) => {
          const err = await moduleError;
          if (err) throw new KernelError(await describeCompileError(module, source, err.message));
          this.#pipelines.set(key, pipeline);
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
