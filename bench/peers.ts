/**
 * The peers a user would pick instead, for the same loss computations on the same adapter:
 * TensorFlow.js (WebGPU backend, and its CPU backend for scale) and jax-js (WebGPU, jit).
 * In Node both find WebGPU through a `navigator.gpu` made from Dawn's bindings (the same
 * package voxgrad uses). Each returns the loss value and its gradient, checked against voxgrad's,
 * so the comparison is of the same work. Dev dependencies, used only here.
 */
import { create, globals } from 'webgpu';

export interface PeerResult {
  peer: string;
  version: string;
  loss: PeerLoss;
  /** Loss value and gradient with respect to the prediction (for the cross-check). */
  value: number;
  gradient: Float32Array;
  forwardMs: number;
  forwardBackwardMs: number;
}

let gpuForPeers: GPU | null = null;

/** Gives the peers a navigator.gpu in Node (kept alive for the process, as Dawn requires). */
function provideNavigatorGpu(): void {
  if (typeof navigator !== 'undefined' && (navigator as Navigator).gpu) return;
  Object.assign(globalThis, globals);
  gpuForPeers ??= create([]);
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu: gpuForPeers, userAgent: 'node' },
    configurable: true,
  });
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

/** The overlap losses the peers compute, each 1 − mean over (b, c) of a score of tp, Σp, Σt. */
export type PeerLoss = 'dice' | 'iou' | 'tversky';
/** voxgrad's defaults: smooth 1e-5 in numerator and denominator; tversky α = 0.3 (FP), β = 0.7 (FN). */
const SMOOTH = 1e-5;
const ALPHA = 0.3;
const BETA = 0.7;

/** Straightforward overlap losses in TensorFlow.js: per (b, c) sums over x, y, z, mean, 1 − score. */
export async function tfjsLoss(
  backend: 'webgpu' | 'cpu',
  kind: PeerLoss,
  shape: number[],
  truth: Float32Array,
  pred: Float32Array,
  runs: number,
): Promise<PeerResult> {
  const tf = await tfjs(backend);
  const t = tf.tensor(truth, shape);
  const p = tf.tensor(pred, shape);
  const loss = (tt: typeof t, pp: typeof p) =>
    tf.tidy(() => {
      const tp = tf.sum(tf.mul(tt, pp), [1, 2, 3]);
      const sp = tf.sum(pp, [1, 2, 3]);
      const st = tf.sum(tt, [1, 2, 3]);
      const den =
        kind === 'dice'
          ? tf.add(sp, st)
          : kind === 'iou'
            ? tf.sub(tf.add(sp, st), tp)
            : tf.add(tf.add(tf.mul(tp, 1 - ALPHA - BETA), tf.mul(sp, ALPHA)), tf.mul(st, BETA));
      const num = kind === 'dice' ? tf.mul(tp, 2) : tp;
      return tf.sub(1, tf.mean(tf.div(tf.add(num, SMOOTH), tf.add(den, SMOOTH))));
    });
  const value = (await loss(t, p).data())[0];
  const { value: v0, grads: g0 } = tf.valueAndGrads((x: typeof p) => loss(t, x))([p]);
  const gradient = (await g0[0].data()) as Float32Array;
  tf.dispose([v0, g0[0]]);
  const forwardMs = await timeAsync(async () => {
    const v = loss(t, p);
    await v.data();
    v.dispose();
  }, runs);
  const forwardBackwardMs = await timeAsync(async () => {
    const { value: v, grads } = tf.valueAndGrads((x: typeof p) => loss(t, x))([p]);
    await grads[0].data();
    v.dispose();
    grads[0].dispose();
  }, runs);
  t.dispose();
  p.dispose();
  return {
    peer: `tfjs-${backend}`,
    version: tf.version_core,
    loss: kind,
    value,
    gradient,
    forwardMs,
    forwardBackwardMs,
  };
}

type Jax = typeof import('@jax-js/jax');
let jaxModule: Promise<Jax | null> | null = null;

/** jax-js with WebGPU as its default device, loaded once; null when it finds no WebGPU. */
function jaxOnWebGPU(): Promise<Jax | null> {
  provideNavigatorGpu();
  jaxModule ??= (async () => {
    const jax = await import('@jax-js/jax');
    if (!(await jax.init()).includes('webgpu')) return null;
    jax.defaultDevice('webgpu');
    return jax;
  })();
  return jaxModule;
}

