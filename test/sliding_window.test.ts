// Sliding-window inference: MONAI's window grid and Gaussian importance map; one window equals
// model.predict (U-Net); a pointwise model gives the whole-volume prediction everywhere and a 3×3×3
// model wherever no window's border is within its reach; constant and Gaussian blends against a
// host oracle built from per-window predictions; batchSize, tensor and host volumes, batches of
// volumes and padding do not change results; nothing leaks, also when a run fails midway; a U-Net
// trained on sampled patches is as good on the whole volume as on patches; bad arguments.
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import { syntheticVolumes } from '../src/data/synthetic.js';
import * as vg from '../src/index.node.js';
import { importanceMap } from '../src/inference/importance_map.js';
import { scanInterval, windowStarts } from '../src/inference/window_grid.js';
import { setup, suite } from './harness.js';
import { rng } from './helpers.js';

const t = suite('sliding-window inference');
t.before(setup);

type Vec3 = [number, number, number];

function randomVolume(dims: number[], channels: number, seed: number): vg.data.HostVolume {
  const r = rng(seed);
  const image = new Float32Array(dims[0] * dims[1] * dims[2] * channels);
  for (let i = 0; i < image.length; i++) image[i] = r() * 2 - 1;
  return { image, shape: [...dims, channels] };
}

/**
 * Two heads ('seg', 3 classes, softmax; 'fg', 1, sigmoid) over two convolutions of size `k`,
 * applied to an input of each of `sizes`: the models share their layers (and weights).
 */
function convModels(k: number, channels: number, sizes: number[][]): vg.Model[] {
  const c1 = new vg.Conv3D({ filters: 4, kernelSize: k, padding: 'same', activation: 'relu', seed: 1, name: 'c1' });
  const c2 = new vg.Conv3D({ filters: 4, kernelSize: k, padding: 'same', activation: 'tanh', seed: 2, name: 'c2' });
  const seg = new vg.Conv3D({ filters: 3, kernelSize: 1, seed: 3, name: 'seg' });
  const fg = new vg.Conv3D({ filters: 1, kernelSize: 1, seed: 4, name: 'fg' });
  return sizes.map((s) => {
    const x = vg.input({ shape: [...s, channels], name: 'image' });
    const h = c2.apply(c1.apply(x));
    return vg.model({
      inputs: x,
      outputs: { seg: seg.apply(h), fg: fg.apply(h) },
      outputActivations: { seg: 'softmax', fg: 'sigmoid' },
    });
  });
}

function disposeModel(m: vg.Model): void {
  for (const w of m.layers.flatMap((l) => l.allWeights)) if (!w.isDisposed) w.dispose();
}

/** model.predict of a host volume, read back per output. */
async function predictWhole(m: vg.Model, v: vg.data.HostVolume): Promise<Record<string, Float32Array>> {
  const x = vg.tensor(v.image, [1, ...v.shape]);
  const out = m.predict(x);
  const names = Object.keys(out);
  const data = await vg.readAll(names.map((n) => out[n]));
  vg.tidy(() => [x, ...Object.values(out)].forEach((t) => t.dispose()));
  return Object.fromEntries(names.map((n, i) => [n, data[i] as Float32Array]));
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, mask?: (i: number) => boolean): number {
  assert.is(a.length, b.length, 'lengths');
  let worst = 0;
  for (let i = 0; i < a.length; i++) if (!mask || mask(i)) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** The windows' starts per axis, as the implementation should place them (MONAI's grid, after padding). */
function grid(dims: number[], patch: number[], overlap: number): number[][] {
  return dims.map((d, a) => {
    const size = Math.max(d, patch[a]);
    const pad = Math.max(0, Math.floor((patch[a] - d) / 2));
    return windowStarts(size, patch[a], scanInterval(size, patch[a], overlap)).map((s) => s - pad);
  });
}

