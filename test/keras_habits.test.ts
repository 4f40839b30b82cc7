/**
 * Keras 3's documented behaviour of compile / fit / evaluate / predict, checked against float64
 * references written from Keras's rules: sample weights reduce as sum_over_batch_size
 * (Σ sw·ℓ / B over the per-sample losses), class weights weigh each voxel by its class
 * (cross-entropy) or each class's term (overlap losses, see src/nn/class_weight.ts), a single
 * loss weight, label lists holding only the outputs with a loss, validationSplit (the last
 * samples, before shuffling), verbose output, callback logs and predict's batches.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';
import { noLeak, rejects, rng } from './helpers.js';
import * as L from './loss_oracle.js';

const t = suite('Keras 3 habits: sample and class weights, compile, fit, evaluate, predict');
t.before(setup);

const S = 3;
const N = S * S * S;
const B = 4;
const C = 3;

/** Inputs (B, S, S, S, 2), class labels (B, S, S, S) with every class present, and a foreground mask. */
function data(seed: number, batch = B): { x: vg.Tensor; labels: Int32Array; seg: vg.Tensor; fg: vg.Tensor } {
  const r = rng(seed);
  const image = Float32Array.from({ length: batch * N * 2 }, () => 2 * r() - 1);
  const labels = Int32Array.from({ length: batch * N }, (_, i) => (i % N < C ? i % N : Math.floor(C * r())));
  return {
    x: vg.tensor(image, [batch, S, S, S, 2]),
    labels,
    seg: vg.tensor(labels, [batch, S, S, S], 'int32'),
    fg: vg.tensor(
      Float32Array.from(labels, (k) => (k > 0 ? 1 : 0)),
      [batch, S, S, S, 1],
    ),
  };
}

/** A per-voxel model: Dense heads on the voxels (a 3-class head, and a 1-channel head with `two`). */
function build(prefix: string, two = false, seed = 1): vg.Model {
  const x = vg.input({ shape: [S, S, S, 2], name: `${prefix}x` });
  const seg = new vg.Dense({ units: C, seed, name: `${prefix}seg` }).apply(x);
  if (!two) return vg.model({ inputs: x, outputs: [seg] });
  const fg = new vg.Dense({ units: 1, seed: seed + 1, name: `${prefix}fg` }).apply(x);
  return vg.model({ inputs: x, outputs: [seg, fg] });
}

async function logitsOf(m: vg.Model, x: vg.Tensor, output: string): Promise<Float64Array> {
  const out = m.predict(x);
  const data = await out[output].data();
  for (const v of Object.values(out)) v.dispose();
  return Float64Array.from(data);
}

/** Keras's categorical cross-entropy per voxel from logits, each voxel weighted by cw[its class]. */
function kerasCce(logits: Float64Array, labels: Int32Array, cw: Record<number, number> = {}): number[] {
  const perSample = new Array(labels.length / N).fill(0);
  for (let v = 0; v < labels.length; v++) {
    const z = Array.from(logits.subarray(v * C, v * C + C));
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, a) => s + Math.exp(a - m), 0));
    const k = labels[v];
    perSample[Math.floor(v / N)] += (cw[k] ?? 1) * (lse - z[k]);
  }
  return perSample.map((s) => s / N);
}

/** Keras's binary cross-entropy per voxel from one logit channel; voxels labelled k weigh cw[k]. */
function kerasBce(logits: Float64Array, fg: Int32Array, cw: Record<number, number> = {}): number[] {
  const perSample = new Array(fg.length / N).fill(0);
  const softplus = (a: number): number => Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));
  for (let v = 0; v < fg.length; v++) {
    const z = logits[v];
    const loss = fg[v] ? softplus(-z) : softplus(z);
    perSample[Math.floor(v / N)] += (cw[fg[v]] ?? 1) * loss;
  }
  return perSample.map((s) => s / N);
}

/** Per-sample dice (mean over classes of the per-(b, c) terms, each times its class weight). */
function diceRows(logits: Float64Array, labels: Int32Array, weights?: number[]): number[] {
  const Bn = labels.length / N;
  const terms = L.overlapLoss(
    'dice',
    { B: Bn, N, C, t: null, labels, p: logits },
    { activation: 'softmax', reduction: 'none', classWeights: weights },
  ) as number[];
  return Array.from({ length: Bn }, (_, b) => terms.slice(b * C, b * C + C).reduce((a, v) => a + v, 0) / C);
}

/** Keras's sum_over_batch_size: Σ sw·ℓ / B. */
const weighted = (values: number[], sw: number[]): number =>
  values.reduce((a, v, i) => a + sw[i] * v, 0) / values.length;
const mean = (values: number[]): number => values.reduce((a, v) => a + v, 0) / values.length;

