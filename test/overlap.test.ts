import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { checkGrad } from './gradcheck.js';
import { setup, suite } from './harness.js';
import * as L from './loss_oracle.js';
import { Nd } from './oracle.js';
import { gpuPred, gpuTrue, type Made, makeVolume } from './volumes.js';

const t = suite('overlapSums (fused kernel vs float64 oracle)');
t.before(setup);

const ALL: vg.OverlapStats = { absDiff: true, squares: true, logLikelihood: true, binaryLogLikelihood: true };

function expectedSums(m: Made, act: L.Act, stats: vg.OverlapStats): Nd {
  const s = L.sums(m.v, act);
  const slots = vg.statSlots(stats);
  const S = Object.keys(slots).length;
  const { B, C } = m.v;
  const out = new Float64Array(B * S * C);
  for (const [name, slot] of Object.entries(slots)) {
    const arr = s[name as keyof L.Sums];
    for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) out[(b * S + slot!) * C + c] = arr[b * C + c];
  }
  return new Nd([B, S, C], out);
}

async function compare(m: Made, act: L.Act, stats: vg.OverlapStats, label: string): Promise<void> {
  const yt = gpuTrue(m);
  const yp = gpuPred(m);
  const got = vg.overlapSums(yt, yp, { activation: act, ...stats });
  const exp = expectedSums(m, act, stats);
  const values = await got.data();
  assert.equal([...got.shape], exp.shape, `${label}: shape`);
  for (let i = 0; i < values.length; i++) {
    const e = exp.data[i];
    const tol = 2e-5 * Math.max(1, Math.abs(e)) + 1e-6 * m.v.N;
    if (!(Math.abs(values[i] - e) <= tol)) assert.unreachable(`${label}: sum ${i} is ${values[i]}, oracle ${e}`);
  }
  yt.dispose();
  yp.dispose();
  got.dispose();
}

const shapes: number[][] = [
  [2, 5, 4, 3, 1],
  [2, 4, 3, 5, 3],
  [3, 4, 4, 4, 4],
  [2, 3, 5, 7, 5],
  [1, 6, 6, 6, 8],
  [2, 3, 3, 3, 13],
  [1, 4, 4, 2, 64],
];
for (const shape of shapes) {
  for (const kind of ['onehot', 'soft', 'labels'] as const) {
    t(`[${shape}] ${kind}: all statistics, activations none / sigmoid / softmax`, async () => {
      const C = shape[4];
      // Many classes: one activation is enough (each variant is a separate, slower compile).
      const acts = C > 8 ? (['softmax'] as const) : (['none', 'sigmoid', 'softmax'] as const);
      for (const act of acts) {
        if (act === 'softmax' && C === 1) continue;
        const stats = act === 'softmax' ? { ...ALL, binaryLogLikelihood: false } : ALL;
        await compare(makeVolume(shape, C * 7 + shape[1], kind, act), act, stats, `[${shape}] ${kind} ${act}`);
      }
      // The default three statistics alone.
      await compare(makeVolume(shape, 3, kind, 'none'), 'none', {}, `[${shape}] ${kind} plain`);
    });
  }
}

t('a long volume spread over many workgroups, and a rank-3 (B, N, C) input', async () => {
  await compare(makeVolume([2, 40, 40, 40, 4], 11, 'labels', 'softmax'), 'softmax', {}, 'B=2 40^3');
  await compare(makeVolume([3, 1000, 3], 12, 'onehot', 'sigmoid'), 'sigmoid', { absDiff: true }, 'rank 3');
});

t('label maps given as (B, X, Y, Z, 1) equal those given as (B, X, Y, Z)', async () => {
  const m = makeVolume([2, 4, 4, 4, 3], 5, 'labels', 'none');
  const yp = gpuPred(m);
  const a = vg.overlapSums(vg.tensor(m.v.labels!, [2, 4, 4, 4], 'int32'), yp);
  const b = vg.overlapSums(vg.tensor(m.v.labels!, [2, 4, 4, 4, 1], 'int32'), yp);
  assert.equal(Array.from(await a.data()), Array.from(await b.data()));
});

