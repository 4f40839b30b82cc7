// The 3D U-Net builder and training it at real scale: each head's loss reaches the trunk and its
// own head only; a step computed in forced small binding windows gives the same loss and gradients
// as in one binding; memory stays flat over many steps; an out-of-memory condition leaves the
// engine usable; and one step at 96³ (whose skip concatenation is larger than one binding) runs.
import * as assert from 'uvu/assert';
import { syntheticVolumes } from '../src/data/synthetic.js';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';

const t = suite('3D U-Net: builder, windows, memory, 96³');
t.before(setup);

const heads = {
  segmentation: { classes: 4, activation: 'softmax' },
  foreground: { classes: 1, activation: 'sigmoid' },
} as const;

function data(size: number, seed = 3): { x: vg.Tensor; seg: vg.Tensor; fg: vg.Tensor } {
  const d = syntheticVolumes(1, size, seed);
  const fg = new Float32Array(d.labels.length);
  for (let i = 0; i < fg.length; i++) fg[i] = d.labels[i] > 0 ? 1 : 0;
  return {
    x: vg.tensor(d.image, [1, size, size, size, 1]),
    seg: vg.tensor(d.labels, [1, size, size, size], 'int32'),
    fg: vg.tensor(fg, [1, size, size, size, 1]),
  };
}

/** 0.5·dice(segmentation) + 0.3·tversky(foreground) of the model's outputs. */
function total(m: vg.Model, d: ReturnType<typeof data>): vg.Tensor {
  const out = m.call(d.x, true);
  const l1 = vg.dice(d.seg, out.segmentation, { activation: 'softmax' });
  const l2 = vg.tversky(d.fg, out.foreground, { activation: 'sigmoid', alpha: 0.3, beta: 0.7 });
  return vg.add(vg.mul(l1, 0.5), vg.mul(l2, 0.3));
}

const disposeModel = (m: vg.Model): void => {
  for (const w of m.layers.flatMap((l) => l.allWeights)) w.dispose();
};

t('unet3d builds the levels, skips and heads; each loss reaches the trunk and its own head', () => {
  const m = vg.unet3d({ inputShape: [16, 16, 16, 1], baseFilters: 4, depth: 3, heads });
  const text = m.summary(false);
  for (const layer of ['enc0_conv1', 'enc2_norm2', 'down0', 'up1', 'skip0', 'dec0_conv2', 'segmentation', 'foreground'])
    assert.ok(text.includes(layer), layer);
  assert.equal(m.outputNames, ['segmentation', 'foreground']);
  assert.equal(m.outputActivations, { segmentation: 'softmax', foreground: 'sigmoid' });
  const d = data(16);
  m.compile({ optimizer: new vg.SGD(), loss: { segmentation: 'dice', foreground: 'tversky' } });
  const paths = m.lossPaths(d.x, { segmentation: d.seg, foreground: d.fg });
  assert.ok(
    paths.segmentation.includes('enc0_conv1') &&
      paths.segmentation.includes('segmentation') &&
      !paths.segmentation.includes('foreground'),
  );
  assert.ok(
    paths.foreground.includes('dec0_conv2') &&
      paths.foreground.includes('foreground') &&
      !paths.foreground.includes('segmentation'),
  );
  vg.tidy(() => Object.values(d).forEach((v) => v.dispose()));
  disposeModel(m);
});

t('unet3d rejects bad options by name before building anything', () => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => vg.unet3d({ inputShape: [30, 32, 32, 1], depth: 3, heads }),
      /unet3d: argument 'inputShape' expected spatial sizes divisible by 4/,
    ],
    [
      () => vg.unet3d({ inputShape: [32, 32, 32], heads }),
      /unet3d: argument 'inputShape' expected \[x, y, z, channels\]/,
    ],
    [
      () => vg.unet3d({ inputShape: [32, 32, 32, 1], heads: {} }),
      /argument 'heads' expected a record of at least one head/,
    ],
    [
      () => vg.unet3d({ inputShape: [32, 32, 32, 1], heads: { a: { classes: 1, activation: 'softmax' } } }),
      /heads\['a'\]\.activation/,
    ],
    [
      () => vg.unet3d({ inputShape: [32, 32, 32, 1], heads, baseFilter: 8 } as never),
      /which is not an option \(did you mean 'baseFilters'\?\)/,
    ],
    [
      () => vg.unet3d({ inputShape: [32, 32, 32, 1], heads, norm: 'batch' as never }),
      /argument 'norm' expected 'group', 'instance' or 'none'/,
    ],
  ];
  const before = vg.memory();
  for (const [call, message] of cases) assert.throws(call, message);
  assert.is(vg.memory().liveTensors, before.liveTensors);
});

