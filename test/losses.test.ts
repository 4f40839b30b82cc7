import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { checkGrad } from './gradcheck.js';
import { setup, suite } from './harness.js';
import * as L from './loss_oracle.js';
import { Nd } from './oracle.js';
import { gpuPred, gpuTrue, makeVolume } from './volumes.js';

const t = suite('segmentation losses (float64 oracle, reference cases, gradients)');
t.before(setup);

type LossFn = (yTrue: vg.SegInput, yPred: vg.SegInput, o?: Record<string, unknown>) => vg.Tensor;
const LOSSES: Record<string, LossFn> = {
  dice: vg.dice as LossFn,
  iou: vg.iou as LossFn,
  tversky: vg.tversky as LossFn,
  generalized_dice: vg.generalizedDice as LossFn,
};

function oracleLoss(kind: string, v: L.Volume, o: L.LossOpts): number | number[] {
  return kind === 'generalized_dice' ? L.generalizedDice(v, o) : L.overlapLoss(kind as 'dice', v, o);
}

async function expectClose(got: vg.Tensor, expected: number | number[], tol: number, label: string): Promise<void> {
  const values = Array.from(await got.data());
  const exp = typeof expected === 'number' ? [expected] : expected;
  assert.is(values.length, exp.length, `${label}: ${values.length} values, expected ${exp.length}`);
  values.forEach((x, i) => {
    const e = exp[i];
    const ok = Number.isNaN(e) ? Number.isNaN(x) : Math.abs(x - e) <= tol * Math.max(1, Math.abs(e));
    if (!ok) assert.unreachable(`${label}: value ${i} is ${x}, expected ${e}`);
  });
}

// --- external reference cases (MONAI, segmentation_models.pytorch) ------------------------------

const here = dirname(fileURLToPath(import.meta.url));
const cases = JSON.parse(readFileSync(join(here, '../../test/fixtures/reference-cases.json'), 'utf8'));
const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);

t(`all ${cases.segmentation.length} segmentation reference cases, variants included, within 1e-4`, async () => {
  let checked = 0;
  for (const c of cases.segmentation) {
    const o = { ...c.library_options };
    const shape: number[] = c.shape;
    const input = o.activation !== 'none' ? c.y_pred_logits : c.y_pred;
    const yt = vg.tensor(Float32Array.from(flat(c.y_true)), shape);
    const yp = vg.tensor(Float32Array.from(flat(input)), shape);
    const got = LOSSES[c.loss](yt, yp, o);
    const expected = typeof c.expected === 'number' ? c.expected : flat(c.expected);
    const values = Array.from(await got.data());
    const exp = typeof expected === 'number' ? [expected] : expected;
    assert.is(values.length, exp.length, `${c.id}: layout`);
    values.forEach((x, i) => {
      if (!(Math.abs(x - exp[i]) <= cases.tolerance_abs))
        assert.unreachable(`${c.id} (${c.requires.join(', ') || 'core'}): got ${x}, expected ${exp[i]}`);
    });
    vg.tidy(() => [yt, yp, got].forEach((x) => x.dispose()));
    checked++;
  }
  assert.is(checked, 53);
});

// --- every loss and option against the float64 oracle on random volumes -------------------------

