// Training patches (vg.data): the pos/neg ratio over many draws and the fallbacks, seeded
// reproducibility (also through the prefetching iterator), padding of small volumes, flips and
// intensity against a host oracle with labels aligned to the image (fast-check properties),
// one-hot labels, bad options, and prefetching that builds batch i + 1 while step i runs.
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';
import { rng } from './helpers.js';

const t = suite('data: patch sampling, augmentation and prefetching');
t.before(setup);

type Case = vg.data.VolumeCase;

/** A case of random intensities with C channels and labels from `label(x, y, z)`. */
function makeCase(
  dims: number[],
  channels: number,
  label: (x: number, y: number, z: number) => number,
  seed = 1,
): Case {
  const r = rng(seed);
  const [X, Y, Z] = dims;
  const image = new Float32Array(X * Y * Z * channels);
  for (let i = 0; i < image.length; i++) image[i] = r() * 2 - 1;
  const labels = new Int32Array(X * Y * Z);
  for (let x = 0; x < X; x++)
    for (let y = 0; y < Y; y++) for (let z = 0; z < Z; z++) labels[(x * Y + y) * Z + z] = label(x, y, z);
  return { image, labels, shape: [X, Y, Z, channels] };
}

/**
 * The oracle of one patch: voxel (i, j, k) of the patch reads case voxel start + (flipped ? p − 1 − i : i)
 * per axis, padValue / 0 outside, then v · scale + shift.
 */
function oracle(
  c: Case,
  info: vg.data.PatchInfo,
  patch: number[],
  padValue: number,
): { image: number[]; labels: number[] } {
  const [X, Y, Z] = c.shape;
  const C = c.shape[3] ?? 1;
  const image: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < patch[0]; i++)
    for (let j = 0; j < patch[1]; j++)
      for (let k = 0; k < patch[2]; k++) {
        const at = [i, j, k].map((v, a) => info.start[a] + (info.flipped[a] ? patch[a] - 1 - v : v));
        const inside = at[0] >= 0 && at[0] < X && at[1] >= 0 && at[1] < Y && at[2] >= 0 && at[2] < Z;
        const voxel = (at[0] * Y + at[1]) * Z + at[2];
        labels.push(inside ? c.labels[voxel] : 0);
        for (let ch = 0; ch < C; ch++)
          image.push(Math.fround((inside ? c.image[voxel * C + ch] : padValue) * info.scale + info.shift));
      }
  return { image, labels };
}

/** The centre voxel's label, and whether the centre lies in the patch. */
function centreInPatch(info: vg.data.PatchInfo, patch: number[]): boolean {
  return info.centre.every((v, a) => v >= info.start[a] && v < info.start[a] + patch[a]);
}

t('pos / (pos + neg) of the patches are centred on foreground, and a positive patch always holds it', () => {
  // A small sphere: about 3% of the voxels are foreground.
  const c = makeCase([20, 18, 16], 1, (x, y, z) => ((x - 6) ** 2 + (y - 9) ** 2 + (z - 8) ** 2 < 9 ? 2 : 0));
  const patch = [8, 8, 8];
  for (const [pos, neg] of [
    [1, 3],
    [1, 1],
    [2, 1],
  ]) {
    const sampler = vg.data.patchSampler([c], { patch, pos, neg, seed: 7 });
    const draws = 3000;
    const b = sampler.batch(draws);
    let positive = 0;
    b.patches.forEach((info, s) => {
      const centreLabel = c.labels[(info.centre[0] * 18 + info.centre[1]) * 16 + info.centre[2]];
      assert.ok(centreInPatch(info, patch), `patch ${s} contains its centre`);
      if (info.kind === 'positive') {
        positive++;
        assert.ok(centreLabel > 0, 'a positive centre is foreground');
        const labels = b.labels.subarray(s * 512, (s + 1) * 512);
        assert.ok(
          labels.some((v) => v > 0),
          'a positive patch holds foreground',
        );
      } else {
        assert.is(info.kind, 'negative');
        assert.is(centreLabel, 0, 'a negative centre is background');
      }
    });
    const expected = pos / (pos + neg);
    const sd = Math.sqrt((expected * (1 - expected)) / draws);
    assert.ok(
      Math.abs(positive / draws - expected) < 4 * sd,
      `pos ${pos}, neg ${neg}: ${positive / draws} positive, expected ${expected} ± ${4 * sd}`,
    );
  }
});

