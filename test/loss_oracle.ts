/**
 * Float64 reference for the overlap statistics and every segmentation loss and metric, written
 * from the formulas (MONAI / segmentation_models.pytorch semantics) with plain loops, sharing no
 * code with src/. Volumes are flat row-major (B, N, C) arrays.
 */

export type Act = 'none' | 'sigmoid' | 'softmax';

export interface Volume {
  B: number;
  N: number;
  C: number;
  /** y_true (B*N*C), or null when labels are given. */
  t: Float64Array | null;
  /** int class indices (B*N), when y_true is a label map. */
  labels?: Int32Array;
  /** y_pred or logits (B*N*C). */
  p: Float64Array;
}

/** Probabilities after the activation, and the one-hot (or soft) targets, as dense (B*N*C). */
export function dense(
  v: Volume,
  act: Act,
): { t: Float64Array; p: Float64Array; logp: Float64Array; log1mp: Float64Array } {
  const { B, N, C } = v;
  const n = B * N * C;
  const p = new Float64Array(n);
  const logp = new Float64Array(n);
  const log1mp = new Float64Array(n);
  const eps = 1e-7;
  for (let vox = 0; vox < B * N; vox++) {
    const o = vox * C;
    if (act === 'softmax') {
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, v.p[o + c]);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(v.p[o + c] - m);
      // A +inf logit: the limit (1 for a single one, 0 for the others), NaN for several.
      let infinities = 0;
      for (let c = 0; c < C; c++) if (v.p[o + c] === Infinity) infinities++;
      for (let c = 0; c < C; c++) {
        const z = v.p[o + c];
        if (m === Infinity) {
          p[o + c] = infinities > 1 ? NaN : z === Infinity ? 1 : 0;
          logp[o + c] = infinities > 1 ? NaN : z === Infinity ? 0 : -Infinity;
          continue;
        }
        p[o + c] = Math.exp(z - m) / s;
        logp[o + c] = z - m - Math.log(s);
      }
    } else {
      for (let c = 0; c < C; c++) {
        const z = v.p[o + c];
        if (act === 'sigmoid') {
          p[o + c] = 1 / (1 + Math.exp(-z));
          logp[o + c] = -softplus(-z);
          log1mp[o + c] = -softplus(z);
        } else {
          p[o + c] = z;
          const pc = Math.min(1 - eps, Math.max(eps, z));
          logp[o + c] = Math.log(pc);
          log1mp[o + c] = Math.log(1 - pc);
        }
      }
    }
  }
  let t = v.t;
  if (!t) {
    t = new Float64Array(n);
    for (let vox = 0; vox < B * N; vox++) {
      const k = v.labels![vox];
      if (C === 1) t[vox] = k === 1 ? 1 : 0;
      else if (k >= 0 && k < C) t[vox * C + k] = 1;
    }
  }
  return { t, p, logp, log1mp };
}

function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

export interface Sums {
  tp: Float64Array;
  t: Float64Array;
  p: Float64Array;
  absDiff: Float64Array;
  pp: Float64Array;
  tt: Float64Array;
  logLikelihood: Float64Array;
  binaryLogLikelihood: Float64Array;
}

/** Per-(b, c) sums over the voxels, each of length B*C. */
export function sums(v: Volume, act: Act): Sums {
  const { B, N, C } = v;
  const d = dense(v, act);
  const mk = (): Float64Array => new Float64Array(B * C);
  const s: Sums = {
    tp: mk(),
    t: mk(),
    p: mk(),
    absDiff: mk(),
    pp: mk(),
    tt: mk(),
    logLikelihood: mk(),
    binaryLogLikelihood: mk(),
  };
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const i = (b * N + n) * C + c;
        const k = b * C + c;
        const t = d.t[i];
        const p = d.p[i];
        s.tp[k] += t * p;
        s.t[k] += t;
        s.p[k] += p;
        s.absDiff[k] += Math.abs(p - t);
        s.pp[k] += p * p;
        s.tt[k] += t * t;
        s.logLikelihood[k] += t * d.logp[i];
        s.binaryLogLikelihood[k] += t * d.logp[i] + (1 - t) * d.log1mp[i];
      }
    }
  }
  return s;
}

export interface LossOpts {
  smoothNr?: number;
  smoothDr?: number;
  includeBackground?: boolean;
  activation?: Act;
  reduction?: 'mean' | 'sum' | 'none';
  batch?: 'per_sample' | 'summed';
  classWeights?: number[];
  softLabel?: boolean;
  squaredPred?: boolean;
  emptyGroundTruth?: 'keep' | 'zero_loss';
  alpha?: number;
  beta?: number;
  weightType?: 'square' | 'simple' | 'uniform';
  weightInf?: 'monai_max' | 'eps';
}

type Kind = 'dice' | 'iou' | 'tversky';

