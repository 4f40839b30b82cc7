import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { coalesceAxes, copyWidth } from '../src/tensor/ops/strided_copy.js';
import { setup, suite } from './harness.js';
import { assertClose, randomNd, toGpu } from './helpers.js';
import * as O from './oracle.js';

const t = suite('movement and creation');
t.before(setup);

t('reshape is a view with -1 inference', async () => {
  const x = randomNd([2, 3, 4], 1);
  const g = toGpu(x);
  const before = vg.memory().liveBuffers;
  const y = vg.reshape(g, [4, -1]);
  assert.equal([...y.shape], [4, 6]);
  assert.is(vg.memory().liveBuffers, before, 'no new buffer');
  await assertClose(y, new O.Nd([4, 6], x.data), { atol: 0 });
  assert.throws(() => vg.reshape(g, [5, -1]), /reshape: cannot infer -1/);
  assert.throws(() => vg.reshape(g, [5, 5]), /reshape: argument 'shape' expected a shape with 24 elements/);
  g.dispose();
  await assertClose(y, new O.Nd([4, 6], x.data), { atol: 0 });
  y.dispose();
});

t('transpose rank 5 and default reverse', async () => {
  const x = randomNd([2, 3, 4, 5, 3], 2);
  await assertClose(vg.transpose(toGpu(x), [0, 4, 1, 2, 3]), O.transpose(x, [0, 4, 1, 2, 3]), { atol: 0 });
  await assertClose(vg.transpose(toGpu(x)), O.transpose(x, [4, 3, 2, 1, 0]), { atol: 0 });
});

t('slice with negative begin and -1 size; int32 too', async () => {
  const x = randomNd([4, 5, 6, 3], 3);
  await assertClose(vg.slice(toGpu(x), [1, -3, 0, 1], [2, -1, 5, 2]), O.slice(x, [1, 2, 0, 1], [2, 3, 5, 2]), {
    atol: 0,
  });
  const xi = x.map((v) => Math.round(v * 1000));
  const s = vg.slice(toGpu(xi, 'int32'), [0, 0, 0, 0], [1, 5, 6, 3]);
  assert.is(s.dtype, 'int32');
  await assertClose(s, O.slice(xi, [0, 0, 0, 0], [1, 5, 6, 3]), { atol: 0 });
  assert.throws(
    () => vg.slice(toGpu(x), [0, 0, 0, 0], [5, 1, 1, 1]),
    /slice: argument 'size\[0\]' expected an integer in \[0, 4\]/,
  );
});

t('pad and concat', async () => {
  const x = randomNd([2, 3, 1, 4, 2], 4);
  const p: [number, number][] = [
    [0, 1],
    [2, 0],
    [1, 1],
    [0, 0],
    [3, 2],
  ];
  await assertClose(vg.pad(toGpu(x), p, -7), O.pad(x, p, -7), { atol: 0 });
  const a = randomNd([2, 3, 4], 5);
  const b = randomNd([2, 1, 4], 6);
  const c = randomNd([2, 5, 4], 7);
  await assertClose(vg.concat([toGpu(a), toGpu(b), toGpu(c)], 1), O.concat([a, b, c], 1), { atol: 0 });
  await assertClose(vg.concat([toGpu(a), toGpu(a)], -1), O.concat([a, a], 2), { atol: 0 });
  assert.throws(
    () => vg.concat([toGpu(a), toGpu(b)], 0),
    /concat: argument 'xs\[1\]' expected shape \["\*", 3, 4\], got \[2, 1, 4\]/,
  );
});

t('a copy moves vec4s of words only where its run, offsets and outer strides are whole vec4s', () => {
  assert.is(copyWidth(16, [0, 8], [112, 4, 24, 96]), 4);
  assert.is(copyWidth(16, [-8, 4], [112, 4]), 4, 'an offset before the bound window');
  assert.is(copyWidth(16, [0, 3], [112, 19]), 1, 'a destination offset of 3 words');
  assert.is(copyWidth(6, [0, 0], [12, 12]), 1, 'runs of 6 words');
  assert.is(copyWidth(8, [0, 0], [12, 10]), 1, 'an outer stride of 10 words');
  assert.is(copyWidth(1, [0, 0], []), 1);
});