function close(got: number, want: number, label: string, tol = 1e-4): void {
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${label}: got ${got}, expected ${want}`);
}

t('sample weights reduce as sum_over_batch_size: Σ sw·ℓ / B per batch, batches averaged by size', async () => {
  const { x, labels, seg } = data(1);
  const m = build('sw_');
  const sw = [0.5, 2, 0, 1];
  const cases: [vg.LossSpec, (logits: Float64Array) => number[]][] = [
    [{ name: 'dice', activation: 'softmax' }, (z) => diceRows(z, labels)],
    [{ name: 'categoricalCrossentropy', fromLogits: true }, (z) => kerasCce(z, labels)],
    [
      { name: 'diceCrossentropy', activation: 'softmax', lambdaCe: 0.5 },
      (z) => diceRows(z, labels).map((d, b) => d + 0.5 * kerasCce(z, labels)[b]),
    ],
  ];
  const logits = await logitsOf(m, x, 'sw_seg');
  for (const [loss, reference] of cases) {
    m.compile({ optimizer: new vg.SGD({ learningRate: 0 }), loss });
    const perSample = reference(logits);
    const name = (loss as vg.NamedLoss).name;
    const one = await m.evaluate(x, seg, { sampleWeight: sw });
    close(one.loss, weighted(perSample, sw), `${name}, one batch`);
    close(one.sw_seg_loss, one.loss, `${name}: the output's loss`);
    // Two batches of 3 and 1: each batch's Σ sw·ℓ / B, then the mean weighted by batch size.
    const swColumn = vg.tensor(sw, [B, 1]);
    const two = await m.evaluate(x, seg, { sampleWeight: swColumn, batchSize: 3 });
    swColumn.dispose();
    const want = (3 * weighted(perSample.slice(0, 3), sw.slice(0, 3)) + weighted(perSample.slice(3), sw.slice(3))) / B;
    close(two.loss, want, `${name}, batches of 3 + 1`);
    // Weights of 1 give the unweighted loss.
    const ones = await m.evaluate(x, seg, { sampleWeight: new Float32Array(B).fill(1) });
    const plain = await m.evaluate(x, seg);
    close(ones.loss, plain.loss, `${name}: weights of 1`);
    close(plain.loss, mean(perSample), `${name}: unweighted`);
  }
  // Keras divides by the batch size, not by Σ sw: a sample of weight 0 still counts in B.
  m.compile({ optimizer: new vg.SGD({ learningRate: 0 }), loss: 'mse' });
  const target = vg.zeros([B, S, S, S, C]);
  const out = await m.evaluate(x, target, { sampleWeight: [1, 0, 0, 0] });
  const row0 = logits.subarray(0, N * C).reduce((a, v) => a + v * v, 0) / (N * C);
  close(out.loss, row0 / B, 'mse: sample 0 alone, divided by B = 4');
  vg.tidy(() => [x, seg, target].forEach((v) => v.dispose()));
  m.dispose();
});

t('sample weights in fit: weights [1, 1, 0, 0] train as the first two samples at half the rate (SGD)', async () => {
  const { x, seg } = data(2);
  const a = build('swa_', false, 3);
  const b = build('swb_', false, 3);
  a.compile({ optimizer: new vg.SGD({ learningRate: 0.2 }), loss: { name: 'dice', activation: 'softmax' } });
  b.compile({ optimizer: new vg.SGD({ learningRate: 0.1 }), loss: { name: 'dice', activation: 'softmax' } });
  await a.fit(x, seg, { epochs: 2, batchSize: B, sampleWeight: [1, 1, 0, 0] });
  const [x2, seg2] = vg.tidy(() => [
    vg.slice(x, [0, 0, 0, 0, 0], [2, S, S, S, 2]),
    vg.slice(seg, [0, 0, 0, 0], [2, S, S, S]),
  ]);
  await b.fit(x2, seg2, { epochs: 2, batchSize: 2 });
  const [wa, wb] = await Promise.all([vg.readAll(a.trainableWeights), vg.readAll(b.trainableWeights)]);
  wa.forEach((w, i) => w.forEach((v, k) => close(v, wb[i][k], `weight ${i}[${k}]`, 1e-5)));
  vg.tidy(() => [x, seg, x2, seg2].forEach((v) => v.dispose()));
  a.dispose();
  b.dispose();
});