/** MONAI's Gaussian map, written out independently: separable exp(−x²/2σ²), then the 1e-3 floor. */
function monaiGaussian(patch: number[], sigmaScale: number): Float64Array {
  const g = patch.map((p) =>
    Array.from({ length: p }, (_, i) => {
      const x = -(p - 1) / 2 + i;
      const s = p * sigmaScale;
      return Math.exp(x ** 2 / (-2 * s ** 2));
    }),
  );
  const out = new Float64Array(patch[0] * patch[1] * patch[2]);
  let i = 0;
  for (const a of g[0]) for (const b of g[1]) for (const c of g[2]) out[i++] = a * b * c;
  const floor = Math.max(Math.min(...out), 1e-3);
  return out.map((v) => Math.max(v, floor));
}

t("the window grid is MONAI's: steps of ⌊p(1 − overlap)⌋, the last window flush with the end (property)", () => {
  assert.equal(windowStarts(10, 4, scanInterval(10, 4, 0.25)), [0, 3, 6]);
  assert.equal(windowStarts(11, 4, scanInterval(11, 4, 0.25)), [0, 3, 6, 7]);
  assert.equal(windowStarts(8, 8, scanInterval(8, 8, 0.5)), [0]);
  assert.equal(windowStarts(9, 8, scanInterval(9, 8, 0.9)), [0, 1]);
  assert.equal(windowStarts(96, 64, scanInterval(96, 64, 0.25)), [0, 32]);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 0, max: 60 }),
      fc.double({ min: 0, max: 0.95, noNaN: true }),
      (patch, extra, overlap) => {
        const size = patch + extra;
        const step = scanInterval(size, patch, overlap);
        const starts = windowStarts(size, patch, step);
        assert.is(starts[0], 0);
        assert.is(starts[starts.length - 1] + patch, size, 'the last window ends at the end');
        for (let i = 1; i < starts.length; i++) {
          assert.ok(starts[i] > starts[i - 1] && starts[i] - starts[i - 1] <= step, 'no gap');
          if (i < starts.length - 1) assert.is(starts[i], i * step);
        }
        // MONAI's count: the first d with d·step + patch >= size, plus one.
        let d = 0;
        while (d * step + patch < size) d++;
        assert.is(starts.length, d + 1);
      },
    ),
    { numRuns: 1000, seed: 3 },
  );
});

t("the Gaussian importance map is MONAI's formula, with its 1e-3 floor; 'constant' is all ones", () => {
  for (const [patch, scale] of [
    [[4, 4, 4], 0.125],
    [[5, 8, 3], 0.125],
    [[6, 7, 9], 0.3],
    [[16, 16, 16], 0.125],
  ] as [Vec3, number][]) {
    const got = importanceMap(patch, 'gaussian', [scale, scale, scale]);
    const want = monaiGaussian(patch, scale);
    assert.ok(maxDiff(got, want) <= 1e-6 * Math.max(...want), `${patch} σ-scale ${scale}`);
  }
  // By hand: p = 4, σ = 0.5, x = ±0.5 → exp(−0.5) per axis at the centre; the corner
  // exp(−4.5)³ ≈ 1.4e-6 is raised to 1e-3.
  const m = importanceMap([4, 4, 4], 'gaussian', [0.125, 0.125, 0.125]);
  assert.ok(Math.abs(m[(1 * 4 + 1) * 4 + 1] - Math.exp(-1.5)) < 1e-7);
  assert.ok(Math.abs(m[0] - 1e-3) < 1e-9);
  // An odd window peaks at 1; per-axis scales are per axis.
  const odd = importanceMap([5, 5, 5], 'gaussian', [0.125, 1, 1]);
  assert.ok(Math.abs(odd[(2 * 5 + 2) * 5 + 2] - 1) < 1e-7);
  assert.ok(Math.abs(odd[(2 * 5 + 2) * 5 + 0] - Math.exp(-4 / (2 * 25))) < 1e-6);
  assert.ok(importanceMap([3, 4, 5], 'constant').every((v) => v === 1));
});

