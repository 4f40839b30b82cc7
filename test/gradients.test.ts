import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { engine } from '../src/tensor/engine.js';
import { subgroupsFit } from '../src/tensor/subgroups.js';
import { checkGrad } from './gradcheck.js';
import { setup, suite } from './harness.js';
import { randomNd } from './helpers.js';
import * as O from './oracle.js';

const t = suite('gradients (finite differences on the float64 oracle)');
t.before(setup);

const R5 = [2, 3, 2, 3, 3];
type U = (x: vg.Tensor) => vg.Tensor;
const unaryDomains: Record<string, [number, number]> = {
  log: [0.3, 3],
  sqrt: [0.3, 3],
  rsqrt: [0.3, 3],
  log1p: [-0.5, 2],
  reciprocal: [0.5, 2],
  abs: [0.1, 2],
  relu: [0.1, 2],
};
for (const name of [
  'neg',
  'abs',
  'exp',
  'log',
  'log1p',
  'sqrt',
  'rsqrt',
  'square',
  'relu',
  'sigmoid',
  'tanh',
  'softplus',
  'reciprocal',
  'sin',
  'cos',
]) {
  t(`${name}`, async () => {
    const [lo, hi] = unaryDomains[name] ?? [-2, 2];
    // relu and abs are checked away from their kink, on both sides.
    const x =
      name === 'relu' || name === 'abs'
        ? randomNd(R5, 1, lo, hi).map((v, i) => (i % 2 ? -v : v))
        : randomNd(R5, 1, lo, hi);
    await checkGrad({
      label: name,
      inputs: [x],
      gpu: (a) => (vg as unknown as Record<string, U>)[name](a),
      oracle: (a) => O.unary(name, a),
    });
  });
}

t('affine and clip', async () => {
  const x = randomNd([4, 5], 2, -2, 2).map((v) => (Math.abs(Math.abs(v) - 1) < 0.05 ? v * 0.5 : v));
  await checkGrad({
    label: 'affine',
    inputs: [x],
    gpu: (a) => vg.affine(a, -1.5, 0.25),
    oracle: (a) => a.map((v) => -1.5 * v + 0.25),
  });
  await checkGrad({
    label: 'clip',
    inputs: [x],
    gpu: (a) => vg.clip(a, -1, 1),
    oracle: (a) => a.map((v) => Math.min(1, Math.max(-1, v))),
  });
});

const pairs: [number[], number[]][] = [
  [R5, R5],
  [R5, [3]],
  [R5, [2, 1, 1, 1, 3]],
  [
    [1, 4, 1],
    [3, 1, 5],
  ],
  [[], [2, 3]],
];
for (const name of ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum']) {
  t(`${name} with broadcasting`, async () => {
    for (const [k, [sa, sb]] of pairs.entries()) {
      const a = randomNd(sa, 10 + k, name === 'pow' ? 0.5 : -2, 2);
      const b = randomNd(sb, 20 + k, name === 'div' ? 0.5 : -2, 2);
      await checkGrad({
        label: `${name} [${sa}] x [${sb}]`,
        inputs: [a, b],
        gpu: (x, y) => (vg as unknown as Record<string, (a: vg.Tensor, b: vg.Tensor) => vg.Tensor>)[name](x, y),
        oracle: (x, y) => O.binary(name, x, y),
      });
    }
  });
}

t('where', async () => {
  const c = randomNd([2, 1, 4], 5).map((v) => (v > 0 ? 1 : 0));
  const a = randomNd([3, 1], 6);
  const b = randomNd([2, 3, 4], 7);
  await checkGrad({
    label: 'where',
    inputs: [c, a, b],
    wrt: [1, 2],
    gpu: (x, y, z) => vg.where(x, y, z),
    oracle: (x, y, z) => O.where(x, y, z),
  });
});

for (const name of ['sum', 'mean', 'max', 'min'] as const) {
  t(`${name} over axes`, async () => {
    for (const [k, axes] of [[1, 2, 3], [4], [0, 2], [0, 1, 2, 3, 4]].entries()) {
      const x = randomNd(R5, 30 + k);
      for (const keepDims of [false, true]) {
        await checkGrad({
          label: `${name} ${axes}`,
          inputs: [x],
          gpu: (a) => vg[name](a, axes, keepDims),
          oracle: (a) => O.reduce(name, a, axes, keepDims),
        });
      }
    }
  });
}

t('softmax and logSoftmax', async () => {
  const x = randomNd(R5, 40, -3, 3);
  for (const axis of [-1, 1]) {
    await checkGrad({
      label: `softmax ${axis}`,
      inputs: [x],
      gpu: (a) => vg.softmax(a, axis),
      oracle: (a) => O.softmax(a, axis),
    });
    await checkGrad({
      label: `logSoftmax ${axis}`,
      inputs: [x],
      gpu: (a) => vg.logSoftmax(a, axis),
      oracle: (a) => O.softmax(a, axis, true),
    });
  }
});

