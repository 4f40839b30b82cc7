// Child Node processes for the tests that need a second device or a whole program: a run that
// must end by itself with status 0, and the script of a voxgrad program on a raw Dawn device.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as assert from 'uvu/assert';
import { repoRoot } from './harness.js';

/**
 * Runs `node ...args` from the repository root; asserts it exited by itself with status 0 (its
 * stderr, without Dawn's 'Warning' lines, as the message) and returns its stdout.
 */
export function runNode(args: readonly string[], timeoutMs = 600_000): string {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: repoRoot(), timeout: timeoutMs });
  const stderr = (r.stderr ?? '')
    .split('\n')
    .filter((l) => !l.startsWith('Warning'))
    .join('\n');
  assert.is(r.signal, null, `killed by ${r.signal}: ${stderr}`);
  assert.is(r.status, 0, stderr);
  return r.stdout;
}

/** The JSON value a child printed on its last line of stdout (of the shape the script prints). */
export function lastJson<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

/**
 * An ES module that imports the built library as `vg` and opens a raw Dawn device as `device`
 * (with requestDevice's defaults: no optional features), then runs `body`.
 */
export function deviceScript(body: string): string {
  const lib = pathToFileURL(join(repoRoot(), 'dist/voxgrad.node.js')).href;
  return `
import * as vg from ${JSON.stringify(lib)};
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
const device = await adapter.requestDevice();
${body}`;
}