t('one window covering the volume gives model.predict (a small U-Net, both heads, both blends)', async () => {
  const m = vg.unet3d({
    inputShape: [16, 16, 16, 1],
    baseFilters: 4,
    depth: 2,
    heads: { segmentation: { classes: 3, activation: 'softmax' }, foreground: { classes: 1, activation: 'sigmoid' } },
  });
  const v = randomVolume([16, 16, 16], 1, 1);
  const want = await predictWhole(m, v);
  const before = vg.memory();
  for (const blend of ['gaussian', 'constant'] as const) {
    const r = await vg.slidingWindowInference(m, v, { blend });
    assert.equal(Object.keys(r), ['segmentation', 'foreground']);
    assert.equal(r.segmentation.shape, [16, 16, 16, 3]);
    assert.equal(r.foreground.shape, [16, 16, 16, 1]);
    for (const name of ['segmentation', 'foreground'])
      assert.ok(maxDiff(r[name].data, want[name]) < 1e-5, `${blend} ${name}: ${maxDiff(r[name].data, want[name])}`);
  }
  // `output` gives that output alone; `activate` blends the head's probabilities.
  const fg = await vg.slidingWindowInference(m, v, { output: 'foreground', activate: true });
  assert.equal(fg.shape, [16, 16, 16, 1]);
  assert.ok(
    maxDiff(
      fg.data,
      want.foreground.map((z) => 1 / (1 + Math.exp(-z))),
    ) < 1e-5,
  );
  const seg = await vg.slidingWindowInference(m, v, { output: 'segmentation', activate: true });
  for (let i = 0; i < 16 ** 3; i++) {
    const z = want.segmentation.subarray(i * 3, i * 3 + 3);
    const e = Array.from(z, (q) => Math.exp(q - Math.max(...z)));
    const sum = e[0] + e[1] + e[2];
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(seg.data[i * 3 + c] - e[c] / sum) < 1e-5);
  }
  await vg.sync();
  assert.is(vg.memory().liveTensors, before.liveTensors, 'no tensor left behind');
  assert.is(vg.memory().liveBuffers, before.liveBuffers);
  disposeModel(m);
});

t('a pointwise model gives the whole-volume prediction everywhere, padded axes included', async () => {
  for (const dims of [
    [20, 13, 9],
    [11, 6, 3],
  ]) {
    const [patchModel, wholeModel] = convModels(1, 2, [[8, 8, 8], dims]);
    const v = randomVolume(dims, 2, 2);
    const want = await predictWhole(wholeModel, v);
    for (const blend of ['gaussian', 'constant'] as const)
      for (const overlap of [0, 0.25, 0.6]) {
        const r = await vg.slidingWindowInference(patchModel, v, { blend, overlap, batchSize: 3 });
        for (const name of ['seg', 'fg']) {
          assert.equal(r[name].shape, [...dims, name === 'seg' ? 3 : 1]);
          assert.ok(maxDiff(r[name].data, want[name]) < 1e-5, `${dims} ${blend} ${overlap} ${name}`);
        }
      }
    disposeModel(patchModel);
  }
});

