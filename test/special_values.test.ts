// NaN and ±Infinity through every op family, against the float64 oracle with NumPy's rules: NaN
// propagates through every op, reduction, pooling, loss and metric (WGSL's max, min and clamp do
// not propagate it by themselves, and lavapipe folds `x != x` to false), comparisons with NaN are
// false (notEqual true), and ±Infinity logits give the float64 reference's value (softmax with one
// +inf logit: that class 1, the others 0; with several: NaN).
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';
import { assertClose, rng, toGpu } from './helpers.js';
import * as L from './loss_oracle.js';
import * as O from './oracle.js';
import { withConvVariant } from './variants.js';
import {
  type ConvOpts,
  conv3dInputGradOracle,
  conv3dOracle,
  conv3dWeightGradOracle,
  fusedOracle,
  groupNormOracle,
  poolOracle,
} from './volume_oracle.js';

const t = suite('NaN and infinities (float64 oracle, NumPy rules)');
t.before(setup);

/** Special and ordinary values, each exactly a float32. */
const VALUES = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, 3, -2.5, 1e-30, 1e30, 3e38].map(Math.fround);

/** The float64 result as float32 stores it (overflow to ±inf, underflow to 0). */
const f32 = (x: O.Nd): O.Nd => x.map(Math.fround);

/** A vector of values with NaN, ±inf, -inf only and ordinary values at chosen places. */
function specialNd(shape: number[], seed: number, density = 0.15): O.Nd {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    d[i] =
      u < density / 3 ? NaN : u < (2 * density) / 3 ? Infinity : u < density ? -Infinity : Math.fround(4 * r() - 2);
  }
  return new O.Nd(shape, d);
}

/** Runs `f` in a scope and compares its single result with the oracle (NaN must match NaN). */
async function check(label: string, f: () => vg.Tensor, expected: O.Nd, rtol = 2e-6, atol = 1e-6): Promise<void> {
  const got = vg.tidy(f);
  try {
    await assertClose(got, expected, { rtol, atol, label });
  } finally {
    got.dispose();
  }
}

t('unary ops: NaN in gives NaN out, infinities give the limits', async () => {
  const x = O.Nd.from([VALUES.length], VALUES);
  const table: [string, (v: vg.Tensor) => vg.Tensor, (v: number) => number, number][] = [
    ['neg', vg.neg, (v) => -v, 0],
    ['abs', vg.abs, Math.abs, 0],
    ['exp', vg.exp, Math.exp, 2e-6],
    ['log', vg.log, Math.log, 2e-6],
    ['log1p', vg.log1p, Math.log1p, 2e-6],
    ['sqrt', vg.sqrt, Math.sqrt, 2e-6],
    ['rsqrt', vg.rsqrt, (v) => 1 / Math.sqrt(v), 2e-6],
    ['square', vg.square, (v) => v * v, 0],
    ['relu', vg.relu, (v) => Math.max(v, 0), 0],
    ['sigmoid', vg.sigmoid, O.unaryFns.sigmoid, 2e-6],
    ['tanh', vg.tanh, Math.tanh, 2e-6],
    ['softplus', vg.softplus, O.unaryFns.softplus, 2e-6],
    ['sign', vg.sign, Math.sign, 0],
    ['reciprocal', vg.reciprocal, (v) => 1 / v, 2e-6],
    ['step', vg.step, O.unaryFns.step, 0],
    ['affine', (v) => vg.affine(v, 2, 1), (v) => 2 * v + 1, 2e-6],
    ['clip', (v) => vg.clip(v, -1, 2), (v) => Math.min(Math.max(v, -1), 2), 0],
    ['clip to infinities', (v) => vg.clip(v, -Infinity, Infinity), (v) => v, 0],
    ['pow 3', (v) => vg.pow(v, 3), (v) => O.numpyPow(v, 3), 2e-6],
    ['pow 0', (v) => vg.pow(v, 0), (v) => O.numpyPow(v, 0), 0],
    ['pow 0.5', (v) => vg.pow(v, 0.5), (v) => O.numpyPow(v, 0.5), 2e-6],
    ['pow -1', (v) => vg.pow(v, -1), (v) => O.numpyPow(v, -1), 2e-6],
  ];
  for (const [name, gpu, oracle, rtol] of table)
    await check(name, () => gpu(toGpu(x)), f32(x.map(oracle)), rtol, rtol ? 1e-6 : 0);
  // sin and cos: WGSL's accuracy holds on [-π, π] only, so large finite arguments are left out.
  const periodic = O.Nd.from([7], [NaN, Infinity, -Infinity, 0, 1, -2.5, 3]);
  await check('sin', () => vg.sin(toGpu(periodic)), f32(periodic.map(Math.sin)), 1e-5, 1e-6);
  await check('cos', () => vg.cos(toGpu(periodic)), f32(periodic.map(Math.cos)), 1e-5, 1e-6);
});

