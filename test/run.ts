// Test entry: imports every built *.test.js (optionally filtered by substrings given as
// arguments), runs the uvu suites, then releases the device so the process exits.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dispose } from '../src/index.js';

const g = globalThis as unknown as { UVU_DEFER: number; UVU_QUEUE: unknown[][]; UVU_INDEX: number };
g.UVU_DEFER = 1;
const uvu = await import('uvu');
const dir = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.test.js')).filter((f) => !filters.length || filters.some((s) => f.includes(s))).sort();
let idx = 0;
for (const f of files) {
  g.UVU_INDEX = idx++;
  g.UVU_QUEUE.push([f.replace(/\.js$/, '')]);
  await import(pathToFileURL(join(dir, f)).href);
}
await uvu.exec(false);
await dispose();
process.exit(process.exitCode ?? 0);
