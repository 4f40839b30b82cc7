// Device loss, in a child process (the suite's own device stays untouched): after the device is
// destroyed every call fails with a clear DeviceError, tensors of the old device are refused, and
// a new init() works again in the same process.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as assert from 'uvu/assert';
import { repoRoot, suite } from './harness.js';

const t = suite('device loss and re-initialisation');

const lib = pathToFileURL(join(repoRoot(), 'dist/voxgrad.node.js')).href;

const script = `
import * as vg from ${JSON.stringify(lib)};
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
const device = await adapter.requestDevice();
await vg.init({ device });
const a = vg.ones([4]);
const before = Array.from(await vg.add(a, 1).data());
device.destroy();
await device.lost;
await new Promise((r) => setTimeout(r, 10));
const errors = [];
for (const f of [() => vg.zeros([3]), () => vg.add(a, 1), () => a.data()]) {
  try { await f(); errors.push('no error'); } catch (e) { errors.push(e.constructor.name + ': ' + e.message.split('\\n')[0]); }
}
await vg.init();
let old = '';
try { vg.add(a, 1); } catch (e) { old = e.constructor.name + ': ' + e.message; }
const after = Array.from(await vg.add(vg.ones([4]), 2).data());
await vg.dispose();
console.log(JSON.stringify({ before, errors, old, after }));
process.exit(0);
`;

t('after device.destroy() calls fail clearly, old tensors are refused, init() works again', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: repoRoot() });
  assert.is(
    r.status,
    0,
    r.stderr
      .split('\n')
      .filter((l) => !l.startsWith('Warning'))
      .join('\n'),
  );
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(out.before, [2, 2, 2, 2]);
  for (const e of out.errors) assert.match(e, /^DeviceError: .*device was lost.*call init\(\) again/);
  assert.match(out.old, /^DeviceError: add: argument 'a' .* lives on a WebGPU device that was lost or released/);
  assert.equal(out.after, [3, 3, 3, 3]);
});

t.run();