t('foreground and background centres are uniform over their voxels', () => {
  // Foreground: the 4 voxels x = 0, y < 2, z < 2; each should be drawn about equally often.
  const c = makeCase([6, 6, 6], 1, (x, y, z) => (x === 0 && y < 2 && z < 2 ? 1 : 0));
  const b = vg.data.patchSampler([c], { patch: [2, 2, 2], pos: 1, neg: 0, seed: 3 }).batch(4000);
  const counts = new Map<string, number>();
  for (const p of b.patches) counts.set(p.centre.join(','), (counts.get(p.centre.join(',')) ?? 0) + 1);
  assert.is(counts.size, 4);
  for (const [voxel, n] of counts) assert.ok(Math.abs(n - 1000) < 4 * Math.sqrt(1000 * 0.75), `${voxel}: ${n} of 4000`);
});

t('cases without foreground, without background, or with neither above the threshold fall back', () => {
  const empty = makeCase([6, 6, 6], 1, () => 0);
  const full = makeCase([6, 6, 6], 1, () => 1, 2);
  const dark = { ...makeCase([6, 6, 6], 1, (x) => (x < 3 ? 1 : 0), 3), name: 'dark' };
  const sampler = vg.data.patchSampler([empty, full], { patch: [4, 4, 4], pos: 1, neg: 1, seed: 1 });
  const b = sampler.batch(200);
  for (const p of b.patches) assert.is(p.kind, p.case === 0 ? 'negative' : 'positive');
  // Intensities are in [-1, 1): a threshold of 5 leaves no voxel to draw from.
  const none = vg.data.patchSampler([dark], { patch: [4, 4, 4], imageThreshold: 5, seed: 1 }).batch(50);
  assert.ok(none.patches.every((p) => p.kind === 'uniform' && p.name === 'dark'));
  // With a threshold, only voxels whose intensity is above it are centres.
  const some = vg.data.patchSampler([dark], { patch: [4, 4, 4], imageThreshold: 0.5, seed: 1 }).batch(300);
  for (const p of some.patches) assert.ok(dark.image[(p.centre[0] * 6 + p.centre[1]) * 6 + p.centre[2]] > 0.5);
});

t('the same seed gives the same batches, also through the prefetching iterator; another seed others', async () => {
  const cases = [1, 2, 3].map((s) => makeCase([10 + s, 9, 7 + s], 2, (x, y) => (x + y < 6 ? s : 0), s));
  const options: vg.data.PatchSamplerOptions = {
    patch: [6, 6, 6],
    flip: { prob: 0.5 },
    scaleIntensity: { factors: 0.2, prob: 0.5 },
    shiftIntensity: { offsets: [-0.1, 0.3], prob: 0.5 },
    samplesPerCase: 2,
    seed: 11,
  };
  const a = vg.data.patchSampler(cases, options);
  const b = vg.data.patchSampler(cases, options);
  const syncBatches = [a.batch(3), a.batch(3), a.batch(3)];
  const asyncBatches: vg.data.PatchBatch[] = [];
  for await (const batch of b.batches({ batchSize: 3, count: 3, depth: 2 })) asyncBatches.push(batch);
  assert.is(asyncBatches.length, 3);
  syncBatches.forEach((s, i) => {
    assert.equal(asyncBatches[i].image, s.image, `batch ${i} image`);
    assert.equal(asyncBatches[i].labels, s.labels, `batch ${i} labels`);
    assert.equal(asyncBatches[i].patches, s.patches, `batch ${i} draws`);
  });
  // samplesPerCase: 2 consecutive patches per case; every case once per pass of 3 cases.
  const order = syncBatches.flatMap((s) => s.patches.map((p) => p.case));
  for (let i = 0; i + 1 < order.length; i += 2) assert.is(order[i], order[i + 1]);
  assert.equal([...order.slice(0, 6)].sort(), [0, 0, 1, 1, 2, 2]);
  const other = vg.data.patchSampler(cases, { ...options, seed: 12 }).batch(3);
  assert.not.equal(other.image, syncBatches[0].image);
});