t('label indices outside [0, C) on the GPU mark no class (C = 1: only index 1 is foreground)', async () => {
  const p = vg.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], [1, 3, 3]);
  const s = await vg.overlapSums(vg.tensor(new Int32Array([1, -1, 3]), [1, 3], 'int32'), p).data();
  // voxel 0 is class 1; voxels 1 and 2 belong to no class.
  assert.equal(
    Array.from(s).map((x) => Math.round(x * 1e5) / 1e5),
    [0, 0.2, 0, 0, 1, 0, 1.2, 1.5, 1.8],
  );
  const m = await vg
    .overlapSums(vg.tensor(new Int32Array([1, 2, 0]), [1, 3], 'int32'), vg.tensor([0.5, 0.25, 0.75], [1, 3, 1]))
    .data();
  assert.equal(Array.from(m), [0.5, 1, 1.5]);
});

t('bitwise identical sums over 20 runs', async () => {
  const m = makeVolume([2, 32, 32, 16, 4], 9, 'soft', 'none');
  const yt = gpuTrue(m);
  const yp = gpuPred(m);
  const first = await vg.overlapSums(yt, yp, { absDiff: true }).data();
  for (let run = 0; run < 20; run++) {
    const again = await vg.tidy(() => vg.overlapSums(yt, yp, { absDiff: true })).data();
    assert.ok(
      again.every((x, i) => Object.is(x, first[i])),
      `run ${run} differs`,
    );
  }
});

t('volumes split into binding windows (forward and backward) give the same results', async () => {
  const m = makeVolume([3, 10, 9, 7, 5], 21, 'soft', 'sigmoid');
  const yt = gpuTrue(m);
  const yp = gpuPred(m);
  const run = async (): Promise<ArrayLike<number>[]> => {
    const { value, grads } = vg.valueAndGrad(
      () => vg.sum(vg.mul(vg.overlapSums(yt, yp, { activation: 'sigmoid', absDiff: true }), 0.5)),
      [yp, yt],
    );
    return vg.readAll([value, grads[0]!, grads[1]!]);
  };
  const whole = await run();
  for (const bytes of [4096, 2560]) {
    vg.flags.maxBindingWindowBytes = bytes;
    try {
      const split = await run();
      split.forEach((arr, k) => {
        for (let i = 0; i < arr.length; i++) {
          const x = arr[i];
          if (Math.abs(x - whole[k][i]) > 1e-5 * Math.max(1, Math.abs(whole[k][i])))
            assert.unreachable(`window ${bytes}: output ${k}[${i}] ${x} vs ${whole[k][i]}`);
        }
      });
    } finally {
      vg.flags.maxBindingWindowBytes = 0;
    }
  }
});

t('gradients for y_pred and y_true come from one backward dispatch', async () => {
  const m = makeVolume([2, 6, 5, 4, 3], 41, 'soft', 'none');
  const yt = gpuTrue(m);
  const yp = gpuPred(m);
  const count = (wrt: vg.Tensor[]): number => {
    const before = vg.memory().dispatches;
    vg.tidy(() => void vg.valueAndGrad(() => vg.sum(vg.overlapSums(yt, yp)), wrt));
    return vg.memory().dispatches - before;
  };
  assert.is(count([yp, yt]), count([yp]));
  yt.dispose();
  yp.dispose();
});

t('empty volumes give zero sums', async () => {
  const s = vg.overlapSums(vg.zeros([2, 0, 3]), vg.zeros([2, 0, 3]));
  assert.equal([...s.shape], [2, 3, 3]);
  assert.ok((await s.data()).every((x) => x === 0));
});