interface OracleCase {
  loss: string;
  shape: number[];
  kind: 'onehot' | 'soft' | 'labels';
  opts: L.LossOpts;
}
const S = [2, 4, 3, 5];
const oracleCases: OracleCase[] = [];
for (const loss of ['dice', 'iou', 'tversky']) {
  for (const C of [1, 3, 4, 5]) {
    const shape = [...S, C];
    oracleCases.push({ loss, shape, kind: 'onehot', opts: {} });
    oracleCases.push({ loss, shape, kind: 'labels', opts: { activation: C > 1 ? 'softmax' : 'sigmoid' } });
    oracleCases.push({
      loss,
      shape,
      kind: 'soft',
      opts: { softLabel: true, activation: 'sigmoid', smoothNr: 0.01, smoothDr: 0.02 },
    });
  }
  const shape = [...S, 4];
  const variants: L.LossOpts[] = [
    { reduction: 'none' },
    { reduction: 'sum' },
    { batch: 'summed' },
    { batch: 'summed', reduction: 'none' },
    { includeBackground: false, activation: 'softmax' },
    { classWeights: [0.5, 2, 0, 1] },
    { squaredPred: true },
    { emptyGroundTruth: 'zero_loss' },
    { smoothNr: 0, smoothDr: 0 },
    { smoothNr: 1, smoothDr: 1, activation: 'sigmoid' },
    { softLabel: true, squaredPred: true, reduction: 'none' },
  ];
  for (const v of variants) oracleCases.push({ loss, shape, kind: 'onehot', opts: v });
  oracleCases.push({
    loss,
    shape,
    kind: 'soft',
    opts: { softLabel: true, batch: 'summed', emptyGroundTruth: 'zero_loss' },
  });
}
for (const [alpha, beta] of [
  [0.3, 0.7],
  [0.7, 0.3],
  [1, 1],
  [0, 1],
]) {
  oracleCases.push({ loss: 'tversky', shape: [...S, 3], kind: 'onehot', opts: { alpha, beta } });
  oracleCases.push({
    loss: 'tversky',
    shape: [...S, 5],
    kind: 'soft',
    opts: { alpha, beta, softLabel: true, batch: 'summed' },
  });
}
for (const weightType of ['square', 'simple', 'uniform'] as const) {
  for (const weightInf of ['monai_max', 'eps'] as const) {
    for (const batch of ['summed', 'per_sample'] as const) {
      oracleCases.push({
        loss: 'generalized_dice',
        shape: [...S, 4],
        kind: 'onehot',
        opts: { weightType, weightInf, batch },
      });
      oracleCases.push({
        loss: 'generalized_dice',
        shape: [3, 3, 3, 3, 3],
        kind: 'labels',
        opts: { weightType, weightInf, batch, activation: 'softmax', reduction: 'none' },
      });
    }
  }
}
oracleCases.push({
  loss: 'generalized_dice',
  shape: [...S, 5],
  kind: 'soft',
  opts: { softLabel: true, batch: 'per_sample', reduction: 'sum' },
});
oracleCases.push({ loss: 'generalized_dice', shape: [...S, 1], kind: 'onehot', opts: { activation: 'sigmoid' } });
oracleCases.push({
  loss: 'generalized_dice',
  shape: [...S, 4],
  kind: 'onehot',
  opts: { includeBackground: false, smoothNr: 0, smoothDr: 0 },
});

t(`${oracleCases.length} loss/option combinations against the float64 oracle`, async () => {
  for (const [i, c] of oracleCases.entries()) {
    const m = makeVolume(c.shape, 100 + i, c.kind, c.opts.activation ?? 'none');
    const yt = gpuTrue(m);
    const yp = gpuPred(m);
    const got = vg.tidy(() => LOSSES[c.loss](yt, yp, c.opts as Record<string, unknown>));
    await expectClose(
      got,
      oracleLoss(c.loss, m.v, c.opts),
      1e-4,
      `${c.loss} [${c.shape}] ${c.kind} ${JSON.stringify(c.opts)}`,
    );
    vg.tidy(() => [yt, yp, got].forEach((x) => x.dispose()));
  }
});

t('soft labels: loss(x, x) = 0 for any x in [0, 1], for every overlap loss', async () => {
  const m = makeVolume([2, 5, 4, 3, 3], 7, 'soft', 'none');
  const x = vg.tensor(Float32Array.from(m.v.p), m.shape);
  for (const name of ['dice', 'iou', 'tversky', 'generalized_dice']) {
    const v = await LOSSES[name](x, x, { softLabel: true }).data();
    assert.ok(Math.abs(v[0]) < 1e-6, `${name}(x, x) = ${v[0]}`);
  }
  // Without softLabel the product form is not 0 for non-binary x (why the option exists).
  assert.ok((await vg.dice(x, x).data())[0] > 0.05);
  x.dispose();
});

