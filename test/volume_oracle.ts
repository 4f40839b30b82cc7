/**
 * Float64 references for the sliding-window and normalisation ops, written from their
 * definitions: conv3d (TensorFlow's 'same' rule, strides, dilation, fused bias and relu), max and
 * average pooling, nearest upsampling, group normalisation.
 */
import { Nd } from './oracle.js';

export interface ConvOpts {
  strides?: number[];
  dilation?: number[];
  padding?: 'same' | 'valid';
}

/** Output extents O and padding before P of each spatial axis ('same' as TensorFlow). */
function convExtents(I: number[], K: number[], o: ConvOpts): { O: number[]; P: number[]; s: number[]; d: number[] } {
  const s = o.strides ?? [1, 1, 1];
  const d = o.dilation ?? [1, 1, 1];
  const O: number[] = [];
  const P: number[] = [];
  for (let a = 0; a < 3; a++) {
    const span = (K[a] - 1) * d[a] + 1;
    if ((o.padding ?? 'valid') === 'valid') {
      O.push(Math.floor((I[a] - span) / s[a]) + 1);
      P.push(0);
    } else {
      O.push(Math.ceil(I[a] / s[a]));
      P.push(Math.floor(Math.max((O[a] - 1) * s[a] + span - I[a], 0) / 2));
    }
  }
  return { O, P, s, d };
}

/**
 * Visits every (output voxel, tap) pair of a convolution whose input position lies inside the
 * input (padding has no terms), with the flat bases of that input voxel's channels (× CI), of the
 * output voxel's channels (× CO) and of the tap's weights (× CI).
 */
function forEachTap(
  input: number[],
  kernel: number[],
  CO: number,
  o: ConvOpts,
  visit: (xb: number, yb: number, wb: number) => void,
): void {
  const [B, IX, IY, IZ, CI] = input;
  const [KX, KY, KZ] = kernel;
  const { O, P, s, d } = convExtents([IX, IY, IZ], kernel, o);
  for (let b = 0; b < B; b++)
    for (let ox = 0; ox < O[0]; ox++)
      for (let oy = 0; oy < O[1]; oy++)
        for (let oz = 0; oz < O[2]; oz++)
          for (let kx = 0; kx < KX; kx++)
            for (let ky = 0; ky < KY; ky++)
              for (let kz = 0; kz < KZ; kz++) {
                const ix = ox * s[0] + kx * d[0] - P[0];
                const iy = oy * s[1] + ky * d[1] - P[1];
                const iz = oz * s[2] + kz * d[2] - P[2];
                if (ix < 0 || iy < 0 || iz < 0 || ix >= IX || iy >= IY || iz >= IZ) continue;
                visit(
                  (((b * IX + ix) * IY + iy) * IZ + iz) * CI,
                  (((b * O[0] + ox) * O[1] + oy) * O[2] + oz) * CO,
                  ((kx * KY + ky) * KZ + kz) * CI,
                );
              }
}

export /** Direct float64 convolution with TensorFlow's 'same' padding rule, written from the definition. */
function conv3dOracle(x: Nd, w: Nd, o: ConvOpts): Nd {
  const [B, IX, IY, IZ, CI] = x.shape;
  const [KX, KY, KZ, , CO] = w.shape;
  const { O } = convExtents([IX, IY, IZ], [KX, KY, KZ], o);
  const y = new Float64Array(B * O[0] * O[1] * O[2] * CO);
  // Each output's sum runs over its taps in order, input channels within a tap.
  forEachTap(x.shape, [KX, KY, KZ], CO, o, (xb, yb, wb) => {
    for (let ci = 0; ci < CI; ci++)
      for (let co = 0; co < CO; co++) y[yb + co] += x.data[xb + ci] * w.data[(wb + ci) * CO + co];
  });
  return new Nd([B, O[0], O[1], O[2], CO], y);
}

export /**
 * The weight gradient of conv3dOracle from its definition: dw[k, ci, co] = Σ_b Σ_o x[b, i(o, k),
 * ci] · dy[b, o, co] over the taps that land inside x (padding contributes nothing).
 */
