// Every op family on a real tensor larger than one storage binding (lavapipe's and Chromium's
// default maxStorageBufferBindingSize is 128 MiB), checked against the host (movement, broadcasts,
// casts, softmax, matmul, optimizer updates) or against the same op on pieces that each fit one
// binding (convolution, pooling, group normalisation, with their gradients). Elementwise maths,
// fill, random, reductions and the overlap sums have their own such tests.
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';

const t = suite('op families over a tensor larger than one binding');
t.before(setup);

const binding = (): number => vg.deviceInfo().limits.maxStorageBufferBindingSize;
/** Rows of 64 floats just past one binding. */
const rows = (): number => Math.ceil(binding() / 4 / 64) + 64;
const fits = (bytes: number): boolean => bytes <= vg.deviceInfo().limits.maxBufferSize;

/** x[r, c] = ((r · 64 + c) mod 1021) − 510, exact in float32. */
function hostMatrix(R: number): Float32Array {
  const out = new Float32Array(R * 64);
  for (let i = 0; i < out.length; i++) out[i] = (i % 1021) - 510;
  return out;
}

/** A typed array of n values f(i), filled by a plain loop (`from` with a mapper is far slower). */
function filled<A extends Float32Array | Int32Array>(array: A, f: (i: number) => number): A {
  for (let i = 0; i < array.length; i++) array[i] = f(i);
  return array;
}

function expectEvery(label: string, n: number, ok: (i: number) => boolean): void {
  let bad = -1;
  for (let i = 0; i < n && bad < 0; i++) if (!ok(i)) bad = i;
  assert.is(bad, -1, `${label}: first wrong element ${bad}`);
}

/** max |a − b| / (max |b| + tiny), computed on the GPU. */
async function relativeDifference(a: vg.Tensor, b: vg.Tensor): Promise<number> {
  const [d, m] = vg.tidy(() => [vg.max(vg.abs(vg.sub(a, b))), vg.max(vg.abs(b))]);
  const [dd, mm] = await vg.readAll([d, m]);
  d.dispose();
  m.dispose();
  return dd[0] / (mm[0] + 1e-30);
}

t('movement: transpose, slice, pad, concat and broadcastTo match the host', async () => {
  const R = rows();
  if (!fits(R * 64 * 4 + 16 * 1024 * 64)) return;
  const host = hostMatrix(R);
  const x = vg.tensor(host, [R, 64]);
  const at = (r: number, c: number): number => host[r * 64 + c];
  {
    const y = vg.transpose(x);
    const d = await y.data();
    expectEvery('transpose', R * 64, (i) => d[i] === at(i % R, Math.floor(i / R)));
    y.dispose();
  }
  {
    const y = vg.slice(x, [1000, 3], [R - 2000, 50]);
    const d = await y.data();
    expectEvery('slice', (R - 2000) * 50, (i) => d[i] === at(1000 + Math.floor(i / 50), 3 + (i % 50)));
    y.dispose();
  }
  {
    const y = vg.pad(
      x,
      [
        [3, 5],
        [1, 0],
      ],
      7,
    );
    const d = await y.data();
    expectEvery('pad', (R + 8) * 65, (i) => {
      const [r, c] = [Math.floor(i / 65) - 3, (i % 65) - 1];
      return d[i] === (r >= 0 && r < R && c >= 0 ? at(r, c) : 7);
    });
    y.dispose();
  }
  {
    const small = vg.fill([100, 64], -1);
    const y = vg.concat([small, x], 0);
    const d = await y.data();
    expectEvery('concat', (R + 100) * 64, (i) => d[i] === (i < 6400 ? -1 : host[i - 6400]));
    vg.tidy(() => [small, y].forEach((v) => v.dispose()));
  }
  {
    const row = vg.tensor(host.subarray(0, 64), [1, 64]);
    const y = vg.broadcastTo(row, [R, 64]);
    const d = await y.data();
    expectEvery('broadcastTo', R * 64, (i) => d[i] === host[i % 64]);
    vg.tidy(() => [row, y].forEach((v) => v.dispose()));
  }
  x.dispose();
});