const BINARY_VALUES = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, 3, -2.5, 1e30].map(Math.fround);
const ARITHMETIC = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const;
const COMPARISONS = ['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual'] as const;

t('binary ops over every pair of special values, same-shape and broadcast kernels', async () => {
  const n = BINARY_VALUES.length;
  const a = O.Nd.from(
    [n * n],
    BINARY_VALUES.flatMap((u) => BINARY_VALUES.map(() => u)),
  );
  const b = O.Nd.from(
    [n * n],
    BINARY_VALUES.flatMap(() => BINARY_VALUES),
  );
  const column = O.Nd.from([n, 1], BINARY_VALUES);
  const row = O.Nd.from([1, n], BINARY_VALUES);
  for (const op of [...ARITHMETIC, ...COMPARISONS]) {
    const f = vg[op] as (x: vg.Tensor, y: vg.Tensor) => vg.Tensor;
    const expected = (x: O.Nd, y: O.Nd): O.Nd => f32(O.binary(op, x, y));
    const rtol = op === 'pow' ? 1e-4 : 2e-6;
    await check(`${op} (same shapes)`, () => f(toGpu(a), toGpu(b)), expected(a, b), rtol, 0);
    await check(`${op} (broadcast)`, () => f(toGpu(column), toGpu(row)), expected(column, row), rtol, 0);
  }
  // where: a NaN condition is true (NumPy's bool(nan)); ±0 false.
  const cond = O.Nd.from([5], [NaN, 0, -0, Infinity, -1]);
  await check(
    'where',
    () => vg.where(toGpu(cond), vg.fill([5], 1), vg.fill([5], 2)),
    O.Nd.from([5], [1, 2, 2, 1, 1]),
    0,
    0,
  );
});

t(
  'reductions: NaN wins over everything, inf - inf is NaN, float32 overflow is inf (vec4 and multi-pass paths)',
  async () => {
    const rows = [
      [1, NaN, 2, 3],
      [Infinity, 1, 2, 3],
      [Infinity, -Infinity, 0, 1],
      [-Infinity, -Infinity, -Infinity, -Infinity],
      [3e38, 3e38, 1, 1],
      [NaN, Infinity, -Infinity, NaN],
      [-Infinity, 2, NaN, 7],
      [0.5, -0.5, 2, -2],
    ];
    const x = O.Nd.from([rows.length, 4], rows.flat().map(Math.fround));
    // Larger tensors: the vec4 loads, several chunks per row and several passes.
    const tall = specialNd([3000, 8], 5, 0.002);
    const wide = specialNd([5, 9000], 6, 0.0005);
    for (const name of ['sum', 'mean', 'max', 'min'] as const) {
      const f = vg[name];
      const rtol = name === 'sum' || name === 'mean' ? 1e-4 : 0;
      for (const [label, v, axes] of [
        ['rows', x, [1]],
        ['columns', x, [0]],
        ['all', x, [0, 1]],
        ['tall', tall, [0]],
        ['wide', wide, [1]],
        ['wide, all', wide, [0, 1]],
      ] as const) {
        // A float32 mean overflows where its float32 sum does (as NumPy's float32 mean).
        const count = axes.reduce((a: number, k: number) => a * v.shape[k], 1);
        const expected =
          name === 'mean'
            ? f32(O.reduce('sum', v, [...axes])).map((s) => Math.fround(s / count))
            : f32(O.reduce(name, v, [...axes]));
        await check(`${name} ${label}`, () => f(toGpu(v), [...axes]), expected, rtol, 1e-3);
      }
    }
  },
);