/** The same overlap losses in jax-js on WebGPU, forward and grad both under jit. */
export async function jaxLoss(
  kind: PeerLoss,
  shape: number[],
  truth: Float32Array,
  pred: Float32Array,
  runs: number,
  version: string,
): Promise<PeerResult | null> {
  const jax = await jaxOnWebGPU();
  if (!jax) return null;
  const { numpy: np, jit, grad } = jax;
  const t = np.array(truth).reshape(shape);
  const p = np.array(pred).reshape(shape);
  // jax-js arrays are reference counted: every use but the last takes `.ref`.
  const loss = (pp: typeof p, tt: typeof t) => {
    const tp = np.sum(tt.ref.mul(pp.ref), [1, 2, 3]);
    const sp = np.sum(pp, [1, 2, 3]);
    const st = np.sum(tt, [1, 2, 3]);
    const score =
      kind === 'dice'
        ? tp.mul(2).add(SMOOTH).div(sp.add(st).add(SMOOTH))
        : kind === 'iou'
          ? tp.ref.add(SMOOTH).div(sp.add(st).sub(tp).add(SMOOTH))
          : tp.ref.add(SMOOTH).div(
              tp
                .mul(1 - ALPHA - BETA)
                .add(sp.mul(ALPHA))
                .add(st.mul(BETA))
                .add(SMOOTH),
            );
    return np.mean(score).mul(-1).add(1);
  };
  const forward = jit(loss);
  const backward = jit(grad(loss));
  const value = (await forward(p.ref, t.ref).data())[0];
  const gradient = (await backward(p.ref, t.ref).data()) as Float32Array;
  const forwardMs = await timeAsync(async () => void (await forward(p.ref, t.ref).data()), runs);
  const forwardBackwardMs = await timeAsync(async () => void (await backward(p.ref, t.ref).data()), runs);
  p.dispose();
  t.dispose();
  return { peer: 'jax-js-webgpu-jit', version, loss: kind, value, gradient, forwardMs, forwardBackwardMs };
}

/** What one training step of the demo model gives in voxgrad, at its initial weights. */
export interface StepReference {
  /** Initial weight values by voxgrad name (e.g. 'trunk_conv1/kernel'), with their shapes. */
  weights: Record<string, { shape: number[]; data: Float32Array }>;
  /** 0.5 · dice + 0.3 · tversky at those weights. */
  loss: number;
  grads: Record<string, Float32Array>;
}

export interface StepResult {
  peer: string;
  version: string;
  stepMs: number;
  loss: number;
  /** Largest |peer − voxgrad| over every gradient, relative to the largest |voxgrad| gradient. */
  gradError: number;
  agrees: boolean;
}

/**
 * One training step of the demo's two-head model written with TensorFlow.js ops (WebGPU):
 * conv3d 3x3x3 → relu → group norm → conv3d 3x3x3 → relu, then a 1x1x1 segmentation head (softmax,
 * dice) and a 1x1x1 foreground head (sigmoid, tversky 0.3/0.7), total 0.5·dice + 0.3·tversky,
 * Adam; the median wall time of a step (each waits for its loss value).
 * It starts from voxgrad's initial weights and is checked against voxgrad's loss and gradients before it is timed. TensorFlow.js 4.22's WebGPU
 * backend cannot compile its broadcast-binary and transpose shaders for rank-5 tensors ("cannot
 * index type 'vec5'") nor transpose int32 tensors, so biases, group-norm affines and reductions
 * run on 2-D / 3-D reshapes and the one-hot targets are made on the host.
 */
