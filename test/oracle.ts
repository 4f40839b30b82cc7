/**
 * A float64 CPU reference for every op, written independently of the GPU code: plain loops over
 * row-major arrays, no shared helpers with src/. Tests compare GPU results against it.
 */
export class Nd {
  constructor(
    readonly shape: number[],
    readonly data: Float64Array,
  ) {
    if (data.length !== shape.reduce((a, b) => a * b, 1))
      throw new Error(`Nd: ${data.length} values for shape [${shape}]`);
  }
  get size(): number {
    return this.data.length;
  }
  static from(shape: number[], values: ArrayLike<number>): Nd {
    return new Nd(shape.slice(), Float64Array.from(values));
  }
  map(f: (v: number, i: number) => number): Nd {
    return new Nd(this.shape.slice(), this.data.map(f));
  }
}

export function strides(shape: number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

function unravel(i: number, shape: number[]): number[] {
  const idx = new Array(shape.length).fill(0);
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = i % shape[k];
    i = Math.floor(i / shape[k]);
  }
  return idx;
}

function ravel(idx: number[], shape: number[]): number {
  let off = 0;
  for (let k = 0; k < shape.length; k++) off = off * shape[k] + idx[k];
  return off;
}

export const unaryFns: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  relu: (x) => Math.max(x, 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  softplus: (x) => (x > 30 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
  sign: Math.sign,
  reciprocal: (x) => 1 / x,
  sin: Math.sin,
  cos: Math.cos,
  log1p: Math.log1p,
  // NumPy's heaviside: NaN stays NaN.
  step: (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : 0),
};

/**
 * NumPy's power (C99's pow), which JavaScript's ** differs from: 1^y = 1 and (-1)^±inf = 1 for
 * any y, NaN included.
 */
export function numpyPow(a: number, b: number): number {
  if (a === 1 || b === 0) return 1;
  if (a === -1 && Math.abs(b) === Infinity) return 1;
  return a ** b;
}

export function unary(name: string, x: Nd): Nd {
  const f = unaryFns[name];
  if (!f) throw new Error(`oracle has no unary '${name}'`);
  return x.map(f);
}

export function broadcastShape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`oracle: cannot broadcast [${a}] and [${b}]`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Reads `x` at an output index of a broadcast shape. */
function at(x: Nd, outIdx: number[]): number {
  const off = outIdx.length - x.shape.length;
  const idx = x.shape.map((d, k) => (d === 1 ? 0 : outIdx[k + off]));
  return x.data[ravel(idx, x.shape)];
}

export const binaryFns: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: numpyPow,
  // Math.max and Math.min propagate NaN, as NumPy's maximum and minimum do.
  maximum: Math.max,
  minimum: Math.min,
  equal: (a, b) => +(a === b),
  notEqual: (a, b) => +(a !== b),
  less: (a, b) => +(a < b),
  lessEqual: (a, b) => +(a <= b),
  greater: (a, b) => +(a > b),
  greaterEqual: (a, b) => +(a >= b),
};

export function binary(name: string, a: Nd, b: Nd): Nd {
  const f = binaryFns[name];
  const shape = broadcastShape(a.shape, b.shape);
  const n = shape.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    out[i] = f(at(a, idx), at(b, idx));
  }
  return new Nd(shape, out);
}

export function where(c: Nd, a: Nd, b: Nd): Nd {
  const shape = broadcastShape(broadcastShape(c.shape, a.shape), b.shape);
  const n = shape.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    out[i] = at(c, idx) !== 0 ? at(a, idx) : at(b, idx);
  }
  return new Nd(shape, out);
}

export function reduce(name: 'sum' | 'mean' | 'max' | 'min', x: Nd, axes: number[], keepDims = false): Nd {
  const ax = axes.map((a) => (a < 0 ? a + x.shape.length : a));
  const keptShape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const n = keptShape.reduce((a, b) => a * b, 1);
  const init = name === 'max' ? -Infinity : name === 'min' ? Infinity : 0;
  const acc = new Float64Array(n).fill(init);
  for (let i = 0; i < x.size; i++) {
    const idx = unravel(i, x.shape).map((v, k) => (ax.includes(k) ? 0 : v));
    const o = ravel(idx, keptShape);
    const v = x.data[i];
    acc[o] = name === 'max' ? Math.max(acc[o], v) : name === 'min' ? Math.min(acc[o], v) : acc[o] + v;
  }
  const count = ax.reduce((a, k) => a * x.shape[k], 1);
  if (name === 'mean') for (let i = 0; i < n; i++) acc[i] /= count;
  const shape = keepDims ? keptShape : x.shape.filter((_, i) => !ax.includes(i));
  return new Nd(shape, acc);
}

