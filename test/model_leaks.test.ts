/**
 * Every public model method leaves behind exactly the tensors it returns: call, predict (also in
 * batches), evaluate, fit, trainStep, lossPaths, summary, saveWeights / toArtifacts, called
 * outside any scope, many times; also when a loss, a metric, a callback or a layer throws midway,
 * and when an argument is refused. `Model.dispose()` frees the weights and the optimizer state.
 */
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';
import { noLeak, rejects, rng } from './helpers.js';

const t = suite('models leak nothing: each public method leaves exactly what it returns');
t.before(setup);

const S = 4;

/** A two-head model with Dense layers (their matmul and bias-add intermediates are what leaked). */
function build(prefix: string): vg.Model {
  const x = vg.input({ shape: [S, S, S, 2], name: `${prefix}x` });
  const h = new vg.Dense({ units: 5, activation: 'relu', seed: 1, name: `${prefix}hidden` }).apply(x);
  const h2 = new vg.Dense({ units: 5, activation: 'tanh', seed: 2, name: `${prefix}hidden2` }).apply(h);
  const seg = new vg.Dense({ units: 3, seed: 3, name: `${prefix}seg` }).apply(h2);
  const fg = new vg.Dense({ units: 1, seed: 4, name: `${prefix}fg` }).apply(h2);
  return vg.model({ inputs: x, outputs: [seg, fg] });
}

function data(n: number): { x: vg.Tensor; seg: vg.Tensor; fg: vg.Tensor } {
  const r = rng(n);
  const labels = Int32Array.from({ length: n * S ** 3 }, () => Math.floor(3 * r()));
  return {
    x: vg.tensor(
      Float32Array.from({ length: n * S ** 3 * 2 }, () => r() - 0.5),
      [n, S, S, S, 2],
    ),
    seg: vg.tensor(labels, [n, S, S, S], 'int32'),
    fg: vg.tensor(
      Float32Array.from(labels, (k) => (k > 0 ? 1 : 0)),
      [n, S, S, S, 1],
    ),
  };
}

const dice = { name: 'dice', activation: 'softmax' } as const;
const bce = { name: 'binaryCrossentropy', fromLogits: true } as const;

const disposeAll = (r: Record<string, vg.Tensor>): void => {
  for (const v of Object.values(r)) v.dispose();
};

t('predict and call outside any scope: 20 calls leave only what they return', async () => {
  const { x, seg, fg } = data(5);
  const m = build('p_');
  for (const [label, run] of [
    ['predict', () => m.predict(x)],
    ['predict in batches of 2', () => m.predict(x, { batchSize: 2 })],
    ['call', () => m.call(x)],
    ['call while training', () => m.call(x, true)],
  ] as const) {
    await noLeak(label, async () => {
      for (let i = 0; i < 20; i++) {
        const out = run();
        assert.equal(Object.keys(out), ['p_seg', 'p_fg']);
        await vg.readAll(Object.values(out));
        disposeAll(out);
      }
    });
  }
  // Returned: exactly one tensor per output.
  const before = vg.memory().liveTensors;
  const out = m.predict(x, { batchSize: 2 });
  assert.is(vg.memory().liveTensors, before + 2);
  disposeAll(out);
  vg.tidy(() => [x, seg, fg].forEach((v) => v.dispose()));
  m.dispose();
});