export async function tfjsTrainStep(
  shape: number[],
  image: Float32Array,
  labels: Int32Array,
  classes: number,
  filters: number,
  runs: number,
  ref: StepReference,
): Promise<StepResult> {
  const tf = await tfjs('webgpu');
  const [B, X, Y, Z] = shape;
  const N = X * Y * Z;
  type T = ReturnType<TF['tensor']>;
  type T5 = import('@tensorflow/tfjs-core').Tensor5D;
  const x = tf.tensor(image, [B, X, Y, Z, 1]) as T5;
  // Targets made on the host (tf.oneHot gives int32, which 4.22's WebGPU transpose cannot read).
  const seg = tf.tensor(
    Float32Array.from({ length: B * N * classes }, (_, i) => (labels[Math.floor(i / classes)] === i % classes ? 1 : 0)),
    [B, N, classes],
  );
  const fg = tf.tensor(
    Float32Array.from(labels, (k) => (k > 0 ? 1 : 0)),
    [B, N, 1],
  );
  const names = Object.keys(ref.weights);
  const vars = Object.fromEntries(
    names.map((n) => [n, tf.variable(tf.tensor(ref.weights[n].data, ref.weights[n].shape), true, `peer_${n}`)]),
  );
  const groups = Math.min(4, filters);
  const conv = (h: T, layer: string, C: number): T => {
    const y = tf.conv3d(h as T5, vars[`${layer}/kernel`] as unknown as T5, 1, 'same');
    return tf.add(tf.reshape(y, [-1, C]), vars[`${layer}/bias`]);
  };
  /** 1 − mean over (b, c) of (tp + 1e-5) / ((1 − α − β)·tp + α·Σp + β·Σt + 1e-5), as voxgrad's dice (α = β = 0.5, numerator 2tp) and tversky. */
  const overlap = (t: T, p: T, alpha: number, beta: number, dice: boolean): T => {
    const tp = tf.sum(tf.mul(t, p), 1);
    const sp = tf.sum(p, 1);
    const st = tf.sum(t, 1);
    const num = tf.add(dice ? tf.mul(tp, 2) : tp, 1e-5);
    const den = dice
      ? tf.add(tf.add(sp, st), 1e-5)
      : tf.add(tf.add(tf.add(tf.mul(tp, 1 - alpha - beta), tf.mul(sp, alpha)), tf.mul(st, beta)), 1e-5);
    return tf.sub(1, tf.mean(tf.div(num, den)));
  };
  const loss = (): import('@tensorflow/tfjs-core').Scalar => {
    let h = tf.relu(conv(x, 'trunk_conv1', filters));
    const g = tf.reshape(h, [B, N, groups, filters / groups]);
    const { mean, variance } = tf.moments(g, [1, 3], true);
    const normed = tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [-1, filters]);
    h = tf.reshape(tf.add(tf.mul(normed, vars['trunk_norm/gamma']), vars['trunk_norm/beta']), [B, X, Y, Z, filters]);
    h = tf.reshape(tf.relu(conv(h, 'trunk_conv2', filters)), [B, X, Y, Z, filters]);
    const segP = tf.reshape(tf.softmax(conv(h, 'segmentation', classes)), [B, N, classes]);
    const fgP = tf.reshape(tf.sigmoid(conv(h, 'foreground', 1)), [B, N, 1]);
    return tf.add(
      tf.mul(overlap(seg, segP, 0.5, 0.5, true), 0.5),
      tf.mul(overlap(fg, fgP, 0.3, 0.7, false), 0.3),
    ) as import('@tensorflow/tfjs-core').Scalar;
  };
  // The same work as voxgrad's step: loss and every gradient at the same weights.
  const { value, grads } = tf.variableGrads(
    loss,
    names.map((n) => vars[n]),
  );
  const lossValue = (await value.data())[0];
  const peerGrads: Record<string, Float32Array> = {};
  for (const n of names) peerGrads[n] = (await grads[`peer_${n}`].data()) as Float32Array;
  tf.dispose([value, ...Object.values(grads)]);
  const gradError = gradientError(ref, peerGrads);
  const optimizer = tf.train.adam(0.03);
  const stepMs = await timeAsync(async () => {
    const cost = optimizer.minimize(loss, true);
    await cost!.data();
    cost!.dispose();
  }, runs);
  tf.dispose([x, seg, fg, ...Object.values(vars)]);
  optimizer.dispose();
  const agrees = Math.abs(lossValue - ref.loss) <= 1e-4 * Math.max(1, Math.abs(ref.loss)) && gradError <= 1e-3;
  return { peer: 'tfjs-webgpu', version: tf.version_core, stepMs, loss: lossValue, gradError, agrees };
}

/** Largest |peer − voxgrad| over every weight's gradient, relative to the largest |voxgrad| gradient. */
function gradientError(ref: StepReference, peer: Record<string, Float32Array>): number {
  const names = Object.keys(ref.grads);
  return relativeDifference(
    names.map((n) => ref.grads[n]),
    names.map((n) => peer[n]),
  );
}

