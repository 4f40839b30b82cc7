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
import loadProbeSource from './kernels/load_probe.wgsl';
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

const LOAD_PROBE = defineKernel({
  name: 'load_probe',
  file: 'load_probe.wgsl',
  source: loadProbeSource,
  params: { iterations: 'u32' },
  bindings: ['a', 'a4', 'u', 'out'],
  consts: ['MODE'],
});

export interface Limits {
  /** Bytes per second (read + written) of a device-side copy of `copyBytes`. */
  copyBytesPerSecond: number;
  copyBytes: number;
  /** FLOP per second of independent FMA chains. */
  flopsPerSecond: number;
  /** Bytes per second (read + written) a compute shader copies with vec4 loads and stores. */
  shaderCopyBytesPerSecond: number;
  /**
   * Floats per second one invocation's loads deliver (bench/kernels/load_probe.wgsl): f32 and
   * vec4 storage loads, and vec4s of a uniform array at per-invocation addresses and at one shared address.
   */
  loads: { storageF32: number; storageVec4: number; uniformVec4: number; uniformSharedVec4: number };
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
  return {
    copyBytesPerSecond: (2 * bytes) / (copy / 1000),
    copyBytes: bytes,
    flopsPerSecond: await measurePeak(runs),
    shaderCopyBytesPerSecond: (2 * bytes) / (shaderCopy / 1000),
    loads: await measureLoads(runs),
  };
}

/**
 * The compute peak alone (FLOP per second of independent FMA chains, the best of 2 to 16 vec4
 * chains an invocation: on lavapipe with AVX2, 4-5 chains, whose accumulators fit the 16 vector
 * registers, run 10-30% faster than 8 or 16, which spill): the benchmark also measures it right
 * before and after a long row, since this project's host drifts in speed by phases of minutes.
 */
export async function measurePeak(runs: number): Promise<number> {
  // Enough invocations to fill any device, enough iterations to dwarf the launch.
  const invocations = 64 * 1024;
  const out = vg.zeros([invocations]);
  let best = 0;
  for (const chains of [2, 3, 4, 5, 6, 8, 16]) {
    const iterations = Math.round(2048 / chains);
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
  return best;
}

/** Floats per second of the four kinds of load (64 × 1024 invocations, 256 vec4s each). */
async function measureLoads(runs: number): Promise<Limits['loads']> {
  const invocations = 64 * 1024;
  const iterations = 256;
  const a = vg.zeros([4 * 65536]);
  const u = vg.zeros([4 * 4096]);
  const out = vg.zeros([invocations]);
  const rate = async (MODE: number): Promise<number> => {
    const ms = bestMs(
      await timeGpu(
        () =>
          dispatch(LOAD_PROBE, {
            params: { iterations },
            bindings: { a: bind(a), a4: bind(a), u: bind(u), out: bind(out) },
            workgroups: workgroups(invocations, 64),
            consts: { MODE },
          }),
        { runs },
      ),
    );
    return (invocations * iterations * 4) / (ms / 1000);
  };
  const loads = {
    storageF32: await rate(0),
    storageVec4: await rate(1),
    uniformVec4: await rate(2),
    uniformSharedVec4: await rate(3),
  };
  for (const t of [a, u, out]) t.dispose();
  return loads;
}

/** How many multiply-adds (at the compute peak) one float of each kind of load costs. */
export function loadCosts(limits: Limits): Limits['loads'] {
  const fmas = limits.flopsPerSecond / 2;
  return {
    storageF32: fmas / limits.loads.storageF32,
    storageVec4: fmas / limits.loads.storageVec4,
    uniformVec4: fmas / limits.loads.uniformVec4,
    uniformSharedVec4: fmas / limits.loads.uniformSharedVec4,
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