t('a volume smaller than the patch is padded symmetrically: image with padValue, labels with 0', () => {
  const c = makeCase([3, 5, 2], 2, (x, y, z) => 1 + x + y + z);
  const patch = [4, 6, 8];
  const b = vg.data.patchSampler([c], { patch, padValue: -7, seed: 2 }).batch(5);
  assert.equal(b.imageShape, [5, 4, 6, 8, 2]);
  assert.equal(b.labelShape, [5, 4, 6, 8]);
  for (let s = 0; s < 5; s++) {
    const info = b.patches[s];
    // Every axis is shorter than the patch: ⌊(p − d)/2⌋ padded before.
    assert.equal(
      info.start,
      [-0, -0, -3].map((v, a) => (a < 2 ? -Math.floor((patch[a] - c.shape[a]) / 2) : v)),
    );
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 6; j++)
        for (let k = 0; k < 8; k++) {
          const v = ((s * 4 + i) * 6 + j) * 8 + k;
          const [x, y, z] = [i + info.start[0], j + info.start[1], k + info.start[2]];
          const inside = x >= 0 && x < 3 && y >= 0 && y < 5 && z >= 0 && z < 2;
          assert.is(b.labels[v], inside ? 1 + x + y + z : 0);
          for (let ch = 0; ch < 2; ch++)
            assert.is(b.image[v * 2 + ch], inside ? c.image[((x * 5 + y) * 2 + z) * 2 + ch] : -7);
        }
  }
});

t('patches equal the host oracle under flips, padding and intensity; labels stay aligned (property)', () => {
  const arb = fc.record({
    dims: fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 })),
    patch: fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 })),
    channels: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer({ min: 0, max: 1e6 }),
    flipProb: fc.constantFrom(0, 0.5, 1),
    axes: fc.subarray([0, 1, 2]),
    augment: fc.boolean(),
  });
  fc.assert(
    fc.property(arb, ({ dims, patch, channels, seed, flipProb, axes, augment }) => {
      // Labels encode the voxel's position, so any misplaced voxel shows.
      const c = makeCase(dims, channels, (x, y, z) => (x * dims[1] + y) * dims[2] + z + 1, seed);
      const sampler = vg.data.patchSampler([c], {
        patch,
        seed,
        padValue: 0.25,
        flip: { prob: flipProb, axes },
        ...(augment ? { scaleIntensity: { factors: 0.5, prob: 0.7 }, shiftIntensity: { offsets: 1, prob: 0.7 } } : {}),
      });
      const b = sampler.batch(3);
      const P = patch[0] * patch[1] * patch[2];
      b.patches.forEach((info, s) => {
        assert.ok(centreInPatch(info, patch) || dims.some((d, a) => d < patch[a]));
        for (let a = 0; a < 3; a++) if (!axes.includes(a) || flipProb === 0) assert.not.ok(info.flipped[a]);
        if (flipProb === 1) for (const a of axes) assert.ok(info.flipped[a]);
        const want = oracle(c, info, patch, 0.25);
        assert.equal(Array.from(b.labels.subarray(s * P, (s + 1) * P)), want.labels);
        assert.equal(Array.from(b.image.subarray(s * P * channels, (s + 1) * P * channels)), want.image);
      });
    }),
    { numRuns: 300, seed: 5 },
  );
});

