// Zero-size tensors (any axis of length 0) are legal everywhere and give NumPy's results: creation,
// elementwise ops, reductions (sum of none 0, mean NaN, max and min a ValueError), matmul, movement,
// conv3d, pooling, softmax, normalisation and losses. Work whose result is empty dispatches no
// kernel; nothing is left behind; gradients through empty tensors have the right shapes and zeros.
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';

const t = suite('zero-size tensors');
t.before(setup);

interface Case {
  label: string;
  /** Calls the op; its inputs are made with `g`, outside the op's accounting. */
  run: (g: <T>(make: () => T) => T) => vg.Tensor;
  shape: number[];
  /** The values of a non-empty result (NaN compares equal to NaN). */
  values?: number[];
}

const cases: Case[] = [
  { label: 'tensor of no values', run: () => vg.tensor([], [0, 3]), shape: [0, 3] },
  { label: 'nested arrays with an empty axis', run: () => vg.tensor([[], []]), shape: [2, 0] },
  { label: 'zeros', run: (g) => g(() => vg.zeros([0, 3])), shape: [0, 3] },
  { label: 'fill', run: () => vg.fill([4, 0], 2), shape: [4, 0] },
  { label: 'randomNormal', run: () => vg.randomNormal([0, 2], { seed: 1 }), shape: [0, 2] },
  { label: 'relu', run: (g) => vg.relu(g(() => vg.zeros([0, 3]))), shape: [0, 3] },
  {
    label: 'add, broadcast',
    run: (g) =>
      vg.add(
        g(() => vg.zeros([0, 3])),
        g(() => vg.zeros([3])),
      ),
    shape: [0, 3],
  },
  {
    label: 'mul by a number',
    run: (g) =>
      vg.mul(
        g(() => vg.zeros([2, 0])),
        3,
      ),
    shape: [2, 0],
  },
  {
    label: 'less (int32 out)',
    run: (g) =>
      vg.less(
        g(() => vg.zeros([0])),
        g(() => vg.zeros([0])),
      ),
    shape: [0],
  },
  {
    label: 'where',
    run: (g) =>
      vg.where(
        g(() => vg.zeros([0, 3], 'int32')),
        g(() => vg.zeros([0, 3])),
        g(() => vg.zeros([3])),
      ),
    shape: [0, 3],
  },
  {
    label: 'cast',
    run: (g) =>
      vg.cast(
        g(() => vg.zeros([0, 2])),
        'int32',
      ),
    shape: [0, 2],
  },
  { label: 'sum of none', run: (g) => vg.sum(g(() => vg.zeros([0, 3]))), shape: [], values: [0] },
  {
    label: 'sum over the empty axis',
    run: (g) =>
      vg.sum(
        g(() => vg.zeros([0, 3])),
        0,
      ),
    shape: [3],
    values: [0, 0, 0],
  },
  {
    label: 'sum over a full axis of an empty tensor',
    run: (g) =>
      vg.sum(
        g(() => vg.zeros([0, 3])),
        1,
      ),
    shape: [0],
  },
  {
    label: 'mean of none',
    run: (g) =>
      vg.mean(
        g(() => vg.zeros([2, 0])),
        1,
        true,
      ),
    shape: [2, 1],
    values: [NaN, NaN],
  },
  {
    label: 'max over a full axis of an empty tensor',
    run: (g) =>
      vg.max(
        g(() => vg.zeros([0, 3])),
        1,
      ),
    shape: [0],
  },
  {
    label: 'matmul, K = 0',
    run: (g) =>
      vg.matmul(
        g(() => vg.zeros([2, 0])),
        g(() => vg.zeros([0, 3])),
      ),
    shape: [2, 3],
    values: [0, 0, 0, 0, 0, 0],
  },
  {
    label: 'matmul, M = 0',
    run: (g) =>
      vg.matmul(
        g(() => vg.zeros([0, 2])),
        g(() => vg.zeros([2, 3])),
      ),
    shape: [0, 3],
  },
  {
    label: 'matmul, empty batch',
    run: (g) =>
      vg.matmul(
        g(() => vg.zeros([0, 2, 2])),
        g(() => vg.zeros([0, 2, 3])),
      ),
    shape: [0, 2, 3],
  },
  {
    label: 'concat with an empty part',
    run: (g) => vg.concat([g(() => vg.zeros([0, 2])), g(() => vg.ones([1, 2]))], 0),
    shape: [1, 2],
    values: [1, 1],
  },
  {
    label: 'concat of empty parts',
    run: (g) => vg.concat([g(() => vg.zeros([0, 3])), g(() => vg.zeros([0, 3]))], 0),
    shape: [0, 3],
  },
  {
    label: 'slice of size 0',
    run: (g) =>
      vg.slice(
        g(() => vg.ones([2, 3])),
        [1, 0],
        [0, 3],
      ),
    shape: [0, 3],
  },
  {
    label: 'pad of an empty tensor',
    run: (g) =>
      vg.pad(
        g(() => vg.zeros([0, 2])),
        [
          [1, 0],
          [0, 0],
        ],
        5,
      ),
    shape: [1, 2],
    values: [5, 5],
  },
  { label: 'transpose', run: (g) => vg.transpose(g(() => vg.zeros([0, 3, 2]))), shape: [2, 3, 0] },
  {
    label: 'reshape',
    run: (g) =>
      vg.reshape(
        g(() => vg.zeros([0, 3])),
        [3, 0, 5],
      ),
    shape: [3, 0, 5],
  },
  {
    label: 'broadcastTo',
    run: (g) =>
      vg.broadcastTo(
        g(() => vg.ones([1, 3])),
        [0, 3],
      ),
    shape: [0, 3],
  },
  {
    label: 'expandDims',
    run: (g) =>
      vg.expandDims(
        g(() => vg.zeros([0])),
        0,
      ),
    shape: [1, 0],
  },
  { label: 'squeeze', run: (g) => vg.squeeze(g(() => vg.zeros([0, 1]))), shape: [0] },
  { label: 'softmax of empty lines', run: (g) => vg.softmax(g(() => vg.zeros([0, 3]))), shape: [0, 3] },
  { label: 'logSoftmax over an empty axis', run: (g) => vg.logSoftmax(g(() => vg.zeros([2, 0]))), shape: [2, 0] },
  {
    label: 'conv3d, empty batch',
    run: (g) =>
      vg.conv3d(
        g(() => vg.zeros([0, 4, 4, 4, 1])),
        g(() => vg.zeros([3, 3, 3, 1, 2])),
      ),
    shape: [0, 2, 2, 2, 2],
  },
  {
    label: 'conv3d, no output channels',
    run: (g) =>
      vg.conv3d(
        g(() => vg.ones([1, 4, 4, 4, 1])),
        g(() => vg.zeros([3, 3, 3, 1, 0])),
      ),
    shape: [1, 2, 2, 2, 0],
  },
  {
    label: "conv3d, an empty spatial axis ('same')",
    run: (g) =>
      vg.conv3d(
        g(() => vg.ones([1, 0, 4, 4, 1])),
        g(() => vg.zeros([3, 3, 3, 1, 2])),
        { padding: 'same' },
      ),
    shape: [1, 0, 4, 4, 2],
  },
  {
    // Every output is an empty sum (0), then the bias and the relu.
    label: 'conv3d, no input channels: the bias, then relu',
    run: (g) =>
      vg.conv3d(
        g(() => vg.zeros([1, 2, 2, 1, 0])),
        g(() => vg.zeros([1, 1, 1, 0, 2])),
        { bias: g(() => vg.tensor([-1, 2])), activation: 'relu' },
      ),
    shape: [1, 2, 2, 1, 2],
    values: [0, 2, 0, 2, 0, 2, 0, 2],
  },
  {
    label: 'maxPool3d, empty batch',
    run: (g) => vg.maxPool3d(g(() => vg.zeros([0, 4, 4, 4, 1]))),
    shape: [0, 2, 2, 2, 1],
  },
  {
    label: 'avgPool3d, no channels',
    run: (g) => vg.avgPool3d(g(() => vg.zeros([1, 4, 4, 4, 0]))),
    shape: [1, 2, 2, 2, 0],
  },
  {
    label: "maxPool3d, an empty spatial axis ('same')",
    run: (g) =>
      vg.maxPool3d(
        g(() => vg.zeros([1, 0, 4, 4, 1])),
        { padding: 'same' },
      ),
    shape: [1, 0, 2, 2, 1],
  },
  {
    label: 'upSampling3d',
    run: (g) =>
      vg.upSampling3d(
        g(() => vg.zeros([0, 2, 2, 2, 1])),
        2,
      ),
    shape: [0, 4, 4, 4, 1],
  },
  {
    label: 'groupNorm, empty batch',
    run: (g) =>
      vg.groupNorm(
        g(() => vg.zeros([0, 2, 2, 2, 4])),
        null,
        null,
        { groups: 2 },
      ),
    shape: [0, 2, 2, 2, 4],
  },
  {
    label: 'overlapSums of an empty volume',
    run: (g) =>
      vg.overlapSums(
        g(() => vg.zeros([1, 0, 3])),
        g(() => vg.zeros([1, 0, 3])),
      ),
    shape: [1, 3, 3],
    values: Array(9).fill(0),
  },
  // Losses: a mean over no entries is NaN (NumPy, torch); a sum over none is 0; a loss of a sample
  // whose volume is empty follows its formula (dice: 1 − nr/dr = 0).
  {
    label: 'dice of an empty batch (mean)',
    run: (g) =>
      vg.dice(
        g(() => vg.zeros([0, 2, 3])),
        g(() => vg.zeros([0, 2, 3])),
      ),
    shape: [],
    values: [NaN],
  },
  {
    label: 'dice of an empty batch (sum)',
    run: (g) =>
      vg.dice(
        g(() => vg.zeros([0, 2, 3])),
        g(() => vg.zeros([0, 2, 3])),
        { reduction: 'sum' },
      ),
    shape: [],
    values: [0],
  },
  {
    label: 'dice of an empty batch (none)',
    run: (g) =>
      vg.dice(
        g(() => vg.zeros([0, 2, 3])),
        g(() => vg.zeros([0, 2, 3])),
        { reduction: 'none' },
      ),
    shape: [0, 3],
  },
  {
    label: 'dice of an empty volume',
    run: (g) =>
      vg.dice(
        g(() => vg.zeros([1, 0, 3])),
        g(() => vg.zeros([1, 0, 3])),
      ),
    shape: [],
    values: [0],
  },
  {
    label: 'categoricalCrossentropy of no voxels',
    run: (g) =>
      vg.categoricalCrossentropy(
        g(() => vg.zeros([1, 0, 3])),
        g(() => vg.zeros([1, 0, 3])),
      ),
    shape: [],
    values: [NaN],
  },
  {
    label: 'binaryCrossentropy of no voxels (sum)',
    run: (g) =>
      vg.binaryCrossentropy(
        g(() => vg.zeros([1, 0, 1])),
        g(() => vg.zeros([1, 0, 1])),
        { reduction: 'sum' },
      ),
    shape: [],
    values: [0],
  },
  {
    label: 'generalizedDice per sample of an empty batch',
    run: (g) =>
      vg.generalizedDice(
        g(() => vg.zeros([0, 2, 3])),
        g(() => vg.zeros([0, 2, 3])),
        { batch: 'per_sample' },
      ),
    shape: [],
    values: [NaN],
  },
  {
    label: 'diceMetric of an empty volume (every class ignored)',
    run: (g) =>
      vg.diceMetric(
        g(() => vg.zeros([1, 0, 3])),
        g(() => vg.zeros([1, 0, 3])),
      ),
    shape: [],
    values: [NaN],
  },
  // Keras divides its sum over the batch with divide_no_nan: no values give 0.
  {
    label: 'meanSquaredError of no values',
    run: (g) =>
      vg.meanSquaredError(
        g(() => vg.zeros([0, 3])),
        g(() => vg.zeros([0, 3])),
      ),
    shape: [],
    values: [0],
  },
];

