import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../src/index.js';
import { openDevice } from '../src/tensor/device.js';
import { setup } from './helpers.js';

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

t('kernel compile errors name the kernel file and line', async () => {
  const { registerKernel } = await import('../src/tensor/kernels.js');
  registerKernel('broken_for_test', 'broken_for_test.wgsl', '@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = undefined_thing;\n}\n');
  try {
    await vg.warmup([{ kernel: 'broken_for_test' }]);
    assert.unreachable('warmup should have thrown');
  } catch (e) {
    assert.instance(e, vg.KernelError);
    assert.match((e as Error).message, /kernels\/broken_for_test\.wgsl:3:\d+: .*undefined_thing/);
  }
});

t('warmup compiles every registered kernel', async () => {
  await vg.warmup(['unary', 'binary', 'where', 'reduce', 'softmax', 'matmul', 'strided_copy', 'fill', 'random', 'cast'].map((kernel) => ({ kernel })));
});

t.run();