t(
  'evaluate, fit, trainStep, lossPaths, summary, saveWeights, toArtifacts leave nothing (or only what they return)',
  async () => {
    const { x, seg, fg } = data(6);
    const m = build('e_');
    // Plain SGD keeps no optimizer state, so a step changes no count.
    m.compile({
      optimizer: new vg.SGD({ learningRate: 0.01 }),
      loss: [dice, bce],
      metrics: { e_seg: ['dice', 'iou'] },
    });
    const sw = [1, 2, 3, 4, 5, 6];
    await noLeak('evaluate', () => m.evaluate(x, [seg, fg], { batchSize: 4, sampleWeight: sw }));
    await noLeak('fit', () =>
      m.fit(x, [seg, fg], {
        epochs: 2,
        batchSize: 4,
        sampleWeight: [sw, sw],
        validationSplit: 0.3,
        callbacks: [{ onBatchEnd: () => {} }],
      }),
    );
    await noLeak('fit with validation data and class weights', async () => {
      const one = vg.model({ inputs: m.inputs, outputs: [m.outputs[0]] });
      one.compile({ optimizer: new vg.SGD({ learningRate: 0.01 }), loss: 'diceCrossentropy' });
      await one.fit(x, seg, { epochs: 1, batchSize: 3, classWeight: { 0: 0.5, 2: 2 }, validationData: [x, seg, sw] });
    });
    await noLeak('trainStep, its results disposed', () => {
      const r = m.trainStep(x, [seg, fg], { sampleWeight: sw });
      assert.equal(Object.keys(r.perOutput), ['e_seg', 'e_fg', 'e_seg_dice', 'e_seg_iou']);
      r.total.dispose();
      disposeAll(r.perOutput);
    });
    await noLeak('lossPaths', () => {
      const paths = m.lossPaths(x, [seg, fg]);
      assert.equal(paths.e_fg, ['e_hidden', 'e_hidden2', 'e_fg']);
    });
    await noLeak('summary', () => m.summary(false));
    await noLeak('saveWeights', () => m.saveWeights());
    await noLeak('toArtifacts', () => m.toArtifacts());
    vg.tidy(() => [x, seg, fg].forEach((v) => v.dispose()));
    m.dispose();
  },
);

t('a throwing loss, metric, callback or layer: fit, evaluate and predict free the finished batches', async () => {
  const { x, seg, fg } = data(8);
  const m = build('th_');
  let calls = 0;
  const failOn = (n: number) => (yt: vg.Tensor, yp: vg.Tensor) => {
    if (++calls === n) throw new Error(`loss failed on call ${n}`);
    return vg.dice(yt, yp, { activation: 'softmax' });
  };
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    [
      'fit: the loss throws in the third batch',
      () => {
        calls = 0;
        m.compile({ optimizer: new vg.SGD({ learningRate: 0.01 }), loss: [failOn(3), bce] });
        return m.fit(x, [seg, fg], { epochs: 2, batchSize: 2 });
      },
      /loss failed on call 3/,
    ],
    [
      'evaluate: the loss throws in the fourth batch',
      () => {
        calls = 0;
        m.compile({ optimizer: new vg.SGD({ learningRate: 0.01 }), loss: [failOn(4), bce] });
        return m.evaluate(x, [seg, fg], { batchSize: 2 });
      },
      /loss failed on call 4/,
    ],
    [
      'fit: validation throws in its second batch, after an epoch of training',
      () => {
        calls = 0;
        m.compile({ optimizer: new vg.SGD({ learningRate: 0.01 }), loss: [failOn(4), bce] });
        return m.fit(x, [seg, fg], { epochs: 2, batchSize: 2, validationSplit: 0.5 });
      },
      /loss failed on call 4/,
    ],
    [
      'fit: a metric throws',
      () => {
        const metric = function broken(): vg.Tensor {
          throw new Error('metric failed');
        };
        m.compile({ optimizer: new vg.SGD({ learningRate: 0.01 }), loss: [dice, bce], metrics: { th_seg: [metric] } });
        return m.fit(x, [seg, fg], { epochs: 1, batchSize: 2 });
      },
      /metric failed/,
    ],
    [
      'fit: onBatchEnd throws at the third batch',
      () => {
        m.compile({ optimizer: new vg.SGD({ learningRate: 0.01 }), loss: [dice, bce] });
        const cb = {
          onBatchEnd(batch: number) {
            if (batch === 2) throw new Error('onBatchEnd failed');
          },
        };
        return m.fit(x, [seg, fg], { epochs: 1, batchSize: 2, callbacks: [cb] });
      },
      /onBatchEnd failed/,
    ],
    [
      'fit: an async onEpochEnd rejects',
      () => {
        const cb = {
          async onEpochEnd(): Promise<boolean> {
            throw new Error('onEpochEnd failed');
          },
        };
        return m.fit(x, [seg, fg], { epochs: 3, batchSize: 3, callbacks: [cb] });
      },
      /onEpochEnd failed/,
    ],
    [
      'fit: a refused argument after host weights were uploaded',
      () => m.fit(x, [seg, fg], { sampleWeight: [1, 1, 1, 1, 1, 1, 1, 1], validationData: [x, [seg]] }),
      /'validationData\[1\]' expected a list of 2 targets/,
    ],
  ];
  for (const [label, run, re] of cases) await noLeak(label, () => rejects(run, Error, re));

  // A layer that throws on its second use: the outputs of the layers before it are freed.
  class Fragile extends vg.Layer {
    uses = 0;
    constructor() {
      super('fragile', 'th_fragile');
    }
    outputShape(shapes: readonly (readonly number[])[]): number[] {
      return [...shapes[0]];
    }
    call([h]: readonly vg.Tensor[]): vg.Tensor {
      if (++this.uses === 2) throw new Error('layer failed');
      return vg.mul(vg.add(h, 1), 2);
    }
  }
  const input = vg.input({ shape: [S, S, S, 2], name: 'th_in' });
  const hidden = new vg.Dense({ units: 4, seed: 5, name: 'th_d1' }).apply(input);
  const fragile = new Fragile();
  const out = new vg.Dense({ units: 2, seed: 6, name: 'th_d2' }).apply(fragile.apply(hidden));
  const f = vg.model({ inputs: input, outputs: [out] });
  await noLeak('predict: a layer throws in the second batch', () =>
    rejects(async () => f.predict(x, { batchSize: 4 }), Error, /layer failed/),
  );
  await noLeak('call: the layer throws again', async () => {
    fragile.uses = 1;
    await rejects(async () => f.call(x), Error, /layer failed/);
  });
  vg.tidy(() => [x, seg, fg].forEach((v) => v.dispose()));
  m.dispose();
  f.dispose();
});

