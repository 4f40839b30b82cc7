/** Prints the adapter's measured limits: node build/bench/limits.js */
import * as vg from '../src/index.node.js';
import { measureLimits } from './roofline.js';

const info = await vg.init();
const l = await measureLimits(7);
console.log(
  `${info.adapter}: copy ${(l.copyBytesPerSecond / 1e9).toFixed(1)} GB/s (read + written, ${l.copyBytes / 2 ** 20} MiB), compute peak ${(l.flopsPerSecond / 1e9).toFixed(1)} GFLOP/s, a shader's own copy ${(l.shaderCopyBytesPerSecond / 1e9).toFixed(1)} GB/s`,
);
await vg.dispose();