t('flipping an axis mirrors image and labels together (the image encodes each label)', () => {
  const c = makeCase([7, 6, 5], 1, (x, y, z) => (x * 3 + y * 2 + z) % 5);
  for (let i = 0; i < c.labels.length; i++) c.image[i] = c.labels[i] * 10;
  const b = vg.data.patchSampler([c], { patch: [7, 6, 5], flip: { prob: 0.5 }, seed: 9 }).batch(40);
  const flips = new Set(b.patches.map((p) => p.flipped.join()));
  assert.ok(flips.size >= 6, `several flip combinations drawn (${flips.size})`);
  for (let v = 0; v < b.labels.length; v++) assert.is(b.image[v], b.labels[v] * 10);
  // The whole volume fits the patch: a flip on x makes patch voxel (i, j, k) read (6 − i, j, k).
  b.patches.forEach((p, s) => {
    for (let i = 0; i < 7; i++) {
      const x = p.flipped[0] ? 6 - i : i;
      const y = p.flipped[1] ? 5 : 0;
      const z = p.flipped[2] ? 4 : 0;
      assert.is(b.labels[s * 210 + i * 30], c.labels[(x * 6 + y) * 5 + z]);
    }
  });
});

t('intensity scale and shift are drawn in their ranges with their probabilities', () => {
  const c = makeCase([4, 4, 4], 1, () => 1);
  const b = vg.data
    .patchSampler([c], {
      patch: [2, 2, 2],
      scaleIntensity: { factors: [-0.2, 0.1], prob: 0.3 },
      shiftIntensity: { offsets: 0.5 },
      seed: 4,
    })
    .batch(4000);
  const scaled = b.patches.filter((p) => p.scale !== 1);
  const shifted = b.patches.filter((p) => p.shift !== 0);
  assert.ok(Math.abs(scaled.length / 4000 - 0.3) < 0.03, `scaled ${scaled.length / 4000}`);
  assert.ok(
    Math.abs(shifted.length / 4000 - 0.1) < 0.02,
    `shifted with MONAI's default prob 0.1: ${shifted.length / 4000}`,
  );
  assert.ok(scaled.every((p) => p.scale >= 0.8 && p.scale <= 1.1));
  assert.ok(shifted.every((p) => p.shift >= -0.5 && p.shift <= 0.5));
});

t("labels: 'oneHot' gives the one-hot of the index labels; toTensors uploads a batch", async () => {
  const c = makeCase([5, 5, 5], 1, (x, y) => (x + y) % 3);
  const indices = vg.data.patchSampler([c], { patch: [3, 4, 5], flip: { prob: 0.5 }, seed: 8 }).batch(4);
  const hot = vg.data
    .patchSampler([c], { patch: [3, 4, 5], flip: { prob: 0.5 }, seed: 8, labels: 'oneHot', classes: 3 })
    .batch(4);
  assert.equal(hot.labelShape, [4, 3, 4, 5, 3]);
  assert.equal(hot.labels, vg.data.oneHot(indices.labels as Int32Array, 3));
  const before = vg.memory().liveTensors;
  const { image, labels } = vg.data.toTensors(indices);
  assert.equal(
    [image.shape, image.dtype, labels.shape, labels.dtype],
    [[4, 3, 4, 5, 1], 'float32', [4, 3, 4, 5], 'int32'],
  );
  assert.equal(await labels.data(), indices.labels);
  image.dispose();
  labels.dispose();
  assert.is(vg.memory().liveTensors, before);
});