t('a step in forced small binding windows gives the loss and gradients of one binding', async () => {
  const m = vg.unet3d({ inputShape: [16, 16, 16, 1], baseFilters: 8, depth: 3, heads });
  const d = data(16);
  const weights = m.trainableWeights;
  const run = async (window: number): Promise<Float32Array[]> => {
    vg.flags.maxBindingWindowBytes = window;
    try {
      const before = vg.memory().dispatches;
      const { value, grads } = vg.valueAndGrad(() => total(m, d), weights);
      const data = await vg.readAll([value, ...(grads as vg.Tensor[])]);
      vg.tidy(() => [value, ...(grads as vg.Tensor[])].forEach((g) => g.dispose()));
      return [Float32Array.of(vg.memory().dispatches - before), ...(data as Float32Array[])];
    } finally {
      vg.flags.maxBindingWindowBytes = 0;
    }
  };
  const [[wholeDispatches], ...whole] = await run(0);
  const [[splitDispatches], ...split] = await run(128 * 1024);
  assert.ok(
    splitDispatches > wholeDispatches,
    `windows split the step (${splitDispatches} vs ${wholeDispatches} dispatches)`,
  );
  assert.ok(
    Math.abs(split[0][0] - whole[0][0]) <= 1e-6 * Math.abs(whole[0][0]),
    `loss ${split[0][0]} vs ${whole[0][0]}`,
  );
  weights.forEach((w, i) => {
    const [a, b] = [split[i + 1], whole[i + 1]];
    let scale = 1e-12;
    for (const v of b) scale = Math.max(scale, Math.abs(v));
    for (let k = 0; k < a.length; k++) {
      if (!(Math.abs(a[k] - b[k]) <= 1e-4 * scale))
        assert.unreachable(`${w.name}[${k}]: ${a[k]} in windows, ${b[k]} in one binding`);
    }
  });
  vg.tidy(() => Object.values(d).forEach((v) => v.dispose()));
  disposeModel(m);
});

t('twenty training steps leave the live tensors, buffers and bytes where the second left them', async () => {
  const m = vg.unet3d({ inputShape: [16, 16, 16, 1], baseFilters: 4, depth: 3, heads });
  m.compile({
    optimizer: new vg.Adam({ learningRate: 1e-3 }),
    loss: {
      segmentation: (tt, p) => vg.dice(tt, p, { activation: 'softmax' }),
      foreground: (tt, p) => vg.tversky(tt, p, { activation: 'sigmoid' }),
    },
    lossWeights: { segmentation: 0.5, foreground: 0.3 },
  });
  const d = data(16);
  const y = { segmentation: d.seg, foreground: d.fg };
  const snapshot = (): string => {
    const mem = vg.memory();
    return `${mem.liveTensors} tensors, ${mem.liveBuffers} buffers, ${mem.liveBytes} bytes`;
  };
  let second = '';
  for (let step = 1; step <= 20; step++) {
    vg.tidy(() => {
      m.trainStep(d.x, y);
    });
    await vg.sync();
    if (step === 2) second = snapshot();
  }
  assert.is(snapshot(), second);
  vg.tidy(() => Object.values(d).forEach((v) => v.dispose()));
  disposeModel(m);
});

t(
  'an allocation past the memory budget fails with a DeviceError naming the op and the bytes, and the engine goes on',
  async () => {
    const m = vg.unet3d({ inputShape: [16, 16, 16, 1], baseFilters: 4, depth: 3, heads });
    const d = data(16);
    await vg.sync();
    vg.releasePool();
    const before = vg.memory();
    vg.flags.memoryBudgetBytes = before.allocatedBytes + 4096;
    let error: unknown = null;
    try {
      vg.tidy(() => vg.valueAndGrad(() => total(m, d), m.trainableWeights));
    } catch (e) {
      error = e;
    } finally {
      vg.flags.memoryBudgetBytes = 0;
    }
    assert.instance(error, vg.DeviceError);
    assert.match(
      (error as Error).message,
      /^\w+: out of memory: a float32 tensor of shape \[[0-9, ]+\] needs \d+ bytes/,
    );
    const after = vg.memory();
    assert.is(after.liveTensors, before.liveTensors, 'nothing leaked');
    assert.is(after.liveBuffers, before.liveBuffers);
    const { value } = vg.valueAndGrad(() => total(m, d), m.trainableWeights);
    assert.ok(Number.isFinite((await value.data())[0]), 'the engine computes again');
    value.dispose();
    vg.tidy(() => Object.values(d).forEach((v) => v.dispose()));
    disposeModel(m);
  },
);

t('one training step of a 16-channel U-Net at 96³: its skip concatenation is larger than one binding', async () => {
  const size = 96;
  const m = vg.unet3d({ inputShape: [size, size, size, 1], baseFilters: 16, depth: 3, heads });
  m.compile({
    optimizer: new vg.Adam({ learningRate: 1e-3 }),
    loss: {
      segmentation: (tt, p) => vg.dice(tt, p, { activation: 'softmax' }),
      foreground: (tt, p) => vg.tversky(tt, p, { activation: 'sigmoid' }),
    },
    lossWeights: { segmentation: 0.5, foreground: 0.3 },
  });
  const concatBytes = size ** 3 * 48 * 4;
  assert.ok(
    concatBytes > vg.deviceInfo().limits.maxStorageBufferBindingSize ||
      vg.deviceInfo().limits.maxStorageBufferBindingSize > 2 ** 28,
  );
  const d = data(size);
  vg.resetPeakBytes();
  const { total: loss, perOutput } = m.trainStep(d.x, { segmentation: d.seg, foreground: d.fg });
  const [l, seg, fg] = await vg.readAll([loss, perOutput.segmentation, perOutput.foreground]);
  assert.ok(Number.isFinite(l[0]) && l[0] > 0 && l[0] < 0.8, `loss ${l[0]}`);
  assert.ok(Math.abs(l[0] - (0.5 * seg[0] + 0.3 * fg[0])) < 1e-5);
  const norms = await vg.readAll(m.trainableWeights.map((w) => vg.sum(vg.square(w))));
  assert.ok(
    norms.every((n) => Number.isFinite(n[0])),
    'every weight is finite after the step',
  );
  console.log(`  (96³ step: peak ${(vg.memory().peakBytes / 2 ** 20).toFixed(0)} MiB)`);
  vg.tidy(() => [loss, ...Object.values(perOutput), ...Object.values(d)].forEach((v) => v.dispose()));
  disposeModel(m);
});

t.run();