t('bad input is rejected before any GPU work', () => {
  const before = vg.memory().liveTensors;
  const p = vg.zeros([1, 2, 2, 2, 3]);
  const cases: [() => unknown, RegExp][] = [
    [() => vg.overlapSums(vg.zeros([1, 2, 2, 2, 2]), p), /yTrue.*float32 of yPred's shape \[1, 2, 2, 2, 3\]/],
    [() => vg.overlapSums(vg.zeros([1, 2, 2, 2], 'int32'), vg.zeros([3])), /yPred.*rank >= 2/],
    [() => vg.overlapSums(vg.zeros([1, 2, 2, 3], 'int32'), p), /yTrue.*int32 class indices of shape \[1, 2, 2, 2\]/],
    [() => vg.overlapSums(vg.zeros([1, 2, 2, 2, 3]), vg.zeros([1, 2, 2, 2, 3], 'int32')), /yPred.*float32/],
    [() => vg.overlapSums(p, p, { activation: 'relu' as never }), /activation.*'none', 'sigmoid' or 'softmax'/],
    [() => vg.overlapSums(vg.zeros([1, 2, 1]), vg.zeros([1, 2, 1]), { activation: 'softmax' }), /single class/],
    [() => vg.overlapSums(p, p, { activation: 'softmax', binaryLogLikelihood: true }), /binary log-likelihood/],
    [() => vg.overlapSums(vg.zeros([1, 2, 300]), vg.zeros([1, 2, 300])), /yPred.*1 to 256 classes/],
  ];
  for (const [f, re] of cases) assert.throws(() => vg.tidy(() => f() as vg.Tensor), re);
  p.dispose();
  assert.is(vg.memory().liveTensors, before);
});

// --- gradients: the fused backward kernel against central differences of the oracle -------------

function sumsOracle(shape: number[], act: L.Act, stats: vg.OverlapStats, labels?: Int32Array) {
  return (tNd: Nd, pNd: Nd): Nd => {
    const B = shape[0];
    const C = shape[shape.length - 1];
    const N = pNd.size / (B * C);
    const m: Made = { v: { B, N, C, t: labels ? null : tNd.data, labels, p: pNd.data }, shape };
    return expectedSums(m, act, stats);
  };
}

for (const [shape, act, kind] of [
  [[2, 3, 2, 2, 4], 'none', 'soft'],
  [[2, 3, 2, 2, 3], 'sigmoid', 'soft'],
  [[2, 2, 3, 2, 5], 'softmax', 'onehot'],
  [[1, 3, 3, 2, 1], 'sigmoid', 'soft'],
  [[2, 2, 2, 3, 3], 'softmax', 'labels'],
  [[2, 2, 2, 2, 4], 'none', 'labels'],
] as [number[], L.Act, 'soft' | 'onehot' | 'labels'][]) {
  t(`gradient [${shape}] ${act} ${kind}`, async () => {
    const m = makeVolume(shape, 31, kind, act);
    // Keep p away from the clamp edges and from t, where |p - t| has its kink.
    if (act === 'none') m.v.p = m.v.p.map((x) => Math.fround(0.05 + 0.9 * x));
    const stats: vg.OverlapStats = {
      absDiff: true,
      squares: true,
      logLikelihood: true,
      binaryLogLikelihood: act !== 'softmax',
    };
    const tNd = new Nd(shape, m.v.t ?? new Float64Array(m.v.B * m.v.N * m.v.C));
    const pNd = new Nd(shape, m.v.p);
    if (kind === 'labels') {
      await checkGrad({
        label: `overlapSums ${act} labels`,
        inputs: [pNd],
        gpu: (p) =>
          vg.overlapSums(vg.tensor(m.v.labels!, shape.slice(0, -1), 'int32'), p, { activation: act, ...stats }),
        oracle: (p) => sumsOracle(shape, act, stats, m.v.labels)(tNd, p),
      });
    } else {
      await checkGrad({
        label: `overlapSums ${act} ${kind}`,
        inputs: [tNd, pNd],
        gpu: (yt, yp) => vg.overlapSums(yt, yp, { activation: act, ...stats }),
        oracle: sumsOracle(shape, act, stats),
      });
    }
  });
}

t.run();
