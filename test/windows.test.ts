// Every op over tensors larger than one storage binding, on small tensors: the binding window is
// capped (flags.maxBindingWindowBytes) so that each op splits its work into several dispatches,
// and then the forward pass must match the float64 oracle and the gradients must match those of
// the same op run in one binding (themselves checked against finite differences elsewhere).
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { GEMM_TILES } from '../src/tensor/ops/conv3d/variants.js';
import { setup, suite } from './harness.js';
import { assertClose, randomNd, rng, toGpu } from './helpers.js';
import * as O from './oracle.js';
import { Nd } from './oracle.js';
import { withConvVariant } from './variants.js';
import { conv3dOracle, fusedOracle, groupNormOracle, poolOracle, upsampleOracle } from './volume_oracle.js';

const t = suite('ops split into binding windows (forced small windows vs the oracle and one binding)');
t.before(setup);

interface Case {
  name: string;
  /** Differentiable float inputs. */
  inputs: Nd[];
  run: (...xs: vg.Tensor[]) => vg.Tensor;
  oracle: (...xs: Nd[]) => Nd;
  /** The capped window, in bytes. */
  window: number;
  /** Whether to compare gradients too (default true). */
  grad?: boolean;
}

interface Result {
  out: Float32Array;
  shape: number[];
  grads: Float32Array[];
  dispatches: number;
}

async function evaluate(c: Case, window: number): Promise<Result> {
  vg.flags.maxBindingWindowBytes = window;
  try {
    const xs = c.inputs.map((x) => toGpu(x));
    const before = vg.memory().dispatches;
    const out = vg.tidy(() => c.run(...xs));
    const shape = [...out.shape];
    const weights = vg.randomNormal(shape, { seed: 7 });
    const grads =
      c.grad === false
        ? []
        : (vg.grad(() => vg.sum(vg.mul(c.run(...xs), weights)), xs) as (vg.Tensor | null)[]).map(
            (g, i) => g ?? vg.zeros(c.inputs[i].shape),
          );
    const data = await vg.readAll([out, ...grads]);
    const dispatches = vg.memory().dispatches - before;
    for (const x of [...xs, out, weights, ...grads]) x.dispose();
    return { out: data[0] as Float32Array, shape, grads: data.slice(1) as Float32Array[], dispatches };
  } finally {
    vg.flags.maxBindingWindowBytes = 0;
  }
}

function close(label: string, got: Float32Array, want: Float32Array, rtol: number): void {
  assert.is(got.length, want.length, `${label}: length`);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= rtol * (scale + 1e-6))) {
      assert.unreachable(`${label}: element ${i} is ${got[i]} in windows, ${want[i]} in one binding`);
    }
  }
}

async function check(c: Case): Promise<void> {
  const whole = await evaluate(c, 0);
  const split = await evaluate(c, c.window);
  assert.ok(
    split.dispatches > whole.dispatches,
    `${c.name}: the capped window split the work (${split.dispatches} vs ${whole.dispatches} dispatches)`,
  );
  const before = vg.memory();
  await assertClose(vg.tensor(split.out, split.shape), c.oracle(...c.inputs), {
    atol: 1e-5,
    rtol: 1e-5,
    label: `${c.name} forward in windows`,
  });
  close(`${c.name} forward`, split.out, whole.out, 1e-6);
  split.grads.forEach((g, i) => close(`${c.name} gradient ${i}`, g, whole.grads[i], 1e-5));
  assert.ok(vg.memory().liveTensors <= before.liveTensors + 1);
}

const nd = (shape: number[], seed: number, lo = -1, hi = 1): Nd => randomNd(shape, seed, lo, hi);
const KiB = 1024;

