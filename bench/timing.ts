/** Honest GPU timing: warm-up runs, then the median wall time of runs that each wait for the GPU. */
import { sync } from '../src/index.js';

export interface Timing {
  medianMs: number;
  minMs: number;
  runs: number;
}

export async function timeGpu(fn: () => void, opts: { warmup?: number; runs?: number } = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 2;
  const runs = opts.runs ?? 7;
  for (let i = 0; i < warmup; i++) {
    fn();
    await sync();
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    await sync();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)], minMs: times[0], runs };
}
