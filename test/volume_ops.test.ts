import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { windowSums } from '../src/tensor/ops/upsample.js';
import { checkGrad } from './gradcheck.js';
import { setup, suite } from './harness.js';
import { assertClose, randomNd, toGpu } from './helpers.js';
import { Nd } from './oracle.js';
import {
  blockSumOracle,
  groupNormOracle,
  maxPoolGradOracle,
  type PoolOpts,
  poolOracle,
  upsampleOracle,
} from './volume_oracle.js';

const t = suite('pooling, upsampling, group norm (float64 oracle, finite differences)');
t.before(setup);

const poolCases: [number[], PoolOpts][] = [
  [[2, 6, 6, 6, 3], { poolSize: [2, 2, 2] }],
  [[1, 7, 5, 9, 2], { poolSize: [2, 2, 2], padding: 'same' }],
  [[1, 7, 7, 6, 3], { poolSize: [3, 3, 3], strides: [2, 2, 2], padding: 'same' }],
  [[2, 5, 6, 7, 1], { poolSize: [3, 2, 2], strides: [1, 2, 3], padding: 'valid' }],
  // Windows that do not overlap but leave gaps between them, and a 'valid' remainder no window
  // covers (the max gradient's scatter zeroes them).
  [[1, 7, 6, 8, 2], { poolSize: [2, 2, 2], strides: [3, 2, 3] }],
  [[2, 7, 5, 6, 2], { poolSize: [2, 1, 2], padding: 'valid' }],
  // Channels in fours: the forward kernel takes 4 of a voxel an invocation, as vec4s.
  [[1, 7, 5, 9, 4], { poolSize: [2, 2, 2], padding: 'same' }],
  [[2, 5, 6, 7, 8], { poolSize: [3, 2, 2], strides: [1, 2, 3] }],
];
for (const kind of ['max', 'avg'] as const) {
  for (const [xs, o] of poolCases) {
    t(`${kind}Pool3d x[${xs}] ${JSON.stringify(o)}: forward and gradient`, async () => {
      const x = randomNd(xs, 8);
      const f = kind === 'max' ? vg.maxPool3d : vg.avgPool3d;
      await assertClose(f(toGpu(x), o), poolOracle(kind, x, o), { atol: 1e-6, rtol: 1e-6 });
      await checkGrad({
        label: `${kind}Pool3d`,
        inputs: [x],
        gpu: (a) => f(a, o),
        oracle: (a) => poolOracle(kind, a, o),
      });
    });
  }
}

t('maxPool3d: the gradient goes to the first maximal tap of each window (the first NaN), per channel', async () => {
  // Few distinct values, so windows hold ties; NaN and -inf among them. Scatter (windows that do
  // not overlap) and gather (overlapping) kernels, 1, 3, 4 and 8 channels (vec4s for 4 and 8).
  const values = [-1, 0, 1, 2, 2, Number.NaN, Number.NEGATIVE_INFINITY];
  const configs: PoolOpts[] = [
    { poolSize: [2, 2, 2] },
    { poolSize: [2, 2, 2], padding: 'same' },
    { poolSize: [3, 3, 3], strides: [2, 2, 2], padding: 'same' },
    { poolSize: [2, 2, 2], strides: [1, 1, 1] },
  ];
  for (const C of [1, 3, 4, 8])
    for (const [k, o] of configs.entries()) {
      const x = randomNd([2, 5, 4, 5, C], 60 + k);
      x.data.forEach((_, i) => {
        x.data[i] = values[Math.floor(Math.abs(x.data[i]) * 1e4) % values.length]!;
      });
      const shape = poolOracle('max', x, o).shape;
      const dy = randomNd(shape, 70 + k);
      const xg = toGpu(x);
      const dyg = toGpu(dy);
      const [g] = vg.grad(() => vg.maxPool3d(xg, o), [xg], { dy: dyg });
      await assertClose(g!, maxPoolGradOracle(x, dy, o), {
        atol: 1e-6,
        rtol: 1e-6,
        label: `C ${C} ${JSON.stringify(o)}`,
      });
      for (const t of [xg, dyg, g!]) t.dispose();
    }
});

t(
  'upSampling3d: nearest neighbour, odd sizes and unequal factors, channels in fours (vec4s), with gradient',
  async () => {
    for (const [xs, f] of [
      [
        [1, 3, 2, 3, 4],
        [2, 2, 2],
      ],
      [
        [2, 2, 3, 1, 8],
        [3, 1, 2],
      ],
      [
        [2, 3, 2, 3, 2],
        [2, 2, 2],
      ],
      [
        [1, 3, 5, 2, 3],
        [1, 3, 2],
      ],
    ] as [number[], number[]][]) {
      const x = randomNd(xs, 9);
      await assertClose(vg.upSampling3d(toGpu(x), f), upsampleOracle(x, f), { atol: 0, rtol: 0 });
      await checkGrad({
        label: 'upSampling3d',
        inputs: [x],
        gpu: (a) => vg.upSampling3d(a, f),
        oracle: (a) => upsampleOracle(a, f),
      });
    }
  },
);