t('a copy iterates neighbouring axes as one where one index walks both in both tensors', () => {
  const plan = (shape: number[], srcStrides: number[], dstStrides: number[], padLo?: number[], srcShape?: number[]) =>
    coalesceAxes({
      shape,
      srcOffset: 0,
      srcShape: srcShape ?? shape,
      srcStrides,
      padLo: padLo ?? shape.map(() => 0),
      padBits: 0,
      dstOffset: 0,
      dstStrides,
    });
  // The second half of a channel concat of (2, 4, 5, 6, 16) volumes into 32 channels.
  const cat = plan([2, 4, 5, 6, 16], [1920, 480, 96, 16, 1], [3840, 960, 192, 32, 1]);
  assert.equal(
    [cat.shape, cat.srcStrides, cat.dstStrides],
    [
      [240, 16],
      [16, 1],
      [32, 1],
    ],
  );
  // A broadcast over the two outer axes into a contiguous tensor.
  const wide = plan([3, 4, 5], [0, 0, 1], [20, 5, 1]);
  assert.equal(
    [wide.shape, wide.srcStrides, wide.dstStrides],
    [
      [12, 5],
      [0, 1],
      [5, 1],
    ],
  );
  // A transpose keeps its axes; a padded axis merges with neither neighbour.
  assert.equal(plan([4, 5, 6], [6, 24, 1], [30, 6, 1]).shape, [4, 5, 6]);
  const padded = plan([2, 6, 5, 3], [60, 15, 3, 1], [90, 15, 3, 1], [0, 1, 0, 0], [2, 4, 5, 3]);
  assert.equal(
    [padded.shape, padded.padLo, padded.srcShape],
    [
      [2, 6, 15],
      [0, 1, 0],
      [2, 4, 15],
    ],
  );
});

t('slices and concats along outer axes are device copies of contiguous runs, equal to the oracle', async () => {
  const [a, b] = [randomNd([2, 5, 6, 7, 3], 1), randomNd([2, 4, 6, 7, 3], 2)];
  const before = vg.memory().dispatches;
  const joined = vg.concat([toGpu(a), toGpu(b)], 1);
  const part = vg.slice(joined, [1, 2, 0, 0, 0], [1, 6, 6, 7, 3]);
  assert.is(vg.memory().dispatches, before, 'no kernel dispatched');
  await assertClose(joined, O.concat([a, b], 1), { atol: 0, rtol: 0 });
  await assertClose(part, O.slice(O.concat([a, b], 1), [1, 2, 0, 0, 0], [1, 6, 6, 7, 3]), { atol: 0, rtol: 0 });
});

