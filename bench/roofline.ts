/**
 * The adapter's two limits, measured in the benchmark's own run: copy bandwidth (a device-side
 * copyBufferToBuffer, bytes read + written) and the compute peak (bench/kernels/peak_fma.wgsl,
 * independent vec4 multiply-add chains). A workload's roofline is the time the slower of the two
 * would allow it, max(bytes / bandwidth, FLOPs / peak); its share is roofline / measured time.
 * Beside them, what a compute shader itself moves (bench/kernels/stream_copy.wgsl, vec4 loads and
 * stores): on a software adapter far below the copy engine, so it shows how much of a
 * memory-bound row's gap to its roofline any shader would have.
 */
import * as vg from '../src/index.node.js';
import { bind, dispatch, workgroups } from '../src/tensor/dispatch.js';
import { engine } from '../src/tensor/engine.js';
import { defineKernel } from '../src/tensor/kernel.js';
import peakFmaSource from './kernels/peak_fma.wgsl';
import streamCopySource from './kernels/stream_copy.wgsl';
import { bestMs, timeGpu } from './timing.js';

const PEAK_FMA = defineKernel({
  name: 'peak_fma',
  file: 'peak_fma.wgsl',
  source: peakFmaSource,
  params: { iterations: 'u32', seed: 'f32' },
  bindings: ['out'],
  consts: ['CHAINS'],
});

const STREAM_COPY = defineKernel({
  name: 'stream_copy',
  file: 'stream_copy.wgsl',
  source: streamCopySource,
  params: { n: 'u32' },
  bindings: ['a', 'out'],
});

export interface Limits {
  /** Bytes per second (read + written) of a device-side copy of `copyBytes`. */
  copyBytesPerSecond: number;
  copyBytes: number;
  /** FLOP per second of independent FMA chains. */
  flopsPerSecond: number;
  /** Bytes per second (read + written) a compute shader copies with vec4 loads and stores. */
  shaderCopyBytesPerSecond: number;
}

/** Measures both limits (the copy over a 64 MiB buffer, or the largest the device allows). */
export async function measureLimits(runs: number): Promise<Limits> {
  const bytes = Math.min(64 * 2 ** 20, Math.floor(engine.backend.limits.maxStorageBufferBindingSize / 4) * 4);
  const src = vg.zeros([bytes / 4]);
  const dst = vg.zeros([bytes / 4]);
  const copy = bestMs(await timeGpu(() => engine.backend.copy(src.buffer, 0, dst.buffer, 0, bytes), { runs }));
  const vec4s = bytes / 16;
  const shaderCopy = bestMs(
    await timeGpu(
      () =>
        dispatch(STREAM_COPY, {
          params: { n: vec4s },
          bindings: { a: bind(src), out: bind(dst) },
          workgroups: workgroups(vec4s, 1024),
        }),
      { runs },
    ),
  );
  src.dispose();
  dst.dispose();
  // Enough invocations to fill any device, enough iterations to dwarf the launch.
  const invocations = 64 * 1024;
  const out = vg.zeros([invocations]);
  let best = 0;
  for (const [chains, iterations] of [
    [8, 256],
    [16, 128],
  ] as const) {
    const run = (): void =>
      dispatch(PEAK_FMA, {
        params: { iterations, seed: 0.5 },
        bindings: { out: bind(out) },
        workgroups: workgroups(invocations, 64),
        consts: { CHAINS: chains },
      });
    const ms = bestMs(await timeGpu(run, { runs }));
    best = Math.max(best, (invocations * iterations * chains * 8) / (ms / 1000));
  }
  out.dispose();
  return {
    copyBytesPerSecond: (2 * bytes) / (copy / 1000),
    copyBytes: bytes,
    flopsPerSecond: best,
    shaderCopyBytesPerSecond: (2 * bytes) / (shaderCopy / 1000),
  };
}

export interface Roofline {
  bytes: number;
  flops: number;
  rooflineMs: number;
  rooflineShare: number;
  /** Which limit binds: 'memory' or 'compute'. */
  bound: 'memory' | 'compute';
}

export function roofline(limits: Limits, ms: number, bytes: number, flops: number): Roofline {
  const memoryMs = (1000 * bytes) / limits.copyBytesPerSecond;
  const computeMs = (1000 * flops) / limits.flopsPerSecond;
  const rooflineMs = Math.max(memoryMs, computeMs);
  return {
    bytes,
    flops,
    rooflineMs,
    rooflineShare: rooflineMs / ms,
    bound: memoryMs >= computeMs ? 'memory' : 'compute',
  };
}
