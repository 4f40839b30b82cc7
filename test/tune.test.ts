import { readFileSync, writeFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { engine } from '../src/tensor/engine.js';
import { definedKernels } from '../src/tensor/kernel.js';
import { timeVariants } from '../src/tensor/tune.js';
import { storeKey, tunableFamilies } from '../src/tensor/tuning.js';
import { setup, suite } from './harness.js';

const t = suite('tuning: per-adapter kernel variants');
t.before(setup);

const file = (): string => process.env.VOXGRAD_TUNING_FILE!;
const stored = (): { version: number; adapters: Record<string, Record<string, string>> } =>
  JSON.parse(readFileSync(file(), 'utf8'));

t('tune() times the classes the program ran, keeps the fastest and stores it under the adapter', async () => {
  vg.tuning.clear();
  const x = vg.randomNormal([1, 6, 7, 5, 3], { seed: 1 });
  const w = vg.randomNormal([3, 3, 3, 3, 4], { seed: 2 });
  const { value, grads } = vg.valueAndGrad(() => vg.sum(vg.conv3d(x, w, { padding: 'same' })), [x, w]);
  for (const g of [value, ...grads]) g?.dispose();
  const families = vg.tuning.pending().map((p) => p.family);
  assert.equal(families.sort(), ['conv3d.forward', 'conv3d.input', 'conv3d.weight']);
  const lines: string[] = [];
  const results = await vg.tune({ repeats: 1, log: (l) => lines.push(l) });
  assert.is(results.length, 3);
  assert.is(lines.length, 3);
  for (const r of results) {
    assert.ok(vg.tuning.families()[r.family]!.includes(r.variant));
    const best = Math.min(...Object.values(r.times));
    assert.ok(Number.isFinite(best), `${r.family}: every variant failed`);
    assert.is(r.times[r.variant], best, 'the fastest is chosen');
  }
  assert.equal(vg.tuning.pending(), []);
  const adapter = engine.backend.tuningKey;
  const mine = stored().adapters[storeKey(adapter)]!;
  for (const r of results) assert.is(mine[`${r.family}|${r.shapeClass}`], r.variant);
  assert.equal(vg.tuning.choices(), mine);
  x.dispose();
  w.dispose();
});

t('variants are timed round by round after one warm-up each; one that throws is Infinity and left out', async () => {
  const calls: string[] = [];
  const x = vg.randomNormal([64, 64], { seed: 3 });
  const times = await timeVariants(
    ['light', 'heavy', 'broken'],
    (v) => {
      calls.push(v);
      if (v === 'broken') throw new Error('no such kernel here');
      // 'heavy' records 16 products, 'light' one.
      for (let i = 0; i < (v === 'heavy' ? 16 : 1); i++) vg.matmul(x, x).dispose();
    },
    3,
  );
  x.dispose();
  // A slow phase of the host then falls on every variant alike, not on whichever was timed.
  assert.equal(calls, ['light', 'heavy', 'broken', 'light', 'heavy', 'light', 'heavy', 'light', 'heavy']);
  assert.is(times.broken, Number.POSITIVE_INFINITY);
  assert.ok(Number.isFinite(times.light!) && Number.isFinite(times.heavy!), JSON.stringify(times));
  assert.ok(times.light! < times.heavy!, `16 products timed faster than one: ${JSON.stringify(times)}`);
});

t('matmul classes tell contiguous rows of B whose width is not a multiple of 4 (another kernel) apart', async () => {
  vg.tuning.clear();
  const a = vg.randomNormal([64, 48], { seed: 1 });
  const b = vg.randomNormal([48, 38], { seed: 2 });
  const c = vg.randomNormal([48, 40], { seed: 3 });
  const d = vg.randomNormal([38, 48], { seed: 4 });
  vg.matmul(a, b).dispose();
  vg.matmul(a, c).dispose();
  vg.matmul(a, d, { transposeB: true }).dispose();
  const classes = vg.tuning
    .pending()
    .filter((p) => p.family === 'matmul')
    .map((p) => p.shapeClass);
  assert.equal(classes.sort(), ['m64 n64 k64 nn', 'm64 n64 k64 nn odd-n', 'm64 n64 k64 nt']);
  const results = await vg.tune({ repeats: 1 });
  assert.is(results.length, 3);
  for (const r of results) assert.ok(Number.isFinite(r.times[r.variant]!), `${r.shapeClass}: nothing ran`);
  for (const t of [a, b, c, d]) t.dispose();
});

// The direct weight gradient's voxels a visit is a family of its own, asked only where rows are
// long enough for it (64 outputs along z with sliding taps), and timed on such rows whatever
// extents its class was first seen at; the choice is what then runs.
t('the weight gradient over long rows tunes its voxels a visit, and runs the choice', async () => {
  vg.tuning.clear();
  vg.tuning.force('conv3d.weight', 'direct');
  try {
    const run = (z: number) => {
      const x = vg.randomNormal([1, 2, 3, z, 4], { seed: 5 });
      const w = vg.randomNormal([3, 3, 3, 4, 8], { seed: 6 });
      const { value, grads } = vg.valueAndGrad(() => vg.sum(vg.conv3d(x, w, { padding: 'same' })), [w]);
      for (const g of [value, ...grads]) g?.dispose();
      x.dispose();
      w.dispose();
    };
    run(20);
    assert.equal(
      vg.tuning.pending().map((p) => p.family),
      ['conv3d.forward'],
      'short rows do not ask for the voxels a visit',
    );
    run(70);
    const visits = vg.tuning.pending().filter((p) => p.family === 'conv3d.weight.visits');
    assert.is(visits.length, 1, 'long rows ask for the voxels a visit');
    const results = (await vg.tune({ repeats: 1 })).filter((r) => r.family === 'conv3d.weight.visits');
    assert.is(results.length, 1);
    const [r] = results;
    assert.equal(Object.keys(r!.times).sort(), ['one-voxel', 'two-voxels']);
    for (const v of Object.values(r!.times)) assert.ok(Number.isFinite(v) && v > 0);
    const kernels = await engine.backend.profileKernels(() => run(70));
    if (kernels !== null) {
      const vp = kernels
        .filter((k) => k.kernel.startsWith('conv3d_grad_weight'))
        .map((k) => (JSON.parse(k.kernel.slice(k.kernel.indexOf('{'))) as { VP: number }).VP);
      assert.equal(vp, [r!.variant === 'two-voxels' ? 2 : 1]);
    }
  } finally {
    vg.tuning.force('conv3d.weight', null);
  }
});

t('a stored choice is what runs, and the results agree with the default variant', async () => {
  vg.tuning.clear();
  const x = vg.randomNormal([1, 5, 5, 5, 2], { seed: 3 });
  const w = vg.randomNormal([3, 3, 3, 2, 5], { seed: 4 });
  const direct = await vg.conv3d(x, w).data();
  const [pending] = vg.tuning.pending();
  assert.ok(pending, 'the class is pending');
  const adapter = engine.backend.tuningKey;
  const key = `${pending.family}|${pending.shapeClass}`;
  writeFileSync(file(), JSON.stringify({ version: 1, adapters: { [storeKey(adapter)]: { [key]: 'gemm32x32' } } }));
  vg.tuning.reload();
  assert.is(vg.tuning.choices()[key], 'gemm32x32');
  const before = vg.memory().dispatches;
  const tiled = await vg.conv3d(x, w).data();
  assert.ok(vg.memory().dispatches > before);
  for (let i = 0; i < direct.length; i++) assert.ok(Math.abs(tiled[i]! - direct[i]!) < 1e-4);
  assert.equal(vg.tuning.pending(), []);
  x.dispose();
  w.dispose();
});

t('a malformed or foreign tuning file is ignored, not trusted', () => {
  for (const text of ['{', '[]', '{"version":99,"adapters":{}}', '{"version":1,"adapters":{"x":[1]}}', 'null']) {
    writeFileSync(file(), text);
    vg.tuning.reload();
    assert.equal(vg.tuning.choices(), {});
  }
  // An unknown variant name is never run: the class stays untuned and runs the default.
  const x = vg.ones([1, 2, 2, 2, 1]);
  const w = vg.ones([1, 1, 1, 1, 1]);
  vg.tuning.clear();
  vg.conv3d(x, w).dispose();
  const [pending] = vg.tuning.pending();
  const key = `${pending!.family}|${pending!.shapeClass}`;
  const adapter = engine.backend.tuningKey;
  writeFileSync(
    file(),
    JSON.stringify({ version: 1, adapters: { [storeKey(adapter)]: { [key]: 'no-such-variant' } } }),
  );
  vg.tuning.reload();
  vg.conv3d(x, w).dispose();
  assert.equal(
    vg.tuning.pending().map((p) => `${p.family}|${p.shapeClass}`),
    [key],
  );
  x.dispose();
  w.dispose();
});

t('every tunable family names the kernels/ files its variants run (they key the stored choices)', () => {
  const files = new Set(definedKernels().map((k) => k.file));
  for (const t of tunableFamilies()) {
    assert.ok(t.kernelFiles.length > 0, t.family);
    for (const f of t.kernelFiles) assert.ok(files.has(f), `${t.family}: ${f} is a defined kernel`);
  }
});

t('choices timed on other kernels (another fingerprint of their sources) are not used, and are replaced', async () => {
  vg.tuning.clear();
  const x = vg.randomNormal([1, 5, 5, 5, 2], { seed: 5 });
  const w = vg.randomNormal([3, 3, 3, 2, 5], { seed: 6 });
  vg.conv3d(x, w).dispose();
  const [pending] = vg.tuning.pending();
  const key = `${pending!.family}|${pending!.shapeClass}`;
  const adapter = engine.backend.tuningKey;
  assert.match(
    storeKey(adapter),
    new RegExp(`^${adapter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\[kernels [0-9a-f]{8}\\]$`),
  );
  const stale = `${adapter} [kernels 00000000]`;
  writeFileSync(
    file(),
    JSON.stringify({ version: 1, adapters: { [stale]: { [key]: 'gemm32x32' }, other: { [key]: 'direct' } } }),
  );
  vg.tuning.reload();
  assert.equal(vg.tuning.choices(), {});
  vg.conv3d(x, w).dispose();
  assert.ok(
    vg.tuning.pending().some((p) => `${p.family}|${p.shapeClass}` === key),
    'the class is untuned',
  );
  await vg.tune({ repeats: 1 });
  const adapters = stored().adapters;
  assert.not.ok(stale in adapters, 'the stale entry is dropped');
  assert.ok(key in adapters[storeKey(adapter)]!);
  assert.equal(adapters.other, { [key]: 'direct' }, "another adapter's entry is kept");
  x.dispose();
  w.dispose();
});

t('fit tunes the classes its first step ran, within flags.autoTuneMs, and only once', async () => {
  vg.tuning.clear();
  const x = vg.input({ shape: [6, 6, 6, 1], name: 'tune_x' });
  const h = new vg.Conv3D({
    filters: 3,
    kernelSize: 3,
    padding: 'same',
    activation: 'relu',
    seed: 1,
    name: 'tune_c1',
  }).apply(x);
  const y = new vg.Conv3D({ filters: 2, kernelSize: 1, seed: 2, name: 'tune_c2' }).apply(h);
  const model = vg.model({ inputs: x, outputs: y });
  model.compile({ optimizer: new vg.SGD({ learningRate: 0.01 }), loss: 'mse' });
  const xs = vg.randomNormal([4, 6, 6, 6, 1], { seed: 5 });
  const ys = vg.randomNormal([4, 6, 6, 6, 2], { seed: 6 });
  const before = vg.flags.autoTuneMs;
  try {
    vg.flags.autoTuneMs = 0;
    await model.fit(xs, ys, { epochs: 1, batchSize: 2 });
    assert.ok(vg.tuning.pending().length > 0, 'with no budget nothing is tuned');
    assert.equal(vg.tuning.choices(), {});
    vg.flags.autoTuneMs = 600000;
    await model.fit(xs, ys, { epochs: 2, batchSize: 2 });
    assert.equal(vg.tuning.pending(), [], 'every class of the step is tuned');
    const families = new Set(Object.keys(vg.tuning.choices()).map((k) => k.split('|')[0]));
    assert.equal([...families].sort(), ['conv3d.forward', 'conv3d.input', 'conv3d.weight']);
  } finally {
    vg.flags.autoTuneMs = before;
    model.dispose();
    xs.dispose();
    ys.dispose();
  }
});

t('forcing an unknown family or variant is an error naming what exists', () => {
  assert.throws(() => vg.tuning.force('conv9d', 'direct'), /unknown kernel family 'conv9d'/);
  assert.throws(
    () => vg.tuning.force('conv3d.forward', 'fast'),
    /no variant 'fast' \(it has direct, direct-subgroup, gemm64x16/,
  );
});

t.run();