t('bad cases and options are named errors before any patch is drawn', async () => {
  const good = makeCase([4, 4, 4], 1, () => 0);
  const nan = makeCase([4, 4, 4], 1, () => 0);
  nan.image[5] = Number.NaN;
  const opts = { patch: [2, 2, 2] };
  const cases: [() => unknown, RegExp][] = [
    [
      () => vg.data.patchSampler([good], undefined as never),
      /PatchSampler: argument 'patch' expected \[x, y, z\] of positive integers, got undefined/,
    ],
    [
      () => vg.data.patchSampler([good], { patch: [2, 2] }),
      /argument 'patch' expected \[x, y, z\] of positive integers, got \[2, 2\]/,
    ],
    [() => vg.data.patchSampler([good], { ...opts, ratio: 1 } as never), /got the key 'ratio', which is not an option/],
    [() => vg.data.patchSampler([good], { ...opts, pos: -1 }), /argument 'pos' expected a finite number >= 0, got -1/],
    [() => vg.data.patchSampler([good], { ...opts, pos: 0, neg: 0 }), /argument 'pos' expected pos \+ neg > 0/],
    [
      () => vg.data.patchSampler([good], { ...opts, samplesPerCase: 0 }),
      /argument 'samplesPerCase' expected a positive integer, got 0/,
    ],
    [
      () => vg.data.patchSampler([good], { ...opts, flip: { prob: 2 } }),
      /argument 'flip.prob' expected a probability in \[0, 1\], got 2/,
    ],
    [
      () => vg.data.patchSampler([good], { ...opts, flip: { axes: [0, 3] } }),
      /argument 'flip.axes' expected distinct spatial axes among 0, 1, 2, got \[0, 3\]/,
    ],
    [
      () => vg.data.patchSampler([good], { ...opts, flip: { probs: 1 } as never }),
      /argument 'flip' expected keys among .* \(did you mean 'prob'\?\)/,
    ],
    [
      () => vg.data.patchSampler([good], { ...opts, scaleIntensity: { factors: [0.2, -0.2] } }),
      /argument 'scaleIntensity.factors' expected a finite number >= 0 \(for \[−a, a\]\) or \[lo, hi\] with lo <= hi, got \[0.2, -0.2\]/,
    ],
    [
      () => vg.data.patchSampler([good], { ...opts, shiftIntensity: {} as never }),
      /argument 'shiftIntensity.offsets' expected/,
    ],
    [
      () => vg.data.patchSampler([good], { ...opts, labels: 'onehot' as never }),
      /argument 'labels' expected 'indices' or 'oneHot', got "onehot"/,
    ],
    [
      () => vg.data.patchSampler([good], { ...opts, labels: 'oneHot' }),
      /argument 'classes' expected a positive integer, got undefined/,
    ],
    [
      () => vg.data.patchSampler([good], { ...opts, classes: 3 }),
      /argument 'classes' expected no value unless labels: 'oneHot'/,
    ],
    [() => vg.data.patchSampler([], opts), /argument 'cases' expected a non-empty array/],
    [
      () => vg.data.patchSampler([{ ...good, shape: [4, 4, 5] }], opts),
      /argument 'cases\[0\].image' expected 80 values \(shape \[4, 4, 5\]\), got 64 values/,
    ],
    [
      () => vg.data.patchSampler([good, { ...good, labels: new Int32Array(3) }], opts),
      /argument 'cases\[1\].labels' expected 64 values/,
    ],
    [
      () => vg.data.patchSampler([good, { ...nan, name: 'bad.nii' }], opts),
      /argument 'cases\[1\].image' expected finite intensities \(in 'bad.nii'\), got 1 NaN or infinite value\(s\)/,
    ],
    [
      () =>
        vg.data.patchSampler([{ ...good, labels: Int32Array.from(good.labels, (v, i) => (i === 63 ? -1 : v)) }], opts),
      /argument 'cases\[0\].labels' expected labels >= 0 in 'cases\[0\]', got -1 at voxel 63/,
    ],
    [
      () => vg.data.patchSampler([good, makeCase([4, 4, 4], 2, () => 0)], opts),
      /argument 'cases\[1\].shape' expected 1 channels \(as cases\[0\]\), got 2 channels/,
    ],
    [
      () => vg.data.patchSampler([makeCase([4, 4, 4], 1, () => 5)], { ...opts, labels: 'oneHot', classes: 3 }),
      /expected labels in \[0, 2\] \(classes: 3\) in 'cases\[0\]', got 5 at voxel 0/,
    ],
    [
      () => vg.data.patchSampler([good], opts).batch(0),
      /PatchSampler.batch: argument 'n' expected a positive integer, got 0/,
    ],
    [
      () => vg.data.patchSampler([good], opts).batches({ batchSize: 2, count: -1 }),
      /prefetch: argument 'count' expected an integer >= 0, got -1/,
    ],
    [
      () => vg.data.patchSampler([good], opts).batches({ batchSize: 2, depth: 0 }),
      /prefetch: argument 'depth' expected a positive integer, got 0/,
    ],
    [() => vg.data.patchSampler([good], opts).batches({ batchsize: 2 } as never), /did you mean 'batchSize'/],
    [() => vg.data.prefetch(3 as never), /prefetch: argument 'produce' expected a function/],
    [
      () => vg.data.oneHot(Int32Array.of(0, 3), 3),
      /oneHot: argument 'labels' expected indices in \[0, 2\], got 3 at index 1/,
    ],
  ];
  for (const [call, message] of cases) {
    let error: unknown = null;
    try {
      call();
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof vg.ValueError || error instanceof vg.ShapeError, `${message}: ${error}`);
    assert.match((error as Error).message, message);
  }
});