// Copies whose inner axes are contiguous in both tensors run one kernel invocation per run of
// elements (a concat or slice of channels), with or without binding windows that split the runs;
// a padded or transposed last axis stays element by element.
t(
  'channel concats, channel slices, padded and transposed copies, in runs and in windows, equal the oracle',
  async () => {
    const a = randomNd([2, 5, 6, 7, 3], 8);
    const b = randomNd([2, 5, 6, 7, 16], 9);
    const check = async (): Promise<void> => {
      const joined = vg.concat([toGpu(a), toGpu(b)], -1);
      await assertClose(joined, O.concat([a, b], 4), { atol: 0, rtol: 0 });
      await assertClose(
        vg.slice(joined, [0, 1, 0, 2, 2], [2, 3, 6, 4, 9]),
        O.slice(O.concat([a, b], 4), [0, 1, 0, 2, 2], [2, 3, 6, 4, 9]),
        {
          atol: 0,
          rtol: 0,
        },
      );
      const p: [number, number][] = [
        [0, 0],
        [1, 0],
        [0, 2],
        [0, 0],
        [2, 1],
      ];
      await assertClose(vg.pad(toGpu(b), p, 5), O.pad(b, p, 5), { atol: 0, rtol: 0 });
      const perm = [0, 1, 2, 4, 3];
      await assertClose(vg.transpose(toGpu(b), perm), O.transpose(b, perm), { atol: 0, rtol: 0 });
      // Every rank from 0: a scalar broadcast, rank-1 slices and pads, a rank-2 concat.
      const v = randomNd([9], 10);
      const scalar = new O.Nd([], new Float64Array([2.5]));
      for (const copy of [
        vg.broadcastTo(vg.tensor(2.5), []),
        vg.transpose(vg.tensor(2.5)),
        vg.slice(vg.tensor(2.5), [], []),
        vg.pad(vg.tensor(2.5), []),
      ])
        await assertClose(copy, scalar, { atol: 0 });
      const filled = new O.Nd([3, 2], new Float64Array(6).fill(2.5));
      await assertClose(vg.broadcastTo(vg.tensor(2.5), [3, 2]), filled, { atol: 0 });
      await assertClose(vg.slice(toGpu(v), [2], [5]), O.slice(v, [2], [5]), { atol: 0, rtol: 0 });
      await assertClose(vg.pad(toGpu(v), [[1, 2]], 3), O.pad(v, [[1, 2]], 3), { atol: 0, rtol: 0 });
      const m = randomNd([4, 3], 11);
      await assertClose(vg.concat([toGpu(m), toGpu(m)], 1), O.concat([m, m], 1), { atol: 0, rtol: 0 });
      // Runs of 4k channels at offsets of 4k words move as vec4s: a concat of 8 and 16 channels,
      // a slice of channels [4, 20), outer axes padded around runs of 8 channels (int32 too).
      const c = randomNd([2, 5, 6, 7, 8], 12);
      const wide = vg.concat([toGpu(c), toGpu(b)], -1);
      await assertClose(wide, O.concat([c, b], 4), { atol: 0, rtol: 0 });
      await assertClose(
        vg.slice(wide, [0, 1, 0, 2, 4], [2, 3, 6, 4, 16]),
        O.slice(O.concat([c, b], 4), [0, 1, 0, 2, 4], [2, 3, 6, 4, 16]),
        { atol: 0, rtol: 0 },
      );
      const outer: [number, number][] = [
        [1, 0],
        [0, 2],
        [1, 1],
        [2, 0],
        [0, 0],
      ];
      await assertClose(vg.pad(toGpu(c), outer, -3), O.pad(c, outer, -3), { atol: 0, rtol: 0 });
      const ci = c.map((x) => Math.round(x * 1000));
      await assertClose(vg.pad(toGpu(ci, 'int32'), outer, 7), O.pad(ci, outer, 7), { atol: 0, rtol: 0 });
    };
    await check();
    const saved = vg.flags.maxBindingWindowBytes;
    vg.flags.maxBindingWindowBytes = 1024;
    try {
      await check();
    } finally {
      vg.flags.maxBindingWindowBytes = saved;
    }
  },
);

t('broadcastTo, expandDims, squeeze', async () => {
  const x = randomNd([3, 1], 8);
  await assertClose(vg.broadcastTo(toGpu(x), [2, 3, 4]), O.broadcastTo(x, [2, 3, 4]), { atol: 0 });
  assert.equal([...vg.expandDims(toGpu(x), 1).shape], [3, 1, 1]);
  assert.equal([...vg.squeeze(toGpu(x)).shape], [3]);
});

t('cast truncates toward zero, saturates, maps NaN to 0', async () => {
  const x = vg.tensor([1.7, -1.7, 3e9, -3e9, NaN, 0.49]);
  assert.equal(Array.from(await vg.cast(x, 'int32').data()), [1, -1, 2147483520, -2147483648, 0, 0]);
  const i = vg.tensor(new Int32Array([16777217, -3]));
  assert.equal(Array.from(await vg.cast(i, 'float32').data()), [16777216, -3]);
});

t('tensor from nested arrays, scalars and typed arrays; clear errors', async () => {
  assert.equal(
    await vg
      .tensor([
        [1, 2],
        [3, 4],
      ])
      .array(),
    [
      [1, 2],
      [3, 4],
    ],
  );
  assert.equal(await vg.scalar(5).array(), 5);
  assert.equal([...vg.tensor(new Float32Array(6), [2, 3]).shape], [2, 3]);
  assert.throws(
    () => vg.tensor([[1, 2], [3]]),
    (e: Error) =>
      e instanceof vg.ValueError &&
      /tensor: argument 'values' expected a rectangular nested array of shape \[2, 2\], got a ragged array: values\[1\] has length 1, not 2/.test(
        e.message,
      ),
  );
  assert.throws(() => vg.tensor([1, 2, 3], [2, 2]), /tensor: argument 'shape' expected a shape with 3 elements/);
  assert.throws(() => vg.tensor([1.5], [1], 'int32'), /expected int32 values/);
  assert.throws(
    () => vg.tensor([1], [1], 'float64' as never),
    /tensor: argument 'dtype' expected 'float32' or 'int32', got float64/,
  );
});