t(
  `${cases.length} ops on zero-size tensors: NumPy's shapes and values, no dispatch for empty results, nothing left`,
  async () => {
    for (const c of cases) {
      const inputs: vg.Tensor[] = [];
      const start = vg.memory();
      let before = start;
      // Inputs are made among the op's arguments: count from just before the op itself runs.
      const out = c.run(<T>(make: () => T): T => {
        const made = make();
        inputs.push(made as vg.Tensor);
        before = vg.memory();
        return made;
      });
      const after = vg.memory();
      assert.equal([...out.shape], c.shape, `${c.label}: shape`);
      if (c.values) {
        const got = Array.from(await out.data());
        assert.is(got.length, c.values.length, `${c.label}: values`);
        got.forEach((v, i) =>
          assert.ok(
            Object.is(v, c.values![i]) || v === c.values![i],
            `${c.label}: value ${i}: got ${v}, expected ${c.values![i]}`,
          ),
        );
      } else {
        assert.is(out.size, 0, `${c.label}: empty`);
        assert.is(after.dispatches, before.dispatches, `${c.label}: an empty result dispatches no kernel`);
      }
      out.dispose();
      for (const x of inputs) x.dispose();
      const end = vg.memory();
      assert.is(end.liveTensors, start.liveTensors, `${c.label}: tensors left behind`);
      assert.is(end.liveBuffers, start.liveBuffers, `${c.label}: buffers left behind`);
    }
  },
);

