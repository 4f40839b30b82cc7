import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';
import { assertClose, randomNd, toGpu } from './helpers.js';
import * as O from './oracle.js';

const t = suite('elementwise');
t.before(setup);

const shapes: number[][] = [[], [1], [7], [3, 5], [2, 3, 4, 5, 3], [1, 9, 1, 7, 4], [0, 4], [2, 0, 3], [1000]];

const domains: Record<string, [number, number]> = {
  log: [0.1, 5],
  sqrt: [0, 4],
  rsqrt: [0.2, 4],
  log1p: [-0.5, 3],
  reciprocal: [0.5, 3],
};

for (const name of Object.keys(O.unaryFns)) {
  t(`unary ${name} matches the oracle on every shape`, async () => {
    for (const [k, shape] of shapes.entries()) {
      const [lo, hi] = domains[name] ?? [-4, 4];
      const x = randomNd(shape, 11 * k + name.length, lo, hi);
      const gx = toGpu(x);
      const y = (vg as unknown as Record<string, (t: vg.Tensor) => vg.Tensor>)[name](gx);
      await assertClose(y, O.unary(name, x), { atol: 2e-6, rtol: 2e-5, label: `${name} [${shape}]` });
      gx.dispose();
      y.dispose();
    }
  });
}

t('stable unaries stay finite and exact on extreme inputs', async () => {
  const x = O.Nd.from([8], [-200, -90, -30, -1e-8, 1e-8, 30, 90, 200]);
  for (const name of ['sigmoid', 'tanh', 'softplus']) {
    const y = vg.tidy(() => (vg as unknown as Record<string, (t: vg.Tensor) => vg.Tensor>)[name](toGpu(x)));
    await assertClose(y, O.unary(name, x), { atol: 1e-30, rtol: 1e-5, label: name });
    y.dispose();
  }
});

const pairs: [number[], number[]][] = [
  [
    [2, 3, 4, 5, 3],
    [2, 3, 4, 5, 3],
  ],
  [[2, 3, 4, 5, 3], [3]],
  [
    [2, 3, 4, 5, 3],
    [2, 1, 1, 1, 3],
  ],
  [
    [1, 4, 1],
    [3, 1, 5],
  ],
  [[], [2, 3]],
  [[5, 1], [0]],
  [[7, 9], [9]],
  [
    [1, 3],
    [4, 2, 3],
  ],
];

for (const name of Object.keys(O.binaryFns)) {
  t(`binary ${name} broadcasts like NumPy`, async () => {
    for (const [k, [sa, sb]] of pairs.entries()) {
      const a = randomNd(sa, 3 * k + 1, name === 'pow' ? 0.1 : -3, 3);
      const b = randomNd(sb, 3 * k + 2, name === 'div' ? 0.5 : -3, 3);
      if (name.includes('qual')) for (let i = 0; i < Math.min(a.size, b.size); i += 2) a.data[i] = b.data[i];
      const [ga, gb] = [toGpu(a), toGpu(b)];
      const y = (vg as unknown as Record<string, (a: vg.Tensor, b: vg.Tensor) => vg.Tensor>)[name](ga, gb);
      await assertClose(y, O.binary(name, a, b), { atol: 1e-6, rtol: 1e-5, label: `${name} [${sa}] x [${sb}]` });
      assert.is(y.dtype, /qual|less|greater/.test(name) ? 'int32' : 'float32');
      vg.tidy(() => [ga, gb, y].forEach((z) => z.dispose()));
    }
  });
}

t('int32 arithmetic stays exact above 2^24', async () => {
  const a = vg.tensor(new Int32Array([16777217, -5, 7, 2147483000]));
  const b = vg.tensor(new Int32Array([2, 2, -2, 600]));
  const s = vg.add(a, b);
  const q = vg.div(a, b);
  assert.equal(Array.from(await s.data()), [16777219, -3, 5, 2147483600]);
  assert.equal(Array.from(await q.data()), [8388608, -2, -3, 3579138]);
  assert.is(s.dtype, 'int32');
  [a, b, s, q].forEach((x) => x.dispose());
});

t('numbers as operands', async () => {
  const x = toGpu(O.Nd.from([3], [1, 2, 3]));
  const outs = [vg.add(x, 2), vg.sub(x, 1), vg.mul(x, -2), vg.div(x, 4), vg.sub(10, x), vg.pow(x, 2), vg.maximum(x, 2)];
  const vals = await vg.readAll(outs);
  assert.equal(
    vals.map((v) => Array.from(v)),
    [
      [3, 4, 5],
      [0, 1, 2],
      [-2, -4, -6],
      [0.25, 0.5, 0.75],
      [9, 8, 7],
      [1, 4, 9],
      [2, 2, 3],
    ],
  );
  [x, ...outs].forEach((z) => z.dispose());
});

t('where broadcasts cond, a and b', async () => {
  const c = randomNd([2, 1, 4], 5).map((v) => (v > 0 ? 1 : 0));
  const a = randomNd([3, 1], 6);
  const b = randomNd([2, 3, 4], 7);
  const y = vg.where(toGpu(c, 'int32'), toGpu(a), toGpu(b));
  await assertClose(y, O.where(c, a, b), { atol: 0, rtol: 0 });
  const yf = vg.where(toGpu(c), toGpu(a), toGpu(b));
  await assertClose(yf, O.where(c, a, b), { atol: 0, rtol: 0 });
});

t('affine and clip', async () => {
  const x = randomNd([5, 7], 9, -3, 3);
  await assertClose(
    vg.affine(toGpu(x), 2.5, -1),
    x.map((v) => 2.5 * v - 1),
    { atol: 1e-6 },
  );
  await assertClose(
    vg.clip(toGpu(x), -1, 0.5),
    x.map((v) => Math.min(0.5, Math.max(-1, v))),
    { atol: 0 },
  );
});

t.run();
