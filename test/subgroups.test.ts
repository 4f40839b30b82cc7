// Where the device has subgroups (lavapipe 25.0's are 8 wide) the direct convolution kernels and
// matmul's row blocks share loads across them; elsewhere every variant still runs and agrees.
// The kernels themselves are checked against the oracle in conv3d.test.ts and gradients.test.ts.
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { engine } from '../src/tensor/engine.js';
import { deviceScript, lastJson, runNode } from './child.js';
import { setup, suite } from './harness.js';

const t = suite('subgroups: detection, and devices without them');
t.before(setup);

t('lavapipe (the adapter of this project’s CI) is detected with subgroups of 8 and timestamps', () => {
  const b = engine.backend;
  if (!/llvmpipe|lavapipe/i.test(b.adapterName)) return;
  assert.is(b.subgroupMinSize, 8, 'subgroupMinSize');
  assert.is(b.subgroupMaxSize, 8, 'subgroupMaxSize');
  assert.ok(b.hasTimestamps, 'timestamp queries (the kernel checks in conv3d.test.ts read them)');
  assert.is(
    b.tuningKey,
    `${b.adapterName} (subgroups 8-8)`,
    'tuned choices are stored apart from a device without them',
  );
});

// A device made without the 'subgroups' feature (requestDevice's defaults): warmup() compiles
// every kernel that device can run, the subgroup variants run their plain kernels with the same
// results, and the tuner does not time them.
const script = deviceScript(`
await vg.init({ device });
await vg.warmup();
const x = vg.randomNormal([1, 6, 7, 8, 4], { seed: 1 });
const w = vg.randomNormal([3, 3, 3, 4, 8], { seed: 2 });
const a = vg.randomNormal([40, 36], { seed: 3 });
const b = vg.randomNormal([36, 20], { seed: 4 });
const run = async (conv, mm) => {
  vg.tuning.force('conv3d.forward', conv);
  vg.tuning.force('matmul', mm);
  const r = await vg.readAll([vg.conv3d(x, w, { padding: 'same' }), vg.matmul(a, b)]);
  vg.tuning.force('conv3d.forward', null);
  vg.tuning.force('matmul', null);
  return r.map((v) => Array.from(v));
};
const plain = await run('direct', 'rows8x16');
const shared = await run('direct-subgroup', 'rows4x32-subgroup');
// Unforced, the two classes are pending for the tuner.
vg.tidy(() => { vg.conv3d(x, w, { padding: 'same' }); vg.matmul(a, b); });
const lines = [];
await vg.tune({ log: (l) => lines.push(l) });
console.log(JSON.stringify({ same: JSON.stringify(plain) === JSON.stringify(shared), timed: lines.join('\\n'), features: [...device.features] }));
await vg.dispose();
process.exit(0);
`);

t(
  'a device without subgroups: warmup() works, the subgroup variants run the plain kernels, the tuner skips them',
  () => {
    const out = lastJson<{ same: boolean; timed: string; features: string[] }>(
      runNode(['--input-type=module', '-e', script]),
    );
    assert.not.ok(out.features.includes('subgroups'), 'the child device has no subgroups');
    assert.ok(out.same, 'subgroup variants give the plain kernels’ results');
    assert.match(out.timed, /conv3d\.forward /, 'the tuner timed the convolution');
    assert.match(out.timed, /matmul /, 'and the product');
    assert.not.match(out.timed, /subgroup/, 'and timed no subgroup variant');
    // The child stored its choices in this suite's tuning file: under its own key, not this device's.
    vg.tuning.reload();
    if (engine.backend.subgroupMinSize > 0)
      assert.not.ok(
        Object.keys(vg.tuning.choices()).some((k) => k.includes('ci4 co8 k3x3x3 s1x1x1 d1x1x1 same 6x7x8')),
        'a choice timed without subgroups is not used with them',
      );
  },
);

t.run();