t('softmax and logSoftmax: NaN lines, one or several +inf logits, -inf logits, over either axis', async () => {
  const rows = [
    [NaN, 1, 2],
    [Infinity, 1, 2],
    [Infinity, Infinity, 1],
    [-Infinity, 1, 2],
    [-Infinity, -Infinity, -Infinity],
    [1e30, 0, -1e30],
    [-Infinity, Infinity, 0],
    [0.25, -1, 3],
  ];
  const x = O.Nd.from([rows.length, 3], rows.flat().map(Math.fround));
  for (const axis of [-1, 0]) {
    await check(`softmax axis ${axis}`, () => vg.softmax(toGpu(x), axis), O.softmax(x, axis), 2e-6, 1e-7);
    await check(`logSoftmax axis ${axis}`, () => vg.logSoftmax(toGpu(x), axis), O.softmax(x, axis, true), 2e-6, 1e-6);
  }
});

for (const variant of vg.tuning.families().matmul!)
  t(`matmul (${variant}): an infinity in the last step of an odd K gives ±inf, not NaN`, async () => {
    // Row blocks step over K several rows at a time and clamp the loads past K into the matrices:
    // those steps must add nothing, not 0 · inf. Ordinary values elsewhere, so only the infinities'
    // rows and columns of C are not finite.
    const [M, K, N] = [18, 37, 20];
    const a = specialNd([M, K], 21, 0);
    const b = specialNd([K, N], 22, 0);
    a.data[2 * K + K - 1] = Infinity;
    b.data[(K - 1) * N + 3] = -Infinity;
    const bt = O.transpose(b, [1, 0]);
    vg.tuning.force('matmul', variant);
    try {
      await check('matmul', () => vg.matmul(toGpu(a), toGpu(b)), f32(O.matmul(a, b)), 1e-5, 1e-5);
      await check(
        'matmul, B transposed',
        () => vg.matmul(toGpu(a), toGpu(bt), { transposeB: true }),
        f32(O.matmul(a, b)),
        1e-5,
        1e-5,
      );
    } finally {
      vg.tuning.force('matmul', null);
    }
  });

