import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { nodePlatform } from '../src/node/platform.js';
import type { Kernel, Prelude } from '../src/tensor/kernel.js';
import { openDevice } from '../src/tensor/webgpu/device.js';
import { setup, suite } from './harness.js';

const t = suite('device');
t.before(setup);

t('a missing adapter is a clear DeviceError that says what to install', async () => {
  try {
    await openDevice({ adapter: 'voxgrad-no-such-adapter' });
    assert.unreachable('openDevice should have thrown');
  } catch (e) {
    assert.instance(e, vg.DeviceError);
    const msg = (e as Error).message;
    assert.match(msg, /init: no WebGPU adapter named 'voxgrad-no-such-adapter' was found/);
    assert.match(msg, /Vulkan/);
  }
  // The engine's own device is untouched.
  assert.equal(Array.from(await vg.add(vg.ones([2]), 1).data()), [2, 2]);
});

t('init returns the device and its limits, read from the device', async () => {
  const info = await vg.init();
  assert.type(info.adapter, 'string');
  assert.ok(info.limits.maxStorageBufferBindingSize >= 128 * 1024 * 1024);
  assert.ok(info.limits.maxComputeWorkgroupsPerDimension >= 65535);
});

t('dispatches of more than 65535 workgroups are folded into y and z', async () => {
  const n = 65535 * 256 + 5000; // 65555 workgroups of 256
  const x = vg.fill([n], 3);
  const y = vg.sqrt(vg.square(x));
  const tail = vg.slice(y, [n - 3], [3]);
  assert.equal(Array.from(await tail.data()), [3, 3, 3]);
  assert.is((await vg.sum(vg.sub(y, 3)).data())[0], 0);
  vg.tidy(() => [x, y, tail].forEach((z) => z.dispose()));
});

/** A kernel definition that is not registered (so warmup() of every kernel never sees it). */
function testKernel(file: string, source: string, ...preludes: Prelude[]): Kernel {
  return {
    name: file,
    file,
    source,
    preludes,
    params: {},
    bindings: [],
    overrides: [],
    consts: [],
    aliases: [],
    requires: [],
  };
}

t('kernel compile errors name the kernel file and line', async () => {
  const broken = testKernel(
    'broken_for_test.wgsl',
    '@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = undefined_thing;\n}\n',
  );
  try {
    await vg.warmup([{ kernel: broken }]);
    assert.unreachable('warmup should have thrown');
  } catch (e) {
    assert.instance(e, vg.KernelError);
    assert.match((e as Error).message, /kernels\/broken_for_test\.wgsl:3:\d+: .*undefined_thing/);
  }
});

t('compile errors after shared preludes name the right file and line', async () => {
  const prelude = { file: 'prelude_for_test.wgsl', source: 'fn helper() -> f32 {\n  return 1.0;\n}\n' };
  const afterPrelude = testKernel(
    'broken_after_prelude.wgsl',
    '@compute @workgroup_size(1)\nfn main() {\n  let y = helper() + missing_name;\n}\n',
    prelude,
  );
  const inPrelude = testKernel(
    'uses_broken_prelude.wgsl',
    '@compute @workgroup_size(1)\nfn main() {\n  let y = helper();\n}\n',
    { file: 'broken_prelude.wgsl', source: 'fn helper() -> f32 {\n  return oops;\n}' },
  );
  const inSecondPrelude = testKernel(
    'uses_two_preludes.wgsl',
    '@compute @workgroup_size(1)\nfn main() {\n  let y = helper() + other();\n}\n',
    prelude,
    { file: 'broken_second_prelude.wgsl', source: 'fn other() -> f32 {\n  return nope;\n}' },
  );
  for (const [kernel, where] of [
    [afterPrelude, /kernels\/broken_after_prelude\.wgsl:3:\d+: .*missing_name/],
    [inPrelude, /kernels\/broken_prelude\.wgsl:2:\d+: .*oops/],
    [inSecondPrelude, /kernels\/broken_second_prelude\.wgsl:2:\d+: .*nope/],
  ] as const) {
    try {
      await vg.warmup([{ kernel }]);
      assert.unreachable('warmup should have thrown');
    } catch (e) {
      assert.instance(e, vg.KernelError);
      assert.match((e as Error).message, where);
    }
  }
});

// dawn.node's instance must outlive everything it scheduled, even for a destroyed device: Node's
// platform creates one per adapter request and keeps it for the life of the process.
t('the Node platform hands out one Dawn instance per adapter request, kept across devices', async () => {
  const first = await nodePlatform.gpu({});
  await vg.dispose();
  await vg.init();
  assert.ok((await nodePlatform.gpu({})) === first, 'the same GPU object after dispose and init');
  assert.ok((await nodePlatform.gpu({ backend: 'vulkan' })) !== first, 'another request, another instance');
});

t.run();
