/**
 * Honest GPU timing: warm-up runs, then medians of repeated runs. Each run is measured twice: by
 * wall clock around the work and a wait for the GPU (what a caller sees, including the host's
 * wake-up latency), and by GPU timestamps written just before and after the work (what the GPU
 * spends; null when the adapter has no timestamp queries).
 */
import { sync } from '../src/index.node.js';
import { engine } from '../src/tensor/engine.js';

export interface Timing {
  /** Median wall time (ms) of runs that each wait for the GPU to finish. */
  medianMs: number;
  minMs: number;
  /** Median GPU time (ms) between timestamps, or null without timestamp queries. */
  gpuMedianMs: number | null;
  runs: number;
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function timeGpu(fn: () => void, opts: { warmup?: number; runs?: number } = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 2;
  const runs = opts.runs ?? 7;
  for (let i = 0; i < warmup; i++) {
    fn();
    await sync();
  }
  const wall: number[] = [];
  const gpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    await sync();
    wall.push(performance.now() - t0);
    const g = await engine.backend.gpuTimeMs(fn);
    if (g !== null) gpu.push(g);
  }
  return { medianMs: median(wall), minMs: Math.min(...wall), gpuMedianMs: gpu.length ? median(gpu) : null, runs };
}

/** The figure to compare kernels by: GPU time when measured, else wall time. */
export function bestMs(t: Timing): number {
  return t.gpuMedianMs ?? t.medianMs;
}
