import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';
import { rejects, rng } from './helpers.js';

const t = suite('functional multi-output models: the seed program');
t.before(setup);

const S = 8;
const N = 6;

/** Synthetic volumes: a ball (class 1) in a shell (class 2); the input channel is noisy intensity. */
function data(seed: number): { x: vg.Tensor; seg: vg.Tensor; fg: vg.Tensor } {
  const r = rng(seed);
  const image = new Float32Array(N * S * S * S);
  const labels = new Int32Array(N * S * S * S);
  for (let b = 0; b < N; b++) {
    const c = [0, 1, 2].map(() => 2.5 + 3 * r());
    for (let i = 0; i < S * S * S; i++) {
      const d = Math.hypot((i % S) - c[0], (Math.floor(i / S) % S) - c[1], Math.floor(i / (S * S)) - c[2]);
      const k = d < 1.6 ? 1 : d < 2.8 ? 2 : 0;
      labels[b * S * S * S + i] = k;
      image[b * S * S * S + i] = [-1, 1, 0.3][k] + 0.3 * (r() - 0.5);
    }
  }
  return {
    x: vg.tensor(image, [N, S, S, S, 1]),
    seg: vg.tensor(labels, [N, S, S, S], 'int32'),
    fg: vg.tensor(
      Float32Array.from(labels, (k) => (k > 0 ? 1 : 0)),
      [N, S, S, S, 1],
    ),
  };
}

/** Trunk (two convolutions) shared by a 3-class segmentation head and a foreground head. */
function build(prefix: string): vg.Model {
  const x = vg.input({ shape: [S, S, S, 1], name: `${prefix}image` });
  let h = new vg.Conv3D({
    filters: 6,
    kernelSize: 3,
    padding: 'same',
    activation: 'relu',
    seed: 1,
    name: `${prefix}trunk_conv1`,
  }).apply(x);
  h = new vg.GroupNormalization({ groups: 2, name: `${prefix}trunk_norm` }).apply(h);
  h = new vg.Conv3D({
    filters: 6,
    kernelSize: 3,
    padding: 'same',
    activation: 'relu',
    seed: 2,
    name: `${prefix}trunk_conv2`,
  }).apply(h);
  const seg = new vg.Conv3D({ filters: 3, kernelSize: 1, seed: 3, name: `${prefix}seg` }).apply(h);
  const aux = new vg.Conv3D({ filters: 1, kernelSize: 1, seed: 4, name: `${prefix}aux` }).apply(h);
  return vg.model({ inputs: x, outputs: [seg, aux] });
}

const diceLoss = (yt: vg.Tensor, yp: vg.Tensor): vg.Tensor => vg.dice(yt, yp, { activation: 'softmax' });
const tverskyLoss = (yt: vg.Tensor, yp: vg.Tensor): vg.Tensor =>
  vg.tversky(yt, yp, { activation: 'sigmoid', alpha: 0.3, beta: 0.7 });

t('the two-head model trains with lossWeights [0.5, 0.3]; the record form gives the same history', async () => {
  const { x, seg, fg } = data(1);
  const histories: vg.History[] = [];
  for (const form of ['list', 'record'] as const) {
    const m = build(`${form}_`);
    const [segName, auxName] = m.outputNames;
    m.compile({
      optimizer: new vg.Adam({ learningRate: 0.02 }),
      loss: form === 'list' ? [diceLoss, tverskyLoss] : { [segName]: diceLoss, [auxName]: tverskyLoss },
      lossWeights: form === 'list' ? [0.5, 0.3] : { [auxName]: 0.3, [segName]: 0.5 },
    });
    // Live tensors and buffers after every step, from the second on (the first creates Adam's state).
    const counts: string[] = [];
    const track = { onBatchEnd: () => void counts.push(`${vg.memory().liveTensors}/${vg.memory().liveBuffers}`) };
    const h = await m.fit(x, form === 'list' ? [seg, fg] : { [segName]: seg, [auxName]: fg }, {
      epochs: 8,
      batchSize: 3,
      seed: 5,
      callbacks: [track],
    });
    // Each epoch keeps its 2 steps' 3 loss scalars until its end: compare the same batch position.
    const firstOfEpoch = counts.filter((_, i) => i % 2 === 0).slice(1);
    const secondOfEpoch = counts.filter((_, i) => i % 2 === 1);
    assert.ok(
      new Set(firstOfEpoch).size === 1 && new Set(secondOfEpoch).size === 1,
      `steady state: ${counts.join(' ')}`,
    );
    const loss = h.history.loss;
    assert.ok(loss[loss.length - 1] < 0.8 * loss[0], `total loss falls: ${loss.map((v) => v.toFixed(3)).join(' ')}`);
    const segLoss = h.history[`${segName}_loss`];
    const auxLoss = h.history[`${auxName}_loss`];
    loss.forEach((v, e) =>
      assert.ok(
        Math.abs(v - (0.5 * segLoss[e] + 0.3 * auxLoss[e])) < 1e-5,
        'total = 0.5·seg + 0.3·aux, per-output logged unweighted',
      ),
    );
    histories.push(h);
  }
  assert.equal(histories[0].history.loss, histories[1].history.loss, 'list and record forms train identically');
});