/**
 * Softmax of one line of logits. A line whose largest logit is +inf gives the limit when one logit
 * is +inf (1 there, 0 elsewhere; log: 0 and -inf) and NaN when several are; NaN and all -inf lines
 * give NaN (as NumPy's x - max does).
 */
export function softmaxLine(z: readonly number[], log = false): number[] {
  const m = Math.max(...z);
  if (m === Infinity) {
    const single = z.filter((v) => v === Infinity).length === 1;
    return z.map((v) => (!single ? NaN : v === Infinity ? (log ? 0 : 1) : log ? -Infinity : 0));
  }
  const s = z.reduce((a, v) => a + Math.exp(v - m), 0);
  return z.map((v) => (log ? v - m - Math.log(s) : Math.exp(v - m) / s));
}

export function softmax(x: Nd, axis: number, log = false): Nd {
  const ax = axis < 0 ? axis + x.shape.length : axis;
  const out = new Float64Array(x.size);
  const st = strides(x.shape);
  for (let i = 0; i < x.size; i++) {
    const idx = unravel(i, x.shape);
    if (idx[ax] !== 0) continue;
    const line = [...Array(x.shape[ax]).keys()].map((k) => i + k * st[ax]);
    const values = softmaxLine(
      line.map((j) => x.data[j]),
      log,
    );
    line.forEach((j, k) => {
      out[j] = values[k];
    });
  }
  return new Nd(x.shape.slice(), out);
}

export function matmul(a: Nd, b: Nd, tA = false, tB = false): Nd {
  const A = tA ? transpose(a, swapLast(a.shape.length)) : a;
  const B = tB ? transpose(b, swapLast(b.shape.length)) : b;
  const [M, K] = A.shape.slice(-2);
  const N = B.shape[B.shape.length - 1];
  const batch = broadcastShape(A.shape.slice(0, -2), B.shape.slice(0, -2));
  const nb = batch.reduce((x, y) => x * y, 1);
  const out = new Float64Array(nb * M * N);
  for (let bi = 0; bi < nb; bi++) {
    const bidx = unravel(bi, batch);
    const pick = (t: Nd): number => {
      const bs = t.shape.slice(0, -2);
      const off = bidx.length - bs.length;
      return ravel(
        bs.map((d, k) => (d === 1 ? 0 : bidx[k + off])),
        bs,
      );
    };
    const a0 = pick(A) * M * K;
    const b0 = pick(B) * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A.data[a0 + m * K + k] * B.data[b0 + k * N + n];
        out[(bi * M + m) * N + n] = s;
      }
    }
  }
  return new Nd([...batch, M, N], out);
}

function swapLast(rank: number): number[] {
  const p = [...Array(rank).keys()];
  [p[rank - 2], p[rank - 1]] = [p[rank - 1], p[rank - 2]];
  return p;
}

export function transpose(x: Nd, perm: number[]): Nd {
  const shape = perm.map((p) => x.shape[p]);
  const out = new Float64Array(x.size);
  for (let i = 0; i < x.size; i++) {
    const idx = unravel(i, x.shape);
    out[
      ravel(
        perm.map((p) => idx[p]),
        shape,
      )
    ] = x.data[i];
  }
  return new Nd(shape, out);
}

export function slice(x: Nd, begin: number[], size: number[]): Nd {
  const n = size.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, size);
    out[i] =
      x.data[
        ravel(
          idx.map((v, k) => v + begin[k]),
          x.shape,
        )
      ];
  }
  return new Nd(size.slice(), out);
}

export function pad(x: Nd, paddings: [number, number][], value = 0): Nd {
  const shape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n).fill(value);
  for (let i = 0; i < x.size; i++) {
    const idx = unravel(i, x.shape);
    out[
      ravel(
        idx.map((v, k) => v + paddings[k][0]),
        shape,
      )
    ] = x.data[i];
  }
  return new Nd(shape, out);
}

export function concat(xs: Nd[], axis: number): Nd {
  const shape = xs[0].shape.slice();
  shape[axis] = xs.reduce((a, t) => a + t.shape[axis], 0);
  const out = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let offset = 0;
  for (const t of xs) {
    for (let i = 0; i < t.size; i++) {
      const idx = unravel(i, t.shape);
      idx[axis] += offset;
      out[ravel(idx, shape)] = t.data[i];
    }
    offset += t.shape[axis];
  }
  return new Nd(shape, out);
}

export function broadcastTo(x: Nd, shape: number[]): Nd {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = at(x, unravel(i, shape));
  return new Nd(shape.slice(), out);
}
