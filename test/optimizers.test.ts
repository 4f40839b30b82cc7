import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';
import { randomNd } from './helpers.js';

const t = suite('optimizers (float64 reference over several steps)');
t.before(setup);

interface RefOpts {
  kind: 'sgd' | 'adam' | 'adamw';
  lr: (step: number) => number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  clipNorm?: number;
  clipValue?: number;
}

/** Plain float64 loops of the textbook update rules, for any number of parameters. */
function reference(params: Float64Array[], gradsPerStep: Float64Array[][], o: RefOpts): Float64Array[] {
  const p = params.map((x) => x.slice());
  const s1 = p.map((x) => new Float64Array(x.length));
  const s2 = p.map((x) => new Float64Array(x.length));
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.epsilon ?? 1e-7;
  const wd = o.weightDecay ?? (o.kind === 'adamw' ? 0.004 : 0);
  gradsPerStep.forEach((grads, step) => {
    let scale = 1;
    if (o.clipNorm) {
      const norm = Math.sqrt(grads.reduce((acc, g) => acc + g.reduce((a, x) => a + x * x, 0), 0));
      scale = Math.min(1, o.clipNorm / Math.max(norm, 1e-12));
    }
    const lr = o.lr(step);
    p.forEach((x, k) => {
      for (let i = 0; i < x.length; i++) {
        let g = grads[k][i] * scale;
        if (o.clipValue) g = Math.min(o.clipValue, Math.max(-o.clipValue, g));
        if (o.kind !== 'adamw') g += wd * x[i];
        if (o.kind === 'sgd') {
          const mom = o.momentum ?? 0;
          let stepV = g;
          if (mom > 0) {
            s1[k][i] = mom * s1[k][i] + g;
            stepV = o.nesterov ? g + mom * s1[k][i] : s1[k][i];
          }
          x[i] -= lr * stepV;
        } else {
          s1[k][i] = b1 * s1[k][i] + (1 - b1) * g;
          s2[k][i] = b2 * s2[k][i] + (1 - b2) * g * g;
          const t1 = step + 1;
          const mhat = s1[k][i] / (1 - b1 ** t1);
          const vhat = s2[k][i] / (1 - b2 ** t1);
          const before = x[i];
          x[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
          if (o.kind === 'adamw') x[i] -= lr * wd * before;
        }
      }
    });
  });
  return p;
}

async function compare(make: () => vg.Optimizer, ref: RefOpts, label: string): Promise<void> {
  const shapes = [[7, 5], [13]];
  const init = shapes.map((s, k) => randomNd(s, 10 + k));
  const steps = 6;
  const grads = Array.from({ length: steps }, (_, st) =>
    shapes.map((s, k) => randomNd(s, 100 + 10 * st + k, -3, 3).data),
  );
  const vars = init.map((x, k) => vg.variable(vg.tensor(Float32Array.from(x.data), x.shape), { name: `p${k}` }));
  const opt = make();
  for (let st = 0; st < steps; st++) {
    const gs = grads[st].map((g, k) => vg.tensor(Float32Array.from(g), shapes[k]));
    opt.applyGradients(vars, gs);
    gs.forEach((g) => g.dispose());
  }
  const expected = reference(
    init.map((x) => x.data),
    grads,
    ref,
  );
  const got = await vg.readAll(vars);
  got.forEach((arr, k) => {
    for (let i = 0; i < arr.length; i++) {
      const e = expected[k][i];
      if (Math.abs(arr[i] - e) > 1e-5 * Math.max(1, Math.abs(e)))
        assert.unreachable(`${label}: param ${k}[${i}] = ${arr[i]}, reference ${e}`);
    }
  });
  assert.is(opt.iterations, steps);
  opt.dispose();
  vars.forEach((v) => v.dispose());
}

const constant = (lr: number) => () => lr;

t('SGD, momentum, Nesterov and L2 weight decay', async () => {
  await compare(() => new vg.SGD({ learningRate: 0.1 }), { kind: 'sgd', lr: constant(0.1) }, 'sgd');
  await compare(
    () => new vg.SGD({ learningRate: 0.05, momentum: 0.9 }),
    { kind: 'sgd', lr: constant(0.05), momentum: 0.9 },
    'momentum',
  );
  await compare(
    () => new vg.SGD({ learningRate: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.01 }),
    { kind: 'sgd', lr: constant(0.05), momentum: 0.8, nesterov: true, weightDecay: 0.01 },
    'nesterov + decay',
  );
});

t('Adam and AdamW (decoupled decay), with bias correction', async () => {
  await compare(() => new vg.Adam({ learningRate: 0.01 }), { kind: 'adam', lr: constant(0.01) }, 'adam');
  await compare(
    () => new vg.Adam({ learningRate: 0.01, weightDecay: 0.1, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 }),
    { kind: 'adam', lr: constant(0.01), weightDecay: 0.1, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 },
    'adam + L2',
  );
  await compare(
    () => new vg.AdamW({ learningRate: 0.01, weightDecay: 0.05 }),
    { kind: 'adamw', lr: constant(0.01), weightDecay: 0.05 },
    'adamw',
  );
});

t('gradient clipping by global norm and by value', async () => {
  await compare(
    () => new vg.SGD({ learningRate: 0.1, clipNorm: 1.5 }),
    { kind: 'sgd', lr: constant(0.1), clipNorm: 1.5 },
    'clipNorm',
  );
  await compare(
    () => new vg.Adam({ learningRate: 0.01, clipValue: 0.5 }),
    { kind: 'adam', lr: constant(0.01), clipValue: 0.5 },
    'clipValue',
  );
  await compare(
    () => new vg.SGD({ learningRate: 0.1, momentum: 0.5, clipNorm: 2, clipValue: 0.3 }),
    { kind: 'sgd', lr: constant(0.1), momentum: 0.5, clipNorm: 2, clipValue: 0.3 },
    'both',
  );
});

t('learning-rate schedules: step and cosine decay, used step by step', async () => {
  const step = vg.stepDecay({ initial: 0.1, factor: 0.5, every: 2 });
  assert.equal([0, 1, 2, 3, 4].map(step), [0.1, 0.1, 0.05, 0.05, 0.025]);
  const cos = vg.cosineDecay({ initial: 1, decaySteps: 4, alpha: 0.1 });
  assert.ok(
    Math.abs(cos(0) - 1) < 1e-12 &&
      Math.abs(cos(2) - 0.55) < 1e-12 &&
      Math.abs(cos(4) - 0.1) < 1e-12 &&
      Math.abs(cos(9) - 0.1) < 1e-12,
  );
  const warm = vg.cosineDecay({ initial: 1, decaySteps: 10, warmupSteps: 4 });
  assert.equal([0, 1, 3].map(warm), [0.25, 0.5, 1]);
  await compare(() => new vg.Adam({ learningRate: step }), { kind: 'adam', lr: step }, 'adam with step decay');
  await compare(
    () => new vg.SGD({ learningRate: cos, momentum: 0.9 }),
    { kind: 'sgd', lr: cos, momentum: 0.9 },
    'sgd with cosine decay',
  );
});

t('minimize lowers a loss, and steady-state training leaves no tensor or buffer behind', async () => {
  const target = vg.tensor([1, -2, 3, 0.5], [4]);
  const w = vg.variable(vg.zeros([4]), { name: 'w' });
  const opt = new vg.Adam({ learningRate: 0.1 });
  const loss = () => vg.mean(vg.square(vg.sub(w, target)));
  const first = await opt.minimize(loss, [w]).data();
  vg.tidy(() => void opt.minimize(loss, [w]));
  await vg.sync();
  const before = vg.memory();
  for (let i = 0; i < 100; i++) vg.tidy(() => void opt.minimize(loss, [w]));
  const last = await vg.tidy(() => opt.minimize(loss, [w])).data();
  assert.ok(last[0] < 0.05 * first[0], `loss ${first[0]} -> ${last[0]}`);
  const after = vg.memory();
  assert.is(after.liveTensors, before.liveTensors + 1, 'only the last loss value is new');
  assert.is(after.liveBuffers, before.liveBuffers + 1);
  opt.dispose();
  w.dispose();
  target.dispose();
});

t('bad options and arguments are clear errors', () => {
  const v = vg.variable(vg.zeros([3]), { name: 'v' });
  const cases: [() => unknown, RegExp][] = [
    [() => new vg.SGD({ learningRate: -1 }), /SGD.*learningRate.*>= 0.*-1/],
    [() => new vg.Adam({ beta1: Number.NaN }), /Adam.*beta1/],
    [() => new vg.SGD({ momentum: -0.5 }), /SGD.*momentum.*\[0, 1\)/],
    [() => new vg.Adam({ beta2: 1 }), /Adam.*beta2.*\[0, 1\)/],
    [() => new vg.SGD().applyGradients([v], []), /applyGradients.*grads.*1 gradients/],
    [() => new vg.SGD().applyGradients([v], [vg.zeros([4])]), /grads\[0\].*3 elements.*'v'/],
    [() => vg.stepDecay({ initial: 0.1, factor: 0.5, every: 0 }), /stepDecay.*every.*> 0/],
    [() => vg.cosineDecay({ initial: 1, decaySteps: 10, alpha: 2 }), /cosineDecay.*alpha.*\[0, 1\]/],
  ];
  for (const [f, re] of cases) assert.throws(() => vg.tidy(() => void f()), re);
  v.dispose();
});

t.run();
