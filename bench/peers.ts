/**
 * The peers a user would pick instead, for the same loss computations on the same adapter:
 * TensorFlow.js (WebGPU backend, and its CPU backend for scale) and jax-js (WebGPU, jit).
 * In Node both find WebGPU through a `navigator.gpu` made from Dawn's bindings (the same
 * package voxgrad uses). Each returns the dice loss value too, checked against voxgrad's, so the
 * comparison is of the same work. Dev dependencies, used only here.
 */
import { create, globals } from 'webgpu';

export interface PeerResult {
  peer: string;
  version: string;
  /** Dice loss value (for the cross-check). */
  value: number;
  forwardMs: number;
  forwardBackwardMs: number;
}

let gpuForPeers: GPU | null = null;

/** Gives the peers a navigator.gpu in Node (kept alive for the process, as Dawn requires). */
function provideNavigatorGpu(): void {
  if (typeof navigator !== 'undefined' && (navigator as Navigator).gpu) return;
  Object.assign(globalThis, globals);
  gpuForPeers ??= create([]);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: gpuForPeers, userAgent: 'node' }, configurable: true });
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeAsync(f: () => Promise<void>, runs: number): Promise<number> {
  await f();
  await f();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

type TF = typeof import('@tensorflow/tfjs-core');
let tfModule: TF | null = null;

async function tfjs(backend: 'webgpu' | 'cpu'): Promise<TF> {
  provideNavigatorGpu();
  if (!tfModule) {
    // A CommonJS package: its exports may arrive as the namespace's default.
    const m = (await import('@tensorflow/tfjs-core')) as TF & { default?: TF };
    tfModule = typeof m.setBackend === 'function' ? m : m.default!;
    await import('@tensorflow/tfjs-core/dist/register_all_gradients');
    await import('@tensorflow/tfjs-backend-webgpu');
    await import('@tensorflow/tfjs-backend-cpu');
  }
  await tfModule.setBackend(backend);
  await tfModule.ready();
  return tfModule;
}

/** Straightforward dice in TensorFlow.js: per (b, c) sums over x, y, z, mean, 1 − score. */
export async function tfjsDice(backend: 'webgpu' | 'cpu', shape: number[], truth: Float32Array, pred: Float32Array, runs: number): Promise<PeerResult> {
  const tf = await tfjs(backend);
  const t = tf.tensor(truth, shape);
  const p = tf.tensor(pred, shape);
  const dice = (tt: typeof t, pp: typeof p) => tf.tidy(() => {
    const i = tf.sum(tf.mul(tt, pp), [1, 2, 3]);
    const s = tf.add(tf.sum(tt, [1, 2, 3]), tf.sum(pp, [1, 2, 3]));
    return tf.sub(1, tf.mean(tf.div(tf.add(tf.mul(i, 2), 1e-5), tf.add(s, 1e-5))));
  });
  const value = (await dice(t, p).data())[0];
  const forwardMs = await timeAsync(async () => {
    const v = dice(t, p);
    await v.data();
    v.dispose();
  }, runs);
  const forwardBackwardMs = await timeAsync(async () => {
    const { value: v, grads } = tf.valueAndGrads((x: typeof p) => dice(t, x))([p]);
    await grads[0].data();
    v.dispose();
    grads[0].dispose();
  }, runs);
  t.dispose();
  p.dispose();
  return { peer: `tfjs-${backend}`, version: tf.version_core, value, forwardMs, forwardBackwardMs };
}

type Jax = typeof import('@jax-js/jax');
let jaxModule: Jax | null = null;

/** Dice in jax-js on WebGPU, forward and grad both under jit. */
export async function jaxDice(shape: number[], truth: Float32Array, pred: Float32Array, runs: number, version: string): Promise<PeerResult | null> {
  provideNavigatorGpu();
  if (!jaxModule) {
    jaxModule = await import('@jax-js/jax');
    const devices = await jaxModule.init();
    if (!devices.includes('webgpu')) return null;
    jaxModule.defaultDevice('webgpu');
  }
  const { numpy: np, jit, grad } = jaxModule;
  const t = np.array(truth).reshape(shape);
  const p = np.array(pred).reshape(shape);
  // jax-js arrays are reference counted: every use but the last takes `.ref`.
  const dice = (pp: typeof p, tt: typeof t) => {
    const i = np.sum(tt.ref.mul(pp.ref), [1, 2, 3]);
    const s = np.sum(tt, [1, 2, 3]).add(np.sum(pp, [1, 2, 3]));
    return np.mean(i.mul(2).add(1e-5).div(s.add(1e-5))).mul(-1).add(1);
  };
  const forward = jit(dice);
  const backward = jit(grad(dice));
  const value = (await forward(p.ref, t.ref).data())[0];
  const forwardMs = await timeAsync(async () => void (await forward(p.ref, t.ref).data()), runs);
  const forwardBackwardMs = await timeAsync(async () => void (await backward(p.ref, t.ref).data()), runs);
  p.dispose();
  t.dispose();
  return { peer: 'jax-js-webgpu-jit', version, value, forwardMs, forwardBackwardMs };
}

/**
 * One training step of the demo's two-head model written with TensorFlow.js ops (WebGPU):
 * conv3d 3x3x3 → relu → group norm → conv3d 3x3x3 → relu, then a 1x1x1 segmentation head (softmax,
 * dice) and a 1x1x1 foreground head (sigmoid, tversky 0.3/0.7), total 0.5·dice + 0.3·tversky,
 * Adam. Returns the median wall time of a step (each waits for its loss value).
 */
export async function tfjsTrainStep(shape: number[], image: Float32Array, labels: Int32Array, classes: number, filters: number, runs: number): Promise<{ peer: string; version: string; stepMs: number }> {
  const tf = await tfjs('webgpu');
  const [B, X, Y, Z] = shape;
  type T5 = import('@tensorflow/tfjs-core').Tensor5D;
  const x = tf.tensor(image, [B, X, Y, Z, 1]) as T5;
  const seg = tf.oneHot(tf.tensor(labels, [B, X, Y, Z], 'int32'), classes) as ReturnType<TF['tensor']>;
  const fg = tf.cast(tf.greater(tf.tensor(labels, [B, X, Y, Z, 1], 'int32'), 0), 'float32');
  const v = (s: number[]) => tf.variable(tf.randomNormal(s, 0, 0.1));
  const w1 = v([3, 3, 3, 1, filters]);
  const b1 = tf.variable(tf.zeros([filters]));
  const gamma = tf.variable(tf.ones([filters]));
  const beta = tf.variable(tf.zeros([filters]));
  const w2 = v([3, 3, 3, filters, filters]);
  const b2 = tf.variable(tf.zeros([filters]));
  const ws = v([1, 1, 1, filters, classes]);
  const bs = tf.variable(tf.zeros([classes]));
  const wf = v([1, 1, 1, filters, 1]);
  const bf = tf.variable(tf.zeros([1]));
  const groups = Math.min(4, filters);
  const overlap = (t: ReturnType<TF['tensor']>, p: ReturnType<TF['tensor']>, alpha: number, beta2: number) => {
    const tp = tf.sum(tf.mul(t, p), [1, 2, 3]);
    const fp = tf.sub(tf.sum(p, [1, 2, 3]), tp);
    const fn = tf.sub(tf.sum(t, [1, 2, 3]), tp);
    return tf.sub(1, tf.mean(tf.div(tf.add(tp, 1e-5), tf.add(tf.add(tf.add(tp, tf.mul(fp, alpha)), tf.mul(fn, beta2)), 1e-5))));
  };
  const loss = () => {
    let h = tf.relu(tf.add(tf.conv3d(x, w1 as unknown as T5, 1, 'same'), b1)) as T5;
    const g = tf.reshape(h, [B, X * Y * Z, groups, filters / groups]);
    const { mean, variance } = tf.moments(g, [1, 3], true);
    h = tf.add(tf.mul(tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [B, X, Y, Z, filters]), gamma), beta) as T5;
    h = tf.relu(tf.add(tf.conv3d(h, w2 as unknown as T5, 1, 'same'), b2)) as T5;
    const segP = tf.softmax(tf.add(tf.conv3d(h, ws as unknown as T5, 1, 'same'), bs));
    const fgP = tf.sigmoid(tf.add(tf.conv3d(h, wf as unknown as T5, 1, 'same'), bf));
    return tf.add(tf.mul(overlap(seg, segP, 0.5, 0.5), 0.5), tf.mul(overlap(fg, fgP, 0.3, 0.7), 0.3)) as ReturnType<TF['scalar']>;
  };
  const optimizer = tf.train.adam(0.03);
  const stepMs = await timeAsync(async () => {
    const cost = optimizer.minimize(loss, true);
    await cost!.data();
    cost!.dispose();
  }, runs);
  tf.dispose([x, seg, fg, w1, b1, gamma, beta, w2, b2, ws, bs, wf, bf]);
  optimizer.dispose();
  return { peer: 'tfjs-webgpu', version: tf.version_core, stepMs };
}