t('a 3×3×3 model equals the whole-volume prediction wherever no window border is within its reach', async () => {
  const dims = [22, 17, 12];
  const patch = [10, 10, 10];
  const [patchModel, wholeModel] = convModels(3, 1, [patch, dims]);
  const v = randomVolume(dims, 1, 3);
  const want = await predictWhole(wholeModel, v);
  const overlap = 0.5;
  const starts = grid(dims, patch, overlap);
  // Two 3×3×3 convolutions see 2 voxels around: a window's prediction is exact at a voxel unless
  // the voxel is within 2 of a window face that is not a face of the volume.
  const reach = 2;
  const exact = (p: number[]): boolean => {
    for (const x of starts[0])
      for (const y of starts[1])
        for (const z of starts[2]) {
          const s = [x, y, z];
          if (!p.every((c, a) => c >= s[a] && c < s[a] + patch[a])) continue;
          for (let a = 0; a < 3; a++) {
            if (s[a] > 0 && p[a] - s[a] < reach) return false;
            if (s[a] + patch[a] < dims[a] && s[a] + patch[a] - 1 - p[a] < reach) return false;
          }
        }
    return true;
  };
  const mask = new Uint8Array(dims[0] * dims[1] * dims[2]);
  let n = 0;
  for (let x = 0; x < dims[0]; x++)
    for (let y = 0; y < dims[1]; y++)
      for (let z = 0; z < dims[2]; z++)
        if (exact([x, y, z])) {
          mask[(x * dims[1] + y) * dims[2] + z] = 1;
          n++;
        }
  assert.ok(n > 0.15 * mask.length, `${n} of ${mask.length} voxels are out of every window border's reach`);
  for (const blend of ['gaussian', 'constant'] as const) {
    const r = await vg.slidingWindowInference(patchModel, v, { blend, overlap });
    for (const [name, K] of [
      ['seg', 3],
      ['fg', 1],
    ] as const) {
      const d = maxDiff(r[name].data, want[name], (i) => mask[Math.floor(i / K)] === 1);
      assert.ok(d < 1e-5, `${blend} ${name}: ${d}`);
    }
    // Elsewhere windows do disagree with the whole volume (so the mask is what makes the match).
    const rest = maxDiff(r.seg.data, want.seg, (i) => mask[Math.floor(i / 3)] === 0);
    assert.ok(rest > 1e-3, `${blend}: border voxels differ by ${rest}`);
  }
  disposeModel(patchModel);
});

t('constant blending is the exact mean of the windows, Gaussian their MONAI-weighted mean (host oracle)', async () => {
  const dims = [14, 11, 8];
  const patch = [8, 8, 8];
  const [m] = convModels(3, 1, [patch]);
  const v = randomVolume(dims, 1, 4);
  const overlap = 0.5;
  const starts = grid(dims, patch, overlap);
  // Each window's prediction, by model.predict on a crop made here (z is padded by 0 voxels: 8 = 8).
  const windows: { s: number[]; seg: Float32Array }[] = [];
  for (const x of starts[0])
    for (const y of starts[1])
      for (const z of starts[2]) {
        const crop = new Float32Array(512);
        for (let i = 0; i < 8; i++)
          for (let j = 0; j < 8; j++)
            for (let k = 0; k < 8; k++) crop[(i * 8 + j) * 8 + k] = v.image[((x + i) * 11 + y + j) * 8 + z + k];
        windows.push({ s: [x, y, z], seg: (await predictWhole(m, { image: crop, shape: [8, 8, 8, 1] })).seg });
      }
  assert.is(windows.length, 3 * 2 * 1);
  for (const blend of ['constant', 'gaussian'] as const) {
    const w = blend === 'constant' ? new Float64Array(512).fill(1) : monaiGaussian(patch, 0.125);
    const sum = new Float64Array(dims[0] * dims[1] * dims[2] * 3);
    const weight = new Float64Array(dims[0] * dims[1] * dims[2]);
    for (const { s, seg } of windows)
      for (let p = 0; p < 512; p++) {
        const [i, j, k] = [Math.floor(p / 64), Math.floor(p / 8) % 8, p % 8];
        const voxel = ((s[0] + i) * 11 + s[1] + j) * 8 + s[2] + k;
        weight[voxel] += w[p];
        for (let c = 0; c < 3; c++) sum[voxel * 3 + c] += w[p] * seg[p * 3 + c];
      }
    const want = sum.map((q, i) => q / weight[Math.floor(i / 3)]);
    const r = await vg.slidingWindowInference(m, v, { blend, overlap, output: 'seg' });
    assert.ok(maxDiff(r.data, want) < 2e-6, `${blend}: ${maxDiff(r.data, want)}`);
  }
  disposeModel(m);
});

