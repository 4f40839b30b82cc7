import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';
import { assertClose, randomNd, toGpu } from './helpers.js';
import * as O from './oracle.js';

const t = suite('reduce, softmax, matmul');
t.before(setup);

const cases: [number[], number[] | undefined][] = [
  [
    [2, 5, 6, 7, 3],
    [1, 2, 3],
  ],
  [[2, 5, 6, 7, 3], [4]],
  [[2, 5, 6, 7, 3], [0]],
  [
    [2, 5, 6, 7, 3],
    [0, 2, 4],
  ],
  [[2, 5, 6, 7, 3], undefined],
  [
    [1, 17, 1, 9, 1],
    [1, 3],
  ],
  [[3, 1, 4], [1]],
  [[4097], [0]],
  [[3, 300, 5], [1]],
  [[5, 1000], [1]],
  [[1000, 5], [0]],
  [
    [2, 3, 600],
    [0, 1],
  ],
  [[], undefined],
  // Many short columns: the one-thread-per-column path.
  [[64, 80, 3], [2]],
  [[5000, 3, 4], [1]],
  [[2, 40, 60, 4], [3]],
  // Long rows of one value, a multiple of 4 of them: read as vec4s, then the 4 columns reduced.
  [[3, 4100], [1]],
  [
    [2, 64, 64],
    [1, 2],
  ],
  [[8192], undefined],
];

for (const name of ['sum', 'mean', 'max', 'min'] as const) {
  t(`${name} over any axes matches the oracle`, async () => {
    for (const [k, [shape, axes]] of cases.entries()) {
      for (const keepDims of [false, true]) {
        const x = randomNd(shape, 100 + k);
        const y = vg.tidy(() => vg[name](toGpu(x), axes, keepDims));
        const expected = O.reduce(name, x, axes ?? [...shape.keys()], keepDims);
        await assertClose(y, expected, {
          atol: 1e-5,
          rtol: 1e-5,
          label: `${name} [${shape}] axes ${axes} keepDims ${keepDims}`,
        });
        y.dispose();
      }
    }
  });
}

t('every case again with bindings capped at 4 KiB: reductions in windows of whole rows match the oracle', async () => {
  vg.flags.maxBindingWindowBytes = 4096;
  try {
    for (const name of ['sum', 'mean', 'max', 'min'] as const) {
      for (const [k, [shape, axes]] of cases.entries()) {
        const x = randomNd(shape, 100 + k);
        const y = vg.tidy(() => vg[name](toGpu(x), axes, true));
        await assertClose(y, O.reduce(name, x, axes ?? [...shape.keys()], true), {
          atol: 1e-5,
          rtol: 1e-5,
          label: `windowed ${name} [${shape}] axes ${axes}`,
        });
        y.dispose();
      }
    }
  } finally {
    vg.flags.maxBindingWindowBytes = 0;
  }
});

t(
  'reductions over empty axes follow NumPy: sum 0, mean NaN, max and min a ValueError; empty outputs are empty',
  async () => {
    const x = vg.zeros([3, 0, 2]);
    assert.equal(Array.from(await vg.sum(x, 1).data()), [0, 0, 0, 0, 0, 0]);
    assert.ok(Array.from(await vg.mean(x, 1).data()).every(Number.isNaN));
    assert.equal([...vg.sum(x, 0).shape], [0, 2]);
    // NumPy: "zero-size array to reduction operation maximum which has no identity", even when the
    // result is empty too; reducing only non-empty axes of an empty tensor gives an empty result.
    for (const [f, axis] of [
      [vg.max, 1],
      [vg.min, [0, 1]],
      [vg.max, undefined],
    ] as const)
      assert.throws(
        () => f(x, axis),
        (e: Error) => e instanceof vg.ValueError && /argument 'x' expected values/.test(e.message),
      );
    assert.equal([...vg.max(x, 2).shape], [3, 0]);
    assert.equal([...vg.min(x, [0, 2]).shape], [0]);
    vg.tidy(() => x.dispose());
  },
);

t('long rows read as vec4s: NaN and infinities as NumPy, and windows of them under a binding cap', async () => {
  // 8192 values a row: the (O, R / 4, 4) vec4 pass, then the 4 columns.
  const R = 8192;
  const row = (special: number[]): Float32Array => {
    const v = Float32Array.from({ length: R }, (_, i) => ((i * 37) % 101) / 101 - 0.5);
    special.forEach((x, k) => {
      v[1001 + 2 * k] = x;
    });
    return v;
  };
  const rows = [row([]), row([Number.NaN]), row([Number.POSITIVE_INFINITY]), row([Number.NEGATIVE_INFINITY, 5])];
  const data = new Float32Array(rows.length * R);
  rows.forEach((r, k) => {
    data.set(r, k * R);
  });
  const x = vg.tensor(data, [rows.length, R]);
  const host = (op: (a: number, b: number) => number, init: number) => rows.map((r) => r.reduce(op, init));
  const expected = {
    sum: host((a, b) => a + b, 0),
    max: rows.map((r) => (r.some(Number.isNaN) ? Number.NaN : Math.max(...r))),
    min: rows.map((r) => (r.some(Number.isNaN) ? Number.NaN : Math.min(...r))),
  };
  const check = async (label: string): Promise<void> => {
    for (const name of ['sum', 'max', 'min'] as const) {
      const got = await vg[name](x, 1).data();
      for (let k = 0; k < rows.length; k++) {
        const want = expected[name][k]!;
        const v = got[k]!;
        const ok = Number.isNaN(want)
          ? Number.isNaN(v)
          : v === want || Math.abs(v - want) <= 1e-3 * Math.max(1, Math.abs(want));
        assert.ok(ok, `${label} ${name} of row ${k}: ${v}, expected ${want}`);
      }
    }
    const mean = await vg.mean(x, 1).data();
    assert.ok(Math.abs(mean[0]! - expected.sum[0]! / R) < 1e-6, `${label} mean: ${mean[0]}`);
  };
  await check('one binding');
  // Windows of 16320 rows: each o in one window, its 8192 rows read as vec4s inside it.
  vg.flags.maxBindingWindowBytes = 64 * 1024;
  try {
    await check('64 KiB windows');
  } finally {
    vg.flags.maxBindingWindowBytes = 0;
  }
  x.dispose();
});