function conv3dWeightGradOracle(x: Nd, dy: Nd, kernel: number[], o: ConvOpts): Nd {
  const CI = x.shape[4];
  const CO = dy.shape[4];
  const dw = new Float64Array(kernel[0] * kernel[1] * kernel[2] * CI * CO);
  forEachTap(x.shape, kernel, CO, o, (xb, yb, wb) => {
    for (let ci = 0; ci < CI; ci++)
      for (let co = 0; co < CO; co++) dw[(wb + ci) * CO + co] += x.data[xb + ci] * dy.data[yb + co];
  });
  return new Nd([...kernel, CI, CO], dw);
}

export /**
 * The input gradient of conv3dOracle from its definition: dx[b, i, ci] = Σ w[k, ci, co] · dy[b, o,
 * co] over the (output, tap) pairs with i = o·stride + k·dilation − pad (no terms for padding).
 */
function conv3dInputGradOracle(dy: Nd, w: Nd, input: number[], o: ConvOpts): Nd {
  const [CI, CO] = [input[4], w.shape[4]];
  const dx = new Float64Array(input.reduce((a, b) => a * b, 1));
  forEachTap(input, w.shape.slice(0, 3), CO, o, (xb, yb, wb) => {
    for (let ci = 0; ci < CI; ci++)
      for (let co = 0; co < CO; co++) dx[xb + ci] += w.data[(wb + ci) * CO + co] * dy.data[yb + co];
  });
  return new Nd([...input], dx);
}

export /** The oracle with a bias per output channel and an optional relu after it. */
function fusedOracle(x: Nd, w: Nd, b: Nd, o: ConvOpts, relu: boolean): Nd {
  const y = conv3dOracle(x, w, o);
  const C = b.size;
  return new Nd(
    y.shape,
    y.data.map((v, i) => {
      const z = v + b.data[i % C];
      return relu ? Math.max(z, 0) : z;
    }),
  );
}

export interface PoolOpts {
  poolSize: number[];
  strides?: number[];
  padding?: 'same' | 'valid';
}

export function poolOracle(kind: 'max' | 'avg', x: Nd, o: PoolOpts): Nd {
  const [B, IX, IY, IZ, C] = x.shape;
  const K = o.poolSize;
  const s = o.strides ?? K;
  const I = [IX, IY, IZ];
  const O: number[] = [];
  const P: number[] = [];
  for (let a = 0; a < 3; a++) {
    if ((o.padding ?? 'valid') === 'valid') {
      O.push(Math.floor((I[a] - K[a]) / s[a]) + 1);
      P.push(0);
    } else {
      O.push(Math.ceil(I[a] / s[a]));
      P.push(Math.floor(Math.max((O[a] - 1) * s[a] + K[a] - I[a], 0) / 2));
    }
  }
  const y = new Float64Array(B * O[0] * O[1] * O[2] * C);
  for (let b = 0; b < B; b++)
    for (let ox = 0; ox < O[0]; ox++)
      for (let oy = 0; oy < O[1]; oy++)
        for (let oz = 0; oz < O[2]; oz++)
          for (let c = 0; c < C; c++) {
            let best = -Infinity;
            let total = 0;
            let n = 0;
            for (let kx = 0; kx < K[0]; kx++)
              for (let ky = 0; ky < K[1]; ky++)
                for (let kz = 0; kz < K[2]; kz++) {
                  const [ix, iy, iz] = [ox * s[0] + kx - P[0], oy * s[1] + ky - P[1], oz * s[2] + kz - P[2]];
                  if (ix < 0 || iy < 0 || iz < 0 || ix >= IX || iy >= IY || iz >= IZ) continue;
                  const v = x.data[(((b * IX + ix) * IY + iy) * IZ + iz) * C + c];
                  best = Math.max(best, v);
                  total += v;
                  n++;
                }
            y[(((b * O[0] + ox) * O[1] + oy) * O[2] + oz) * C + c] = kind === 'max' ? best : total / n;
          }
  return new Nd([B, O[0], O[1], O[2], C], y);
}

/**
 * dL/dx of max pooling: each window's dy goes to its first maximal tap in (kx, ky, kz) order, the
 * first NaN tap where the window holds one (the tap the max returned).
 */