t('by default a model call takes the windows that hold about 131,072 voxels, at most 32', async () => {
  for (const [size, perCall] of [
    [[8, 8, 8], 32],
    [[16, 16, 24], 21],
  ] as const) {
    const [m] = convModels(3, 1, [[...size]]);
    const calls: number[] = [];
    const predict = m.predict.bind(m);
    m.predict = ((x: vg.Tensor, ...rest: unknown[]) => {
      calls.push(x.shape[0]!);
      return (predict as (...a: unknown[]) => Record<string, vg.Tensor>)(x, ...rest);
    }) as typeof m.predict;
    // Windows 6 (8³) or 12 × 12 × 18 voxels apart: 7 × 7 × 4 = 196 windows, or 4 × 4 × 3 = 48.
    const dims = size[0] === 8 ? [40, 40, 24] : [52, 52, 60];
    const windows = size[0] === 8 ? 196 : 48;
    await vg.slidingWindowInference(m, randomVolume(dims, 1, 9));
    assert.equal(calls.slice(0, -1), Array(calls.length - 1).fill(perCall), `${size}: full calls`);
    assert.ok(calls.at(-1)! <= perCall, `${size}: the last call`);
    assert.is(
      calls.reduce((a, b) => a + b, 0),
      windows,
      `${size}: every window once`,
    );
    disposeModel(m);
  }
});

t('batchSize, tensor or host volumes and batches of volumes give the same result; nothing leaks', async () => {
  const dims = [13, 9, 10];
  const [m] = convModels(3, 2, [[8, 8, 8]]);
  const a = randomVolume(dims, 2, 5);
  const b = randomVolume(dims, 2, 6);
  await vg.sync();
  const before = vg.memory();
  const ref = await vg.slidingWindowInference(m, a, { output: 'seg', batchSize: 1 });
  for (const batchSize of [2, 5, 100, undefined]) {
    const r = await vg.slidingWindowInference(m, a, { output: 'seg', batchSize });
    assert.equal(r.data, ref.data, `batchSize ${batchSize ?? 'by default'}: bitwise the same`);
  }
  const t4 = vg.tensor(a.image, a.shape);
  const fromTensor = await vg.slidingWindowInference(m, t4, { output: 'seg', batchSize: 4 });
  assert.equal(fromTensor.shape, ref.shape);
  assert.ok(maxDiff(fromTensor.data, ref.data) === 0, 'a rank-4 tensor gives the host result');
  const both = new Float32Array(a.image.length * 2);
  both.set(a.image);
  both.set(b.image, a.image.length);
  const t5 = vg.tensor(both, [2, ...a.shape]);
  const pair = await vg.slidingWindowInference(m, t5, { batchSize: 3 });
  const refB = await vg.slidingWindowInference(m, b);
  assert.equal(pair.seg.shape, [2, ...dims, 3]);
  assert.equal(pair.fg.shape, [2, ...dims, 1]);
  assert.equal(pair.seg.data.subarray(0, ref.data.length), ref.data);
  assert.equal(pair.seg.data.subarray(ref.data.length), refB.seg.data);
  assert.equal(pair.fg.data.subarray(refB.fg.data.length), refB.fg.data);
  t4.dispose();
  t5.dispose();
  // A tensor volume smaller than the window is padded on the GPU and gives the host result.
  const small = randomVolume([5, 8, 3], 2, 7);
  const ts = vg.tensor(small.image, [1, ...small.shape]);
  const fromSmall = await vg.slidingWindowInference(m, ts, { padValue: 0.5 });
  const hostSmall = await vg.slidingWindowInference(m, small, { padValue: 0.5 });
  assert.equal(fromSmall.seg.shape, [1, 5, 8, 3, 3]);
  assert.ok(maxDiff(fromSmall.seg.data, hostSmall.seg.data) === 0);
  ts.dispose();
  await vg.sync();
  const after = vg.memory();
  assert.is(after.liveTensors, before.liveTensors, 'live tensors');
  assert.is(after.liveBuffers, before.liveBuffers, 'live buffers');
  assert.is(after.liveBytes, before.liveBytes, 'live bytes');
  disposeModel(m);
});

