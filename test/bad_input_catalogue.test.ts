// One catalogue of bad calls across the public API. Each must throw an error of a named class
// whose message names the function, the argument, what was expected and what was given; after
// each, no tensor or GPU buffer is left behind and the engine still computes correctly.
import * as assert from 'uvu/assert';
import { intOption, parseArgs } from '../src/cli/args.js';
import * as vg from '../src/index.node.js';
import { foregroundLoss, segmentationLoss, twoHeadModel } from '../src/models/two_heads.js';
import { setup, suite } from './harness.js';

const t = suite('bad input catalogue (named error, message, no leak, engine keeps working)');
t.before(setup);

type ErrorClass = new (...args: never[]) => vg.VoxgradError;
interface BadCall {
  /** The function and argument the message must name. */
  fn: string;
  arg: string;
  error: ErrorClass;
  call: () => unknown;
}

// Shared, valid inputs (created once, outside the leak accounting).
let x: vg.Tensor;
let labels: vg.Tensor;
let probs: vg.Tensor;
let net: vg.Model;
let fresh: vg.Model;
let wrongShapeWeights: Uint8Array;
const makeNet = (): vg.Model => twoHeadModel({ size: 8, classes: 3, filters: 4 });

const cases: BadCall[] = [
  // tensor creation
  { fn: 'tensor', arg: 'shape', error: vg.ShapeError, call: () => vg.tensor([1, 2, 3], [2, 2]) },
  { fn: 'tensor', arg: 'dtype', error: vg.DTypeError, call: () => vg.tensor([1, 2], [2], 'float16' as vg.DType) },
  { fn: 'zeros', arg: 'shape', error: vg.ShapeError, call: () => vg.zeros([2, -1]) },
  { fn: 'fill', arg: 'value', error: vg.ValueError, call: () => vg.fill([2], '1' as unknown as number) },
  { fn: 'randomNormal', arg: 'seed', error: vg.ValueError, call: () => vg.randomNormal([2, 2], { seed: 1.5 }) },
  // ops
  { fn: 'add', arg: 'b', error: vg.ShapeError, call: () => vg.add(vg.zeros([2, 3]), vg.zeros([4])) },
  { fn: 'add', arg: 'b', error: vg.DTypeError, call: () => vg.add(vg.zeros([2]), vg.zeros([2], 'int32')) },
  { fn: 'matmul', arg: 'b', error: vg.ShapeError, call: () => vg.matmul(vg.zeros([2, 3]), vg.zeros([4, 5])) },
  { fn: 'sum', arg: 'axis', error: vg.ValueError, call: () => vg.sum(vg.zeros([2, 3]), 5) },
  { fn: 'reshape', arg: 'shape', error: vg.ShapeError, call: () => vg.reshape(vg.zeros([2, 3]), [7]) },
  { fn: 'transpose', arg: 'perm', error: vg.ShapeError, call: () => vg.transpose(vg.zeros([2, 3]), [0, 0]) },
  { fn: 'slice', arg: 'size[0]', error: vg.ValueError, call: () => vg.slice(vg.zeros([2, 3]), [0, 0], [5, 5]) },
  { fn: 'softmax', arg: 'axis', error: vg.ValueError, call: () => vg.softmax(vg.zeros([2, 3]), 3) },
  { fn: 'cast', arg: 'dtype', error: vg.DTypeError, call: () => vg.cast(vg.zeros([2]), 'bool' as vg.DType) },
  {
    fn: 'conv3d',
    arg: 'x',
    error: vg.ShapeError,
    call: () => vg.conv3d(vg.zeros([1, 4, 4, 4]), vg.zeros([3, 3, 3, 1, 2])),
  },
  {
    fn: 'conv3d',
    arg: 'kernel',
    error: vg.ShapeError,
    call: () => vg.conv3d(vg.zeros([1, 4, 4, 4, 2]), vg.zeros([3, 3, 3, 1, 2])),
  },
  {
    fn: 'maxPool3d',
    arg: 'poolSize',
    error: vg.ValueError,
    call: () => vg.maxPool3d(vg.zeros([1, 4, 4, 4, 1]), { poolSize: 0 }),
  },
  {
    fn: 'groupNorm',
    arg: 'groups',
    error: vg.ValueError,
    call: () => vg.groupNorm(vg.zeros([1, 4, 4, 4, 6]), null, null, { groups: 4 }),
  },
  {
    fn: 'add',
    arg: 'a',
    error: vg.DisposedError,
    call: () => {
      const d = vg.zeros([2]);
      d.dispose();
      return vg.add(d, 1);
    },
  },
  // losses and metrics
  { fn: 'dice', arg: 'yTrue', error: vg.ShapeError, call: () => vg.dice(probs, vg.zeros([1, 4, 4, 4, 2])) },
  { fn: 'dice', arg: 'smooth', error: vg.ValueError, call: () => vg.dice(probs, probs, { smooth: -1 }) },
  { fn: 'tversky', arg: 'alpha', error: vg.ValueError, call: () => vg.tversky(probs, probs, { alpha: -0.5 }) },
  {
    fn: 'generalizedDice',
    arg: 'weightType',
    error: vg.ValueError,
    call: () => vg.generalizedDice(probs, probs, { weightType: 'cubic' as 'square' }),
  },
  {
    fn: 'categoricalCrossentropy',
    arg: 'reduction',
    error: vg.ValueError,
    call: () => vg.categoricalCrossentropy(probs, probs, { reduction: 'median' as 'mean' }),
  },
  {
    fn: 'dice',
    arg: 'yTrue',
    error: vg.ValueError,
    call: () =>
      vg.dice(
        Int32Array.from({ length: 64 }, (_, i) => i % 5),
        probs,
      ),
  },
  {
    fn: 'binaryCrossentropy',
    arg: 'yPred',
    error: vg.ValueError,
    call: () => vg.binaryCrossentropy(probs, [[[[[0.5, 1.5, 0.2]]]]]),
  },
  // layers, optimizers, models
  { fn: 'Conv3D', arg: 'filters', error: vg.ValueError, call: () => new vg.Conv3D({ filters: 0, kernelSize: 3 }) },
  {
    fn: 'Conv3D',
    arg: 'padding',
    error: vg.ValueError,
    call: () => new vg.Conv3D({ filters: 2, kernelSize: 3, padding: 'full' as 'same' }),
  },
  { fn: 'Dense', arg: 'units', error: vg.ValueError, call: () => new vg.Dense({ units: -1 }) },
  {
    fn: 'group_normalization',
    arg: 'input',
    error: vg.ShapeError,
    call: () => new vg.GroupNormalization({ groups: 3 }).apply(vg.input({ shape: [4, 4, 4, 8] })),
  },
  { fn: 'Adam', arg: 'learningRate', error: vg.ValueError, call: () => new vg.Adam({ learningRate: -1 }) },
  {
    fn: 'compile',
    arg: 'loss',
    error: vg.ValueError,
    call: () => fresh.compile({ optimizer: new vg.Adam(), loss: { nope: segmentationLoss } }),
  },
  {
    fn: 'compile',
    arg: 'lossWeights',
    error: vg.ValueError,
    call: () =>
      fresh.compile({ optimizer: new vg.Adam(), loss: [segmentationLoss, foregroundLoss], lossWeights: [1, 2, 3] }),
  },
  { fn: 'predict', arg: 'x', error: vg.ShapeError, call: () => net.predict(vg.zeros([1, 8, 8, 8, 2])) },
  {
    fn: 'fit',
    arg: 'y',
    error: vg.ShapeError,
    call: () => net.fit(x, [labels, vg.zeros([2, 8, 8, 8, 1])], { epochs: 1 }),
  },
  {
    fn: 'fit',
    arg: 'epochs',
    error: vg.ValueError,
    call: () => net.fit(x, [labels, vg.zeros([1, 8, 8, 8, 1])], { epochs: 0 }),
  },
  // save / load
  {
    fn: 'loadSafetensors',
    arg: 'bytes',
    error: vg.ValueError,
    call: () => vg.loadSafetensors(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])),
  },
  { fn: 'loadWeights', arg: 'bytes', error: vg.ValueError, call: () => net.loadWeights(wrongShapeWeights) },
  // command line
  {
    fn: 'voxgrad train',
    arg: '--epochs',
    error: vg.ValueError,
    call: () => intOption(parseArgs(['--epochs', 'abc'], { epochs: 'value' }, 'train'), 'epochs', 1),
  },
  {
    fn: 'voxgrad train',
    arg: '--epoch',
    error: vg.ValueError,
    call: () => parseArgs(['--epoch', '3'], { epochs: 'value' }, 'train'),
  },
];