t(
  'matmul, conv3d (with its fused relu), pooling and groupNorm carry NaN and infinities as the oracle does',
  async () => {
    const a = specialNd([5, 7], 11);
    const b = specialNd([7, 3], 12);
    await check('matmul', () => vg.matmul(toGpu(a), toGpu(b)), f32(O.matmul(a, b)), 1e-5, 1e-5);
    const x = specialNd([1, 4, 4, 4, 2], 13, 0.06);
    const w = specialNd([3, 3, 3, 2, 3], 14, 0);
    const bias = O.Nd.from([3], [0.1, -0.2, 0.3]);
    for (const padding of ['same', 'valid'] as const) {
      await check(
        `conv3d ${padding} relu`,
        () => vg.conv3d(toGpu(x), toGpu(w), { padding, bias: toGpu(bias), activation: 'relu' }),
        f32(fusedOracle(x, w, bias, { padding }, true)),
        1e-4,
        1e-4,
      );
    }
    // A window of -inf only stays -inf; a NaN anywhere in a window makes its max and mean NaN.
    const v = specialNd([1, 4, 4, 4, 2], 15, 0.08);
    for (let i = 0; i < 8; i++) v.data[i * 2] = -Infinity;
    // The same over channels in fours (read as vec4s): a NaN stays in its own channel.
    const v4 = specialNd([1, 4, 4, 4, 4], 16, 0.08);
    for (let i = 0; i < 8; i++) v4.data[i * 4 + 1] = -Infinity;
    for (const padding of ['same', 'valid'] as const) {
      await check(
        `maxPool3d ${padding}, 4 channels`,
        () => vg.maxPool3d(toGpu(v4), { padding }),
        poolOracle('max', v4, { poolSize: [2, 2, 2], padding }),
        0,
        0,
      );
      await check(
        `avgPool3d ${padding}, 4 channels`,
        () => vg.avgPool3d(toGpu(v4), { padding }),
        f32(poolOracle('avg', v4, { poolSize: [2, 2, 2], padding })),
        1e-5,
        1e-6,
      );
    }
    for (const padding of ['same', 'valid'] as const) {
      await check(
        `maxPool3d ${padding}`,
        () => vg.maxPool3d(toGpu(v), { padding }),
        poolOracle('max', v, { poolSize: [2, 2, 2], padding }),
        0,
        0,
      );
      await check(
        `avgPool3d ${padding}`,
        () => vg.avgPool3d(toGpu(v), { padding }),
        f32(poolOracle('avg', v, { poolSize: [2, 2, 2], padding })),
        1e-5,
        1e-6,
      );
    }
    const g = specialNd([1, 3, 3, 3, 4], 16, 0.01);
    const ones = O.Nd.from([4], [1, 1, 1, 1]);
    const zeros = O.Nd.from([4], [0, 0, 0, 0]);
    await check(
      'groupNorm',
      () => vg.groupNorm(toGpu(g), null, null, { groups: 2 }),
      groupNormOracle(g, ones, zeros, 2),
      1e-3,
      1e-4,
    );
  },
);

/**
 * Compares a result with the oracle where NaN may spread further than the oracle's: every NaN
 * and infinity of the oracle is the same in `got` or NaN there, and every finite value of `got`
 * is the oracle's.
 */
async function assertNanCovers(label: string, got: vg.Tensor, expected: O.Nd): Promise<void> {
  const g = await got.data();
  assert.equal([...got.shape], expected.shape, `${label}: shape`);
  let spread = 0;
  for (let i = 0; i < g.length; i++) {
    const [a, e] = [g[i]!, expected.data[i]!];
    if (Number.isNaN(a)) {
      if (!Number.isNaN(e)) spread++;
      continue;
    }
    assert.ok(!Number.isNaN(e), `${label}: element ${i} is ${a}, the oracle NaN`);
    if (!Number.isFinite(e)) assert.is(a, e, `${label}: element ${i}`);
    else assert.ok(Math.abs(a - e) <= 1e-4 + 1e-4 * Math.abs(e), `${label}: element ${i} is ${a}, the oracle ${e}`);
  }
  // Extra NaN only come from taps in the padding (multiplied by 0 there), so they stay a minority.
  assert.ok(spread <= g.length / 2, `${label}: ${spread} of ${g.length} elements NaN beyond the oracle`);
}