t('each loss reaches only the trunk and its own head (lossPaths, dispatch counts)', async () => {
  const { x, seg, fg } = data(2);
  const m = build('paths_');
  const [segName, auxName] = m.outputNames;
  m.compile({ optimizer: new vg.SGD({ learningRate: 0.1 }), loss: [diceLoss, tverskyLoss], lossWeights: [0.5, 0.3] });
  const paths = m.lossPaths(x, [seg, fg]);
  assert.equal(paths[segName], ['paths_trunk_conv1', 'paths_trunk_norm', 'paths_trunk_conv2', 'paths_seg']);
  assert.equal(paths[auxName], ['paths_trunk_conv1', 'paths_trunk_norm', 'paths_trunk_conv2', 'paths_aux']);
  // Backward of the segmentation loss alone costs the same with or without the aux head.
  const weights = m.trainableWeights;
  const segOnly = vg.model({ inputs: m.inputs, outputs: [m.outputs[0]] });
  const count = (f: () => vg.Tensor): number => {
    const d0 = vg.memory().dispatches;
    vg.tidy(() => void vg.valueAndGrad(f, weights));
    return vg.memory().dispatches - d0;
  };
  const forwardBoth = count(() => vg.add(vg.sum(m.call(x).paths_seg), 0));
  const withAux = count(() => diceLoss(seg, m.call(x, true)[segName]));
  const withoutAux = count(() => diceLoss(seg, segOnly.call(x, true)[segName]));
  const auxHeadForward = forwardBoth - count(() => vg.add(vg.sum(segOnly.call(x).paths_seg), 0));
  assert.is(withAux - withoutAux, auxHeadForward, 'the aux head adds its forward kernels and no backward kernel');
  // The trunk's gradient is the weighted sum of the two losses' gradients.
  const grads = (f: () => vg.Tensor) => vg.valueAndGrad(f, weights).grads;
  const g1 = grads(() => diceLoss(seg, m.call(x, true)[segName]));
  const g2 = grads(() => tverskyLoss(fg, m.call(x, true)[auxName]));
  const gt = grads(() => {
    const out = m.call(x, true);
    return vg.add(vg.mul(diceLoss(seg, out[segName]), 0.5), vg.mul(tverskyLoss(fg, out[auxName]), 0.3));
  });
  for (let i = 0; i < weights.length; i++) {
    const name = weights[i].name;
    const [a, b, c] = await vg.readAll([g1[i] ?? vg.zerosLike(weights[i]), g2[i] ?? vg.zerosLike(weights[i]), gt[i]!]);
    let worst = 0;
    let scale = 1e-12;
    for (let k = 0; k < c.length; k++) {
      worst = Math.max(worst, Math.abs(c[k] - (0.5 * a[k] + 0.3 * b[k])));
      scale = Math.max(scale, Math.abs(c[k]));
    }
    assert.ok(worst <= 1e-4 * scale + 1e-7, `${name}: total gradient differs from 0.5·g1 + 0.3·g2 by ${worst}`);
    if (name.startsWith('paths_aux')) assert.is(g1[i], null, `${name} gets nothing from the segmentation loss`);
    if (name.startsWith('paths_seg')) assert.is(g2[i], null, `${name} gets nothing from the aux loss`);
  }
});

t('an output without a loss needs no labels; evaluate, predict, summary, weights round trip', async () => {
  const { x, seg } = data(3);
  const m = build('nolabel_');
  const [segName, auxName] = m.outputNames;
  m.compile({ optimizer: new vg.Adam({ learningRate: 0.01 }), loss: { [segName]: diceLoss } });
  const h = await m.fit(x, { [segName]: seg }, { epochs: 2, batchSize: 4, validationData: [x, { [segName]: seg }] });
  assert.equal(Object.keys(h.history).sort(), ['loss', `${segName}_loss`, 'val_loss', `val_${segName}_loss`].sort());
  const logs = await m.evaluate(x, { [segName]: seg });
  assert.ok(Math.abs(logs.loss - logs[`${segName}_loss`]) < 1e-6);
  const out = m.predict(x);
  assert.equal([...out[auxName].shape], [N, S, S, S, 1]);
  const text = m.summary(false);
  assert.match(text, /nolabel_trunk_conv1 \(Conv3D\)\s+\[batch, 8, 8, 8, 6\]\s+168/);
  const bytes = await m.saveWeights();
  const other = build('nolabel_');
  await rejects(other.loadWeights(new Uint8Array(bytes.slice(0, 12))), /not a valid safetensors file/);
  await other.loadWeights(bytes);
  const [a, b] = await vg.readAll([m.predict(x)[segName], other.predict(x)[segName]]);
  assert.equal(Array.from(a), Array.from(b));
});