t('tversky: alpha weighs false positives, beta false negatives', async () => {
  // One sample, one class, 4 voxels: t = [1, 1, 0, 0], p = [1, 0, 1, 1] → tp 1, FP 2, FN 1.
  const yt = vg.tensor([1, 1, 0, 0], [1, 4, 1, 1, 1]);
  const yp = vg.tensor([1, 0, 1, 1], [1, 4, 1, 1, 1]);
  const fp = (await vg.tversky(yt, yp, { alpha: 1, beta: 0, smooth: 0 }).data())[0];
  const fn = (await vg.tversky(yt, yp, { alpha: 0, beta: 1, smooth: 0 }).data())[0];
  assert.ok(Math.abs(fp - (1 - 1 / 3)) < 1e-6, `alpha=1: 1 - tp/(tp+FP) = 2/3, got ${fp}`);
  assert.ok(Math.abs(fn - (1 - 1 / 2)) < 1e-6, `beta=1: 1 - tp/(tp+FN) = 1/2, got ${fn}`);
});

t('MONAI semantics: tversky smoothing and generalized dice weights, by hand', async () => {
  // MONAI TverskyLoss: 1 − (tp + nr) / (tp + α·fp + β·fn + dr), per (b, c), mean.
  const yt = vg.tensor([1, 1, 0, 0, 0, 0, 1, 0], [1, 4, 1, 1, 2]);
  const yp = vg.tensor([0.9, 0.1, 0.6, 0.4, 0.2, 0.8, 0.7, 0.3], [1, 4, 1, 1, 2]);
  // class 0: t = [1, 0, 0, 1], p = [.9, .6, .2, .7] → tp 1.6, fp .8, fn .4
  // class 1: t = [1, 0, 0, 0], p = [.1, .4, .8, .3] → tp .1, fp 1.5, fn .9
  const tv = (tp: number, fp: number, fn: number): number => 1 - (tp + 0.1) / (tp + 0.3 * fp + 0.7 * fn + 0.2);
  const want = (tv(1.6, 0.8, 0.4) + tv(0.1, 1.5, 0.9)) / 2;
  await expectClose(vg.tversky(yt, yp, { alpha: 0.3, beta: 0.7, smoothNr: 0.1, smoothDr: 0.2 }), want, 1e-6, 'tversky');
  // MONAI GeneralizedDiceLoss (batch=False): w = 1/T², an empty class takes the largest weight.
  const gt = vg.tensor([1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0], [1, 4, 1, 1, 3]); // T = [4, 0, 0]
  const gp = vg.tensor([0.8, 0.1, 0.1, 0.6, 0.3, 0.1, 0.7, 0.2, 0.1, 0.5, 0.25, 0.25], [1, 4, 1, 1, 3]);
  // tp = [2.6, 0, 0], p = [2.6, 0.85, 0.55]; weights [1/16, 1/16, 1/16]
  const w = 1 / 16;
  const gdl = 1 - (2 * w * 2.6 + 1e-5) / (w * (2.6 + 4) + w * 0.85 + w * 0.55 + 1e-5);
  await expectClose(vg.generalizedDice(gt, gp, { batch: 'per_sample' }), gdl, 1e-6, 'gdl monai_max');
  // The seed's eps weights give the empty classes weight 1e5: their false positives dominate.
  const we = [1 / (16 + 1e-5), 1e5, 1e5];
  const eps = 1 - (2 * we[0] * 2.6) / (we[0] * 6.6 + we[1] * 0.85 + we[2] * 0.55);
  await expectClose(vg.generalizedDice(gt, gp, { weightInf: 'eps', smooth: 0 }), eps, 1e-5, 'gdl eps');
  // Every class empty: all weights 0 and the loss is 1 − nr/dr.
  const none = vg.zeros([1, 4, 1, 1, 3]);
  await expectClose(vg.generalizedDice(none, gp, { smoothNr: 1e-5, smoothDr: 2e-5 }), 0.5, 1e-6, 'gdl all empty');
});