t(
  'reductions without an identity and windows without taps are named errors (NumPy and PyTorch refuse them too)',
  () => {
    const x = vg.zeros([0, 3]);
    const before = vg.memory();
    const refused: [() => unknown, new (...a: never[]) => Error, RegExp][] = [
      [() => vg.max(x, 0), vg.ValueError, /^max: argument 'x' expected values on every reduced axis/],
      [() => vg.min(x), vg.ValueError, /^min: argument 'x' expected values on every reduced axis/],
      [
        () => vg.conv3d(vg.ones([1, 4, 4, 4, 1]), vg.zeros([0, 3, 3, 1, 2])),
        vg.ShapeError,
        /^conv3d: argument 'kernel' expected at least one tap on each spatial axis/,
      ],
      [
        () => vg.maxPool3d(vg.zeros([1, 4, 4, 4, 1]), { poolSize: [2, 0, 2] }),
        vg.ValueError,
        /^maxPool3d: argument 'poolSize' expected a positive integer/,
      ],
    ];
    for (const [call, cls, re] of refused) {
      assert.throws(call, (e: Error) => e instanceof cls && re.test(e.message), re.source);
    }
    // The ones, zeros and kernel made for the calls are the only new tensors; each refused call left nothing.
    const after = vg.memory();
    assert.is(after.liveTensors - before.liveTensors, 3);
    x.dispose();
  },
);