t(
  "upSampling3d's gradient: block sums in one pass of the pooling kernel (NaN and infinities as the oracle), differentiable themselves",
  async () => {
    for (const [xs, f] of [
      [
        [2, 6, 4, 6, 4],
        [2, 2, 2],
      ],
      // Unequal blocks, and extents they do not divide (the last partial blocks are left out).
      [
        [1, 7, 5, 9, 3],
        [2, 1, 3],
      ],
    ] as [number[], number[]][]) {
      const x = randomNd(xs, 12);
      for (const [i, v] of [NaN, Infinity, -Infinity, Infinity].entries()) x.data[7 + 29 * i] = v;
      await assertClose(windowSums(toGpu(x), f), blockSumOracle(x, f), { atol: 1e-6, rtol: 1e-6 });
      await checkGrad({
        label: 'windowSums',
        inputs: [randomNd(xs, 14)],
        gpu: (a) => windowSums(a, f),
        oracle: (a) => blockSumOracle(a, f),
      });
    }
    // The gradient is that one pass (the broadcast's rule reduced the three block axes one at a time).
    const x = toGpu(randomNd([1, 4, 4, 4, 4], 13));
    const dy = vg.fill([1, 8, 8, 8, 4], 1);
    const before = vg.memory().dispatches;
    const [g] = vg.grad(() => vg.upSampling3d(x, 2), [x], { dy });
    const dispatches = vg.memory().dispatches - before;
    await assertClose(g!, new Nd([1, 4, 4, 4, 4], new Float64Array(256).fill(8)), { atol: 0, rtol: 0 });
    for (const t of [x, dy, g!]) t.dispose();
    assert.equal(dispatches, 2, 'the forward copy, then one block sum');
  },
);

t('groupNorm (and instance norm as groups = channels): forward and gradients', async () => {
  for (const [xs, G] of [
    [[2, 3, 4, 3, 6], 3],
    [[1, 5, 3, 3, 4], 4],
    [[2, 3, 3, 3, 2], 1],
    // Channels in multiples of 4, read as vec4s, with groups of 4 and of 2 channels.
    [[2, 3, 2, 3, 12], 3],
    [[1, 4, 3, 2, 8], 4],
  ] as [number[], number][]) {
    const C = xs[4];
    const x = randomNd(xs, 11);
    const gamma = randomNd([C], 12, 0.5, 1.5);
    const beta = randomNd([C], 13);
    await assertClose(
      vg.groupNorm(toGpu(x), toGpu(gamma), toGpu(beta), { groups: G }),
      groupNormOracle(x, gamma, beta, G),
      { atol: 1e-4, rtol: 1e-4 },
    );
    await checkGrad({
      label: `groupNorm G=${G}`,
      inputs: [x, gamma, beta],
      gpu: (a, g, b) => vg.groupNorm(a, g, b, { groups: G }),
      oracle: (a, g, b) => groupNormOracle(a, g, b, G),
      tol: 3e-3,
    });
  }
});

for (const C of [6, 8])
  t(`groupNorm with a fused relu: forward and gradients (${C} channels)`, async () => {
    const x = randomNd([2, 3, 4, 3, C], 21);
    const gamma = randomNd([C], 22, 0.5, 1.5);
    const beta = randomNd([C], 23);
    const relu = (y: Nd): Nd =>
      new Nd(
        y.shape,
        y.data.map((v) => Math.max(v, 0)),
      );
    await assertClose(
      vg.groupNorm(toGpu(x), toGpu(gamma), toGpu(beta), { groups: C / 2, activation: 'relu' }),
      relu(groupNormOracle(x, gamma, beta, C / 2)),
      { atol: 1e-4, rtol: 1e-4 },
    );
    await checkGrad({
      label: 'groupNorm + relu',
      inputs: [x, gamma, beta],
      gpu: (a, g, b) => vg.groupNorm(a, g, b, { groups: C / 2, activation: 'relu' }),
      oracle: (a, g, b) => relu(groupNormOracle(a, g, b, C / 2)),
      tol: 3e-3,
    });
  });