/** Per-(b or 1, c') statistics after background removal and optional batch summing. */
function reducedStats(
  v: Volume,
  o: LossOpts,
  summed: boolean,
): { rows: number; C: number; get: (name: keyof Sums, r: number, c: number) => number } {
  const s = sums(v, o.activation ?? 'none');
  const drop = o.includeBackground === false && v.C > 1 ? 1 : 0;
  const C = v.C - drop;
  const rows = summed ? 1 : v.B;
  const get = (name: keyof Sums, r: number, c: number): number => {
    if (!summed) return s[name][r * v.C + c + drop];
    let acc = 0;
    for (let b = 0; b < v.B; b++) acc += s[name][b * v.C + c + drop];
    return acc;
  };
  return { rows, C, get };
}

function overlapTerms(
  get: (name: keyof Sums, r: number, c: number) => number,
  r: number,
  c: number,
  o: LossOpts,
): { tp: number; po: number; go: number } {
  if (o.squaredPred) return { tp: get('tp', r, c), po: get('pp', r, c), go: get('tt', r, c) };
  const P = get('p', r, c);
  const T = get('t', r, c);
  const tp = o.softLabel ? (P + T - get('absDiff', r, c)) / 2 : get('tp', r, c);
  return { tp, po: P, go: T };
}

/** dice / iou / tversky in float64: scalar (mean/sum) or the per-(b, c') matrix flattened. */
export function overlapLoss(kind: Kind, v: Volume, o: LossOpts = {}): number | number[] {
  const nr = o.smoothNr ?? 1e-5;
  const dr = o.smoothDr ?? 1e-5;
  const alpha = o.alpha ?? 0.5;
  const beta = o.beta ?? 0.5;
  const summed = o.batch === 'summed';
  const { rows, C, get } = reducedStats(v, o, summed);
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) {
      const { tp, po, go } = overlapTerms(get, r, c, o);
      const fp = po - tp;
      const fn = go - tp;
      let num: number;
      let den: number;
      if (kind === 'dice') {
        num = 2 * tp + nr;
        den = po + go + dr;
      } else if (kind === 'iou') {
        num = tp + nr;
        den = po + go - tp + dr;
      } else {
        num = tp + nr;
        den = tp + alpha * fp + beta * fn + dr;
      }
      let loss = 1 - (den === 0 ? 0 : num / den);
      if (o.emptyGroundTruth === 'zero_loss' && get('t', r, c) <= 0) loss = 0;
      if (o.classWeights) loss *= o.classWeights[c];
      out.push(loss);
    }
  }
  return reduce(out, o.reduction ?? 'mean');
}

function reduce(values: number[], reduction: 'mean' | 'sum' | 'none'): number | number[] {
  if (reduction === 'none') return values;
  const s = values.reduce((a, b) => a + b, 0);
  return reduction === 'sum' ? s : s / values.length;
}

/** Generalized dice (MONAI semantics; `batch` 'summed' is the default, as in the seed). */
export function generalizedDice(v: Volume, o: LossOpts = {}): number | number[] {
  const nr = o.smoothNr ?? 1e-5;
  const dr = o.smoothDr ?? 1e-5;
  const summed = (o.batch ?? 'summed') === 'summed';
  const weightType = o.weightType ?? 'square';
  const inf = o.weightInf ?? 'monai_max';
  const { rows, C, get } = reducedStats(v, o, summed);
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const w: number[] = [];
    for (let c = 0; c < C; c++) {
      const T = get('t', r, c);
      if (weightType === 'uniform') w.push(1);
      else if (inf === 'eps') w.push(weightType === 'square' ? 1 / (T * T + 1e-5) : 1 / (T + 1e-5));
      else w.push(T > 1e-12 ? (weightType === 'square' ? 1 / (T * T) : 1 / T) : Infinity);
    }
    const finite = w.filter((x) => Number.isFinite(x));
    const maxW = finite.length ? Math.max(...finite) : 0;
    let num = 0;
    let den = 0;
    for (let c = 0; c < C; c++) {
      const wc = Number.isFinite(w[c]) ? w[c] : maxW;
      const { tp, po, go } = overlapTerms(get, r, c, o);
      num += wc * tp;
      den += wc * (po + go);
    }
    out.push(1 - (2 * num + nr) / (den + dr));
  }
  if (summed) return (o.reduction ?? 'mean') === 'none' ? out : out[0];
  return reduce(out, o.reduction ?? 'mean');
}

/** Categorical cross-entropy: −mean over (b, voxel) of Σ_c t·log p (clamped for probabilities). */
export function categoricalCrossentropy(v: Volume, act: Act): number {
  const s = sums(v, act);
  let total = 0;
  for (let i = 0; i < s.logLikelihood.length; i++) total += s.logLikelihood[i];
  return -total / (v.B * v.N);
}

/** Binary cross-entropy: −mean over (b, voxel, c) of t·log p + (1 − t)·log(1 − p). */
export function binaryCrossentropy(v: Volume, act: Act): number {
  const s = sums(v, act);
  let total = 0;
  for (let i = 0; i < s.binaryLogLikelihood.length; i++) total += s.binaryLogLikelihood[i];
  return -total / (v.B * v.N * v.C);
}