t('gradients through the volume ops of an input with an empty spatial axis: empty, nothing left behind', async () => {
  const cases: [string, number[], (v: vg.Tensor) => vg.Tensor][] = [
    ['upSampling3d', [1, 0, 2, 2, 1], (v) => vg.upSampling3d(v, 2)],
    ['upSampling3d, unequal factors', [1, 3, 0, 2, 4], (v) => vg.upSampling3d(v, [1, 2, 3])],
    ["maxPool3d 'same'", [1, 0, 4, 4, 4], (v) => vg.maxPool3d(v, { padding: 'same' })],
    ["avgPool3d 'same'", [1, 4, 4, 0, 1], (v) => vg.avgPool3d(v, { padding: 'same' })],
    ["conv3d 'same'", [1, 4, 0, 4, 1], (v) => vg.conv3d(v, vg.ones([3, 3, 3, 1, 2]), { padding: 'same' })],
    ['groupNorm', [1, 0, 4, 4, 4], (v) => vg.groupNorm(v, null, null, { groups: 2 })],
  ];
  for (const [label, shape, f] of cases) {
    const v = vg.variable(vg.zeros(shape), { name: 'volume' });
    const before = vg.memory().liveTensors;
    const { value, grads } = vg.valueAndGrad(() => vg.sum(f(v)), [v]);
    assert.equal(Array.from(await value.data()), [0], label);
    assert.equal([...grads[0]!.shape], shape, label);
    value.dispose();
    grads[0]!.dispose();
    assert.is(vg.memory().liveTensors, before, `${label}: nothing left behind`);
    v.dispose();
  }
});

t('gradients through zero-size tensors: empty where the input is empty, zeros where the sum is empty', async () => {
  const x = vg.variable(vg.zeros([0, 3]), { name: 'empty' });
  const w = vg.variable(vg.ones([3]), { name: 'w' });
  const a = vg.variable(vg.zeros([2, 0]), { name: 'a' });
  const b = vg.variable(vg.zeros([0, 3]), { name: 'b' });
  const k = vg.variable(vg.randomNormal([3, 3, 3, 1, 2], { seed: 3 }), { name: 'kernel' });
  const bias = vg.variable(vg.zeros([2]), { name: 'bias' });
  const v = vg.variable(vg.zeros([0, 4, 4, 4, 1]), { name: 'volume' });
  const before = vg.memory();
  const { value, grads } = vg.valueAndGrad(
    () =>
      vg.add(
        vg.add(vg.sum(vg.mul(x, w)), vg.sum(vg.matmul(a, b))),
        vg.sum(vg.conv3d(v, k, { bias, activation: 'relu', padding: 'same' })),
      ),
    [x, w, a, b, k, bias, v],
  );
  assert.equal(Array.from(await value.data()), [0]);
  const shapes = grads.map((g) => [...g!.shape]);
  assert.equal(shapes, [[0, 3], [3], [2, 0], [0, 3], [3, 3, 3, 1, 2], [2], [0, 4, 4, 4, 1]]);
  const data = await vg.readAll(grads.map((g) => g!));
  assert.equal(Array.from(data[1]), [0, 0, 0], 'dL/dw: an empty sum');
  assert.ok(
    Array.from(data[4]).every((g) => g === 0),
    'dL/dkernel: an empty sum',
  );
  assert.equal(Array.from(data[5]), [0, 0], 'dL/dbias: an empty sum');
  value.dispose();
  for (const g of grads) g!.dispose();
  assert.is(vg.memory().liveTensors, before.liveTensors, 'nothing left behind');
  for (const t of [x, w, a, b, k, bias, v]) t.dispose();
});

t.run();