const cases: Case[] = [
  {
    name: 'transpose',
    inputs: [nd([6, 7, 8, 9], 1)],
    run: (x) => vg.transpose(x, [2, 0, 3, 1]),
    oracle: (x) => O.transpose(x, [2, 0, 3, 1]),
    window: 2 * KiB,
  },
  {
    name: 'slice',
    inputs: [nd([5, 9, 8, 7], 2)],
    run: (x) => vg.slice(x, [1, 2, 0, 3], [3, 6, 8, 4]),
    oracle: (x) => O.slice(x, [1, 2, 0, 3], [3, 6, 8, 4]),
    window: 2 * KiB,
  },
  {
    name: 'pad',
    inputs: [nd([3, 8, 7, 6], 3)],
    run: (x) =>
      vg.pad(
        x,
        [
          [1, 2],
          [0, 3],
          [2, 2],
          [1, 0],
        ],
        0.5,
      ),
    oracle: (x) =>
      O.pad(
        x,
        [
          [1, 2],
          [0, 3],
          [2, 2],
          [1, 0],
        ],
        0.5,
      ),
    window: 2 * KiB,
  },
  {
    name: 'concat along the channels (a skip connection)',
    inputs: [nd([2, 5, 6, 7, 3], 4), nd([2, 5, 6, 7, 5], 5)],
    run: (a, b) => vg.concat([a, b], -1),
    oracle: (a, b) => O.concat([a, b], 4),
    window: 2 * KiB,
  },
  {
    name: 'upSampling3d over channels read as vec4s',
    inputs: [nd([2, 6, 5, 4, 4], 46)],
    run: (x) => vg.upSampling3d(x, [2, 2, 3]),
    oracle: (x) => upsampleOracle(x, [2, 2, 3]),
    // A workgroup spreads 64 voxels of 4 channels over their blocks: 15 KiB of the result here.
    window: 24 * KiB,
  },
  {
    name: 'broadcastTo',
    inputs: [nd([1, 5, 1, 7], 6)],
    run: (x) => vg.broadcastTo(x, [6, 5, 8, 7]),
    oracle: (x) => O.broadcastTo(x, [6, 5, 8, 7]),
    window: 2 * KiB,
  },
  {
    name: 'upSampling3d',
    inputs: [nd([2, 4, 5, 3, 3], 7)],
    run: (x) => vg.upSampling3d(x, [2, 3, 2]),
    oracle: (x) => upsampleOracle(x, [2, 3, 2]),
    // Its gradient sums blocks with the pooling kernel: a workgroup's 64 sums read 4.2 KiB of dy here.
    window: 8 * KiB,
  },
  {
    name: 'add with a mid-axis broadcast',
    inputs: [nd([8, 12, 8, 10], 8), nd([8, 1, 8, 1], 9)],
    run: (a, b) => vg.add(a, b),
    oracle: (a, b) => O.binary('add', a, b),
    window: 8 * KiB,
  },
  {
    name: 'mul by a bias',
    inputs: [nd([6, 8, 8, 10], 10), nd([10], 11)],
    run: (a, b) => vg.mul(a, b),
    oracle: (a, b) => O.binary('mul', a, b),
    window: 8 * KiB,
  },
  {
    name: 'where with three broadcasts',
    inputs: [nd([8, 12, 1, 10], 12), nd([1, 12, 8, 10], 13)],
    run: (a, b) => vg.where(vg.greater(toGpu(cond3()), 0.5), a, b),
    oracle: (a, b) => O.where(cond3(), a, b),
    window: 8 * KiB,
  },
  {
    name: 'softmax over the last axis',
    inputs: [nd([24, 9, 7, 11], 14, -3, 3)],
    run: (x) => vg.softmax(x, -1),
    oracle: (x) => O.softmax(x, 3),
    window: 16 * KiB,
  },
  {
    name: 'logSoftmax over a middle axis',
    inputs: [nd([24, 9, 7, 11], 15, -3, 3)],
    run: (x) => vg.logSoftmax(x, 1),
    oracle: (x) => O.softmax(x, 1, true),
    window: 16 * KiB,
  },
  {
    name: 'matmul split along M and N',
    inputs: [nd([300, 40], 16), nd([40, 50], 17)],
    run: (a, b) => vg.matmul(a, b),
    oracle: (a, b) => O.matmul(a, b),
    window: 8 * KiB,
  },
  {
    name: 'matmul with transposes',
    inputs: [nd([40, 120], 18), nd([90, 40], 19)],
    run: (a, b) => vg.matmul(a, b, { transposeA: true, transposeB: true }),
    oracle: (a, b) => O.matmul(a, b, true, true),
    window: 8 * KiB,
  },
  {
    name: 'batched matmul split along the batch',
    inputs: [nd([3, 70, 20], 20), nd([3, 20, 30], 21)],
    run: (a, b) => vg.matmul(a, b),
    oracle: (a, b) => O.matmul(a, b),
    window: 8 * KiB,
  },
  {
    name: 'matmul with a row longer than a window (K split)',
    inputs: [nd([3, 3000], 22), nd([3000, 2], 23)],
    run: (a, b) => vg.matmul(a, b),
    oracle: (a, b) => O.matmul(a, b),
    window: 8 * KiB,
  },
  {
    name: "conv3d 'same', bias and relu",
    inputs: [nd([2, 24, 8, 7, 3], 24), nd([3, 3, 3, 3, 5], 25), nd([5], 26)],
    run: (x, w, b) => vg.conv3d(x, w, { padding: 'same', bias: b, activation: 'relu' }),
    oracle: (x, w, b) => fusedOracle(x, w, b, { padding: 'same' }, true),
    window: 24 * KiB,
  },
  {
    name: "conv3d 'same' over channels in multiples of 4 (the weight gradient's vec4 reads)",
    inputs: [nd([2, 24, 8, 7, 4], 36), nd([3, 3, 3, 4, 8], 37), nd([8], 38)],
    run: (x, w, b) => vg.conv3d(x, w, { padding: 'same', bias: b }),
    oracle: (x, w, b) => fusedOracle(x, w, b, { padding: 'same' }, false),
    window: 24 * KiB,
  },
  {
    name: "conv3d stride 2 'same'",
    inputs: [nd([1, 24, 16, 16, 2], 27), nd([3, 3, 3, 2, 4], 28)],
    run: (x, w) => vg.conv3d(x, w, { padding: 'same', strides: 2 }),
    oracle: (x, w) => conv3dOracle(x, w, { padding: 'same', strides: [2, 2, 2] }),
    window: 48 * KiB,
  },
  {
    name: "conv3d dilated 'valid'",
    inputs: [nd([1, 30, 8, 9, 2], 29), nd([3, 2, 3, 2, 3], 30)],
    run: (x, w) => vg.conv3d(x, w, { dilation: [2, 1, 2] }),
    oracle: (x, w) => conv3dOracle(x, w, { dilation: [2, 1, 2] }),
    window: 12 * KiB,
  },
  {
    name: "maxPool3d 'same'",
    inputs: [nd([2, 9, 8, 7, 3], 31)],
    run: (x) => vg.maxPool3d(x, { poolSize: 2, padding: 'same' }),
    oracle: (x) => poolOracle('max', x, { poolSize: [2, 2, 2], padding: 'same' }),
    window: 4 * KiB,
  },
  {
    name: "maxPool3d 'same' over channels read as vec4s",
    inputs: [nd([2, 9, 8, 7, 8], 45)],
    run: (x) => vg.maxPool3d(x, { poolSize: 2, padding: 'same' }),
    oracle: (x) => poolOracle('max', x, { poolSize: [2, 2, 2], padding: 'same' }),
    window: 8 * KiB,
  },
  {
    name: 'avgPool3d with overlapping windows',
    inputs: [nd([2, 9, 8, 7, 3], 32)],
    run: (x) => vg.avgPool3d(x, { poolSize: 3, strides: 2, padding: 'same' }),
    oracle: (x) => poolOracle('avg', x, { poolSize: [3, 3, 3], strides: [2, 2, 2], padding: 'same' }),
    window: 4 * KiB,
  },
  {
    name: 'groupNorm with gamma and beta over channels read as vec4s',
    inputs: [nd([2, 9, 8, 7, 8], 39, -2, 3), nd([8], 40), nd([8], 41)],
    run: (x, g, b) => vg.groupNorm(x, g, b, { groups: 2 }),
    oracle: (x, g, b) => groupNormOracle(x, g, b, 2),
    window: 8 * KiB,
  },
  {
    name: 'groupNorm with gamma, beta and relu over blocks of 4 voxels an invocation',
    inputs: [nd([2, 9, 8, 8, 4], 42, -2, 3), nd([4], 43), nd([4], 44)],
    run: (x, g, b) => vg.groupNorm(x, g, b, { groups: 2, activation: 'relu' }),
    oracle: (x, g, b) =>
      new Nd(
        x.shape,
        groupNormOracle(x, g, b, 2).data.map((v) => Math.max(v, 0)),
      ),
    window: 12 * KiB,
  },
  {
    name: 'groupNorm with gamma and beta',
    inputs: [nd([2, 9, 8, 7, 6], 33, -2, 3), nd([6], 34), nd([6], 35)],
    run: (x, g, b) => vg.groupNorm(x, g, b, { groups: 3 }),
    oracle: (x, g, b) => groupNormOracle(x, g, b, 3),
    window: 4 * KiB,
  },
];

