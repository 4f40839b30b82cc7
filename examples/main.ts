/**
 * The main job until the training CLI lands: builds a synthetic one-hot (batch, x, y, z, class)
 * volume and a noisy softmax prediction on the GPU, then prints per-sample per-class overlap
 * sums and the resulting dice scores.
 */
import * as vg from '../src/index.js';

const [B, X, Y, Z, C] = [2, 32, 32, 32, 3];
const info = await vg.init();
console.log(`voxgrad on ${info.adapter}`);

const t0 = performance.now();
const scores = await vg.tidyAsync(async () => {
  // Labels: class = floor(3 * u) from a seeded uniform field, one-hot by comparing with 0, 1, 2.
  const u = vg.randomUniform([B, X, Y, Z, 1], { seed: 7 });
  const label = vg.cast(vg.mul(u, C - 0.0001), 'int32');
  const classes = vg.tensor(new Int32Array([0, 1, 2]), [C]);
  const yTrue = vg.cast(vg.equal(label, classes), 'float32');
  // Prediction: softmax of the one-hot labels scaled up plus noise.
  const logits = vg.add(vg.mul(yTrue, 4), vg.randomNormal([B, X, Y, Z, C], { seed: 8, stddev: 1.5 }));
  const yPred = vg.softmax(logits, -1);
  const tp = vg.sum(vg.mul(yTrue, yPred), [1, 2, 3]);
  const t = vg.sum(yTrue, [1, 2, 3]);
  const p = vg.sum(yPred, [1, 2, 3]);
  const dice = vg.div(vg.add(vg.mul(tp, 2), 1e-5), vg.add(vg.add(t, p), 1e-5));
  const [tpv, tv, pv, dv] = await vg.readAll([tp, t, p, dice]);
  return { tpv, tv, pv, dv };
});
const ms = performance.now() - t0;

console.log(`volume ${B}x${X}x${Y}x${Z}x${C}: per-sample, per-class sums`);
for (let b = 0; b < B; b++) {
  for (let c = 0; c < C; c++) {
    const i = b * C + c;
    console.log(`  sample ${b} class ${c}: S_tp ${scores.tpv[i].toFixed(1).padStart(8)}  S_t ${scores.tv[i].toFixed(0).padStart(6)}  S_p ${scores.pv[i].toFixed(1).padStart(8)}  dice ${scores.dv[i].toFixed(4)}`);
  }
}
const mean = Array.from(scores.dv).reduce((a, b) => a + b, 0) / scores.dv.length;
console.log(`mean dice ${mean.toFixed(4)}; ${ms.toFixed(0)} ms; live tensors after tidyAsync: ${vg.memory().liveTensors}`);
await vg.dispose();