t(
  'multi-output sample weights: one array for all outputs, a list, a list of the outputs with a loss, a record',
  async () => {
    const { x, labels, seg, fg } = data(3);
    const m = build('mo_', true);
    const fgLabels = Int32Array.from(labels, (k) => (k > 0 ? 1 : 0));
    m.compile({
      optimizer: new vg.SGD({ learningRate: 0 }),
      loss: [
        { name: 'dice', activation: 'softmax' },
        { name: 'binaryCrossentropy', fromLogits: true },
      ],
      lossWeights: [0.5, 2],
    });
    const segRows = diceRows(await logitsOf(m, x, 'mo_seg'), labels);
    const fgRows = kerasBce(await logitsOf(m, x, 'mo_fg'), fgLabels);
    const s1 = [1, 2, 3, 4];
    const s2 = [0, 1, 0, 1];
    const both = (w1: number[], w2: number[]): number => 0.5 * weighted(segRows, w1) + 2 * weighted(fgRows, w2);
    const shared = await m.evaluate(x, [seg, fg], { sampleWeight: s1 });
    close(shared.loss, both(s1, s1), 'one array for every output');
    const list = await m.evaluate(x, [seg, fg], { sampleWeight: [s1, s2] });
    close(list.loss, both(s1, s2), 'a list by position');
    close(list.mo_fg_loss, weighted(fgRows, s2), 'the unweighted per-output loss carries its sample weights');
    const record = await m.evaluate(x, { mo_fg: fg, mo_seg: seg }, { sampleWeight: { mo_fg: s2 } });
    close(record.loss, 0.5 * mean(segRows) + 2 * weighted(fgRows, s2), 'a record: only the named output is weighted');
    // With a loss on one output only, labels and weights may be lists of that output alone (Keras 3).
    const one = build('mo1_', true);
    one.compile({
      optimizer: new vg.SGD({ learningRate: 0 }),
      loss: [null, { name: 'binaryCrossentropy', fromLogits: true }],
    });
    const fgRows1 = kerasBce(await logitsOf(one, x, 'mo1_fg'), fgLabels);
    const partial = await one.evaluate(x, [fg], { sampleWeight: [s2] });
    close(partial.loss, weighted(fgRows1, s2), 'labels and weights for the outputs with a loss');
    const h = await one.fit(x, [fg], { epochs: 1, batchSize: 2 });
    assert.equal(Object.keys(h.history).sort(), ['loss', 'mo1_fg_loss']);
    // Bad weights: wrong count, NaN, negative, an output without a loss, an unknown output.
    const wrongShape = vg.zeros([4, 2]);
    const bad: [unknown, RegExp][] = [
      [[1, 2, 3], /evaluate: argument 'sampleWeight' expected 4 weights \(one per sample\), got 3 weights/],
      [[1, Number.NaN, 1, 1], /argument 'sampleWeight\[1\]' expected a finite number >= 0, got NaN/],
      [[1, -1, 1, 1], /'sampleWeight\[1\]' expected a finite number >= 0, got -1/],
      [{ mo1_seg: s1 }, /sampleWeight\['mo1_seg'\]' expected weights only for outputs with a loss/],
      [{ mo1_fgg: s1 }, /got the key 'mo1_fgg', which is not an output \(did you mean 'mo1_fg'\?\)/],
      [
        [s1, s2, s1],
        /a list of 2 \(one per output: mo1_seg, mo1_fg\) or of 1 \(the outputs with a loss\), got a list of 3/,
      ],
      [wrongShape, /'sampleWeight' expected one weight per sample: shape \[4\] or \[4, 1\]/],
    ];
    for (const [sw, re] of bad)
      await noLeak(`bad sampleWeight ${re}`, () =>
        rejects(() => one.evaluate(x, [fg], { sampleWeight: sw as vg.SampleWeightArg }), vg.VoxgradError, re),
      );
    vg.tidy(() => [x, seg, fg, wrongShape].forEach((v) => v.dispose()));
    m.dispose();
    one.dispose();
  },
);

t('class weights: cross-entropy weighs each voxel by its class (Keras), dice each class term', async () => {
  const { x, labels, seg, fg } = data(4);
  const fgLabels = Int32Array.from(labels, (k) => (k > 0 ? 1 : 0));
  const cw = { 0: 0.2, 2: 3 };
  const weights = [0.2, 1, 3];
  const step = async (m: vg.Model, y: vg.TargetsArg, classWeight: vg.ClassWeight | null): Promise<number> => {
    const r = vg.tidy(() => m.trainStep(x, y, { classWeight }));
    const v = (await r.total.data())[0];
    vg.tidy(() => [r.total, ...Object.values(r.perOutput)].forEach((k) => k.dispose()));
    return v;
  };
  const m = build('cw_');
  const z = await logitsOf(m, x, 'cw_seg');
  const cases: [vg.LossSpec, number][] = [
    [{ name: 'categoricalCrossentropy', fromLogits: true }, mean(kerasCce(z, labels, cw))],
    [{ name: 'dice', activation: 'softmax' }, mean(diceRows(z, labels, weights))],
    [
      { name: 'diceCrossentropy', activation: 'softmax' },
      mean(diceRows(z, labels, weights)) + mean(kerasCce(z, labels, cw)),
    ],
    [
      { name: 'dice', activation: 'softmax', includeBackground: false },
      mean(
        Array.from({ length: B }, (_, b) => {
          const terms = L.overlapLoss(
            'dice',
            { B, N, C, t: null, labels, p: z },
            { activation: 'softmax', reduction: 'none', includeBackground: false, classWeights: [1, 3] },
          ) as number[];
          return (terms[2 * b] + terms[2 * b + 1]) / 2;
        }),
      ),
    ],
  ];
  for (const [loss, want] of cases) {
    m.compile({ optimizer: new vg.SGD({ learningRate: 0 }), loss });
    close(await step(m, seg, cw), want, `${JSON.stringify(loss)} with classWeight`);
  }
  // One sigmoid channel: class 0 weighs the voxels labelled 0, class 1 those labelled 1.
  const b1 = vg.model({
    inputs: m.inputs,
    outputs: [new vg.Dense({ units: 1, seed: 7, name: 'cw_fg' }).apply(m.inputs[0])],
  });
  const zf = await logitsOf(b1, x, 'cw_fg');
  b1.compile({ optimizer: new vg.SGD({ learningRate: 0 }), loss: { name: 'binaryCrossentropy', fromLogits: true } });
  close(await step(b1, fg, { 0: 0.5, 1: 4 }), mean(kerasBce(zf, fgLabels, { 0: 0.5, 1: 4 })), 'binary, one channel');
  close(await step(b1, fg, null), mean(kerasBce(zf, fgLabels)), 'binary, unweighted');
  b1.compile({ optimizer: new vg.SGD({ learningRate: 0 }), loss: { name: 'dice', activation: 'sigmoid' } });
  const d1 = L.overlapLoss(
    'dice',
    { B, N, C: 1, t: null, labels: fgLabels, p: zf },
    { activation: 'sigmoid' },
  ) as number;
  close(await step(b1, fg, { 0: 9, 1: 2 }), 2 * d1, 'dice with one channel: the channel is class 1');

  // fit applies them during training only: the losses it logs differ, evaluate takes none.
  m.compile({
    optimizer: new vg.SGD({ learningRate: 0 }),
    loss: { name: 'categoricalCrossentropy', fromLogits: true },
  });
  const h = await m.fit(x, seg, { classWeight: cw, batchSize: B, shuffle: false });
  close(h.history.loss[0], mean(kerasCce(z, labels, cw)), 'fit logs the class-weighted loss');
  await rejects(
    () => m.evaluate(x, seg, { classWeight: cw } as vg.EvaluateOptions),
    vg.ValueError,
    /got the key 'classWeight'/,
  );

  // Refused, each before any step, with what to do instead.
  const two = build('cw2_', true);
  const refused: [vg.Model, vg.CompileOptions['loss'], vg.TargetsArg, object, RegExp][] = [
    [
      m,
      { name: 'categoricalCrossentropy' },
      seg,
      { classWeight: { 3: 1 } },
      /class indices 0 to 2 \(the output 'cw_seg' has 3 channels\), got the key 3/,
    ],
    [
      m,
      'categoricalCrossentropy',
      seg,
      { classWeight: { 0: -1 } },
      /'classWeight\[0\]' expected a finite number >= 0, got -1/,
    ],
    [
      m,
      'categoricalCrossentropy',
      seg,
      { classWeight: { a: 1 } },
      /class indices \(integers >= 0\) as keys, got the key 'a'/,
    ],
    [
      m,
      'categoricalCrossentropy',
      seg,
      { classWeight: cw, sampleWeight: [1, 1, 1, 1] },
      /'classWeight' cannot be given with 'sampleWeight'/,
    ],
    [
      m,
      (t: vg.Tensor, p: vg.Tensor) => vg.dice(t, p),
      seg,
      { classWeight: cw },
      /the loss function takes no class weights/,
    ],
    [
      m,
      'generalizedDice',
      seg,
      { classWeight: cw },
      /the loss 'generalizedDice' takes its class weights from the class volumes/,
    ],
    [m, 'mse', seg, { classWeight: cw }, /the loss 'mse' is a regression loss, with no classes/],
    [
      m,
      { name: 'dice', classWeights: [1, 2, 3] },
      seg,
      { classWeight: cw },
      /the loss 'dice' already has classWeights in its options/,
    ],
    [
      m,
      { name: 'dice', batch: 'summed' },
      seg,
      { sampleWeight: [1, 1, 1, 1] },
      /'sampleWeight' cannot weigh the samples of the output 'cw_seg': the loss 'dice' gives one value for the whole batch with batch: 'summed', not one per sample/,
    ],
    [
      m,
      'generalizedDice',
      seg,
      { sampleWeight: [1, 1, 1, 1] },
      /the loss 'generalizedDice' gives one value .*\(its default\): give batch: 'per_sample'/,
    ],
    [
      two,
      ['dice', 'binaryCrossentropy'],
      [seg, fg],
      { classWeight: cw },
      /a model whose losses are on one output .* got losses on 2 outputs \(cw2_seg, cw2_fg\)/,
    ],
  ];
  for (const [model, loss, y, options, re] of refused) {
    model.compile({ optimizer: new vg.SGD({ learningRate: 0.1 }), loss });
    const before = await vg.readAll(model.trainableWeights);
    await noLeak(`refused ${re}`, () => rejects(() => model.fit(x, y, options), vg.ValueError, re));
    assert.equal(await vg.readAll(model.trainableWeights), before, `${re}: no step ran`);
  }
  // generalizedDice per sample takes sample weights.
  m.compile({
    optimizer: new vg.SGD({ learningRate: 0 }),
    loss: { name: 'generalizedDice', batch: 'per_sample', activation: 'softmax' },
  });
  const gd = L.generalizedDice(
    { B, N, C, t: null, labels, p: z },
    { activation: 'softmax', batch: 'per_sample', reduction: 'none' },
  ) as number[];
  close(
    (await m.evaluate(x, seg, { sampleWeight: [1, 2, 3, 4] })).loss,
    weighted(gd, [1, 2, 3, 4]),
    'generalized dice per sample',
  );
  vg.tidy(() => [x, seg, fg].forEach((v) => v.dispose()));
  m.dispose();
  b1.dispose();
  two.dispose();
});

t('the cross-entropies take classWeights; dice + CE gives per-sample values with reduction none', async () => {
  const r = rng(11);
  const [Bn, Nn] = [2, 5];
  const logits = Float64Array.from({ length: Bn * Nn * 2 }, () => 4 * r() - 2);
  const t2 = Float64Array.from({ length: Bn * Nn * 2 }, () => (r() < 0.4 ? 1 : 0));
  const yt = vg.tensor(Float32Array.from(t2), [Bn, Nn, 2]);
  const yp = vg.tensor(Float32Array.from(logits), [Bn, Nn, 2]);
  // Two sigmoid channels (multi-label): channel c weighs w[c].
  const softplus = (a: number): number => Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));
  let want = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i];
    want += [0.5, 3][i % 2] * (t2[i] ? softplus(-z) : softplus(z));
  }
  const got = vg.binaryCrossentropy(yt, yp, { fromLogits: true, classWeights: [0.5, 3] });
  close((await got.data())[0], want / logits.length, 'binary, per channel');
  assert.throws(
    () => vg.binaryCrossentropy(yt, yp, { fromLogits: true, classWeights: [1, 2, 3] }),
    /binaryCrossentropy: argument 'classWeights' expected 2 weights \(one per channel\), got 3 weights/,
  );
  assert.throws(
    () => vg.categoricalCrossentropy(yt, yp, { classWeights: [1, Number.NaN] }),
    /categoricalCrossentropy: argument 'classWeights' expected an array of finite numbers >= 0/,
  );
  const perSample = vg.diceCrossentropy(yt, yp, { activation: 'softmax', reduction: 'none' });
  const meanValue = vg.diceCrossentropy(yt, yp, { activation: 'softmax' });
  const [ps, mv] = await vg.readAll([perSample, meanValue]);
  assert.is(ps.length, Bn);
  close((ps[0] + ps[1]) / 2, mv[0], 'the mean of the per-sample values is the mean');
  assert.throws(
    () => vg.diceCrossentropy(yt, yp, { activation: 'softmax', reduction: 'none', batch: 'summed' }),
    /diceCrossentropy: argument 'reduction' expected 'mean' or 'sum' with batch 'summed'/,
  );
  vg.tidy(() => [yt, yp, got, perSample, meanValue].forEach((v) => v.dispose()));
});

