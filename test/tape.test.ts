import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';

const t = suite('tape');
t.before(setup);

/** The seed's network: shared trunk x1, head x2 -> y1, head x3 -> y2 (small dense layers). */
function seedModel() {
  const x1 = vg.variable(vg.randomNormal([6, 8], { seed: 1, stddev: 0.5 }), { name: 'x1' });
  const x2 = vg.variable(vg.randomNormal([8, 3], { seed: 2, stddev: 0.5 }), { name: 'x2' });
  const x3 = vg.variable(vg.randomNormal([8, 2], { seed: 3, stddev: 0.5 }), { name: 'x3' });
  const input = vg.keep(vg.randomNormal([5, 6], { seed: 4 }));
  const t1 = vg.keep(vg.randomUniform([5, 3], { seed: 5 }));
  const t2 = vg.keep(vg.randomUniform([5, 2], { seed: 6 }));
  const trunk = () => vg.tanh(vg.matmul(input, x1));
  const L1 = (h: vg.Tensor) => vg.mean(vg.square(vg.sub(vg.sigmoid(vg.matmul(h, x2)), t1)));
  const L2 = (h: vg.Tensor) => vg.mean(vg.square(vg.sub(vg.sigmoid(vg.matmul(h, x3)), t2)));
  const dispose = () => [x1, x2, x3, input, t1, t2].forEach((z) => z.dispose());
  return { x1, x2, x3, trunk, L1, L2, dispose };
}

t('each loss reaches only its own path (lossReach)', () => {
  const m = seedModel();
  const reach = vg.lossReach(() => {
    const h = m.trunk();
    return { L1: m.L1(h), L2: m.L2(h) };
  }, [m.x1, m.x2, m.x3]);
  assert.equal(reach, { L1: ['x1', 'x2'], L2: ['x1', 'x3'] });
  m.dispose();
});

t('backward of L1 alone gives x3 no gradient and dispatches nothing for its branch', async () => {
  const m = seedModel();
  const wrt = [m.x1, m.x2, m.x3];
  // L1 computed with x3's head present in the graph, and without it: the backward work is equal.
  const count = (withBranch: boolean) => {
    let forward = 0;
    const before = vg.memory().dispatches;
    const out = vg.tidy(() => {
      const r = vg.valueAndGrad(() => {
        const h = m.trunk();
        const l1 = m.L1(h);
        if (withBranch) m.L2(h);
        forward = vg.memory().dispatches - before;
        return l1;
      }, wrt);
      return [r.value, ...r.grads];
    });
    const backward = vg.memory().dispatches - before - forward;
    return { out, backward };
  };
  const a = count(true);
  const b = count(false);
  assert.is(a.out[3], null, 'x3 has no gradient from L1');
  assert.ok(a.out[1] && a.out[2], 'x1 and x2 have gradients');
  assert.is(a.backward, b.backward, 'the unused head adds no backward dispatch');
  const [ga, gb] = await vg.readAll([a.out[1]!, b.out[1]!]);
  assert.equal(Array.from(ga), Array.from(gb));
  vg.tidy(() => [...a.out, ...b.out].forEach((z) => z?.dispose()));
  m.dispose();
});

t('the trunk gradient of w1*L1 + w2*L2 is w1*g1 + w2*g2; heads get their single terms', async () => {
  const m = seedModel();
  const [w1, w2] = [0.5, 0.3];
  const wrt = [m.x1, m.x2, m.x3];
  const g1 = vg.grad(() => m.L1(m.trunk()), wrt);
  const g2 = vg.grad(() => m.L2(m.trunk()), wrt);
  const g = vg.grad(() => {
    const h = m.trunk();
    return vg.add(vg.mul(m.L1(h), w1), vg.mul(m.L2(h), w2));
  }, wrt);
  const [gx1, g1x1, g2x1, gx2, g1x2, gx3, g2x3] = (
    await vg.readAll([g[0]!, g1[0]!, g2[0]!, g[1]!, g1[1]!, g[2]!, g2[2]!])
  ).map((d) => Array.from(d));
  const close = (a: number[], b: number[], label: string) => {
    const scale = Math.max(...b.map(Math.abs));
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-6 * scale + 1e-12, `${label}[${i}]: ${v} vs ${b[i]}`));
  };
  close(
    gx1,
    g1x1.map((v, i) => w1 * v + w2 * g2x1[i]),
    'x1',
  );
  close(
    gx2,
    g1x2.map((v) => w1 * v),
    'x2',
  );
  close(
    gx3,
    g2x3.map((v) => w2 * v),
    'x3',
  );
  assert.is(g1[2], null);
  assert.is(g2[1], null);
  vg.tidy(() => [...g, ...g1, ...g2].forEach((z) => z?.dispose()));
  m.dispose();
});

