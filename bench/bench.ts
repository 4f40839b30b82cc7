/**
 * voxgrad benchmark: bandwidth of the practical limit (copyBufferToBuffer) and of voxgrad's
 * kernels on the same device, in one process. Bandwidth counts bytes read plus bytes written.
 * Usage: npm run bench [-- --quick] [-- --json FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as vg from '../src/index.js';
import { engine } from '../src/tensor/engine.js';
import { timeGpu } from './timing.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonAt = args.indexOf('--json');
const jsonPath = jsonAt >= 0 ? args[jsonAt + 1] : 'bench-results/bench.json';
const runs = quick ? 5 : 11;

const info = await vg.init();
const rows: { name: string; shape: string; ms: number; gbps: number; note?: string }[] = [];
const gb = (bytes: number, ms: number): number => bytes / (ms * 1e6);

function record(name: string, shape: number[], ms: number, bytes: number, note?: string): void {
  rows.push({ name, shape: shape.join('x'), ms, gbps: gb(bytes, ms), note });
}

// The practical limit: a device-side buffer copy of one volume.
const vol = [1, 128, 128, 128, 4];
const n = vol.reduce((a, b) => a * b, 1);
const src = vg.randomUniform(vol, { seed: 1 });
const dst = vg.zeros(vol);
const copy = await timeGpu(() => engine.gpu.copy(src.buffer, 0, dst.buffer, 0, n * 4), { runs });
record('copyBufferToBuffer', vol, copy.medianMs, 2 * n * 4);

const sum = await timeGpu(() => vg.tidy(() => vg.sum(src, [1, 2, 3])), { runs });
record('sum over axes (1,2,3)', vol, sum.medianMs, n * 4 + 16);

const ew = await timeGpu(() => vg.tidy(() => vg.mul(src, dst)), { runs });
record('mul (elementwise)', vol, ew.medianMs, 3 * n * 4);

const m = 512;
const a = vg.randomNormal([m, m], { seed: 2 });
const mm = await timeGpu(() => vg.tidy(() => vg.matmul(a, a)), { runs });
rows.push({ name: 'matmul', shape: `${m}x${m}x${m}`, ms: mm.medianMs, gbps: NaN, note: `${((2 * m ** 3) / (mm.medianMs * 1e6)).toFixed(2)} GFLOP/s` });

const copyRow = rows[0];
console.log(`voxgrad bench on ${info.adapter} (node ${process.version}, maxStorageBufferBindingSize ${info.limits.maxStorageBufferBindingSize})`);
console.log('kernel                        shape              median ms     GB/s   vs copy');
for (const r of rows) {
  const ratio = Number.isFinite(r.gbps) ? `${((100 * r.gbps) / copyRow.gbps).toFixed(0)}%` : '';
  console.log(`${r.name.padEnd(30)}${r.shape.padEnd(19)}${r.ms.toFixed(2).padStart(9)}${(Number.isFinite(r.gbps) ? r.gbps.toFixed(2) : '-').padStart(9)}${ratio.padStart(9)}  ${r.note ?? ''}`);
}
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify({ device: info.adapter, node: process.version, quick, rows }, null, 2));
console.log(`wrote ${jsonPath}`);
await vg.dispose();