/** An (8, 8) pattern of 0/1 as floats: which rows of `where` take a. */
function cond3(): Nd {
  const r = rng(99);
  return new Nd(
    [8, 1, 8, 1],
    Float64Array.from({ length: 64 }, () => (r() > 0.5 ? 1 : 0)),
  );
}

for (const c of cases) t(c.name, () => check(c));
// The tiled GEMM variants of conv3d window their bindings by tiles of rows.
for (const c of cases.filter((k) => k.name.startsWith('conv3d')))
  for (const variant of Object.keys(GEMM_TILES))
    t(`${c.name} (${variant})`, () => withConvVariant(variant, () => check(c)));

// Data movement in random binding windows against the oracle (fast-check): slices, pads,
// concatenations along any axis, transposes and broadcasts of float32 and int32 tensors whose
// runs of contiguous elements (merged across axes) the windows cut anywhere, at any offset.
const COPY_RUNS = Number(process.env.VOXGRAD_COPY_RUNS ?? 120);
t(`data movement in random binding windows equals the oracle (${COPY_RUNS} generated copies)`, async () => {
  const dim = fc.integer({ min: 1, max: 6 });
  const shapeArb = fc.tuple(fc.array(dim, { minLength: 0, maxLength: 3 }), fc.integer({ min: 1, max: 40 }));
  const copyArb = fc.record({
    shape: shapeArb.map(([outer, last]) => [...outer, last]),
    op: fc.constantFrom('slice', 'pad', 'concat', 'transpose', 'broadcast'),
    int: fc.boolean(),
    window: fc.constantFrom(0, 256, 512, 1024, 2048, 4096),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  });
  await fc.assert(
    fc.asyncProperty(copyArb, async ({ shape, op, int, window, seed }) => {
      const r = rng(seed);
      const pick = (n: number): number => Math.floor(r() * n);
      const host = randomNd(shape, seed, -1, 1).map((v) => (int ? Math.round(v * 1000) : v));
      const dtype = int ? 'int32' : 'float32';
      let run: (x: vg.Tensor) => vg.Tensor;
      let expected: Nd;
      if (op === 'slice') {
        const begin = shape.map((d) => pick(d));
        const size = shape.map((d, k) => 1 + pick(d - begin[k]!));
        run = (x) => vg.slice(x, begin, size);
        expected = O.slice(host, begin, size);
      } else if (op === 'pad') {
        const p = shape.map(() => [pick(3), pick(3)] as [number, number]);
        run = (x) => vg.pad(x, p, 7);
        expected = O.pad(host, p, 7);
      } else if (op === 'concat') {
        const axis = pick(shape.length);
        const other = randomNd(
          shape.map((d, k) => (k === axis ? 1 + pick(5) : d)),
          seed + 1,
          -1,
          1,
        ).map((v) => (int ? Math.round(v * 1000) : v));
        run = (x) => vg.concat([x, toGpu(other, dtype), x], axis);
        expected = O.concat([host, other, host], axis);
      } else if (op === 'transpose') {
        const perm = shape.map((_, k) => k).sort(() => r() - 0.5);
        run = (x) => vg.transpose(x, perm);
        expected = O.transpose(host, perm);
      } else {
        const target = [1 + pick(4), ...shape];
        run = (x) => vg.broadcastTo(x, target);
        expected = O.broadcastTo(host, target);
      }
      vg.flags.maxBindingWindowBytes = window;
      try {
        const x = toGpu(host, dtype);
        const y = vg.tidy(() => run(x));
        await assertClose(y, expected, {
          atol: 0,
          rtol: 0,
          label: `${op} of ${dtype} [${shape}] in ${window}-byte windows`,
        });
        x.dispose();
        y.dispose();
      } finally {
        vg.flags.maxBindingWindowBytes = 0;
      }
    }),
    { numRuns: COPY_RUNS, seed: 7 },
  );
});