t(
  'named losses read an output as the model says (softmax / sigmoid logits) unless their options say otherwise',
  async () => {
    const { x, labels, seg } = data(7);
    const input = vg.input({ shape: [S, S, S, 2], name: 'ra_x' });
    const head = new vg.Dense({ units: C, seed: 3, name: 'ra_seg' }).apply(input);
    const m = vg.model({ inputs: input, outputs: [head], outputActivations: { ra_seg: 'softmax' } });
    const logits = await logitsOf(m, x, 'ra_seg');
    const softmaxDice = mean(diceRows(logits, labels));
    const cases: [vg.LossSpec, number][] = [
      ['dice', softmaxDice],
      [{ name: 'dice' }, softmaxDice],
      ['categoricalCrossentropy', mean(kerasCce(logits, labels))],
    ];
    for (const [loss, want] of cases) {
      m.compile({ optimizer: new vg.SGD({ learningRate: 0 }), loss });
      close((await m.evaluate(x, seg)).loss, want, JSON.stringify(loss));
    }
    // Options that say how to read the prediction win: activation 'none' reads the logits as they are.
    m.compile({
      optimizer: new vg.SGD({ learningRate: 0 }),
      loss: { name: 'dice', activation: 'none', predRange: 'any' },
    });
    const raw = (await m.evaluate(x, seg)).loss;
    assert.ok(Math.abs(raw - softmaxDice) > 1e-3, 'activation none is not the softmax reading');
    // A loss name that is an Object.prototype key is unknown, not a crash.
    for (const name of ['__proto__', 'constructor', 'toString'])
      assert.throws(() => m.compile({ optimizer: new vg.SGD(), loss: name }), /compile: argument 'loss'/);
    m.dispose();
    x.dispose();
    seg.dispose();
  },
);