/** Mean dice over the foreground classes present in `labels` (argmax of the scores, pooled voxels). */
function meanDice(scores: Float32Array, labels: Int32Array, classes: number): number {
  const tp = new Float64Array(classes);
  const p = new Float64Array(classes);
  const g = new Float64Array(classes);
  for (let v = 0; v < labels.length; v++) {
    let k = 0;
    for (let c = 1; c < classes; c++) if (scores[v * classes + c] > scores[v * classes + k]) k = c;
    p[k]++;
    g[labels[v]]++;
    if (k === labels[v]) tp[k]++;
  }
  const dice: number[] = [];
  for (let c = 1; c < classes; c++) if (g[c] > 0) dice.push((2 * tp[c]) / (p[c] + g[c]));
  return dice.reduce((a, b) => a + b, 0) / dice.length;
}

t(
  'a U-Net trained on sampled patches: its whole-volume dice by sliding windows matches its dice on patches',
  async () => {
    const volume = (size: number, seed: number, name: string): vg.data.VolumeCase => {
      const d = syntheticVolumes(1, size, seed, 0.3);
      return { image: d.image, labels: d.labels, shape: [size, size, size, 1], name };
    };
    const train = [volume(24, 11, 'a'), volume(20, 12, 'b'), volume(28, 13, 'c'), volume(12, 14, 'small')];
    const val = volume(24, 21, 'val');
    const m = vg.unet3d({
      inputShape: [16, 16, 16, 1],
      baseFilters: 4,
      depth: 2,
      heads: { segmentation: { classes: 4, activation: 'softmax' } },
    });
    m.compile({ optimizer: new vg.Adam({ learningRate: 0.03 }), loss: 'dice' });
    const sampler = vg.data.patchSampler(train, {
      patch: [16, 16, 16],
      pos: 2,
      neg: 1,
      flip: { prob: 0.5 },
      scaleIntensity: { factors: 0.1 },
      seed: 1,
    });
    const losses: vg.Tensor[] = [];
    const started = performance.now();
    for await (const batch of sampler.batches({ batchSize: 2, count: 80 })) {
      losses.push(
        vg.tidy(() => {
          const { image, labels } = vg.data.toTensors(batch);
          return m.trainStep(image, labels).total;
        }),
      );
      await vg.sync();
    }
    const values = (await vg.readAll(losses)).map((d) => d[0]);
    vg.tidy(() => losses.forEach((l) => l.dispose()));
    const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
    const [first, last] = [mean(values.slice(0, 10)), mean(values.slice(-10))];
    assert.ok(last < first - 0.1, `the loss falls: ${first.toFixed(3)} -> ${last.toFixed(3)}`);
    const whole = await vg.slidingWindowInference(m, val, { output: 'segmentation', overlap: 0.5 });
    const wholeDice = meanDice(whole.data, val.labels, 4);
    // Patches of the validation volume (half foreground-centred, no augmentation), predicted as a batch.
    const patches = vg.data.patchSampler([val], { patch: [16, 16, 16], seed: 2 }).batch(24);
    const x = vg.tensor(patches.image, patches.imageShape);
    const out = m.predict(x).segmentation;
    const patchDice = meanDice((await out.data()) as Float32Array, patches.labels as Int32Array, 4);
    vg.tidy(() => [x, out].forEach((q) => q.dispose()));
    console.log(
      `  (${((performance.now() - started) / 1000).toFixed(1)} s: loss ${first.toFixed(3)} -> ${last.toFixed(3)}, dice whole volume ${wholeDice.toFixed(3)}, on patches ${patchDice.toFixed(3)})`,
    );
    assert.ok(patchDice > 0.5, `the model learned: patch dice ${patchDice}`);
    // Two samplings of one volume: they agree, and the whole volume is not predicted worse (as it is
    // when a network trained on crops sees the whole volume at once).
    assert.ok(Math.abs(wholeDice - patchDice) < 0.15, `whole-volume dice ${wholeDice} vs patch dice ${patchDice}`);
    assert.ok(wholeDice > patchDice - 0.05, `whole-volume dice ${wholeDice} vs patch dice ${patchDice}`);
    disposeModel(m);
  },
);

