// Device loss, in a child process (the suite's own device stays untouched): after the device is
// destroyed every call fails with a clear DeviceError, tensors of the old device are refused, and
// a new init() works again in the same process.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as assert from 'uvu/assert';
import { deviceScript, lastJson, runNode } from './child.js';
import { repoRoot, suite } from './harness.js';

const t = suite('device loss and re-initialisation');

const lib = pathToFileURL(join(repoRoot(), 'dist/voxgrad.node.js')).href;

const script = deviceScript(`
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
`);

t('after device.destroy() calls fail clearly, old tensors are refused, init() works again', () => {
  const out = lastJson<{ before: number[]; errors: string[]; old: string; after: number[] }>(
    runNode(['--input-type=module', '-e', script]),
  );
  assert.equal(out.before, [2, 2, 2, 2]);
  for (const e of out.errors) assert.match(e, /^DeviceError: .*device was lost.*call init\(\) again/);
  assert.match(out.old, /^DeviceError: add: argument 'a' .* lives on a WebGPU device that was lost or released/);
  assert.equal(out.after, [3, 3, 3, 3]);
});

// Devices lost with a readback in flight, disposed and garbage-collected at once, twelve times,
// then a fresh device, in a process that must end by itself: every round reports the loss, the
// last device computes, and nothing of the lost ones (dawn.node's instance, which now lives as
// long as the process) keeps the process alive or crashes it.
const churn = `
import * as vg from ${JSON.stringify(lib)};
const settle = () => new Promise((r) => setTimeout(r, 2));
let lost = 0;
for (let round = 0; round < 12; round++) {
  await vg.init();
  vg.flags.loseDeviceAfterDispatches = 2;
  const x = vg.ones([1024]);
  const pending = vg.add(x, 1).data().catch(() => null);
  try {
    for (let i = 0; i < 4; i++) vg.mul(x, 2);
  } catch (e) {
    if (e.constructor.name === 'DeviceError') lost++;
  }
  vg.flags.loseDeviceAfterDispatches = 0;
  // Disposed while the readback still waits (its polling deferred by voxgrad's throttle).
  await vg.dispose();
  globalThis.gc();
  await settle();
  globalThis.gc();
  await pending;
}
await vg.init();
const after = Array.from(await vg.add(vg.ones([2]), 2).data());
await vg.dispose();
globalThis.gc();
console.log(JSON.stringify({ lost, after }));
`;

t(
  'devices lost with work in flight, disposed and collected in a loop: no crash, and the process exits by itself',
  () => {
    const out = lastJson<{ lost: number; after: number[] }>(
      runNode(['--expose-gc', '--input-type=module', '-e', churn], 120_000),
    );
    assert.equal(out, { lost: 12, after: [3, 3] });
  },
);

t.run();