// The convolution kernels multiply taps that fall in the padding by 0 rather than branch around
// them (uniform control flow), so a NaN or infinite weight, or gradient dy, can also make NaN
// the outputs and gradients whose taps reach into the padding, where the oracle's sum has no term
// (0 · inf = NaN, as in an explicitly zero-padded convolution). NaN never goes missing: every
// pass of every variant carries the oracle's NaN and infinities.
for (const variant of vg.tuning.families()['conv3d.forward']!)
  t(`conv3d (${variant}): NaN and infinite weights and gradients reach at least what the oracle says`, () =>
    withConvVariant(variant, async () => {
      for (const [xs, ws, o] of [
        [[1, 4, 5, 6, 3], [3, 3, 3, 3, 4], { padding: 'same' }],
        [[2, 5, 4, 6, 4], [3, 3, 3, 4, 8], { padding: 'same', strides: [2, 1, 2] }],
        [[1, 5, 5, 6, 2], [3, 2, 3, 2, 3], { padding: 'valid' }],
        // Rows of several z-blocks (the window shared with the next lane) and 16 channels in and
        // out (the weight gradient's partners share input and dy loads).
        [[1, 3, 3, 20, 16], [3, 3, 3, 16, 16], { padding: 'same' }],
      ] as [number[], number[], ConvOpts][]) {
        const x = specialNd(xs, 51, 0.04);
        const w = specialNd(ws, 52, 0);
        // A NaN at a corner tap and an infinity at the centre.
        w.data[1] = NaN;
        w.data[Math.floor(w.size / 2)] = Infinity;
        const label = `x[${xs}] w[${ws}] ${JSON.stringify(o)}`;
        const y = vg.tidy(() => vg.conv3d(toGpu(x), toGpu(w), o));
        await assertNanCovers(`${label} forward`, y, conv3dOracle(x, w, o));
        // Gradients of Σ conv(x, w) ⊙ dy with NaN and infinities in dy, at the volume's borders too.
        // Few enough that most weight-gradient sums stay finite.
        const dy = specialNd([...y.shape], 53, 0.006);
        const wFinite = specialNd(ws, 54, 0);
        const xFinite = specialNd(xs, 55, 0);
        const [xg, wg, dyg] = [toGpu(xFinite), toGpu(wFinite), toGpu(dy)];
        const { grads } = vg.valueAndGrad(() => vg.sum(vg.mul(vg.conv3d(xg, wg, o), dyg)), [xg, wg]);
        await assertNanCovers(`${label} dx`, grads[0]!, conv3dInputGradOracle(dy, wFinite, xs, o));
        await assertNanCovers(`${label} dw`, grads[1]!, conv3dWeightGradOracle(xFinite, dy, ws.slice(0, 3), o));
        for (const tt of [y, xg, wg, dyg, ...grads]) tt!.dispose();
      }
    }),
  );

t('cast to int32: NaN gives 0 and infinities saturate (voxgrad rule; NumPy leaves them undefined)', async () => {
  const x = vg.tensor([NaN, Infinity, -Infinity, 2.7, -2.7]);
  const y = vg.cast(x, 'int32');
  assert.equal(Array.from(await y.data()), [0, 2147483520, -2147483648, 2, -2]);
  x.dispose();
  y.dispose();
});

/** A (2, 2, 2, 3) volume: one-hot targets and predictions with `special` written at voxel 0. */
function volumeWith(special: number[], activation: L.Act): { v: L.Volume; t: vg.Tensor; p: vg.Tensor } {
  const [B, N, C] = [2, 4, 3];
  const r = rng(21);
  const labels = Int32Array.from({ length: B * N }, () => Math.floor(r() * C));
  const t = new Float64Array(B * N * C);
  labels.forEach((k, i) => {
    t[i * C + k] = 1;
  });
  const p = Float64Array.from({ length: B * N * C }, () =>
    Math.fround(activation === 'none' ? 0.05 + 0.9 * r() : 4 * r() - 2),
  );
  special.forEach((s, c) => {
    p[c] = s;
  });
  return {
    v: { B, N, C, t, p },
    t: vg.tensor(Float32Array.from(t), [B, 2, 2, C]),
    p: vg.tensor(Float32Array.from(p), [B, 2, 2, C]),
  };
}