/** Passes its input through, and throws at its `failAt`-th call. */
class FailingLayer extends vg.Layer {
  calls = 0;
  constructor(readonly failAt: number) {
    super('failing');
  }
  outputShape(shapes: readonly (readonly number[])[]): number[] {
    return [...shapes[0]];
  }
  call([x]: readonly vg.Tensor[]): vg.Tensor {
    if (++this.calls === this.failAt) throw new RangeError(`call ${this.calls} fails`);
    return x;
  }
}

t(
  'a run that fails midway leaves nothing behind (a failing batch, out of memory), and the next run works',
  async () => {
    const v = randomVolume([24, 24, 24], 1, 8);
    const c1 = new vg.Conv3D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', seed: 1 });
    const c2 = new vg.Conv3D({ filters: 2, kernelSize: 1, seed: 2, name: 'out' });
    const failing = new FailingLayer(3);
    const x = vg.input({ shape: [8, 8, 8, 1] });
    const m = vg.model({ inputs: x, outputs: c2.apply(failing.apply(c1.apply(x))) });
    await vg.sync();
    const before = vg.memory();
    // 64 windows in batches of 16: batch 2 (call 3) fails while batch 1 is being read.
    let error: unknown = null;
    try {
      await vg.slidingWindowInference(m, v, { batchSize: 16 });
    } catch (e) {
      error = e;
    }
    assert.instance(error, RangeError);
    assert.is(failing.calls, 3);
    await vg.sync();
    assert.is(vg.memory().liveTensors, before.liveTensors, 'nothing leaked');
    assert.is(vg.memory().liveBuffers, before.liveBuffers);
    const ok = await vg.slidingWindowInference(m, v, { batchSize: 16 });
    assert.equal(ok.out.shape, [24, 24, 24, 2]);
    // Out of memory at the first window batch.
    await vg.sync();
    vg.releasePool();
    const base = vg.memory();
    vg.flags.memoryBudgetBytes = base.allocatedBytes + 8 ** 3 * 16 * 4;
    error = null;
    try {
      await vg.slidingWindowInference(m, v, { batchSize: 16 });
    } catch (e) {
      error = e;
    } finally {
      vg.flags.memoryBudgetBytes = 0;
    }
    assert.instance(error, vg.DeviceError);
    await vg.sync();
    assert.is(vg.memory().liveTensors, base.liveTensors, 'nothing leaked');
    const again = await vg.slidingWindowInference(m, v, { batchSize: 16 });
    assert.equal(again.out.data, ok.out.data);
    disposeModel(m);
  },
);