export function maxPoolGradOracle(x: Nd, dy: Nd, o: PoolOpts): Nd {
  const [B, IX, IY, IZ, C] = x.shape;
  const K = o.poolSize;
  const s = o.strides ?? K;
  const [, OX, OY, OZ] = dy.shape;
  const P = [IX, IY, IZ].map((n, a) =>
    (o.padding ?? 'valid') === 'valid' ? 0 : Math.floor(Math.max((dy.shape[a + 1] - 1) * s[a] + K[a] - n, 0) / 2),
  );
  const dx = new Float64Array(x.size);
  for (let b = 0; b < B; b++)
    for (let ox = 0; ox < OX; ox++)
      for (let oy = 0; oy < OY; oy++)
        for (let oz = 0; oz < OZ; oz++)
          for (let c = 0; c < C; c++) {
            let best = Number.NEGATIVE_INFINITY;
            let at = -1;
            for (let kx = 0; kx < K[0]; kx++)
              for (let ky = 0; ky < K[1]; ky++)
                for (let kz = 0; kz < K[2]; kz++) {
                  const [ix, iy, iz] = [ox * s[0] + kx - P[0], oy * s[1] + ky - P[1], oz * s[2] + kz - P[2]];
                  if (ix < 0 || iy < 0 || iz < 0 || ix >= IX || iy >= IY || iz >= IZ) continue;
                  const i = (((b * IX + ix) * IY + iy) * IZ + iz) * C + c;
                  const v = x.data[i];
                  if (at < 0 || (!Number.isNaN(best) && (v > best || Number.isNaN(v)))) {
                    best = v;
                    at = i;
                  }
                }
            dx[at] += dy.data[(((b * OX + ox) * OY + oy) * OZ + oz) * C + c];
          }
  return new Nd(x.shape, dx);
}

export function upsampleOracle(x: Nd, f: number[]): Nd {
  const [B, X, Y, Z, C] = x.shape;
  const O = [X * f[0], Y * f[1], Z * f[2]];
  const y = new Float64Array(B * O[0] * O[1] * O[2] * C);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < O[0]; i++)
      for (let j = 0; j < O[1]; j++)
        for (let k = 0; k < O[2]; k++)
          for (let c = 0; c < C; c++) {
            y[(((b * O[0] + i) * O[1] + j) * O[2] + k) * C + c] =
              x.data[(((b * X + Math.floor(i / f[0])) * Y + Math.floor(j / f[1])) * Z + Math.floor(k / f[2])) * C + c];
          }
  return new Nd([B, O[0], O[1], O[2], C], y);
}

/** The sum of each f-block of x (blocks that do not fit at the far end left out): upsampling's gradient. */
export function blockSumOracle(x: Nd, f: number[]): Nd {
  const [B, X, Y, Z, C] = x.shape;
  const O = [Math.floor(X / f[0]), Math.floor(Y / f[1]), Math.floor(Z / f[2])];
  const y = new Float64Array(B * O[0] * O[1] * O[2] * C);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < O[0] * f[0]; i++)
      for (let j = 0; j < O[1] * f[1]; j++)
        for (let k = 0; k < O[2] * f[2]; k++)
          for (let c = 0; c < C; c++) {
            const o =
              (((b * O[0] + Math.floor(i / f[0])) * O[1] + Math.floor(j / f[1])) * O[2] + Math.floor(k / f[2])) * C + c;
            y[o] += x.data[(((b * X + i) * Y + j) * Z + k) * C + c];
          }
  return new Nd([B, O[0], O[1], O[2], C], y);
}

export function groupNormOracle(x: Nd, gamma: Nd, beta: Nd, G: number, eps = 1e-5): Nd {
  const B = x.shape[0];
  const C = x.shape[x.shape.length - 1];
  const N = x.size / (B * C);
  const per = C / G;
  const y = new Float64Array(x.size);
  for (let b = 0; b < B; b++)
    for (let g = 0; g < G; g++) {
      let m = 0;
      for (let n = 0; n < N; n++) for (let c = g * per; c < (g + 1) * per; c++) m += x.data[(b * N + n) * C + c];
      m /= N * per;
      let v = 0;
      for (let n = 0; n < N; n++)
        for (let c = g * per; c < (g + 1) * per; c++) v += (x.data[(b * N + n) * C + c] - m) ** 2;
      v /= N * per;
      for (let n = 0; n < N; n++)
        for (let c = g * per; c < (g + 1) * per; c++) {
          const i = (b * N + n) * C + c;
          y[i] = ((x.data[i] - m) / Math.sqrt(v + eps)) * gamma.data[c] + beta.data[c];
        }
    }
  return new Nd(x.shape.slice(), y);
}