t('kernel regularisers add l1·Σ|w| + l2·Σw² to the total; metrics are logged per output', async () => {
  const x = vg.input({ shape: [3], name: 'reg_x' });
  const d = new vg.Dense({
    units: 2,
    useBias: false,
    kernelInitializer: 'zeros',
    kernelRegularizer: { l1: 0.1, l2: 0.5 },
    name: 'reg_dense',
  });
  const m = vg.model({ inputs: x, outputs: [d.apply(x)] });
  m.compile({ optimizer: new vg.SGD({ learningRate: 0 }), loss: 'mse' });
  d.trainableWeights[0].assign(vg.tensor([1, -2, 0, 3, -1, 1], [3, 2]));
  const xs = vg.ones([4, 3]);
  const ys = vg.zeros([4, 2]);
  const logs = await m.evaluate(xs, ys);
  // predictions: [1 + 0 - 1, -2 + 3 + 1] = [0, 2] → mse 2; penalty 0.1·8 + 0.5·16 = 8.8
  assert.ok(Math.abs(logs.reg_dense_loss - 2) < 1e-5 && Math.abs(logs.loss - 10.8) < 1e-4, JSON.stringify(logs));

  const { x: vx, seg, fg } = data(6);
  const two = build('metric_');
  const [segName, auxName] = two.outputNames;
  two.compile({
    optimizer: new vg.Adam({ learningRate: 0.02 }),
    loss: [diceLoss, tverskyLoss],
    lossWeights: [0.5, 0.3],
    metrics: { [segName]: ['dice', 'iou'] },
  });
  const h = await two.fit(vx, [seg, fg], { epochs: 2, batchSize: 3 });
  for (const k of [`${segName}_dice`, `${segName}_iou`])
    assert.ok(
      h.history[k].every((v) => v >= 0 && v <= 1),
      `${k}: ${h.history[k]}`,
    );
  assert.throws(
    () => two.compile({ optimizer: new vg.SGD(), loss: 'mse', metrics: { [`${auxName}x`]: ['dice'] } }),
    /argument 'metrics' expected keys among the outputs .*, got the key/,
  );
});

t('a training run with a fixed seed gives bitwise-identical weights twice in a row', async () => {
  const { x, seg, fg } = data(7);
  const weights: Float32Array[][] = [];
  for (const run of ['det_a_', 'det_b_']) {
    const m = build(run);
    m.compile({
      optimizer: new vg.Adam({ learningRate: 0.02 }),
      loss: [diceLoss, tverskyLoss],
      lossWeights: [0.5, 0.3],
    });
    await m.fit(x, [seg, fg], { epochs: 3, batchSize: 2, seed: 11 });
    weights.push((await vg.readAll(m.trainableWeights)) as Float32Array[]);
  }
  weights[0].forEach((w, i) => {
    const a = new Uint32Array(w.buffer, w.byteOffset, w.length);
    const b = new Uint32Array(weights[1][i].buffer, weights[1][i].byteOffset, weights[1][i].length);
    assert.ok(
      a.every((bits, k) => bits === b[k]),
      `weight ${i} differs between the two runs`,
    );
  });
});

t('bad calls: uncompiled, bad targets, bad keys, early stopping', async () => {
  const { x, seg, fg } = data(4);
  const m = build('bad_');
  assert.throws(() => m.trainStep(x, [seg, fg]), /not compiled/);
  assert.throws(
    () => m.compile({ optimizer: new vg.SGD(), loss: { bad_seg: diceLoss, bad_sgg: tverskyLoss } }),
    /argument 'loss' expected keys among the outputs 'bad_seg', 'bad_aux', got the key 'bad_sgg'/,
  );
  m.compile({ optimizer: new vg.SGD({ learningRate: 0.0 }), loss: [diceLoss, tverskyLoss] });
  try {
    await m.fit(x, [seg], {});
    assert.unreachable('fit with one target for two outputs');
  } catch (e) {
    assert.match((e as Error).message, /fit.*'y'.*2 targets/);
  }
  assert.throws(
    () => m.call(vg.zeros([2, 4, 4, 4, 1])),
    /call: argument 'x' expected shape \[batch, 8, 8, 8, 1\] for the input 'bad_image'/,
  );
  const stop = vg.earlyStopping({ monitor: 'loss', patience: 1 });
  const h = await m.fit(x, [seg, fg], { epochs: 10, batchSize: 6, callbacks: [stop] });
  assert.ok(
    h.epoch.length < 10 && stop.stoppedEpoch !== null,
    'a learning rate of 0 never improves, so training stops early',
  );
});

t.run();
