/**
 * Finite-difference gradient checks: the GPU backward of an op against central differences of
 * the float64 oracle, for L = Σ f(x) ⊙ W with a fixed random W (so every output element
 * weighs differently).
 */
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { randomNd, toGpu } from './helpers.js';
import { Nd } from './oracle.js';

export interface GradCase {
  label: string;
  inputs: Nd[];
  gpu: (...xs: vg.Tensor[]) => vg.Tensor;
  oracle: (...xs: Nd[]) => Nd;
  /** Inputs to differentiate (default: all). */
  wrt?: number[];
  tol?: number;
}

function weightedSum(y: Nd, w: Nd): number {
  let s = 0;
  for (let i = 0; i < y.size; i++) s += y.data[i] * w.data[i];
  return s;
}

export async function checkGrad(c: GradCase): Promise<void> {
  const tol = c.tol ?? 1e-3;
  const yShape = c.oracle(...c.inputs).shape;
  const w = randomNd(yShape, 12345, 0.5, 1.5);
  const wrt = c.wrt ?? c.inputs.map((_, i) => i);
  const gx = c.inputs.map((x) => toGpu(x));
  const gw = toGpu(w);
  const { value, grads } = vg.valueAndGrad(
    () => vg.sum(vg.mul(c.gpu(...gx), gw)),
    wrt.map((i) => gx[i]),
  );
  const gradData = await vg.readAll(grads.map((g) => g!));
  const loss = (await value.data())[0];
  const expectedLoss = weightedSum(c.oracle(...c.inputs), w);
  assert.ok(
    Math.abs(loss - expectedLoss) <= 1e-4 * Math.max(1, Math.abs(expectedLoss)),
    `${c.label}: loss ${loss} vs oracle ${expectedLoss}`,
  );
  wrt.forEach((inputIndex, k) => {
    const x = c.inputs[inputIndex];
    const numeric = new Float64Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const h = 1e-6 * Math.max(1, Math.abs(x.data[i]));
      const plus = x.data.slice();
      const minus = x.data.slice();
      plus[i] += h;
      minus[i] -= h;
      const args = (d: Float64Array) => c.inputs.map((inp, j) => (j === inputIndex ? new Nd(inp.shape, d) : inp));
      numeric[i] = (weightedSum(c.oracle(...args(plus)), w) - weightedSum(c.oracle(...args(minus)), w)) / (2 * h);
    }
    const g = gradData[k];
    let maxErr = 0;
    let maxRef = 0;
    let worst = 0;
    for (let i = 0; i < x.size; i++) {
      const e = Math.abs(g[i] - numeric[i]);
      if (e > maxErr) {
        maxErr = e;
        worst = i;
      }
      maxRef = Math.max(maxRef, Math.abs(numeric[i]));
    }
    const rel = maxErr / Math.max(maxRef, 1e-6);
    assert.ok(
      rel <= tol,
      `${c.label}: gradient of input ${inputIndex} has relative error ${rel.toExponential(2)} > ${tol}; worst at ${worst}: got ${g[worst]}, finite differences ${numeric[worst]}`,
    );
  });
  vg.tidy(() => [...gx, gw, value, ...grads].forEach((t) => t?.dispose()));
}