/** Largest |got − want| over arrays, relative to the largest |want|. */
export function relativeDifference(want: readonly ArrayLike<number>[], got: readonly ArrayLike<number>[]): number {
  let maxRef = 0;
  let maxDiff = 0;
  want.forEach((w, k) => {
    for (let i = 0; i < w.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(w[i]));
      maxDiff = Math.max(maxDiff, Math.abs(w[i] - got[k][i]));
    }
  });
  return maxDiff / Math.max(maxRef, 1e-30);
}

/** (KX, KY, KZ, CI, CO) kernel data as (CO, CI, KX, KY, KZ), and back. */
function kernelToChannelsFirst(data: Float32Array, shape: number[], back = false): Float32Array {
  const [KX, KY, KZ, CI, CO] = shape;
  const taps = KX * KY * KZ;
  const out = new Float32Array(data.length);
  for (let t = 0; t < taps; t++)
    for (let i = 0; i < CI; i++)
      for (let o = 0; o < CO; o++) {
        const last = (t * CI + i) * CO + o;
        const first = (o * CI + i) * taps + t;
        if (back) out[last] = data[first];
        else out[first] = data[last];
      }
  return out;
}

/**
 * The same training step in jax-js (WebGPU): value and gradients of the same loss under `jit`,
 * then Adam (β 0.9 / 0.999, ε 1e-7 as voxgrad and Keras) as a second jitted function, from
 * voxgrad's initial weights and checked against voxgrad's loss and gradients. jax-js convolutions
 * are channels-first, so volumes are (B, C, X, Y, Z) and kernels (CO, CI, KX, KY, KZ). (Measured
 * with jax-js 0.1.25: the loss and every gradient agree except the 3x3x3 kernel with 8 input
 * channels, whose gradient differs with or without jit, so the report flags the step as not the
 * same work; voxgrad's and TensorFlow.js's agree to 3e-6.)
 */