t('losses: a NaN prediction gives NaN, ±inf logits give the float64 reference value, for every loss', async () => {
  const cases: [string, number[], L.Act][] = [
    ['NaN probability', [NaN, 0.2, 0.3], 'none'],
    ['NaN logit (softmax)', [NaN, 0, 1], 'softmax'],
    ['NaN logit (sigmoid)', [0, NaN, 1], 'sigmoid'],
    ['one +inf logit (softmax)', [Infinity, 0, 1], 'softmax'],
    ['two +inf logits (softmax)', [Infinity, Infinity, 1], 'softmax'],
    ['-inf logits (softmax)', [-Infinity, 0, -Infinity], 'softmax'],
    ['±inf logits (sigmoid)', [Infinity, -Infinity, 1], 'sigmoid'],
  ];
  for (const [label, special, activation] of cases) {
    const { v, t: yt, p: yp } = volumeWith(special, activation);
    const o = { activation };
    const losses: [string, () => vg.Tensor, number | number[]][] = [
      ['dice', () => vg.dice(yt, yp, o), L.overlapLoss('dice', v, o)],
      ['iou', () => vg.iou(yt, yp, o), L.overlapLoss('iou', v, o)],
      [
        'tversky',
        () => vg.tversky(yt, yp, { ...o, alpha: 0.3, beta: 0.7 }),
        L.overlapLoss('tversky', v, { ...o, alpha: 0.3, beta: 0.7 }),
      ],
      ['generalizedDice', () => vg.generalizedDice(yt, yp, o), L.generalizedDice(v, o)],
      [
        'dice per entry',
        () => vg.dice(yt, yp, { ...o, reduction: 'none' }),
        L.overlapLoss('dice', v, { ...o, reduction: 'none' }),
      ],
    ];
    if (activation !== 'sigmoid') {
      losses.push([
        'categoricalCrossentropy',
        () => vg.categoricalCrossentropy(yt, yp, { fromLogits: activation === 'softmax' }),
        L.categoricalCrossentropy(v, activation),
      ]);
    }
    if (activation !== 'softmax') {
      losses.push([
        'binaryCrossentropy',
        () => vg.binaryCrossentropy(yt, yp, { fromLogits: activation === 'sigmoid' }),
        L.binaryCrossentropy(v, activation),
      ]);
    }
    for (const [name, gpu, expected] of losses) {
      const e = Array.isArray(expected) ? expected : [expected];
      await check(
        `${label}: ${name}`,
        gpu,
        new O.Nd(Array.isArray(expected) ? [2, 3] : [], Float64Array.from(e)),
        1e-4,
        1e-5,
      );
    }
    yt.dispose();
    yp.dispose();
  }
  // The NaN cases really are NaN (not only equal to an oracle that could be wrong the same way).
  const { t: yt, p: yp } = volumeWith([NaN, 0.2, 0.3], 'none');
  const values = await vg.readAll(
    vg.tidy(() => [vg.dice(yt, yp), vg.generalizedDice(yt, yp), vg.tversky(yt, yp), vg.diceCrossentropy(yt, yp)]),
  );
  assert.ok(
    values.every((d) => Number.isNaN(d[0])),
    `NaN losses, got ${values.map((d) => d[0])}`,
  );
  vg.tidy(() => [yt, yp].forEach((x) => x.dispose()));
});

/** Dice metric per (b, c) with NumPy's rules for the mask: NaN > t is false, argmax picks a NaN. */
function diceMetricOracle(v: L.Volume, binarize: 'threshold' | 'argmax' | 'none'): number {
  const { B, N, C } = v;
  const scores: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      let tp = 0;
      let po = 0;
      let go = 0;
      for (let n = 0; n < N; n++) {
        const i = (b * N + n) * C;
        const row = Array.from(v.p.subarray(i, i + C));
        const nanAt = row.findIndex(Number.isNaN);
        const best = nanAt >= 0 ? nanAt : row.indexOf(Math.max(...row));
        const p = binarize === 'none' ? row[c] : binarize === 'threshold' ? +(row[c] > 0.5) : +(c === best);
        const tt = v.t![i + c];
        tp += tt * p;
        po += p;
        go += tt;
      }
      if (go > 0) scores.push(po + go === 0 ? 1 : (2 * tp) / (po + go));
    }
  }
  return scores.reduce((a, s) => a + s, 0) / scores.length;
}

t('metrics: a NaN prediction is NaN for soft scores, and binarised as NumPy compares (finite)', async () => {
  const { v, t: yt, p: yp } = volumeWith([NaN, 0.2, 0.3], 'none');
  for (const binarize of ['threshold', 'argmax', 'none'] as const) {
    const expected = diceMetricOracle(v, binarize);
    await check(
      `diceMetric ${binarize}`,
      () => vg.diceMetric(yt, yp, { binarize }),
      O.Nd.from([], [expected]),
      1e-5,
      1e-6,
    );
  }
  vg.tidy(() => [yt, yp].forEach((x) => x.dispose()));
});

t.run();
