/**
 * The main job: trains a small two-head per-voxel network on built-in synthetic volumes with two
 * weighted segmentation losses, total = 0.5·dice(head 1) + 0.3·tversky(head 2), by gradient
 * descent on the GPU (Adam, cosine-decayed learning rate), and prints which parameters each loss
 * reaches and the falling losses.
 *
 * Volumes: a sphere (class 1) inside a shell (class 2) on background (class 0), at a random
 * centre per sample; the input has two noisy channels whose means depend on the class.
 * Network: shared trunk h = tanh(x·W1 + b1) (2 → 16), head 1 softmax logits h·W2 + b2 (3 classes,
 * dice), head 2 sigmoid logit h·W3 + b3 (foreground, tversky with alpha 0.3, beta 0.7).
 */
import * as vg from '../src/index.js';

const [B, S] = [2, 32];
const N = S * S * S;
const steps = Number(process.env.VOXGRAD_STEPS ?? 200);

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Labels (B·N) and a two-channel input (B·N, 2) of the synthetic volumes. */
function synthetic(seed: number): { labels: Int32Array; input: Float32Array } {
  const r = rng(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const labels = new Int32Array(B * N);
  const input = new Float32Array(B * N * 2);
  const means = [[-1, -1], [1, 0.5], [0.2, 1.2]];
  for (let b = 0; b < B; b++) {
    const c = [0, 1, 2].map(() => S * (0.35 + 0.3 * r()));
    for (let i = 0; i < N; i++) {
      const [x, y, z] = [i % S, Math.floor(i / S) % S, Math.floor(i / (S * S))];
      const d = Math.hypot(x - c[0], y - c[1], z - c[2]);
      const k = d < S * 0.18 ? 1 : d < S * 0.3 ? 2 : 0;
      const v = b * N + i;
      labels[v] = k;
      input[2 * v] = means[k][0] + 0.8 * gauss();
      input[2 * v + 1] = means[k][1] + 0.8 * gauss();
    }
  }
  return { labels, input };
}

const info = await vg.init();
console.log(`voxgrad on ${info.adapter}`);
const { labels, input } = synthetic(7);
const x = vg.tensor(input, [B * N, 2]);
const yTrue = vg.tensor(labels, [B, S, S, S], 'int32');
const foreground = vg.tensor(Float32Array.from(labels, (k) => (k > 0 ? 1 : 0)), [B, S, S, S, 1]);

const init = (shape: number[], seed: number, name: string): vg.Variable =>
  vg.tidy(() => vg.variable(vg.randomNormal(shape, { seed, stddev: 1 / Math.sqrt(shape[0]) }), { name }));
const bias = (n: number, name: string): vg.Variable => vg.tidy(() => vg.variable(vg.zeros([n]), { name }));
const W1 = init([2, 16], 1, 'trunk/W1');
const b1 = bias(16, 'trunk/b1');
const W2 = init([16, 3], 2, 'head1/W2');
const b2 = bias(3, 'head1/b2');
const W3 = init([16, 1], 3, 'head2/W3');
const b3 = bias(1, 'head2/b3');
const params = [W1, b1, W2, b2, W3, b3];

function losses(): { dice: vg.Tensor; tversky: vg.Tensor } {
  const h = vg.tanh(vg.add(vg.matmul(x, W1), b1));
  const y1 = vg.reshape(vg.add(vg.matmul(h, W2), b2), [B, S, S, S, 3]);
  const y2 = vg.reshape(vg.add(vg.matmul(h, W3), b3), [B, S, S, S, 1]);
  return {
    dice: vg.dice(yTrue, y1, { activation: 'softmax' }),
    tversky: vg.tversky(foreground, y2, { activation: 'sigmoid', alpha: 0.3, beta: 0.7 }),
  };
}

const optimizer = new vg.Adam({ learningRate: vg.cosineDecay({ initial: 0.05, decaySteps: steps, alpha: 0.1 }) });
const reach = vg.lossReach(losses, params);
console.log(`dice reaches    ${reach.dice.join(', ')}`);
console.log(`tversky reaches ${reach.tversky.join(', ')}`);

const t0 = performance.now();
const history: { step: number; dice: vg.Tensor; tversky: vg.Tensor }[] = [];
for (let step = 1; step <= steps; step++) {
  // The per-loss values of some steps are kept and read together at the end of each block
  // (one wait for the GPU per 25 steps, never one per step).
  const log = step === 1 || step % 25 === 0;
  vg.tidy(() => {
    optimizer.minimize(() => {
      const { dice, tversky } = losses();
      if (log) history.push({ step, dice: vg.keep(dice), tversky: vg.keep(tversky) });
      return vg.add(vg.mul(dice, 0.5), vg.mul(tversky, 0.3));
    }, params);
  });
  if (step % 25 === 0 || step === steps) {
    const values = await vg.readAll(history.flatMap((h) => [h.dice, h.tversky]));
    history.forEach((h, i) => {
      const total = 0.5 * values[2 * i][0] + 0.3 * values[2 * i + 1][0];
      console.log(`step ${String(h.step).padStart(4)}  dice loss ${values[2 * i][0].toFixed(4)}  tversky loss ${values[2 * i + 1][0].toFixed(4)}  total ${total.toFixed(4)}`);
      h.dice.dispose();
      h.tversky.dispose();
    });
    history.length = 0;
  }
}
const ms = performance.now() - t0;
const metric = vg.tidy(() => {
  const h = vg.tanh(vg.add(vg.matmul(x, W1), b1));
  return vg.diceMetric(yTrue, vg.reshape(vg.add(vg.matmul(h, W2), b2), [B, S, S, S, 3]), { reduction: 'mean_batch' });
});
const perClass = await metric.data();
metric.dispose();
console.log(`${steps} steps on ${B}x${S}x${S}x${S} volumes in ${(ms / 1000).toFixed(1)} s; dice per class (argmax): ${Array.from(perClass, (v) => v.toFixed(3)).join(', ')}`);
optimizer.dispose();
console.log(`live tensors: ${vg.memory().liveTensors} (inputs and parameters)`);
await vg.dispose();