export async function jaxTrainStep(
  shape: number[],
  image: Float32Array,
  labels: Int32Array,
  classes: number,
  filters: number,
  runs: number,
  ref: StepReference,
  version: string,
): Promise<StepResult | null> {
  const jax = await jaxOnWebGPU();
  if (!jax) return null;
  const { numpy: np, jit, valueAndGrad, lax, nn } = jax;
  type A = ReturnType<typeof np.array>;
  const [B, X, Y, Z] = shape;
  const N = X * Y * Z;
  const G = Math.min(4, filters);
  // Channels-first targets and image, made on the host.
  const seg = np
    .array(
      Float32Array.from({ length: B * classes * N }, (_, i) => {
        const b = Math.floor(i / (classes * N));
        const c = Math.floor(i / N) % classes;
        return labels[b * N + (i % N)] === c ? 1 : 0;
      }),
    )
    .reshape([B, classes, X, Y, Z]);
  const fg = np.array(Float32Array.from(labels, (k) => (k > 0 ? 1 : 0))).reshape([B, 1, X, Y, Z]);
  const x = np.array(image).reshape([B, 1, X, Y, Z]);
  const names = Object.keys(ref.weights);
  const toJax = (n: string): A => {
    const w = ref.weights[n];
    return w.shape.length === 5
      ? np
          .array(kernelToChannelsFirst(w.data, w.shape))
          .reshape([w.shape[4], w.shape[3], w.shape[0], w.shape[1], w.shape[2]])
      : np.array(w.data);
  };
  let params: A[] = names.map(toJax);
  const at = (n: string): number => names.indexOf(n);
  // jax-js arrays are reference counted: every use but the last takes `.ref`.
  const conv = (h: A, w: A, b: A, C: number): A => lax.conv(h, w, [1, 1, 1], 'SAME').add(b.reshape([1, C, 1, 1, 1]));
  const overlap = (t: A, p: A, alpha: number, beta: number, dice: boolean): A => {
    const tp = np.sum(t.ref.mul(p.ref), [2, 3, 4]);
    const sp = np.sum(p, [2, 3, 4]);
    const st = np.sum(t, [2, 3, 4]);
    const score = dice
      ? tp.mul(2).add(1e-5).div(sp.add(st).add(1e-5))
      : tp.ref.add(1e-5).div(
          tp
            .mul(1 - alpha - beta)
            .add(sp.mul(alpha))
            .add(st.mul(beta))
            .add(1e-5),
        );
    return np.mean(score).mul(-1).add(1);
  };
  const loss = (ps: A[], xi: A, segT: A, fgT: A): A => {
    const h1 = nn.relu(conv(xi, ps[at('trunk_conv1/kernel')], ps[at('trunk_conv1/bias')], filters));
    const g = h1.reshape([B, G, filters / G, N]);
    const centred = g.ref.sub(np.mean(g, [2, 3], { keepdims: true }));
    const variance = np.mean(centred.ref.mul(centred.ref), [2, 3], { keepdims: true });
    const normed = centred.div(np.sqrt(variance.add(1e-5))).reshape([B, filters, X, Y, Z]);
    const h = normed
      .mul(ps[at('trunk_norm/gamma')].reshape([1, filters, 1, 1, 1]))
      .add(ps[at('trunk_norm/beta')].reshape([1, filters, 1, 1, 1]));
    const h2 = nn.relu(conv(h, ps[at('trunk_conv2/kernel')], ps[at('trunk_conv2/bias')], filters));
    const segP = nn.softmax(conv(h2.ref, ps[at('segmentation/kernel')], ps[at('segmentation/bias')], classes), 1);
    const fgP = nn.sigmoid(conv(h2, ps[at('foreground/kernel')], ps[at('foreground/bias')], 1));
    return overlap(segT, segP, 0.5, 0.5, true)
      .mul(0.5)
      .add(overlap(fgT, fgP, 0.3, 0.7, false).mul(0.3));
  };
  const lossAndGrads = jit(valueAndGrad(loss));
  const [value, grads] = lossAndGrads(
    params.map((p) => p.ref),
    x.ref,
    seg.ref,
    fg.ref,
  ) as unknown as [A, A[]];
  const lossValue = (await value.data())[0];
  const peerGrads: Record<string, Float32Array> = {};
  for (const [i, n] of names.entries()) {
    const d = (await grads[i].data()) as Float32Array;
    peerGrads[n] = ref.weights[n].shape.length === 5 ? kernelToChannelsFirst(d, ref.weights[n].shape, true) : d;
  }
  const gradError = gradientError(ref, peerGrads);
  // Adam on the whole parameter list in one jitted function.
  const lr = 0.03;
  const adam = jit((ps: A[], gs: A[], ms: A[], vs: A[], step: A) => {
    const b1 = 0.9;
    const b2 = 0.999;
    const c1 = np.power(b1, step.ref).mul(-1).add(1);
    const c2 = np.power(b2, step).mul(-1).add(1);
    const m = ms.map((mi, i) => mi.mul(b1).add(gs[i].ref.mul(1 - b1)));
    const v = vs.map((vi, i) => vi.mul(b2).add(gs[i].ref.mul(gs[i]).mul(1 - b2)));
    const p = ps.map((pi, i) =>
      pi.sub(
        m[i].ref
          .div(c1.ref)
          .mul(lr)
          .div(np.sqrt(v[i].ref.div(c2.ref)).add(1e-7)),
      ),
    );
    c1.dispose();
    c2.dispose();
    return [p, m, v];
  });
  let ms: A[] = params.map((p) => np.zerosLike(p.ref));
  let vs: A[] = params.map((p) => np.zerosLike(p.ref));
  let t = 0;
  const step = async (): Promise<void> => {
    const [l, gs] = lossAndGrads(
      params.map((p) => p.ref),
      x.ref,
      seg.ref,
      fg.ref,
    ) as unknown as [A, A[]];
    [params, ms, vs] = adam(params, gs, ms, vs, np.array([++t])) as unknown as [A[], A[], A[]];
    await l.data();
  };
  const stepMs = await timeAsync(step, runs);
  // (`data()` consumed the loss value and the gradients.)
  for (const a of [...params, ...ms, ...vs, x, seg, fg]) a.dispose();
  const agrees = Math.abs(lossValue - ref.loss) <= 1e-4 * Math.max(1, Math.abs(ref.loss)) && gradError <= 1e-3;
  return { peer: 'jax-js-webgpu-jit', version, stepMs, loss: lossValue, gradError, agrees };
}