t('prefetch: items in order, an error at its item, and leaving early stops the work', async () => {
  const made: number[] = [];
  const items = vg.data.prefetch(
    (i) => {
      made.push(i);
      if (i === 2) throw new RangeError('no item 2');
      return i * 10;
    },
    { count: 5 },
  );
  assert.equal(await items.next(), { value: 0, done: false });
  assert.equal(await items.next(), { value: 10, done: false });
  try {
    await items.next();
    assert.unreachable('item 2 throws');
  } catch (e) {
    assert.match((e as Error).message, 'no item 2');
  }
  const made2: number[] = [];
  for await (const v of vg.data.prefetch(
    async (i) => {
      made2.push(i);
      return i;
    },
    { depth: 2 },
  ))
    if (v === 3) break;
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(made2.length <= 4 + 2, `production stopped after the loop left (${made2.length} items made)`);
});

t('prefetch overlaps host work with an awaited step instead of adding them up', async () => {
  const busy = (ms: number): void => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  const n = 8;
  const ms = 40;
  const builds: [number, number][] = [];
  const steps: [number, number][] = [];
  const items = vg.data.prefetch(
    () => {
      const start = performance.now();
      busy(ms);
      builds.push([start, performance.now()]);
    },
    { count: n },
  );
  for await (const _ of items) {
    const start = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    steps.push([start, performance.now()]);
  }
  // The time building item i + 1 shares with step i (wall-clock intervals, so a loaded machine
  // stretches both alike).
  let shared = 0;
  for (let i = 0; i + 1 < n; i++)
    shared += Math.max(0, Math.min(builds[i + 1][1], steps[i][1]) - Math.max(builds[i + 1][0], steps[i][0]));
  assert.ok(
    shared > 0.8 * (n - 1) * ms,
    `${shared.toFixed(0)} ms of ${(n - 1) * ms} ms of host work overlapped the steps`,
  );
});

t('with a real GPU step, batch i + 1 is built after step i is submitted and before its wait ends', async () => {
  const c = makeCase([40, 40, 40], 1, (x, y, z) => (x * y + z) % 3, 4);
  const sampler = vg.data.patchSampler([c], { patch: [24, 24, 24], flip: { prob: 0.5 }, seed: 1 });
  const before = vg.memory().liveTensors;
  const w1 = vg.randomNormal([3, 3, 3, 1, 8], { seed: 1 });
  const w2 = vg.randomNormal([3, 3, 3, 8, 1], { seed: 2 });
  const log: string[] = [];
  const batches = vg.data.prefetch(
    (k) => {
      log.push(`build ${k}`);
      return sampler.batch(2);
    },
    { count: 4 },
  );
  let i = 0;
  for await (const batch of batches) {
    vg.tidy(() => {
      const { image, labels } = vg.data.toTensors(batch);
      labels.dispose();
      vg.conv3d(vg.conv3d(image, w1, { padding: 'same' }), w2, { padding: 'same' });
    });
    log.push(`submit ${i}`);
    await vg.sync();
    log.push(`done ${i}`);
    i++;
  }
  vg.tidy(() => [w1, w2].forEach((w) => w.dispose()));
  assert.is(vg.memory().liveTensors, before);
  for (let k = 0; k < 3; k++) {
    const at = log.indexOf(`build ${k + 1}`);
    assert.ok(log.indexOf(`submit ${k}`) < at && at < log.indexOf(`done ${k}`), log.join(', '));
  }
});

t.run();
