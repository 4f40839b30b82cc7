import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';

const t = suite('memory and scopes');
t.before(setup);

t('tidy disposes everything but its result', () => {
  const before = vg.memory();
  const kept = vg.tidy(() => {
    const a = vg.ones([64, 64]);
    const b = vg.exp(a);
    const c = vg.matmul(a, b);
    return vg.sum(c, 0);
  });
  const mid = vg.memory();
  assert.is(mid.liveTensors, before.liveTensors + 1);
  assert.is(mid.liveBuffers, before.liveBuffers + 1);
  kept.dispose();
  const after = vg.memory();
  assert.is(after.liveTensors, before.liveTensors);
  assert.is(after.liveBuffers, before.liveBuffers);
  assert.is(after.liveBytes, before.liveBytes);
});

t('tidyAsync frees across awaits, nested scopes move results outwards, keep() survives', async () => {
  const before = vg.memory();
  let survivor: vg.Tensor | null = null;
  const value = await vg.tidyAsync(async () => {
    const a = vg.randomNormal([1000], { seed: 3 });
    await vg.sync();
    const inner = vg.tidy(() => vg.mul(vg.square(a), 2));
    survivor = vg.keep(vg.neg(inner));
    const s = vg.sum(inner);
    const [v] = await vg.readAll([s]);
    vg.exp(a); // garbage created after an await is freed too
    return v[0];
  });
  assert.ok(value > 0);
  const after = vg.memory();
  assert.is(after.liveTensors, before.liveTensors + 1);
  survivor!.dispose();
  assert.is(vg.memory().liveBuffers, before.liveBuffers);
  assert.is(vg.memory().liveTensors, before.liveTensors);
});

t('an exception inside tidy still frees its tensors', () => {
  const before = vg.memory();
  assert.throws(
    () =>
      vg.tidy(() => {
        vg.ones([10]);
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.is(vg.memory().liveBuffers, before.liveBuffers);
});

t('the pool reuses buffers: a loop does not grow allocated bytes', async () => {
  const step = () => vg.tidy(() => vg.sum(vg.relu(vg.matmul(vg.ones([32, 48]), vg.ones([48, 16])))));
  // Buffers freed inside an unsubmitted batch are reusable only after its submit, so the pool
  // reaches its steady size after about one batch of steps.
  // The batch boundary falls at a different step each time, so allow one batch of slack.
  for (let i = 0; i < 100; i++) step().dispose();
  await vg.sync();
  const allocated = vg.memory().allocatedBytes;
  for (let i = 0; i < 300; i++) step().dispose();
  await vg.sync();
  const grown = vg.memory().allocatedBytes;
  assert.ok(grown <= allocated * 1.05, `allocated bytes grew from ${allocated} to ${grown}`);
});

t('failed validation leaves no buffer behind', () => {
  const before = vg.memory();
  const a = vg.ones([2, 3]);
  assert.throws(() => vg.matmul(a, a));
  assert.throws(() => vg.concat([a, vg.tensor([1])], 0));
  vg.tidy(() => a.dispose());
  // concat's argument tensor was created outside a scope: dispose it through memory accounting
  const m = vg.memory();
  assert.ok(m.liveBuffers <= before.liveBuffers + 1);
});

t('dispatch counter counts kernels', () => {
  const d0 = vg.memory().dispatches;
  vg.tidy(() => vg.exp(vg.ones([5])));
  assert.is(vg.memory().dispatches - d0, 2);
});

t.run();