t('defaults never give NaN or inf, in the loss or its gradient: empty truth, empty prediction, both', async () => {
  const shape = [2, 3, 3, 2, 3];
  const zeros = new Float32Array(2 * 3 * 3 * 2 * 3);
  const someOnes = zeros.map((_, i) => (i % 3 === 1 ? 1 : 0));
  const fns: [string, (a: vg.Tensor, b: vg.Tensor) => vg.Tensor][] = [
    ['dice', (a, b) => vg.dice(a, b)],
    ['iou', (a, b) => vg.iou(a, b)],
    ['tversky', (a, b) => vg.tversky(a, b)],
    ['generalizedDice', (a, b) => vg.generalizedDice(a, b)],
    ['generalizedDice per sample', (a, b) => vg.generalizedDice(a, b, { batch: 'per_sample' })],
    ['dice softLabel', (a, b) => vg.dice(a, b, { softLabel: true })],
    ['diceCrossentropy', (a, b) => vg.diceCrossentropy(a, b)],
    ['categoricalCrossentropy', (a, b) => vg.categoricalCrossentropy(a, b)],
    ['binaryCrossentropy', (a, b) => vg.binaryCrossentropy(a, b)],
  ];
  for (const [truth, pred, label] of [
    [zeros, someOnes, 'empty truth'],
    [someOnes, zeros, 'empty prediction'],
    [zeros, zeros, 'both empty'],
  ] as const) {
    for (const [name, f] of fns) {
      const yt = vg.tensor(truth, shape);
      const yp = vg.variable(vg.tensor(pred, shape));
      const { value, grads } = vg.valueAndGrad(() => f(yt, yp), [yp]);
      const [v, g] = await vg.readAll([value, grads[0]!]);
      assert.ok(Number.isFinite(v[0]), `${name}, ${label}: loss ${v[0]}`);
      assert.ok(g.every(Number.isFinite), `${name}, ${label}: non-finite gradient`);
      vg.tidy(() => [yt, yp, value, grads[0]!].forEach((x) => x.dispose()));
    }
  }
});

t('bitwise identical loss values over 20 reruns', async () => {
  const m = makeVolume([2, 24, 24, 24, 4], 77, 'labels', 'softmax');
  const yt = gpuTrue(m);
  const yp = gpuPred(m);
  const run = (): vg.Tensor =>
    vg.tidy(() =>
      vg.concat(
        [
          vg.dice(yt, yp, { activation: 'softmax' }),
          vg.generalizedDice(yt, yp, { activation: 'softmax' }),
          vg.tversky(yt, yp, { activation: 'softmax', alpha: 0.3, beta: 0.7 }),
          vg.diceCrossentropy(yt, yp, { activation: 'softmax' }),
        ].map((x) => vg.reshape(x, [1])),
      ),
    );
  const first = await run().data();
  for (let i = 0; i < 20; i++) {
    const again = await run().data();
    assert.ok(
      again.every((x, k) => Object.is(x, first[k])),
      `rerun ${i}: ${Array.from(again)} vs ${Array.from(first)}`,
    );
  }
});

// --- cross-entropy and metrics ---------------------------------------------------------------

t('categorical / binary cross-entropy and dice + cross-entropy against the oracle', async () => {
  for (const [i, [shape, kind, fromLogits]] of (
    [
      [[2, 4, 3, 3, 4], 'onehot', false],
      [[2, 4, 3, 3, 5], 'labels', true],
      [[2, 3, 3, 3, 3], 'soft', true],
      [[2, 4, 3, 3, 1], 'onehot', true],
    ] as [number[], 'onehot' | 'soft' | 'labels', boolean][]
  ).entries()) {
    const C = shape[4];
    const m = makeVolume(shape, 300 + i, kind, fromLogits ? 'sigmoid' : 'none');
    const yt = gpuTrue(m);
    const yp = gpuPred(m);
    if (C > 1)
      await expectClose(
        vg.categoricalCrossentropy(yt, yp, { fromLogits }),
        L.categoricalCrossentropy(m.v, fromLogits ? 'softmax' : 'none'),
        1e-4,
        `cce [${shape}] ${kind}`,
      );
    await expectClose(
      vg.binaryCrossentropy(yt, yp, { fromLogits }),
      L.binaryCrossentropy(m.v, fromLogits ? 'sigmoid' : 'none'),
      1e-4,
      `bce [${shape}] ${kind}`,
    );
    const act: L.Act = fromLogits ? (C > 1 ? 'softmax' : 'sigmoid') : 'none';
    const ce = C > 1 && act !== 'sigmoid' ? L.categoricalCrossentropy(m.v, act) : L.binaryCrossentropy(m.v, act);
    const d = L.overlapLoss('dice', m.v, { activation: act }) as number;
    await expectClose(
      vg.diceCrossentropy(yt, yp, { activation: act, lambdaDice: 0.7, lambdaCe: 0.4 }),
      0.7 * d + 0.4 * ce,
      1e-4,
      `diceCE [${shape}] ${kind}`,
    );
    if (C > 1)
      assert.is((await vg.categoricalCrossentropy(yt, yp, { fromLogits, reduction: 'none' }).data()).length, shape[0]);
    vg.tidy(() => [yt, yp].forEach((x) => x.dispose()));
  }
});