t('sum is bitwise identical over 20 runs (no float atomics)', async () => {
  const x = vg.randomNormal([1, 64, 64, 64, 4], { seed: 7 });
  const first = await vg.sum(x, [1, 2, 3]).data();
  const all = vg.sum(x);
  const firstAll = await all.data();
  for (let i = 0; i < 20; i++) {
    const [a, b] = await vg.tidyAsync(async () => vg.readAll([vg.sum(x, [1, 2, 3]), vg.sum(x)]));
    assert.equal(Array.from(new Uint32Array(a.buffer)), Array.from(new Uint32Array(first.buffer)), `run ${i}`);
    assert.equal(Array.from(new Uint32Array(b.buffer)), Array.from(new Uint32Array(firstAll.buffer)), `run ${i}`);
  }
  x.dispose();
});

t('softmax and logSoftmax over any axis, stable for large logits', async () => {
  for (const [k, [shape, axis]] of (
    [
      [[2, 3, 4, 5, 6], -1],
      [[2, 3, 4, 5, 6], 1],
      [[7], 0],
      [[3, 1], 1],
      [[4, 9], 0],
    ] as [number[], number][]
  ).entries()) {
    const x = randomNd(shape, 30 + k, -5, 5);
    await assertClose(vg.softmax(toGpu(x), axis), O.softmax(x, axis), { atol: 1e-6, rtol: 1e-5 });
    await assertClose(vg.logSoftmax(toGpu(x), axis), O.softmax(x, axis, true), { atol: 1e-5, rtol: 1e-5 });
  }
  const big = O.Nd.from([2, 3], [1000, 0, -1000, 88, 89, 90]);
  await assertClose(vg.softmax(toGpu(big)), O.softmax(big, -1), { atol: 1e-7 });
  await assertClose(vg.logSoftmax(toGpu(big)), O.softmax(big, -1, true), { atol: 1e-4, rtol: 1e-6 });
});

// Every variant the tuner may choose (tiles and row blocks) against the oracle.
for (const variant of vg.tuning.families().matmul!)
  t(`matmul: shapes, batch broadcasting, transposes, odd sizes (${variant})`, async () => {
    vg.tuning.force('matmul', variant);
    try {
      const specs: [number[], number[], boolean, boolean][] = [
        [[3, 5], [5, 4], false, false],
        [[17, 33], [33, 19], false, false],
        [[2, 3, 17, 33], [33, 19], false, false],
        [[2, 1, 5, 6], [3, 6, 7], false, false],
        [[6, 5], [6, 4], true, false],
        [[5, 6], [4, 6], false, true],
        [[2, 6, 5], [2, 4, 6], true, true],
        [[1, 1], [1, 1], false, false],
        [[3, 0], [0, 2], false, false],
        // Thin products and long-K weight gradients take the direct kernel, split along K.
        [[700, 2], [2, 16], false, false],
        [[3000, 16], [3000, 3], true, false],
        [[2, 1500, 5], [1500, 4], true, false],
        [[7, 2500], [3, 2500], false, true],
        // Tiled: several tiles and row blocks with ragged edges.
        [[150, 70], [70, 90], false, false],
        [[2, 70, 150], [70, 90], true, false],
        [[150, 70], [2, 90, 70], false, true],
        [[70, 150], [90, 70], true, true],
      ];
      for (const [k, [sa, sb, tA, tB]] of specs.entries()) {
        const a = randomNd(sa, 50 + k);
        const b = randomNd(sb, 60 + k);
        const y = vg.matmul(toGpu(a), toGpu(b), { transposeA: tA, transposeB: tB });
        await assertClose(y, O.matmul(a, b, tA, tB), {
          atol: 1e-4,
          rtol: 1e-5,
          label: `[${sa}]${tA ? 'T' : ''} x [${sb}]${tB ? 'T' : ''}`,
        });
      }
    } finally {
      vg.tuning.force('matmul', null);
    }
  });

t('matmul rejects mismatched inner dims before any GPU work', () => {
  const before = vg.memory().dispatches;
  const a = vg.zeros([3, 4]);
  const b = vg.zeros([5, 2]);
  assert.throws(
    () => vg.matmul(a, b),
    /matmul: argument 'b' expected K=4 on its inner axis \(a \[3, 4\] has K=4\), got \[5, 2\] with K=5/,
  );
  assert.is(vg.memory().dispatches, before + 2); // only the two fills
  a.dispose();
  b.dispose();
});

t.run();
