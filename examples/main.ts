/**
 * The main job: the seed's program in voxgrad. A 3D network with a shared convolutional trunk and
 * two heads — a 3-class segmentation (dice) and a foreground mask (tversky, alpha 0.3 / beta 0.7) —
 * compiled with lossWeights [0.5, 0.3] and trained on built-in synthetic volumes on the GPU.
 * It prints the model, which layers each loss reaches, and the per-epoch losses and dice.
 *
 * Volumes: a ball (class 1) inside a shell (class 2) on background (class 0), at a random centre
 * per sample, in a noisy one-channel image whose intensity depends on the class.
 */
import * as vg from '../src/index.js';

const S = Number(process.env.VOXGRAD_SIZE ?? 24);
const samples = 8;
const epochs = Number(process.env.VOXGRAD_EPOCHS ?? 15);

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Images (n, S, S, S, 1), class indices (n, S, S, S) and the foreground mask (n, S, S, S, 1). */
function synthetic(n: number, seed: number): { image: vg.Tensor; labels: vg.Tensor; foreground: vg.Tensor } {
  const r = rng(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const V = S * S * S;
  const labels = new Int32Array(n * V);
  const image = new Float32Array(n * V);
  for (let b = 0; b < n; b++) {
    const c = [0, 1, 2].map(() => S * (0.35 + 0.3 * r()));
    const radius = S * (0.14 + 0.06 * r());
    for (let i = 0; i < V; i++) {
      const d = Math.hypot((i % S) - c[0], (Math.floor(i / S) % S) - c[1], Math.floor(i / (S * S)) - c[2]);
      const k = d < radius ? 1 : d < 1.8 * radius ? 2 : 0;
      labels[b * V + i] = k;
      image[b * V + i] = [-1, 1, 0.2][k] + 0.6 * gauss();
    }
  }
  return {
    image: vg.tensor(image, [n, S, S, S, 1]),
    labels: vg.tensor(labels, [n, S, S, S], 'int32'),
    foreground: vg.tensor(Float32Array.from(labels, (k) => (k > 0 ? 1 : 0)), [n, S, S, S, 1]),
  };
}

const info = await vg.init();
console.log(`voxgrad on ${info.adapter}`);

// The network: a shared trunk and two heads, as in the seed.
const x = vg.input({ shape: [S, S, S, 1], name: 'image' });
let h = new vg.Conv3D({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', seed: 1, name: 'trunk_conv1' }).apply(x);
h = new vg.GroupNormalization({ groups: 4, name: 'trunk_norm' }).apply(h);
h = new vg.Conv3D({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', seed: 2, name: 'trunk_conv2' }).apply(h);
const segmentation = new vg.Conv3D({ filters: 3, kernelSize: 1, seed: 3, name: 'segmentation' }).apply(h);
const foreground = new vg.Conv3D({ filters: 1, kernelSize: 1, seed: 4, name: 'foreground' }).apply(h);
const model = vg.model({ inputs: x, outputs: [segmentation, foreground], name: 'two_heads' });
model.summary();

// The heads give logits; the losses apply softmax / sigmoid inside their fused kernels.
const dice = (t: vg.Tensor, p: vg.Tensor): vg.Tensor => vg.dice(t, p, { activation: 'softmax' });
const tversky = (t: vg.Tensor, p: vg.Tensor): vg.Tensor => vg.tversky(t, p, { activation: 'sigmoid', alpha: 0.3, beta: 0.7 });
model.compile({
  optimizer: new vg.Adam({ learningRate: vg.cosineDecay({ initial: 0.03, decaySteps: epochs * 4, alpha: 0.1 }) }),
  loss: [dice, tversky],
  lossWeights: [0.5, 0.3],
  metrics: { segmentation: ['dice'] },
});

const train = synthetic(samples, 7);
const val = synthetic(2, 99);
const paths = model.lossPaths(train.image, [train.labels, train.foreground]);
console.log(`dice (segmentation) reaches ${paths.segmentation.join(', ')}`);
console.log(`tversky (foreground) reaches ${paths.foreground.join(', ')}`);

const t0 = performance.now();
const history = await model.fit(train.image, [train.labels, train.foreground], {
  epochs, batchSize: 2, validationData: [val.image, [val.labels, val.foreground]],
  callbacks: [{
    onEpochEnd: (epoch, logs) => {
      console.log(`epoch ${String(epoch + 1).padStart(2)}  loss ${logs.loss.toFixed(4)}  segmentation dice loss ${logs.segmentation_loss.toFixed(4)}  ` +
        `foreground tversky loss ${logs.foreground_loss.toFixed(4)}  dice ${logs.segmentation_dice.toFixed(3)}  val loss ${logs.val_loss.toFixed(4)}`);
    },
  }],
});
const seconds = (performance.now() - t0) / 1000;
const losses = history.history.loss;
console.log(`${epochs} epochs on ${samples} volumes of ${S}^3 in ${seconds.toFixed(1)} s: total loss ${losses[0].toFixed(4)} -> ${losses[losses.length - 1].toFixed(4)}`);
await vg.dispose();