t(
  'metrics: per-class dice / IoU of binarised predictions, NaN for ignored empty classes, NaN-aware means',
  async () => {
    // 2 samples, 4 voxels, 3 classes; class 2 is absent from sample 0.
    const labels = new Int32Array([0, 1, 1, 0, 2, 2, 0, 1]);
    const probs = [
      [0.7, 0.2, 0.1],
      [0.1, 0.8, 0.1],
      [0.6, 0.3, 0.1],
      [0.2, 0.3, 0.5],
      [0.1, 0.1, 0.8],
      [0.3, 0.3, 0.4],
      [0.5, 0.4, 0.1],
      [0.2, 0.7, 0.1],
    ].flat();
    const yp = vg.tensor(Float32Array.from(probs), [2, 4, 1, 1, 3]);
    const yt = vg.tensor(labels, [2, 4, 1, 1], 'int32');
    // argmax: s0 = [0, 1, 0, 2], s1 = [2, 2, 0, 1]; truth s0 = [0, 1, 1, 0], s1 = [2, 2, 0, 1]
    // s0: c0 tp1 |t|2 |p|2 → .5; c1 tp1 |t|2 |p|1 → 2/3; c2 |t|0 → NaN (ignored). s1: all 1.
    const d = 2 / 3;
    await expectClose(
      vg.diceMetric(yt, yp, { reduction: 'none' }),
      [0.5, (2 * 1) / 3, NaN, 1, 1, 1],
      1e-6,
      'dice none',
    );
    await expectClose(vg.diceMetric(yt, yp), (0.5 + d + 3) / 5, 1e-6, 'dice mean skips NaN');
    await expectClose(
      vg.diceMetric(yt, yp, { reduction: 'mean_batch' }),
      [0.75, (d + 1) / 2, 1],
      1e-6,
      'dice per class',
    );
    await expectClose(
      vg.diceMetric(yt, yp, { ignoreEmpty: false, reduction: 'none' }),
      [0.5, d, 0, 1, 1, 1],
      1e-6,
      'empty class with a false positive scores 0',
    );
    await expectClose(
      vg.iouMetric(yt, yp, { reduction: 'none', includeBackground: false }),
      [0.5, NaN, 1, 1],
      1e-6,
      'iou without background',
    );
    // All classes of every sample empty and ignored: NaN, never a silent 0.
    await expectClose(vg.diceMetric(vg.zeros([1, 4, 1, 1, 1]), vg.zeros([1, 4, 1, 1, 1])), NaN, 0, 'all ignored');
    vg.tidy(() => [yt, yp].forEach((x) => x.dispose()));
  },
);

// --- gradients of every loss against finite differences of the oracle ----------------------------