t('broadcast arithmetic, where and cast match the host', async () => {
  const R = rows();
  if (!fits(R * 64 * 4)) return;
  const host = hostMatrix(R);
  const x = vg.tensor(host, [R, 64]);
  const bias = vg.tensor(
    Float32Array.from({ length: 64 }, (_, c) => c),
    [64],
  );
  const col = vg.tensor(
    filled(new Float32Array(R), (r) => r % 3),
    [R, 1],
  );
  const cond = vg.tensor(
    filled(new Int32Array(R), (r) => r % 2),
    [R, 1],
    'int32',
  );
  const outs = [vg.add(x, bias), vg.mul(x, col), vg.where(cond, x, vg.scalar(0.5)), vg.cast(x, 'int32')];
  const [added, scaled, chosen, ints] = await vg.readAll(outs);
  expectEvery('add a bias', R * 64, (i) => added[i] === host[i] + (i % 64));
  expectEvery('mul by a column', R * 64, (i) => scaled[i] === host[i] * (Math.floor(i / 64) % 3));
  expectEvery('where', R * 64, (i) => chosen[i] === (Math.floor(i / 64) % 2 ? host[i] : 0.5));
  expectEvery('cast', R * 64, (i) => ints[i] === host[i]);
  vg.tidy(() => [x, bias, col, cond, ...outs].forEach((v) => v.dispose()));
});

t('softmax and matmul match the host', async () => {
  const R = rows();
  if (!fits(R * 64 * 4)) return;
  const host = hostMatrix(R).map((v) => v / 100);
  const x4 = vg.tensor(host, [R * 16, 4]);
  const s = vg.softmax(x4);
  const d = await s.data();
  let worst = 0;
  for (let r = 0; r < R * 16; r++) {
    const v = host.subarray(r * 4, r * 4 + 4);
    const m = Math.max(...v);
    const z = v.reduce((a, b) => a + Math.exp(b - m), 0);
    for (let c = 0; c < 4; c++) worst = Math.max(worst, Math.abs(d[r * 4 + c] - Math.exp(v[c] - m) / z));
  }
  assert.ok(worst < 1e-6, `softmax: largest error ${worst}`);
  const a = vg.reshape(x4, [R * 8, 8]);
  const bHost = Float32Array.from({ length: 16 }, (_, i) => (i % 5) - 2);
  const b = vg.tensor(bHost, [8, 2]);
  const p = vg.matmul(a, b);
  const pd = await p.data();
  expectEvery('matmul', R * 16, (i) => {
    const [r, c] = [Math.floor(i / 2), i % 2];
    let acc = 0;
    for (let k = 0; k < 8; k++) acc += host[r * 8 + k] * bHost[k * 2 + c];
    return Math.abs(pd[i] - acc) <= 1e-5 * (1 + Math.abs(acc));
  });
  vg.tidy(() => [x4, s, a, b, p].forEach((v) => v.dispose()));
});

/** x rows [0, split + halo) and [split, X) of a volume, and the matching dy rows. */
function halves(x: vg.Tensor, split: number, halo: number): [vg.Tensor, vg.Tensor] {
  const [B, X, Y, Z, C] = x.shape;
  return [
    vg.slice(x, [0, 0, 0, 0, 0], [B, split + halo, Y, Z, C]),
    vg.slice(x, [0, split, 0, 0, 0], [B, X - split, Y, Z, C]),
  ];
}

/** Rows [0, n) and [n, X) of the gradients of two halves, overlapping rows added. */
function joinRows(a: vg.Tensor, b: vg.Tensor, X: number, split: number): vg.Tensor {
  const pa = vg.pad(a, [
    [0, 0],
    [0, X - a.shape[1]],
    [0, 0],
    [0, 0],
    [0, 0],
  ]);
  const pb = vg.pad(b, [
    [0, 0],
    [split, 0],
    [0, 0],
    [0, 0],
    [0, 0],
  ]);
  return vg.add(pa, pb);
}