t('Model.dispose() frees the weights and the optimizer state; the model then refuses to run', async () => {
  const { x, seg, fg } = data(4);
  await noLeak('build, train with Adam (moments), dispose', async () => {
    const m = build('d_');
    m.compile({ optimizer: new vg.Adam({ learningRate: 0.01 }), loss: [dice, bce] });
    await m.fit(x, [seg, fg], { epochs: 2, batchSize: 2 });
    m.dispose();
    m.dispose();
    assert.throws(
      () => m.predict(x),
      (e: Error) => e instanceof vg.DisposedError && /predict: the model 'model' was disposed/.test(e.message),
    );
    await rejects(() => m.fit(x, [seg, fg]), vg.DisposedError, /fit: the model 'model' was disposed/);
  });
  // An optimizer shared by two models keeps the other model's state.
  const a = build('da_');
  const b = build('db_');
  const adam = new vg.Adam({ learningRate: 0.01 });
  for (const m of [a, b]) {
    m.compile({ optimizer: adam, loss: [dice, bce] });
    await m.fit(x, [seg, fg], { epochs: 1, batchSize: 4 });
  }
  const before = vg.memory().liveTensors;
  a.dispose();
  // a's weights and a's Adam state (one tensor per trainable weight) are gone, b's state is not.
  assert.is(vg.memory().liveTensors, before - a.layers.flatMap((l) => l.allWeights).length - a.trainableWeights.length);
  await noLeak('the other model trains on with its state', () => b.fit(x, [seg, fg], { epochs: 1, batchSize: 4 }));
  b.dispose();
  vg.tidy(() => [x, seg, fg].forEach((v) => v.dispose()));
});

t.run();
