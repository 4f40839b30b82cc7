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

t('compile errors after a shared prelude name the right file and line', async () => {
  const { registerKernel } = await import('../src/tensor/kernels.js');
  const prelude = { file: 'prelude_for_test.wgsl', code: 'fn helper() -> f32 {\n  return 1.0;\n}\n' };
  registerKernel('broken_after_prelude', 'broken_after_prelude.wgsl', '@compute @workgroup_size(1)\nfn main() {\n  let y = helper() + missing_name;\n}\n', prelude);
  registerKernel('broken_prelude', 'uses_broken_prelude.wgsl', '@compute @workgroup_size(1)\nfn main() {\n  let y = helper();\n}\n', { file: 'broken_prelude.wgsl', code: 'fn helper() -> f32 {\n  return oops;\n}' });
  for (const [kernel, where] of [['broken_after_prelude', /kernels\/broken_after_prelude\.wgsl:3:\d+: .*missing_name/], ['broken_prelude', /kernels\/broken_prelude\.wgsl:2:\d+: .*oops/]] as const) {
    try {
      await vg.warmup([{ kernel }]);
      assert.unreachable('warmup should have thrown');
    } catch (e) {
      assert.instance(e, vg.KernelError);
      assert.match((e as Error).message, where);
    }
  }
});

t('warmup compiles every registered kernel', async () => {
  const kernels = ['unary', 'binary', 'where', 'reduce', 'softmax', 'matmul', 'strided_copy', 'fill', 'random', 'cast', 'overlap_sums', 'overlap_sums_grad', 'overlap_loss'];
  await vg.warmup(kernels.map((kernel) => ({ kernel })));
});

t.run();