t('cast float32 -> int32 -> float32 in windows', async () => {
  const x = nd([5000], 40, -50, 50);
  vg.flags.maxBindingWindowBytes = 2 * KiB;
  try {
    const before = vg.memory().dispatches;
    const i = vg.cast(toGpu(x), 'int32');
    const f = vg.cast(i, 'float32');
    const [ints, floats] = await vg.readAll([i, f]);
    assert.ok(vg.memory().dispatches - before >= 6, 'split into windows');
    for (let k = 0; k < x.size; k++) {
      assert.is(ints[k], Math.trunc(Math.fround(x.data[k])));
      assert.is(floats[k], Math.trunc(Math.fround(x.data[k])));
    }
    i.dispose();
    f.dispose();
  } finally {
    vg.flags.maxBindingWindowBytes = 0;
  }
});

t('optimizer updates in windows give bitwise the same parameters (SGD with momentum, Adam)', async () => {
  const run = async (window: number, make: () => vg.Optimizer): Promise<Float32Array> => {
    vg.flags.maxBindingWindowBytes = window;
    try {
      const v = vg.variable(toGpu(nd([5000], 41)));
      const opt = make();
      for (let step = 0; step < 3; step++) {
        const g = vg.affine(v, 0.5, 0.1);
        opt.applyGradients([v], [g]);
        g.dispose();
      }
      const out = (await v.data()) as Float32Array;
      v.dispose();
      opt.dispose();
      return out;
    } finally {
      vg.flags.maxBindingWindowBytes = 0;
    }
  };
  for (const make of [
    () => new vg.SGD({ learningRate: 0.1, momentum: 0.9 }),
    () => new vg.Adam({ learningRate: 0.01 }),
  ]) {
    assert.equal(Array.from(await run(2 * KiB, make)), Array.from(await run(0, make)));
  }
});

t.run();