t('compile: one number as lossWeights, refused weights, named losses with options checked up front', async () => {
  const { x, seg, fg } = data(5);
  const m = build('cmp_');
  m.compile({
    optimizer: new vg.SGD({ learningRate: 0 }),
    loss: { name: 'dice', activation: 'softmax' },
    lossWeights: 0.25,
  });
  const a = await m.evaluate(x, seg);
  close(a.loss, 0.25 * a.cmp_seg_loss, 'a single weight for a single output');
  const two = build('cmp2_', true);
  two.compile({ optimizer: new vg.SGD(), loss: 'mse', lossWeights: 2 });
  const named = [{ name: 'dice', activation: 'softmax' }, 'tversky'] as const;
  two.compile({ optimizer: new vg.SGD({ learningRate: 0 }), loss: [...named] });
  const byFunction = build('cmp2_', true);
  byFunction.compile({
    optimizer: new vg.SGD({ learningRate: 0 }),
    loss: [(t1, p) => vg.dice(t1, p, { activation: 'softmax' }), (t1, p) => vg.tversky(t1, p)],
  });
  const probs = vg.tidy(() => vg.sigmoid(vg.zeros([B, S, S, S, 1])));
  const [r1, r2] = [await two.evaluate(x, [seg, probs]), await byFunction.evaluate(x, [seg, probs])];
  close(r1.loss, r2.loss, 'named losses with options equal the functions they name');
  const bad: [() => void, RegExp][] = [
    [
      () => m.compile({ optimizer: new vg.SGD(), loss: 'mse', lossWeights: -1 }),
      /'lossWeights' expected a finite number >= 0 \(or null\), got -1/,
    ],
    [
      () => m.compile({ optimizer: new vg.SGD(), loss: 'mse', lossWeights: Number.POSITIVE_INFINITY }),
      /'lossWeights' expected a finite number >= 0/,
    ],
    [
      () => two.compile({ optimizer: new vg.SGD(), loss: ['mse', 'mae'], lossWeights: [1, -0.5] }),
      /'lossWeights for 'cmp2_fg'' expected a finite number >= 0 \(or null\), got -0.5/,
    ],
    [
      () => two.compile({ optimizer: new vg.SGD(), loss: ['mse', 'mae'], lossWeights: 0.5 }),
      /'lossWeights' expected a list or a record of weights \(one number only for one output or one loss shared by all/,
    ],
    [
      () => two.compile({ optimizer: new vg.SGD(), loss: [{ name: 'dice', activaton: 'softmax' }, 'mse'] }),
      /compile: loss\[0\] 'dice': argument 'options' expected keys among the options .*got the key 'activaton'.*did you mean 'activation'/,
    ],
    [
      () => two.compile({ optimizer: new vg.SGD(), loss: ['mse', { name: 'tversky', alpha: -1 }] }),
      /compile: loss\[1\] 'tversky': argument 'alpha' expected a finite number >= 0, got -1/,
    ],
    [
      () => two.compile({ optimizer: new vg.SGD(), loss: { cmp2_seg: { name: 'dice', activation: 'softmx' } } }),
      /compile: loss\['cmp2_seg'\] 'dice': argument 'activation' expected 'none' \| 'sigmoid' \| 'softmax', got "softmx"/,
    ],
    [
      () => m.compile({ optimizer: new vg.SGD(), loss: { name: 'dise' } }),
      /a name among .*got "dise" \(did you mean 'dice'\?\)/,
    ],
    [
      () => m.compile({ optimizer: new vg.SGD(), loss: { name: 'dice', reduction: 'sum' } }),
      /compile: loss 'dice': argument 'reduction' expected no reduction \(compile reduces each loss as Keras's sum_over_batch_size/,
    ],
    [
      () => m.compile({ optimizer: new vg.SGD(), loss: { name: 'mse', delta: 1 } }),
      /compile: loss 'mse': argument 'options' expected no options, got the option 'delta'/,
    ],
    [
      () => m.compile({ optimizer: new vg.SGD(), loss: { name: 'generalizedDice', weightType: 'cube' } }),
      /loss 'generalizedDice': argument 'weightType' expected 'square' \| 'simple' \| 'uniform'/,
    ],
    [
      () => m.compile({ optimizer: new vg.SGD(), loss: { name: 'diceCrossentropy', lambdaCE: 1 } }),
      /did you mean 'lambdaCe'/,
    ],
    [
      () => m.compile({ optimizer: new vg.SGD(), loss: 'mse', metrics: {}, lossWeight: 1 } as vg.CompileOptions),
      /got the key 'lossWeight'.*did you mean 'lossWeights'/,
    ],
  ];
  for (const [f, re] of bad)
    assert.throws(f, (e: Error) => e instanceof vg.ValueError && re.test(e.message), String(re));
  vg.tidy(() => [x, seg, fg, probs].forEach((v) => v.dispose()));
  for (const model of [m, two, byFunction]) model.dispose();
});

t(
  'fit arguments: unknown keys, null or ragged data, zero samples, bad validation data: refused before any step',
  async () => {
    const { x, seg } = data(6);
    const m = build('arg_');
    m.compile({ optimizer: new vg.SGD({ learningRate: 0.5 }), loss: { name: 'dice', activation: 'softmax' } });
    const [x3, empty, emptyY] = vg.tidy(() => [
      vg.slice(x, [0, 0, 0, 0, 0], [3, S, S, S, 2]),
      vg.zeros([0, S, S, S, 2]),
      vg.zeros([0, S, S, S], 'int32'),
    ]);
    const bad: [() => Promise<unknown>, RegExp][] = [
      [
        () => m.fit(x, seg, { batchsize: 2 } as vg.FitOptions),
        /fit: argument 'options' expected keys among the options .*got the key 'batchsize'.*\(did you mean 'batchSize'\?\)/,
      ],
      [() => m.fit(x, null as unknown as vg.Tensor), /fit: argument 'y' expected targets: a tensor, .*got null/],
      [
        () => m.fit(null as unknown as vg.Tensor, seg),
        /fit: argument 'x' expected 1 input tensor\(s\) \(arg_x\), got null/,
      ],
      [
        () => m.fit(x3, seg),
        /fit: argument 'y' expected 3 samples in the targets of 'arg_seg', as in the input 'arg_x' of 'x' \(one row per sample everywhere\), got 4 samples/,
      ],
      [() => m.fit(empty, emptyY), /fit: argument 'x' expected at least one sample, got 0 samples/],
      [
        () => m.fit(x, seg, { validationData: [x3, seg] }),
        /fit: argument 'validationData\[1\]' expected 3 samples in the targets of 'arg_seg', as in the input 'arg_x' of 'validationData\[0\]'/,
      ],
      [
        () => m.fit(x, seg, { validationData: [x] } as unknown as vg.FitOptions),
        /'validationData' expected \[x, y\] or \[x, y, sampleWeight\]/,
      ],
      [() => m.fit(x, seg, { validationSplit: 1.5 }), /'validationSplit' expected a number in \[0, 1\), got 1.5/],
      [
        () => m.fit(x, seg, { validationSplit: 0.8 }),
        /'validationSplit' expected a fraction that leaves samples for both training and validation \(4 samples\), got 0.8 \(4 for validation\)/,
      ],
      [() => m.fit(x, seg, { epochs: 0 }), /'epochs' expected a positive integer, got 0/],
      [() => m.fit(x, seg, { verbose: 3 } as unknown as vg.FitOptions), /'verbose' expected 0, 1, 2 or 'auto', got 3/],
      [
        () => m.fit(x, seg, { callbacks: [{ onBatchEnd: 1 }] } as unknown as vg.FitOptions),
        /'callbacks\[0\].onBatchEnd' expected a function/,
      ],
      [() => m.fit(x, [seg, seg]), /fit: argument 'y' expected a list of 1 targets \(arg_seg\), got a list of 2/],
    ];
    const before = await vg.readAll(m.trainableWeights);
    for (const [f, re] of bad) await noLeak(String(re), () => rejects(f, vg.VoxgradError, re));
    assert.equal(await vg.readAll(m.trainableWeights), before, 'no step ran');
    vg.tidy(() => [x, seg, x3, empty, emptyY].forEach((v) => v.dispose()));
    m.dispose();
  },
);

t(
  'validationSplit holds out the last samples before shuffling: the same run as validationData of those rows',
  async () => {
    const { x, seg } = data(7, 5);
    const rows = (t0: vg.Tensor, a: number, n: number): vg.Tensor =>
      vg.slice(t0, [a, ...t0.shape.slice(1).map(() => 0)], [n, ...t0.shape.slice(1)]);
    const [xt, st, xv, sv] = vg.tidy(() => [rows(x, 0, 3), rows(seg, 0, 3), rows(x, 3, 2), rows(seg, 3, 2)]);
    const histories: vg.History[] = [];
    for (const form of ['split', 'data'] as const) {
      const m = build(`vs_${form}_`, false, 2);
      m.compile({ optimizer: new vg.Adam({ learningRate: 0.05 }), loss: { name: 'dice', activation: 'softmax' } });
      // floor(5 · (1 − 0.4)) = 3 training samples, as Keras.
      histories.push(
        form === 'split'
          ? await m.fit(x, seg, { epochs: 3, batchSize: 2, validationSplit: 0.4, seed: 3 })
          : await m.fit(xt, st, { epochs: 3, batchSize: 2, validationData: [xv, sv], seed: 3 }),
      );
      m.dispose();
    }
    const [split, given] = histories;
    assert.equal(
      Object.keys(split.history).map((k) => k.replace('vs_split_', '')),
      Object.keys(given.history).map((k) => k.replace('vs_data_', '')),
    );
    assert.equal(split.history.loss, given.history.loss);
    assert.equal(split.history.val_loss, given.history.val_loss);
    vg.tidy(() => [x, seg, xt, st, xv, sv].forEach((v) => v.dispose()));
  },
);

t('callbacks get the running means as numbers; verbose 0, 1 (terminal and plain lines) and 2', async () => {
  const { x, seg, fg } = data(8);
  const m = build('cb_', true);
  m.compile({
    optimizer: new vg.SGD({ learningRate: 0.1 }),
    loss: [
      { name: 'dice', activation: 'softmax' },
      { name: 'binaryCrossentropy', fromLogits: true },
    ],
    metrics: { cb_seg: ['dice'] },
  });
  const batches: [number, vg.Logs][] = [];
  const epochs: [number, vg.Logs][] = [];
  await m.fit(x, [seg, fg], {
    epochs: 2,
    batchSize: 2,
    validationSplit: 0.5,
    callbacks: [
      { onBatchEnd: (b, logs) => void batches.push([b, logs]), onEpochEnd: (e, logs) => void epochs.push([e, logs]) },
    ],
  });
  assert.equal(
    batches.map(([b]) => b),
    [0, 0],
  );
  for (const [, logs] of batches) {
    assert.equal(Object.keys(logs).sort(), ['cb_fg_loss', 'cb_seg_dice', 'cb_seg_loss', 'loss']);
    assert.ok(
      Object.values(logs).every((v) => typeof v === 'number' && Number.isFinite(v)),
      JSON.stringify(logs),
    );
  }
  // One batch per epoch: the running means after it are the epoch's means.
  epochs.forEach(([e, logs], i) => {
    assert.is(e, i);
    for (const k of Object.keys(batches[i][1])) close(batches[i][1][k], logs[k], `epoch ${e} ${k}`, 1e-6);
    assert.ok(typeof logs.val_loss === 'number' && typeof logs.val_cb_seg_dice === 'number');
  });

  const capture = async (isTTY: boolean, f: () => Promise<unknown>): Promise<string> => {
    const out = process.stdout as unknown as { isTTY?: boolean; write: (s: string) => boolean };
    const [tty, write] = [out.isTTY, out.write];
    let text = '';
    out.isTTY = isTTY;
    out.write = (s: string) => {
      text += s;
      return true;
    };
    try {
      await f();
    } finally {
      out.isTTY = tty;
      out.write = write;
    }
    // Carriage returns and erase-to-end-of-line made visible.
    return text.replaceAll('\r', '<CR>').replaceAll('\u001b[K', '<EL>');
  };
  const fit = (verbose: vg.Verbose) => () => m.fit(x, [seg, fg], { epochs: 2, batchSize: 2, verbose });
  assert.is(await capture(true, fit(0)), '', 'verbose 0 prints nothing');
  assert.is(await capture(false, fit('auto')), '', "'auto' is silent off a terminal");
  const two = await capture(false, fit(2));
  const lines = two.trimEnd().split('\n');
  assert.is(lines.length, 2, two);
  lines.forEach((l, e) =>
    assert.match(
      l,
      new RegExp(
        `^Epoch ${e + 1}/2 - 2/2 - \\d+\\.\\ds \\d+ms/step - loss: \\d\\.\\d{4} - cb_seg_loss: .* - cb_seg_dice: \\d\\.\\d{4}$`,
      ),
    ),
  );
  const tty = await capture(true, fit(1));
  assert.match(
    tty,
    /^<CR>Epoch 1\/2 - 1\/2 \[={9}>\.{10}\] - .*loss: \d\.\d{4}.*<EL><CR>Epoch 1\/2 - 2\/2 \[={20}\] - .*<EL>\n<CR>/,
  );
  assert.is(tty.split('\n').length, 3, 'one line per epoch, redrawn in place');
  const plain = await capture(false, fit(1));
  assert.not.match(plain, /<CR>|<EL>/);
  assert.match(plain, /Epoch 2\/2 - 2\/2 \[={20}\] - /);
  const evaluated = await capture(false, () => m.evaluate(x, [seg, fg], { batchSize: 3, verbose: 2 }));
  assert.match(evaluated, /^2\/2 - \d+\.\ds \d+ms\/step - loss: \d\.\d{4} - cb_seg_loss: .*\n$/);
  const predicted = await capture(true, async () => {
    const out = m.predict(x, { batchSize: 1, verbose: 1 });
    for (const v of Object.values(out)) v.dispose();
  });
  assert.match(predicted, /<CR>1\/4 \[={4}>\.{15}\] - .*<CR>4\/4 \[={20}\] - \d+\.\ds \d+ms\/step<EL>\n$/);
  vg.tidy(() => [x, seg, fg].forEach((v) => v.dispose()));
  m.dispose();
});

t('predict: logits, one tensor per output, the same bits in batches of any size; options checked', async () => {
  const { x } = data(9, 5);
  const m = build('pr_', true);
  const whole = m.predict(x, { batchSize: 5 });
  assert.equal(Object.keys(whole), ['pr_seg', 'pr_fg']);
  assert.equal([...whole.pr_seg.shape], [5, S, S, S, C]);
  const want = await vg.readAll([whole.pr_seg, whole.pr_fg]);
  for (const batchSize of [1, 2, 3, 32]) {
    await noLeak(`predict batchSize ${batchSize}`, async () => {
      const out = m.predict(x, { batchSize });
      const got = await vg.readAll([out.pr_seg, out.pr_fg]);
      got.forEach((g, i) => assert.equal(Array.from(g), Array.from(want[i]), `batchSize ${batchSize}, output ${i}`));
      for (const v of Object.values(out)) v.dispose();
    });
  }
  assert.throws(
    () => m.predict(x, { batchsize: 2 } as vg.PredictOptions),
    /predict: .*got the key 'batchsize'.*did you mean 'batchSize'/,
  );
  assert.throws(
    () => m.predict(x, { batchSize: 0 }),
    /predict: argument 'batchSize' expected a positive integer, got 0/,
  );
  for (const v of Object.values(whole)) v.dispose();
  x.dispose();
  m.dispose();
});

t('model.save(dir) and vg.loadModel(dir) round trip (Keras 3 names)', async () => {
  const { x } = data(10);
  const m = build('sv_', true);
  const dir = mkdtempSync(join(tmpdir(), 'voxgrad-save-'));
  try {
    await m.save(join(dir, 'model'));
    const loaded = await vg.loadModel(join(dir, 'model'));
    const [a, b] = [m.predict(x), loaded.predict(x)];
    const [pa, pb] = [await vg.readAll(Object.values(a)), await vg.readAll(Object.values(b))];
    pa.forEach((v, i) => assert.equal(Array.from(v), Array.from(pb[i])));
    vg.tidy(() => [...Object.values(a), ...Object.values(b)].forEach((v) => v.dispose()));
    loaded.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  x.dispose();
  m.dispose();
});

t.run();