t.before(async () => {
  const wrong = vg.zeros([1, 1, 1, 1, 1]);
  wrongShapeWeights = await vg.saveSafetensors({ 'trunk_conv1/kernel': wrong });
  wrong.dispose();
  x = vg.keep(vg.zeros([1, 8, 8, 8, 1]));
  labels = vg.keep(vg.tensor(new Int32Array(512), [1, 8, 8, 8], 'int32'));
  probs = vg.keep(vg.fill([1, 4, 4, 4, 3], 1 / 3));
  net = makeNet();
  fresh = makeNet();
  net.compile({ optimizer: new vg.Adam(), loss: [segmentationLoss, foregroundLoss] });
});

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

t(`${cases.length} bad calls: named error, full message, nothing leaked, the next valid call works`, async () => {
  assert.ok(cases.length >= 30);
  const failures: string[] = [];
  for (const c of cases) {
    const before = vg.memory();
    let thrown: unknown = null;
    try {
      // fit is async: its argument errors reject the promise it returns.
      let pending: Promise<unknown> | null = null;
      const r = vg.tidy(() => {
        const out = c.call();
        if (out instanceof Promise) pending = out;
        return out instanceof vg.Tensor ? out : undefined;
      });
      if (r instanceof vg.Tensor) r.dispose();
      if (pending) await pending;
    } catch (e) {
      thrown = e;
    }
    const label = `${c.fn} '${c.arg}'`;
    const fail = (why: string): number => failures.push(`${label}: ${why}`);
    if (!(thrown instanceof c.error)) {
      fail(
        `expected a ${c.error.name}, got ${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)}`,
      );
    } else if (
      !new RegExp(`^${escapeRegExp(c.fn)}: argument '${escapeRegExp(c.arg)}' expected .+, got .+`).test(thrown.message)
    ) {
      fail(`message does not name function, argument, expected and given: ${thrown.message}`);
    }
    const after = vg.memory();
    for (const k of ['liveTensors', 'liveBuffers', 'liveBytes'] as const) {
      if (after[k] !== before[k]) fail(`${k} ${before[k]} -> ${after[k]}`);
    }
    const sum = vg.sum(vg.add(vg.tensor([1, 2, 3]), 1));
    const value = (await sum.data())[0];
    if (value !== 9) fail(`the engine no longer computes (sum = ${value})`);
    sum.dispose();
  }
  assert.equal(failures, []);
});

t.after(() => {
  vg.tidy(() => [x, labels, probs].forEach((v) => v.dispose()));
});

t.run();