t('bad arguments are named errors thrown before any GPU work', async () => {
  const [m] = convModels(1, 1, [[8, 8, 8]]);
  const v = randomVolume([9, 9, 9], 1, 9);
  const nan = randomVolume([9, 9, 9], 1, 9);
  nan.image[3] = Number.POSITIVE_INFINITY;
  const two = randomVolume([9, 9, 9], 2, 9);
  const cases: [() => Promise<unknown>, RegExp][] = [
    [
      () => vg.slidingWindowInference({} as never, v),
      /slidingWindowInference: argument 'model' expected a Model, got Object/,
    ],
    [
      () => vg.slidingWindowInference(m, v, { patch: [16, 16, 16] }),
      /argument 'patch' expected the model's input size \[8, 8, 8\]/,
    ],
    [
      () => vg.slidingWindowInference(m, v, { patch: [8, 8] }),
      /argument 'patch' expected \[x, y, z\] of positive integers, got \[8, 8\]/,
    ],
    [
      () => vg.slidingWindowInference(m, v, { overlap: 1 }),
      /argument 'overlap' expected a number in \[0, 1\), or three of them \(one per axis\), got 1/,
    ],
    [
      () => vg.slidingWindowInference(m, v, { overlap: [0.5, 0.5] }),
      /argument 'overlap' expected .*, got \[0.5, 0.5\]/,
    ],
    [
      () => vg.slidingWindowInference(m, v, { blend: 'gauss' as never }),
      /argument 'blend' expected 'gaussian' or 'constant', got "gauss"/,
    ],
    [() => vg.slidingWindowInference(m, v, { sigmaScale: 0 }), /argument 'sigmaScale' expected a number > 0/],
    [
      () => vg.slidingWindowInference(m, v, { batchSize: 0 }),
      /argument 'batchSize' expected a positive integer, got 0/,
    ],
    [
      () => vg.slidingWindowInference(m, v, { output: 'sge' }),
      /argument 'output' expected keys among the outputs 'seg', 'fg', got the key 'sge', which is not an output \(did you mean 'seg'\?\)/,
    ],
    [() => vg.slidingWindowInference(m, v, { overlapp: 0.5 } as never), /did you mean 'overlap'\?/],
    [() => vg.slidingWindowInference(m, v, { activate: 1 as never }), /argument 'activate' expected a boolean, got 1/],
    [
      () => vg.slidingWindowInference(m, two),
      /argument 'volume.shape' expected 1 channel\(s\), the model's input channels, got 2 channel\(s\)/,
    ],
    [() => vg.slidingWindowInference(m, nan), /argument 'volume.image' expected finite intensities/],
    [
      () => vg.slidingWindowInference(m, { image: v.image, shape: [9, 9] }),
      /argument 'volume.shape' expected \[X, Y, Z, C\] or \[X, Y, Z\]/,
    ],
    [() => vg.slidingWindowInference(m, vg.zeros([9, 9, 9, 2])), /argument 'volume' expected 1 channel\(s\)/],
    [
      () => vg.slidingWindowInference(m, vg.zeros([9, 9, 1], 'float32')),
      /argument 'volume' expected a tensor \(x, y, z, channels\) or \(batch, x, y, z, channels\)/,
    ],
    [() => vg.slidingWindowInference(m, vg.zeros([9, 9, 9, 1], 'int32')), /argument 'volume' expected dtype float32/],
  ];
  const dispatches = vg.memory().dispatches;
  for (const [call, message] of cases) {
    let error: unknown = null;
    const live = vg.memory().liveTensors;
    try {
      await vg.tidyAsync(async () => {
        await call();
      });
    } catch (e) {
      error = e;
    }
    assert.ok(
      error instanceof vg.ValueError || error instanceof vg.ShapeError || error instanceof vg.DTypeError,
      `${message}: ${error}`,
    );
    assert.match((error as Error).message, message);
    assert.is(vg.memory().liveTensors, live);
  }
  // (zeros() fills on the GPU; nothing else was dispatched.)
  assert.ok(vg.memory().dispatches - dispatches <= 3, 'no window was predicted');
  // A model whose output is not per voxel of the window.
  const x = vg.input({ shape: [8, 8, 8, 1] });
  const pooled = vg.model({ inputs: x, outputs: new vg.MaxPool3D({ poolSize: 2, name: 'pooled' }).apply(x) });
  await vg.slidingWindowInference(pooled, v).then(
    () => assert.unreachable(),
    (e: Error) =>
      assert.match(
        e.message,
        /argument 'model' expected outputs of the window's size \[8, 8, 8\] \(per voxel predictions\), got the output 'pooled' of shape \[batch, 4, 4, 4, 1\]/,
      ),
  );
  disposeModel(m);
});

t.run();
