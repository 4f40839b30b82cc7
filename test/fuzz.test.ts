// NaN/inf fuzzing of the losses: many small generated cases batched as the samples of a volume
// (empty ground truth, empty prediction, single-voxel classes, extreme logits, soft labels), each
// loss and option evaluated per sample ('none' reduction), checked finite (loss and gradient) and
// against the float64 oracle. Each round is 6 losses/options x 3 activations x 2600 cases; the
// default 3 rounds try 140,400 cases; VOXGRAD_FUZZ_ROUNDS sets the number of rounds.
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';
import { rng } from './helpers.js';
import * as L from './loss_oracle.js';

const t = suite('fuzz: no NaN or inf in losses or gradients, oracle agreement');
t.before(setup);

const B = 2600;
const N = 6;
const C = 3;
const rounds = Number(process.env.VOXGRAD_FUZZ_ROUNDS ?? 3);

/** One batch of B cases, each sample drawing its own edge condition. */
function cases(seed: number, act: L.Act): L.Volume {
  const r = rng(seed);
  const t = new Float64Array(B * N * C);
  const p = new Float64Array(B * N * C);
  for (let b = 0; b < B; b++) {
    const kind = Math.floor(r() * 6); // 0 random, 1 empty truth, 2 empty prediction, 3 both, 4 single voxel, 5 soft
    for (let n = 0; n < N; n++) {
      const k = Math.floor(r() * C);
      for (let c = 0; c < C; c++) {
        const i = (b * N + n) * C + c;
        let tv = k === c ? 1 : 0;
        if (kind === 1 || kind === 3) tv = 0;
        if (kind === 4) tv = n === 0 && c === k ? 1 : 0;
        if (kind === 5) tv = Math.fround(r());
        t[i] = tv;
        let pv: number;
        if (act === 'none') pv = kind === 2 || kind === 3 ? 0 : Math.fround(r());
        else pv = Math.fround((r() < 0.3 ? 80 : 4) * (2 * r() - 1)); // extreme logits included
        p[i] = pv;
      }
    }
  }
  return { B, N, C, t, p };
}

interface Config {
  name: string;
  loss: (t: vg.Tensor, p: vg.Tensor) => vg.Tensor;
  oracle: (v: L.Volume) => number[];
}

function configs(act: L.Act): Config[] {
  const o = { activation: act, reduction: 'none' as const };
  const asList = (x: number | number[]): number[] => (typeof x === 'number' ? [x] : x);
  return [
    { name: 'dice', loss: (t, p) => vg.dice(t, p, o), oracle: (v) => asList(L.overlapLoss('dice', v, o)) },
    { name: 'iou', loss: (t, p) => vg.iou(t, p, o), oracle: (v) => asList(L.overlapLoss('iou', v, o)) },
    {
      name: 'tversky 0.3/0.7',
      loss: (t, p) => vg.tversky(t, p, { ...o, alpha: 0.3, beta: 0.7 }),
      oracle: (v) => asList(L.overlapLoss('tversky', v, { ...o, alpha: 0.3, beta: 0.7 })),
    },
    {
      name: 'dice softLabel',
      loss: (t, p) => vg.dice(t, p, { ...o, softLabel: true }),
      oracle: (v) => asList(L.overlapLoss('dice', v, { ...o, softLabel: true })),
    },
    {
      name: 'dice zero_loss',
      loss: (t, p) => vg.dice(t, p, { ...o, emptyGroundTruth: 'zero_loss' }),
      oracle: (v) => asList(L.overlapLoss('dice', v, { ...o, emptyGroundTruth: 'zero_loss' })),
    },
    {
      name: 'generalizedDice per sample',
      loss: (t, p) => vg.generalizedDice(t, p, { ...o, batch: 'per_sample' }),
      oracle: (v) => asList(L.generalizedDice(v, { ...o, batch: 'per_sample' })),
    },
  ];
}

let total = 0;
let samples = 0;
for (const act of ['none', 'sigmoid', 'softmax'] as const) {
  t(`activation ${act}: ${rounds * B * 6} cases per round of ${rounds}`, async () => {
    for (let round = 0; round < rounds; round++) {
      const v = cases(1000 * round + act.length, act);
      const yt = vg.tensor(Float32Array.from(v.t!), [B, N, 1, 1, C]);
      const yp = vg.variable(vg.tensor(Float32Array.from(v.p), [B, N, 1, 1, C]));
      for (const c of configs(act)) {
        const losses = vg.tidy(() => c.loss(yt, yp));
        const { grads: g } = vg.valueAndGrad(() => vg.sum(c.loss(yt, yp)), [yp]);
        const [lv, gv] = await vg.readAll([losses, g[0]!]);
        const want = c.oracle(v);
        assert.is(lv.length, want.length, c.name);
        let bad = -1;
        for (let i = 0; i < lv.length; i++) {
          if (!Number.isFinite(lv[i]) || Math.abs(lv[i] - want[i]) > 2e-4 * Math.max(1, Math.abs(want[i]))) {
            bad = i;
            break;
          }
        }
        assert.is(bad, -1, `${c.name} (${act}): case ${bad} gives ${lv[bad]}, oracle ${want[bad]}`);
        assert.ok(gv.every(Number.isFinite), `${c.name} (${act}): a non-finite gradient`);
        total += lv.length;
        samples += B;
        vg.tidy(() => [losses, g[0]!].forEach((x) => x.dispose()));
      }
      vg.tidy(() => [yt, yp].forEach((x) => x.dispose()));
    }
  });
}

t('cases checked', () => {
  assert.ok(samples >= 100_000 || rounds < 3, `${samples} cases`);
  console.log(
    `  fuzz: ${samples} cases (${total} per-class loss values) finite and within 2e-4 of the oracle; gradients finite`,
  );
});

t.run();