const gradCases: { loss: string; shape: number[]; kind: 'onehot' | 'soft' | 'labels'; opts: L.LossOpts }[] = [
  { loss: 'dice', shape: [2, 3, 2, 2, 3], kind: 'onehot', opts: { activation: 'softmax' } },
  {
    loss: 'dice',
    shape: [2, 3, 2, 2, 1],
    kind: 'soft',
    opts: { activation: 'sigmoid', softLabel: true, batch: 'summed' },
  },
  {
    loss: 'dice',
    shape: [2, 2, 2, 2, 4],
    kind: 'onehot',
    opts: { squaredPred: true, classWeights: [1, 2, 0.5, 1], includeBackground: true },
  },
  { loss: 'iou', shape: [2, 3, 2, 2, 3], kind: 'labels', opts: { activation: 'softmax', includeBackground: false } },
  {
    loss: 'tversky',
    shape: [2, 3, 2, 2, 3],
    kind: 'soft',
    opts: { alpha: 0.3, beta: 0.7, activation: 'sigmoid', reduction: 'sum' },
  },
  {
    loss: 'tversky',
    shape: [1, 3, 3, 2, 5],
    kind: 'onehot',
    opts: { alpha: 0.8, beta: 0.2, emptyGroundTruth: 'zero_loss' },
  },
  { loss: 'generalized_dice', shape: [2, 3, 2, 2, 3], kind: 'onehot', opts: { activation: 'softmax' } },
  {
    loss: 'generalized_dice',
    shape: [2, 3, 2, 2, 4],
    kind: 'labels',
    opts: { activation: 'softmax', batch: 'per_sample', weightType: 'simple' },
  },
  { loss: 'generalized_dice', shape: [2, 3, 2, 2, 3], kind: 'soft', opts: { weightInf: 'eps', softLabel: true } },
];
for (const c of gradCases) {
  t(`gradient: ${c.loss} [${c.shape}] ${c.kind} ${JSON.stringify(c.opts)}`, async () => {
    const act = c.opts.activation ?? 'none';
    const m = makeVolume(c.shape, 500, c.kind, act);
    if (act === 'none') m.v.p = m.v.p.map((x) => Math.fround(0.05 + 0.9 * x));
    const truth = gpuTrue(m);
    await checkGrad({
      label: c.loss,
      inputs: [new Nd(c.shape, m.v.p)],
      gpu: (p) => LOSSES[c.loss](truth, p, c.opts as Record<string, unknown>),
      oracle: (p) => {
        const r = oracleLoss(c.loss, { ...m.v, p: p.data }, c.opts);
        return typeof r === 'number' ? new Nd([], Float64Array.of(r)) : new Nd([r.length], Float64Array.from(r));
      },
    });
    truth.dispose();
  });
}

t('gradient with respect to soft labels (y_true requires grad)', async () => {
  const m = makeVolume([2, 3, 2, 2, 3], 600, 'soft', 'sigmoid');
  const pred = gpuPred(m);
  await checkGrad({
    label: 'dice wrt y_true',
    inputs: [new Nd([2, 3, 2, 2, 3], m.v.t!)],
    gpu: (yt) => vg.dice(yt, pred, { activation: 'sigmoid', softLabel: true }),
    oracle: (yt) =>
      new Nd(
        [],
        Float64Array.of(
          L.overlapLoss('dice', { ...m.v, t: yt.data }, { activation: 'sigmoid', softLabel: true }) as number,
        ),
      ),
  });
  pred.dispose();
});

// --- large volumes and bad input ----------------------------------------------------------------

t('a volume larger than maxStorageBufferBindingSize gives the oracle sums', async () => {
  const limit = vg.deviceInfo().limits.maxStorageBufferBindingSize;
  if (limit > 512 * 1024 * 1024) {
    console.log(`  (skipped: maxStorageBufferBindingSize is ${limit} bytes; the split is covered by the window tests)`);
    return;
  }
  const C = 4;
  const voxels = Math.ceil(limit / 4 / C) + 5003;
  const labels = new Int32Array(voxels);
  const pred = new Float32Array(voxels * C);
  let s = 1;
  for (let i = 0; i < voxels; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    labels[i] = s >>> 30;
    for (let c = 0; c < C; c++) pred[i * C + c] = ((s >>> (8 * c)) & 255) / 255;
  }
  const tp = new Float64Array(C);
  const ts = new Float64Array(C);
  const ps = new Float64Array(C);
  for (let i = 0; i < voxels; i++) {
    for (let c = 0; c < C; c++) {
      const p = pred[i * C + c];
      ps[c] += p;
      if (labels[i] === c) {
        tp[c] += p;
        ts[c] += 1;
      }
    }
  }
  const yp = vg.tensor(pred, [1, voxels, 1, 1, C]);
  assert.ok(yp.size * 4 > limit, 'the prediction tensor exceeds one binding');
  const yt = vg.tensor(labels, [1, voxels, 1, 1], 'int32');
  const got = await vg.overlapSums(yt, yp).data();
  for (let c = 0; c < C; c++) {
    for (const [k, ref] of [
      [0, tp],
      [1, ts],
      [2, ps],
    ] as const) {
      const g = got[k * C + c];
      assert.ok(Math.abs(g - ref[c]) <= 1e-5 * ref[c], `stat ${k} class ${c}: ${g} vs ${ref[c]}`);
    }
  }
  yp.dispose();
  yt.dispose();
});

