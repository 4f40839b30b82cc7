import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { computeLosses, resolveLosses } from '../src/nn/compile_loss.js';
import { setup, suite } from './harness.js';

const t = suite('multi-output losses (Keras 3 rules, reference cases)');
t.before(setup);

const here = dirname(fileURLToPath(import.meta.url));
const cases = JSON.parse(readFileSync(join(here, '../../test/fixtures/reference-cases.json'), 'utf8'));
const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
const toTensor = (rows: number[][] | number[]): vg.Tensor => {
  const shape = Array.isArray(rows[0]) ? [rows.length, (rows[0] as number[]).length] : [rows.length];
  return vg.tensor(Float32Array.from(flat(rows)), shape);
};

const statics = cases.multi_output.filter((c: { kind: string }) => c.kind === 'static');

t(`all ${statics.length} static multi-output cases: totals and unweighted per-output losses within 1e-4`, async () => {
  for (const c of statics) {
    // Nested loss structures (Keras only) are given here in their flattened form, `a`, `b/0`, ...
    const nested = Object.values(c.given.loss ?? {}).some((v) => Array.isArray(v));
    const loss = nested ? c.losses : c.given.loss;
    const weights = nested ? c.weights : c.given.loss_weights;
    const resolved = resolveLosses(c.outputs, loss, weights);
    const yTrue = Object.fromEntries(Object.entries(c.y_true).map(([k, v]) => [k, toTensor(v as number[][])]));
    const yPred = Object.fromEntries(Object.entries(c.y_pred).map(([k, v]) => [k, toTensor(v as number[][])]));
    const sw =
      c.sample_weight === null
        ? null
        : Array.isArray(c.sample_weight)
          ? toTensor(c.sample_weight)
          : Object.fromEntries(Object.entries(c.sample_weight).map(([k, v]) => [k, toTensor(v as number[])]));
    const { total, perOutput } = computeLosses(resolved, yTrue, yPred, sw);
    const got = (await total.data())[0];
    assert.ok(Math.abs(got - c.expected.total) <= 1e-4, `${c.id}: total ${got}, expected ${c.expected.total}`);
    const want = c.expected.per_output_unweighted ?? c.recomputed.per_output_unweighted;
    assert.equal(Object.keys(perOutput).sort(), Object.keys(want).sort(), `${c.id}: outputs with a loss`);
    for (const [name, value] of Object.entries(want)) {
      const v = (await perOutput[name].data())[0];
      assert.ok(Math.abs(v - (value as number)) <= 1e-4, `${c.id}: ${name}_loss ${v}, expected ${value}`);
    }
    vg.tidy(() =>
      [...Object.values(yTrue), ...Object.values(yPred), total, ...Object.values(perOutput)].forEach((x) =>
        x.dispose(),
      ),
    );
  }
});

t("training histories: each output's loss reaches only its own branch (SGD, closed form)", async () => {
  for (const c of cases.multi_output.filter((x: { kind: string }) => x.kind === 'training_history')) {
    const names = Object.keys(c.model.outputs);
    const spec = c.model.outputs;
    const kernels = names.map((n) =>
      vg.variable(vg.fill([spec[n].input_dim, spec[n].units], spec[n].kernel_init), { name: n }),
    );
    const resolved = resolveLosses(
      names,
      Object.fromEntries(names.map((n) => [n, spec[n].loss])),
      Object.fromEntries(names.map((n) => [n, spec[n].weight])),
    );
    const opt = new vg.SGD({ learningRate: c.model.optimizer.learning_rate });
    const history: number[] = [];
    const perOutputHistory: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let epoch = 0; epoch < c.model.epochs; epoch++) {
      const batchTotals: number[] = [];
      const batchParts: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
      for (let start = 0; start < c.model.dataset_size; start += c.model.batch_size) {
        const n = Math.min(c.model.batch_size, c.model.dataset_size - start);
        const kept: vg.Tensor[] = [];
        vg.tidy(() => {
          const x = Object.fromEntries(names.map((k) => [k, vg.fill([n, spec[k].input_dim], spec[k].input_value)]));
          const y = Object.fromEntries(names.map((k) => [k, vg.fill([n, spec[k].units], spec[k].target_value)]));
          opt.minimize(() => {
            const preds = Object.fromEntries(names.map((k, i) => [k, vg.matmul(x[k], kernels[i])]));
            const { total, perOutput } = computeLosses(resolved, y, preds);
            kept.push(vg.keep(vg.add(total, 0)), ...names.map((k) => vg.keep(vg.add(perOutput[k], 0))));
            return total;
          }, kernels);
        });
        const values = await vg.readAll(kept);
        batchTotals.push(values[0][0]);
        names.forEach((k, i) => batchParts[k].push(values[1 + i][0]));
        kept.forEach((k) => k.dispose());
      }
      history.push(batchTotals.reduce((a, b) => a + b, 0) / batchTotals.length);
      names.forEach((k) => perOutputHistory[k].push(batchParts[k].reduce((a, b) => a + b, 0) / batchParts[k].length));
    }
    const want = c.recomputed;
    want.history_loss.forEach((v: number, e: number) =>
      assert.ok(Math.abs(history[e] - v) <= 1e-4, `${c.id}: epoch ${e} loss ${history[e]}, expected ${v}`),
    );
    for (const k of names) {
      want.per_output_history[k].forEach((v: number, e: number) =>
        assert.ok(
          Math.abs(perOutputHistory[k][e] - v) <= 1e-4,
          `${c.id}: ${k} loss ${perOutputHistory[k][e]}, expected ${v}`,
        ),
      );
      const entries = await kernels[names.indexOf(k)].data();
      assert.ok(
        entries.every((e) => Math.abs(e - want.kernel_entry_after[k]) <= 1e-5),
        `${c.id}: kernel of ${k} ${Array.from(entries)}, expected all ${want.kernel_entry_after[k]}`,
      );
    }
    kernels.forEach((k) => k.dispose());
  }
});

