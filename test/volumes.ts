/** Random segmentation volumes for the loss and overlap tests, with their float64 oracle form. */
import * as vg from '../src/index.node.js';
import { rng } from './helpers.js';
import type * as L from './loss_oracle.js';

export interface Made {
  v: L.Volume;
  shape: number[];
}

/** A random volume: soft or one-hot targets (some classes empty), or int32 labels. */
export function makeVolume(shape: number[], seed: number, kind: 'onehot' | 'soft' | 'labels', act: L.Act): Made {
  const r = rng(seed);
  const B = shape[0];
  const C = shape[shape.length - 1];
  const N = shape.slice(1, -1).reduce((a, b) => a * b, 1);
  const p = new Float64Array(B * N * C);
  for (let i = 0; i < p.length; i++) p[i] = Math.fround(act === 'none' ? r() : 4 * r() - 2);
  // Class c is absent from sample b when (b + c) % 3 == 2, so every volume has empty classes.
  const absent = (b: number, c: number): boolean => C > 1 && (b + c) % 3 === 2;
  const labels = new Int32Array(B * N);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      let k = Math.floor(r() * C);
      if (C > 1) while (absent(b, k)) k = (k + 1) % C;
      labels[b * N + n] = C === 1 ? (r() < 0.4 ? 1 : 0) : k;
    }
  }
  let tv: Float64Array | null = null;
  if (kind !== 'labels') {
    tv = new Float64Array(B * N * C);
    for (let vox = 0; vox < B * N; vox++) {
      const b = Math.floor(vox / N);
      for (let c = 0; c < C; c++) {
        if (kind === 'soft') tv[vox * C + c] = absent(b, c) ? 0 : Math.fround(r());
        else tv[vox * C + c] = C === 1 ? labels[vox] : labels[vox] === c ? 1 : 0;
      }
    }
  }
  return { v: { B, N, C, t: tv, labels: kind === 'labels' ? labels : undefined, p }, shape };
}

export function gpuTrue(m: Made): vg.Tensor {
  return m.v.t ? vg.tensor(Float32Array.from(m.v.t), m.shape) : vg.tensor(m.v.labels!, m.shape.slice(0, -1), 'int32');
}
export function gpuPred(m: Made): vg.Tensor {
  return vg.tensor(Float32Array.from(m.v.p), m.shape);
}
