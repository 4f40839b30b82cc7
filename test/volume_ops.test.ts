import * as assert from 'uvu/assert';
import * as vg from '../src/index.js';
import { checkGrad } from './gradcheck.js';
import { setup, suite } from './harness.js';
import { assertClose, randomNd, toGpu } from './helpers.js';
import { Nd } from './oracle.js';

const t = suite('pooling, upsampling, group norm (float64 oracle, finite differences)');
t.before(setup);

interface PoolOpts {
  poolSize: number[];
  strides?: number[];
  padding?: 'same' | 'valid';
}

function poolOracle(kind: 'max' | 'avg', x: Nd, o: PoolOpts): Nd {
  const [B, IX, IY, IZ, C] = x.shape;
  const K = o.poolSize;
  const s = o.strides ?? K;
  const I = [IX, IY, IZ];
  const O: number[] = [];
  const P: number[] = [];
  for (let a = 0; a < 3; a++) {
    if ((o.padding ?? 'valid') === 'valid') {
      O.push(Math.floor((I[a] - K[a]) / s[a]) + 1);
      P.push(0);
    } else {
      O.push(Math.ceil(I[a] / s[a]));
      P.push(Math.floor(Math.max((O[a] - 1) * s[a] + K[a] - I[a], 0) / 2));
    }
  }
  const y = new Float64Array(B * O[0] * O[1] * O[2] * C);
  for (let b = 0; b < B; b++)
    for (let ox = 0; ox < O[0]; ox++)
      for (let oy = 0; oy < O[1]; oy++)
        for (let oz = 0; oz < O[2]; oz++)
          for (let c = 0; c < C; c++) {
            let best = -Infinity;
            let total = 0;
            let n = 0;
            for (let kx = 0; kx < K[0]; kx++)
              for (let ky = 0; ky < K[1]; ky++)
                for (let kz = 0; kz < K[2]; kz++) {
                  const [ix, iy, iz] = [ox * s[0] + kx - P[0], oy * s[1] + ky - P[1], oz * s[2] + kz - P[2]];
                  if (ix < 0 || iy < 0 || iz < 0 || ix >= IX || iy >= IY || iz >= IZ) continue;
                  const v = x.data[(((b * IX + ix) * IY + iy) * IZ + iz) * C + c];
                  best = Math.max(best, v);
                  total += v;
                  n++;
                }
            y[(((b * O[0] + ox) * O[1] + oy) * O[2] + oz) * C + c] = kind === 'max' ? best : total / n;
          }
  return new Nd([B, O[0], O[1], O[2], C], y);
}

const poolCases: [number[], PoolOpts][] = [
  [[2, 6, 6, 6, 3], { poolSize: [2, 2, 2] }],
  [[1, 7, 5, 9, 2], { poolSize: [2, 2, 2], padding: 'same' }],
  [[1, 7, 7, 6, 3], { poolSize: [3, 3, 3], strides: [2, 2, 2], padding: 'same' }],
  [[2, 5, 6, 7, 1], { poolSize: [3, 2, 2], strides: [1, 2, 3], padding: 'valid' }],
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

function upsampleOracle(x: Nd, f: number[]): Nd {
  const [B, X, Y, Z, C] = x.shape;
  const O = [X * f[0], Y * f[1], Z * f[2]];
  const y = new Float64Array(B * O[0] * O[1] * O[2] * C);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < O[0]; i++)
      for (let j = 0; j < O[1]; j++)
        for (let k = 0; k < O[2]; k++)
          for (let c = 0; c < C; c++) {
            y[(((b * O[0] + i) * O[1] + j) * O[2] + k) * C + c] =
              x.data[(((b * X + Math.floor(i / f[0])) * Y + Math.floor(j / f[1])) * Z + Math.floor(k / f[2])) * C + c];
          }
  return new Nd([B, O[0], O[1], O[2], C], y);
}

t('upSampling3d: nearest neighbour, odd sizes and unequal factors, with gradient', async () => {
  for (const [xs, f] of [
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
});

function groupNormOracle(x: Nd, gamma: Nd, beta: Nd, G: number, eps = 1e-5): Nd {
  const B = x.shape[0];
  const C = x.shape[x.shape.length - 1];
  const N = x.size / (B * C);
  const per = C / G;
  const y = new Float64Array(x.size);
  for (let b = 0; b < B; b++)
    for (let g = 0; g < G; g++) {
      let m = 0;
      for (let n = 0; n < N; n++) for (let c = g * per; c < (g + 1) * per; c++) m += x.data[(b * N + n) * C + c];
      m /= N * per;
      let v = 0;
      for (let n = 0; n < N; n++)
        for (let c = g * per; c < (g + 1) * per; c++) v += (x.data[(b * N + n) * C + c] - m) ** 2;
      v /= N * per;
      for (let n = 0; n < N; n++)
        for (let c = g * per; c < (g + 1) * per; c++) {
          const i = (b * N + n) * C + c;
          y[i] = ((x.data[i] - m) / Math.sqrt(v + eps)) * gamma.data[c] + beta.data[c];
        }
    }
  return new Nd(x.shape.slice(), y);
}

t('groupNorm (and instance norm as groups = channels): forward and gradients', async () => {
  for (const [xs, G] of [
    [[2, 3, 4, 3, 6], 3],
    [[1, 5, 3, 3, 4], 4],
    [[2, 3, 3, 3, 2], 1],
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