t(
  'groupNorm with a fused relu: the gradients bitwise those of groupNorm then relu, also with NaN and infinities in dy and x',
  async () => {
    // The fused gradient masks dy with step(y) inside the gradient kernels; the composed one runs
    // relu's own rule (dy · step). An infinite dy where the output is 0 gives NaN in both (and
    // its group's means then carry it); a NaN output (an infinity or NaN in its group's input)
    // passes NaN to dy, so even dbeta is NaN there.
    const xNaN = randomNd([2, 3, 4, 5, 8], 29);
    xNaN.data[5] = Number.NaN;
    xNaN.data[600] = Number.NEGATIVE_INFINITY;
    for (const [C, xNd] of [
      [6, randomNd([2, 3, 4, 5, 6], 24)],
      [8, randomNd([2, 3, 4, 5, 8], 24)],
      [8, xNaN],
    ] as [number, Nd][]) {
      const x = toGpu(xNd);
      const gamma = toGpu(randomNd([C], 25, 0.5, 1.5));
      const beta = toGpu(randomNd([C], 26));
      const special = randomNd([2, 3, 4, 5, C], 27);
      for (let i = 0; i < special.size; i += 37) special.data[i] = [Number.POSITIVE_INFINITY, Number.NaN, -0][i % 3]!;
      for (const dyNd of [randomNd([2, 3, 4, 5, C], 28), special]) {
        const dy = toGpu(dyNd);
        const options = { groups: C / 2 };
        const fused = vg.grad(
          () => vg.groupNorm(x, gamma, beta, { ...options, activation: 'relu' }),
          [x, gamma, beta],
          {
            dy,
          },
        );
        const composed = vg.grad(() => vg.relu(vg.groupNorm(x, gamma, beta, options)), [x, gamma, beta], { dy });
        const [a, b] = [await vg.readAll(fused.map((g) => g!)), await vg.readAll(composed.map((g) => g!))];
        for (let k = 0; k < 3; k++) {
          const [u, v] = [new Uint32Array(a[k]!.buffer), new Uint32Array(b[k]!.buffer)];
          const differ = u.findIndex((bits, i) => bits !== v[i] && !(Number.isNaN(a[k]![i]) && Number.isNaN(b[k]![i])));
          assert.is(differ, -1, `C ${C}, gradient ${k}: element ${differ} differs`);
        }
        for (const t of [dy, ...fused, ...composed]) t!.dispose();
      }
      for (const t of [x, gamma, beta]) t.dispose();
    }
  },
);

t('groupNorm over many chunks of voxels, without gamma/beta, with a large offset, and for gamma alone', async () => {
  // 720 voxels per sample: 12 partial chunks of 60 merged by Chan's formula.
  const x = randomNd([2, 10, 9, 8, 4], 21);
  const ones = new Nd([4], new Float64Array(4).fill(1));
  const zeros = new Nd([4], new Float64Array(4));
  await assertClose(vg.groupNorm(toGpu(x), null, null, { groups: 2 }), groupNormOracle(x, ones, zeros, 2), {
    atol: 1e-4,
    rtol: 1e-4,
  });
  await checkGrad({
    label: 'groupNorm x only',
    inputs: [x],
    gpu: (a) => vg.groupNorm(a, null, null, { groups: 2 }),
    oracle: (a) => groupNormOracle(a, ones, zeros, 2),
    tol: 3e-3,
  });
  // Values around 1000 with unit spread: a one-pass Σx² - (Σx)² variance would lose every digit.
  const offset = new Nd(
    x.shape,
    x.data.map((v) => 1000 + v),
  );
  await assertClose(vg.groupNorm(toGpu(offset), null, null, { groups: 4 }), groupNormOracle(offset, ones, zeros, 4), {
    atol: 2e-3,
    rtol: 1e-3,
  });
  // The output is (x − mean) · rstd · gamma + beta in that order: a gamma near float32's largest
  // value stays finite (folding rstd · gamma and beta − mean · rstd · gamma first would overflow).
  const huge = new Nd([4], Float64Array.from([1e38, 1, 2, 1e37]));
  const shifted = new Nd(
    x.shape,
    x.data.map((v) => 5 + v),
  );
  const hugeOut = vg.groupNorm(toGpu(shifted), toGpu(huge), toGpu(zeros), { groups: 2 });
  const [hugeValues] = await vg.readAll([hugeOut]);
  assert.ok(hugeValues!.every(Number.isFinite), 'every output finite');
  await assertClose(hugeOut, groupNormOracle(shifted, huge, zeros, 2), { atol: 1e33, rtol: 1e-4 });
  // Only gamma's gradient asked for: dx is never computed, dbeta is freed.
  const small = randomNd([1, 3, 3, 2, 4], 22);
  const gamma = randomNd([4], 23, 0.5, 1.5);
  const beta = randomNd([4], 24);
  const before = vg.memory().liveTensors;
  await checkGrad({
    label: 'groupNorm gamma only',
    inputs: [small, gamma, beta],
    wrt: [1],
    gpu: (a, g, b) => vg.groupNorm(a, g, b, { groups: 2 }),
    oracle: (a, g, b) => groupNormOracle(a, g, b, 2),
  });
  assert.is(vg.memory().liveTensors, before);
});

t('bad input is rejected before any GPU work', () => {
  const x = vg.zeros([1, 4, 4, 4, 6]);
  const before = vg.memory().liveTensors;
  const cases: [() => unknown, RegExp][] = [
    [() => vg.maxPool3d(x, { poolSize: [2, 0, 2] }), /maxPool3d.*poolSize/],
    [() => vg.avgPool3d(x, { poolSize: 5 }), /avgPool3d.*spatial size >= 5/],
    [() => vg.upSampling3d(x, [2, 2]), /upSampling3d.*size/],
    [() => vg.groupNorm(x, null, null, { groups: 4 }), /groupNorm.*groups.*divisor of the 6 channels/],
  ];
  for (const [f, re] of cases) assert.throws(() => vg.tidy(() => f() as vg.Tensor), re);
  assert.is(vg.memory().liveTensors, before);
  x.dispose();
});

t.run();