t('conv3d forward, input gradient and weight gradient equal those of two halves that fit a binding', async () => {
  const X = Math.ceil(binding() / (64 * 64 * 8 * 4)) + 2;
  if (!fits(X * 64 * 64 * 8 * 4)) return;
  const x = vg.randomNormal([1, X, 64, 64, 8], { seed: 1 });
  const w = vg.randomNormal([3, 3, 3, 8, 2], { seed: 2, stddev: 0.2 });
  const y = vg.conv3d(x, w);
  const dy = vg.randomNormal(y.shape, { seed: 3 });
  const split = Math.floor((X - 2) / 2);
  const [xa, xb] = halves(x, split, 2);
  const [dya, dyb] = [
    vg.slice(dy, [0, 0, 0, 0, 0], [1, split, 62, 62, 2]),
    vg.slice(dy, [0, split, 0, 0, 0], [1, X - 2 - split, 62, 62, 2]),
  ];
  // Forward: every output voxel is the same sum in the same order.
  const pieces = vg.tidy(() => vg.concat([vg.conv3d(xa, w), vg.conv3d(xb, w)], 1));
  assert.is(await relativeDifference(y, pieces), 0, 'forward');
  const loss = (xi: vg.Tensor, dyi: vg.Tensor) => () => vg.sum(vg.mul(vg.conv3d(xi, w), dyi));
  const [dx, dw] = vg.grad(loss(x, dy), [x, w]) as vg.Tensor[];
  const [dxa, dwa] = vg.grad(loss(xa, dya), [xa, w]) as vg.Tensor[];
  const [dxb, dwb] = vg.grad(loss(xb, dyb), [xb, w]) as vg.Tensor[];
  const dxJoined = joinRows(dxa, dxb, X, split);
  const dwJoined = vg.add(dwa, dwb);
  const [ex, ew] = [await relativeDifference(dx, dxJoined), await relativeDifference(dw, dwJoined)];
  assert.ok(ex < 1e-5, `input gradient differs by ${ex}`);
  assert.ok(ew < 1e-4, `weight gradient differs by ${ew}`);
  vg.tidy(() =>
    [x, w, y, dy, xa, xb, dya, dyb, pieces, dx, dw, dxa, dwa, dxb, dwb, dxJoined, dwJoined].forEach((v) => v.dispose()),
  );
});

t('max and average pooling and their gradients equal those of two halves that fit a binding', async () => {
  const X = 2 * Math.ceil(binding() / (64 * 64 * 8 * 4) / 2) + 2;
  if (!fits(X * 64 * 64 * 8 * 4)) return;
  const x = vg.randomNormal([1, X, 64, 64, 8], { seed: 4 });
  const split = 2 * Math.floor(X / 4);
  const [xa, xb] = halves(x, split, 0);
  for (const pool of [vg.maxPool3d, vg.avgPool3d]) {
    const y = pool(x, { poolSize: 2 });
    const pieces = vg.tidy(() => vg.concat([pool(xa, { poolSize: 2 }), pool(xb, { poolSize: 2 })], 1));
    assert.is(await relativeDifference(y, pieces), 0, `${pool.name} forward`);
    const dy = vg.randomNormal(y.shape, { seed: 5 });
    const half = split / 2;
    const dya = vg.slice(dy, [0, 0, 0, 0, 0], [1, half, 32, 32, 8]);
    const dyb = vg.slice(dy, [0, half, 0, 0, 0], [1, y.shape[1] - half, 32, 32, 8]);
    const loss = (xi: vg.Tensor, dyi: vg.Tensor) => () => vg.sum(vg.mul(pool(xi, { poolSize: 2 }), dyi));
    const [dx] = vg.grad(loss(x, dy), [x]) as vg.Tensor[];
    const [dxa] = vg.grad(loss(xa, dya), [xa]) as vg.Tensor[];
    const [dxb] = vg.grad(loss(xb, dyb), [xb]) as vg.Tensor[];
    const joined = vg.concat([dxa, dxb], 1);
    assert.is(await relativeDifference(dx, joined), 0, `${pool.name} gradient`);
    vg.tidy(() => [y, pieces, dy, dya, dyb, dx, dxa, dxb, joined].forEach((v) => v.dispose()));
  }
  vg.tidy(() => [x, xa, xb].forEach((v) => v.dispose()));
});