t('bad input: a clear error naming the argument, before any GPU work, nothing left behind', async () => {
  const p = vg.fill([1, 2, 2, 2, 3], 0.5);
  const before = vg.memory();
  const dispatches = vg.memory().dispatches;
  const bad: [string, () => unknown, RegExp][] = [
    ['shape mismatch', () => vg.dice(vg.zeros([1, 2, 2, 2, 2]), p), /dice.*yTrue.*shape \[1, 2, 2, 2, 3\]/],
    ['wrong rank', () => vg.dice(vg.zeros([3]), vg.zeros([3])), /yPred.*rank >= 2/],
    [
      'labels out of range (host)',
      () => vg.dice(new Int32Array([0, 1, 2, 3, 0, 0, 0, 0]), p),
      /dice.*yTrue.*integers in \[0, 2\].*3 at flat index 3/,
    ],
    [
      'negative probability (host)',
      () =>
        vg.dice(new Int32Array(8), [
          [
            [
              [
                [0.2, 0.3, -0.1],
                [0, 0, 1],
              ],
              [
                [0, 0, 1],
                [0, 0, 1],
              ],
            ],
            [
              [
                [0, 0, 1],
                [0, 0, 1],
              ],
              [
                [0, 0, 1],
                [0, 0, 1],
              ],
            ],
          ],
        ]),
      /yPred.*\[0, 1\].*-0.1/,
    ],
    [
      'non-finite probability (host)',
      () => vg.binaryCrossentropy(new Float32Array(24), new Float32Array(24).fill(NaN)),
      /yPred.*no shape|yPred/,
    ],
    [
      'non-finite soft label (host)',
      () => vg.dice(new Float32Array(24).fill(Infinity), p),
      /yTrue.*finite numbers in \[0, 1\].*Infinity/,
    ],
    ['alpha < 0', () => vg.tversky(p, p, { alpha: -0.5 }), /tversky.*alpha.*>= 0.*-0.5/],
    ['beta not a number', () => vg.tversky(p, p, { beta: 'big' as never }), /tversky.*beta/],
    ['smooth < 0', () => vg.dice(p, p, { smooth: -1 }), /dice.*smooth.*>= 0.*-1/],
    ['smooth and smoothNr', () => vg.dice(p, p, { smooth: 1, smoothNr: 1 }), /either smooth or smoothNr/],
    [
      'unknown option',
      () => vg.dice(p, p, { smoth: 1 } as never),
      /got the key 'smoth', which is not an option \(did you mean 'smooth'\?\)/,
    ],
    ['bad reduction', () => vg.iou(p, p, { reduction: 'avg' as never }), /reduction.*'mean' \| 'sum' \| 'none'.*"avg"/],
    ['class weight count', () => vg.dice(p, p, { classWeights: [1, 2] }), /classWeights.*3 weights.*2 weights/],
    ['bad weightType', () => vg.generalizedDice(p, p, { weightType: 'cubic' as never }), /weightType/],
    [
      'softmax of one class',
      () => vg.dice(vg.zeros([1, 2, 1]), vg.zeros([1, 2, 1]), { activation: 'softmax' }),
      /single class/,
    ],
    ['float labels as int shape', () => vg.dice(vg.zeros([1, 2, 2, 2]), p), /yTrue/],
  ];
  for (const [label, f, re] of bad) {
    try {
      vg.tidy(() => f() as vg.Tensor);
      assert.unreachable(`${label}: no error`);
    } catch (e) {
      assert.instance(e, vg.VoxgradError, `${label}: ${(e as Error).message}`);
      assert.match((e as Error).message, re, label);
    }
  }
  // Some cases above build their inputs with vg.zeros (GPU work by the test itself); the losses
  // themselves dispatch nothing for bad input: count only with tensors made up front.
  const d2 = vg.memory().dispatches;
  for (const [, f] of bad.filter(([l]) => /alpha|beta|smooth|option|reduction|class weight|weightType/.test(l))) {
    try {
      f();
    } catch {
      /* expected */
    }
  }
  assert.is(vg.memory().dispatches, d2, 'no dispatch for bad options');
  assert.ok(d2 >= dispatches);
  assert.is(vg.memory().liveTensors, before.liveTensors, 'no tensor left behind');
  // The engine keeps working.
  await expectClose(vg.dice(p, p, { softLabel: true }), 0, 1e-6, 'valid call after errors');
  p.dispose();
});

t.run();