t('bad keys and sizes are rejected with the valid output names', () => {
  const names = ['seg', 'aux'];
  const cases2: [() => unknown, RegExp][] = [
    [
      () => resolveLosses(names, { seg: 'dice', segg: 'mse' }),
      /compile: argument 'loss' expected keys among the outputs 'seg', 'aux', got the key 'segg', which is not an output/,
    ],
    [() => resolveLosses(names, ['dice']), /compile.*'loss'.*a list of 2 losses \(one per output: seg, aux\).*1/],
    [
      () => resolveLosses(names, ['dice', 'mse'], { seg: 0.5, axu: 0.3 }),
      /argument 'lossWeights' expected keys among the outputs 'seg', 'aux', got the key 'axu'/,
    ],
    [() => resolveLosses(names, ['dice', 'mse'], [0.5]), /lossWeights.*a list of 2 weights/],
    [() => resolveLosses(names, ['dice', 'mse'], [0.5, Number.NaN]), /lossWeights for 'aux'.*finite number/],
    [() => resolveLosses(names, 'hinge'), /compile.*'loss'.*a name among 'mse'/],
    [() => resolveLosses(names, { seg: null }), /a loss for at least one output/],
  ];
  for (const [f, re] of cases2) assert.throws(f, re);
  const resolved = resolveLosses(names, { seg: 'mse' }, { seg: 0.5 });
  assert.equal(
    resolved.map((r) => [r.output, r.weight]),
    [['seg', 0.5]],
  );
  assert.throws(
    () => vg.tidy(() => computeLosses(resolved, {}, { seg: vg.zeros([2, 1]), aux: vg.zeros([2, 1]) }).total),
    /labels for the output 'seg'/,
  );
});

t('a list and a record of weights give the same total, 0.5·dice + 0.3·tversky', async () => {
  const yt = vg.tidy(() => vg.cast(vg.greater(vg.randomUniform([2, 6, 6, 6, 1], { seed: 1 }), 0.6), 'float32'));
  const p1 = vg.randomUniform([2, 6, 6, 6, 1], { seed: 2 });
  const p2 = vg.randomUniform([2, 6, 6, 6, 1], { seed: 3 });
  const names = ['y1', 'y2'];
  const a = computeLosses(
    resolveLosses(names, ['dice', 'tversky'], [0.5, 0.3]),
    { y1: yt, y2: yt },
    { y1: p1, y2: p2 },
  );
  const b = computeLosses(
    resolveLosses(names, { y1: 'dice', y2: 'tversky' }, { y2: 0.3, y1: 0.5 }),
    { y1: yt, y2: yt },
    { y1: p1, y2: p2 },
  );
  const [ta, tb, d, tv] = await vg.readAll([a.total, b.total, vg.dice(yt, p1), vg.tversky(yt, p2)]);
  assert.ok(Math.abs(ta[0] - (0.5 * d[0] + 0.3 * tv[0])) < 1e-6);
  assert.is(ta[0], tb[0]);
});

t.run();