for (const variant of vg.tuning.families().matmul!)
  t(`matmul with transposes and batch broadcasting (${variant})`, async () => {
    vg.tuning.force('matmul', variant);
    try {
      const specs: [number[], number[], boolean, boolean][] = [
        [[3, 5], [5, 4], false, false],
        [[5, 3], [5, 4], true, false],
        [[3, 5], [4, 5], false, true],
        [[5, 3], [4, 5], true, true],
        [[2, 3, 5], [5, 4], false, false],
        [[2, 1, 3, 5], [3, 5, 2], false, false],
        // Large enough for the tiled kernels (the gradients are products of the same sizes).
        [[20, 40], [40, 24], false, false],
        [[2, 40, 20], [24, 40], true, true],
        // An odd K (the subgroup row blocks of 16 columns step over two rows of B at a time) and
        // partial blocks; B's rows read as vec4s (N a multiple of 4) or element by element.
        [[18, 37], [37, 20], false, false],
        [[18, 37], [37, 22], false, false],
        [[2, 20, 40], [2, 40, 24], false, false],
        [[2, 20, 40], [40, 24], false, false],
      ];
      for (const [k, [sa, sb, tA, tB]] of specs.entries()) {
        await checkGrad({
          label: `matmul [${sa}]${tA ? 'T' : ''} [${sb}]${tB ? 'T' : ''}`,
          inputs: [randomNd(sa, 50 + k), randomNd(sb, 60 + k)],
          gpu: (a, b) => vg.matmul(a, b, { transposeA: tA, transposeB: tB }),
          oracle: (a, b) => O.matmul(a, b, tA, tB),
        });
      }
    } finally {
      vg.tuning.force('matmul', null);
    }
  });

t("a '-subgroup' matmul block runs the subgroup kernel where the device has subgroups of 8 or more", async () => {
  const a = vg.randomNormal([64, 48], { seed: 1 });
  const b = vg.randomNormal([48, 40], { seed: 2 });
  const bt = vg.randomNormal([40, 48], { seed: 3 });
  const odd = vg.randomNormal([48, 38], { seed: 4 });
  const kernelsOf = async (variant: string, product: () => vg.Tensor) => {
    vg.tuning.force('matmul', variant);
    try {
      const profile = await engine.backend.profileKernels(() => vg.tidy(() => void product()));
      return profile?.map((k) => k.kernel.split(' ')[0]) ?? null;
    } finally {
      vg.tuning.force('matmul', null);
    }
  };
  const vec4Rows = await kernelsOf('rows4x32-subgroup', () => vg.matmul(a, b));
  const transposed = await kernelsOf('rows4x32-subgroup', () => vg.matmul(a, bt, { transposeB: true }));
  const oddColumns = await kernelsOf('rows4x32-subgroup', () => vg.matmul(a, odd));
  const plain = await kernelsOf('rows8x16', () => vg.matmul(a, b));
  for (const x of [a, b, bt, odd]) x.dispose();
  if (vec4Rows === null) return;
  // rows4x32-subgroup's workgroups of 16 must fill the device's subgroups (not so with 32 or 64).
  const shared = subgroupsFit(16);
  // B's contiguous rows of 40 columns are read as vec4s; transposed or 38 wide, element by element.
  assert.equal(vec4Rows, [shared ? 'matmul_rows_subgroup_b4' : 'matmul_rows']);
  assert.equal(transposed, [shared ? 'matmul_rows_subgroup' : 'matmul_rows']);
  assert.equal(oddColumns, [shared ? 'matmul_rows_subgroup' : 'matmul_rows']);
  assert.equal(plain, ['matmul_rows']);
});

t('movement ops', async () => {
  const x = randomNd(R5, 70);
  await checkGrad({
    label: 'reshape',
    inputs: [x],
    gpu: (a) => vg.reshape(a, [6, -1]),
    oracle: (a) => new O.Nd([6, a.size / 6], a.data),
  });
  await checkGrad({
    label: 'transpose',
    inputs: [x],
    gpu: (a) => vg.transpose(a, [4, 0, 2, 1, 3]),
    oracle: (a) => O.transpose(a, [4, 0, 2, 1, 3]),
  });
  await checkGrad({
    label: 'slice',
    inputs: [x],
    gpu: (a) => vg.slice(a, [1, 1, 0, 1, 0], [1, 2, 2, 2, 2]),
    oracle: (a) => O.slice(a, [1, 1, 0, 1, 0], [1, 2, 2, 2, 2]),
  });
  const p: [number, number][] = [
    [0, 1],
    [1, 0],
    [0, 0],
    [2, 1],
    [0, 1],
  ];
  await checkGrad({ label: 'pad', inputs: [x], gpu: (a) => vg.pad(a, p, 0.5), oracle: (a) => O.pad(a, p, 0.5) });
  const y = randomNd([2, 1, 2, 3, 3], 71);
  await checkGrad({
    label: 'concat',
    inputs: [x, y],
    gpu: (a, b) => vg.concat([a, b], 1),
    oracle: (a, b) => O.concat([a, b], 1),
  });
  const z = randomNd([3, 1], 72);
  await checkGrad({
    label: 'broadcastTo',
    inputs: [z],
    gpu: (a) => vg.broadcastTo(a, [2, 3, 4]),
    oracle: (a) => O.broadcastTo(a, [2, 3, 4]),
  });
  await checkGrad({ label: 'cast f32->f32', inputs: [z], gpu: (a) => vg.cast(a, 'float32'), oracle: (a) => a });
});

t.run();