t('fill, zeros, ones, random are seeded and within range', async () => {
  assert.equal(Array.from(await vg.fill([3], 2.5).data()), [2.5, 2.5, 2.5]);
  assert.equal(Array.from(await vg.ones([2], 'int32').data()), [1, 1]);
  const u1 = Array.from(await vg.randomUniform([10000], { minval: -2, maxval: 3, seed: 42 }).data());
  const u2 = await vg.randomUniform([10000], { minval: -2, maxval: 3, seed: 42 }).data();
  const u3 = await vg.randomUniform([10000], { minval: -2, maxval: 3, seed: 43 }).data();
  assert.equal(u1, Array.from(u2));
  assert.not.equal(u1, Array.from(u3));
  assert.ok(u1.every((v) => v >= -2 && v < 3));
  const meanU = u1.reduce((a, b) => a + b, 0) / u1.length;
  assert.ok(Math.abs(meanU - 0.5) < 0.05, `uniform mean ${meanU}`);
  const n = Array.from(await vg.randomNormal([20000], { mean: 1, stddev: 2, seed: 1 }).data());
  const m = n.reduce((a, b) => a + b, 0) / n.length;
  const sd = Math.sqrt(n.reduce((a, b) => a + (b - m) ** 2, 0) / n.length);
  assert.ok(Math.abs(m - 1) < 0.05 && Math.abs(sd - 2) < 0.05, `normal mean ${m} sd ${sd}`);
  assert.throws(
    () => vg.randomUniform([2], { minval: 1, maxval: 1 }),
    /randomUniform: argument 'maxval' expected a number greater than minval/,
  );
  assert.throws(
    () => vg.randomNormal([2], { stddev: NaN }),
    /randomNormal: argument 'stddev' expected a finite number, got NaN/,
  );
});

t('a tensor of more than 2^24 elements: elementwise, reduction, copy', async () => {
  const n = 2 ** 24 + 3;
  const x = vg.fill([n], 0.5);
  const y = vg.affine(x, 2, 1);
  const s = vg.sum(y);
  const last = vg.slice(y, [n - 2], [2]);
  const [sv, lv] = await vg.readAll([s, last]);
  assert.ok(Math.abs(sv[0] - 2 * n) / (2 * n) < 1e-6, `sum ${sv[0]} vs ${2 * n}`);
  assert.equal(Array.from(lv), [2, 2]);
  vg.tidy(() => [x, y, s, last].forEach((z) => z.dispose()));
});

t('disposed tensors and wrong dtypes are rejected with names', () => {
  const x = vg.zeros([2]);
  x.dispose();
  assert.throws(() => vg.exp(x), /exp: argument 'x' expected a live tensor, got a disposed tensor/);
  const i = vg.zeros([2], 'int32');
  assert.throws(() => vg.exp(i), /exp: argument 'x' expected dtype float32, got int32 tensor of shape \[2\]/);
  assert.throws(
    () => vg.add(vg.zeros([2]), i),
    /add: argument 'b' expected dtype float32 \(the dtype of 'a'; use cast\(\)\), got int32/,
  );
  assert.throws(
    () => vg.add(vg.zeros([2]), vg.zeros([3])),
    /add: argument 'b' expected a shape that broadcasts with 'a' \[2\], got \[3\]/,
  );
  assert.throws(
    () => vg.sum(vg.zeros([2]), 3),
    /sum: argument 'axis' expected an integer in \[-1, 0\] for a rank-1 tensor, got 3/,
  );
  assert.throws(() => vg.mul(vg.zeros([2]), NaN), /mul: argument 'b' expected a finite number, got NaN/);
});

t.run();