t('group normalisation and its gradients equal those of each sample alone', async () => {
  const X = Math.ceil(binding() / (2 * 64 * 64 * 8 * 4)) + 2;
  if (!fits(2 * X * 64 * 64 * 8 * 4)) return;
  const x = vg.randomNormal([2, X, 64, 64, 8], { seed: 6, mean: 3 });
  const [gamma, beta] = [vg.randomNormal([8], { seed: 7 }), vg.randomNormal([8], { seed: 8 })];
  const dy = vg.randomNormal(x.shape, { seed: 9 });
  const sample = (t: vg.Tensor, b: number): vg.Tensor => vg.slice(t, [b, 0, 0, 0, 0], [1, X, 64, 64, 8]);
  const loss = (xi: vg.Tensor, dyi: vg.Tensor) => () =>
    vg.sum(vg.mul(vg.groupNorm(xi, gamma, beta, { groups: 4 }), dyi));
  const y = vg.groupNorm(x, gamma, beta, { groups: 4 });
  const [dx, dg, db] = vg.grad(loss(x, dy), [x, gamma, beta]) as vg.Tensor[];
  const parts = [0, 1].map((b) => {
    const [xs, dys] = [sample(x, b), sample(dy, b)];
    const ys = vg.groupNorm(xs, gamma, beta, { groups: 4 });
    const g = vg.grad(loss(xs, dys), [xs, gamma, beta]) as vg.Tensor[];
    return { ys, g, owned: [xs, dys] };
  });
  const joined = vg.tidy(() => ({
    y: vg.concat([parts[0].ys, parts[1].ys], 0),
    dx: vg.concat([parts[0].g[0], parts[1].g[0]], 0),
    dg: vg.add(parts[0].g[1], parts[1].g[1]),
    db: vg.add(parts[0].g[2], parts[1].g[2]),
  }));
  for (const [label, a, b, tol] of [
    ['forward', y, joined.y, 1e-5],
    ['dx', dx, joined.dx, 1e-5],
    ['dgamma', dg, joined.dg, 1e-4],
    ['dbeta', db, joined.db, 1e-4],
  ] as const) {
    const e = await relativeDifference(a, b);
    assert.ok(e < tol, `${label} differs by ${e}`);
  }
  vg.tidy(() =>
    [
      x,
      gamma,
      beta,
      dy,
      y,
      dx,
      dg,
      db,
      ...Object.values(joined),
      ...parts.flatMap((p) => [p.ys, ...p.g, ...p.owned]),
    ].forEach((v) => v.dispose()),
  );
});

t('an Adam step on a parameter larger than a binding matches the host', async () => {
  const n = rows() * 64;
  if (!fits(3 * n * 4)) return;
  const host = hostMatrix(n / 64);
  const v = vg.variable(vg.tensor(host, [n]));
  const g = vg.tensor(
    host.map((x) => x / 1000),
    [n],
  );
  const opt = new vg.Adam({ learningRate: 0.01 });
  opt.applyGradients([v], [g]);
  const d = await v.data();
  expectEvery('adam', n, (i) => {
    const gi = Math.fround(host[i] / 1000);
    const m = 0.1 * gi;
    const s = 0.001 * gi * gi;
    const want = host[i] - (0.01 * (m / 0.1)) / (Math.sqrt(s / 0.001) + 1e-7);
    return Math.abs(d[i] - want) <= 1e-5 * (1 + Math.abs(want));
  });
  v.dispose();
  g.dispose();
  opt.dispose();
});

t.run();