t('a diamond sums both paths; a 10,000-op chain needs no recursion', async () => {
  const x = vg.variable([1.5, -2], { name: 'x' });
  const [gd] = vg.grad(() => {
    const y = vg.square(x);
    return vg.sum(vg.add(vg.mul(y, 3), vg.exp(y))); // d/dx = (3 + e^{x^2}) 2x
  }, [x]);
  const expected = [1.5, -2].map((v) => (3 + Math.exp(v * v)) * 2 * v);
  Array.from(await gd!.data()).forEach((v, i) =>
    assert.ok(Math.abs(v - expected[i]) < 1e-4 * Math.abs(expected[i]), `${v} vs ${expected[i]}`),
  );
  gd!.dispose();

  const before = vg.memory();
  const [gc] = vg.grad(() => {
    let y: vg.Tensor = x;
    for (let i = 0; i < 10000; i++) y = vg.affine(y, 1.0001, 0.001);
    return vg.sum(y);
  }, [x]);
  const g = await gc!.data();
  const want = 1.0001 ** 10000;
  assert.ok(Math.abs(g[0] - want) / want < 1e-3, `chain gradient ${g[0]} vs ${want}`);
  gc!.dispose();
  const after = vg.memory();
  assert.is(after.liveBuffers, before.liveBuffers);
  x.dispose();
});

t('no buffer leaks over 100 valueAndGrad steps with an SGD update', async () => {
  const m = seedModel();
  const vars = [m.x1, m.x2, m.x3];
  const step = () =>
    vg.tidy(() => {
      const { value, grads } = vg.valueAndGrad(() => {
        const h = m.trunk();
        return vg.add(vg.mul(m.L1(h), 0.5), vg.mul(m.L2(h), 0.3));
      }, vars);
      vars.forEach((v, i) => v.assign(vg.sub(v, vg.mul(grads[i]!, 0.5))));
      return value;
    });
  const first = step();
  const l0 = (await first.data())[0];
  first.dispose();
  const base = vg.memory();
  let last = 0;
  for (let i = 0; i < 100; i++) {
    const l = step();
    if (i === 99) last = (await l.data())[0];
    l.dispose();
  }
  const after = vg.memory();
  assert.is(after.liveBuffers, base.liveBuffers);
  assert.is(after.liveTensors, base.liveTensors);
  assert.is(after.liveBytes, base.liveBytes);
  assert.ok(last < l0, `loss fell from ${l0} to ${last}`);
  m.dispose();
});

t('backward accumulates into .grad across calls; unreached variables keep null', async () => {
  const a = vg.variable([1, 2, 3], { name: 'a' });
  const b = vg.variable([4], { name: 'b' });
  const l1 = vg.backward(() => vg.sum(vg.square(a)));
  const l2 = vg.backward(() => vg.sum(vg.mul(a, 2)));
  assert.equal(Array.from(await a.grad!.data()), [2 * 1 + 2, 2 * 2 + 2, 2 * 3 + 2]);
  assert.is(b.grad, null);
  a.zeroGrad();
  assert.is(a.grad, null);
  [a, b, l1, l2].forEach((z) => z.dispose());
});

t('noGrad and customGrad', async () => {
  const x = vg.variable([2, -1], { name: 'x' });
  const [g0] = vg.grad(
    () =>
      vg.sum(
        vg.add(
          vg.noGrad(() => vg.square(x)),
          x,
        ),
      ),
    [x],
  );
  assert.equal(Array.from(await g0!.data()), [1, 1]);
  // A straight-through clip: forward clips, backward passes dy unchanged.
  const straightClip = vg.customGrad((v) => ({ value: vg.clip(v, 0, 1), gradFunc: (dy) => [vg.mul(dy, 1)] }));
  const [g1] = vg.grad(() => vg.sum(vg.mul(straightClip(x), 3)), [x]);
  assert.equal(Array.from(await g1!.data()), [3, 3]);
  [x, g0!, g1!].forEach((z) => z.dispose());
});

t('clear errors: non-scalar without dy, int32, strict disconnected', () => {
  const x = vg.variable([1, 2], { name: 'x' });
  const before = vg.memory();
  assert.throws(
    () => vg.grad(() => vg.square(x), [x]),
    /valueAndGrad: the output has shape \[2\], not a scalar; pass options.dy/,
  );
  const i = vg.tensor(new Int32Array([1, 2]));
  assert.throws(
    () => vg.grad(() => vg.sum(vg.cast(i, 'float32')), [i]),
    /cannot take a gradient with respect to wrt\[0\], an int32 tensor/,
  );
  assert.throws(() => vg.grad(() => vg.cast(vg.sum(x), 'int32'), [x]), /cannot differentiate an int32 output/);
  const y = vg.variable([3], { name: 'y' });
  assert.throws(() => vg.grad(() => vg.sum(x), [x, y], { strict: true }), /wrt\[1\] .* is not connected to the output/);
  const partial = vg.grad(() => vg.sum(x), [x, y]);
  assert.is(partial[1], null);
  partial[0]!.dispose();
  const after = vg.memory();
  assert.is(after.liveBuffers, before.liveBuffers + 2, 'failed calls leave nothing behind (only i and y remain)');
  [x, y, i].forEach((z) => z.dispose());
});

t('gradients with respect to a record of tensors', async () => {
  const p = { w: vg.variable([1, 2], { name: 'w' }), b: vg.variable([0.5], { name: 'b' }) };
  const { value, grads } = vg.valueAndGrad(() => vg.sum(vg.add(vg.mul(p.w, 3), p.b)), p);
  assert.equal(Array.from(await grads.w!.data()), [3, 3]);
  assert.equal(Array.from(await grads.b!.data()), [2]);
  [value, grads.w!, grads.b!, p.w, p.b].forEach((z) => z.dispose());
});

t.run();
