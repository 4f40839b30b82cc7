/**
 * Seeded synthetic segmentation volumes: on a background (class 0), a sphere (class 1), a box
 * (class 2) and a spherical shell (class 3), each present in a sample with probability 3/4, so
 * some classes are absent from some samples (what dice and tversky must handle). The one-channel
 * image has a class-dependent intensity plus Gaussian noise. Runs on the host; no GPU.
 */

export const SYNTHETIC_CLASSES = 4;

export interface SyntheticVolumes {
  /** (n, S, S, S, 1) float32 intensities. */
  image: Float32Array;
  /** (n, S, S, S) class indices. */
  labels: Int32Array;
  n: number;
  size: number;
}

/** A small seeded PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticVolumes(n: number, size: number, seed: number, noise = 0.5): SyntheticVolumes {
  const r = seededRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const V = size ** 3;
  const labels = new Int32Array(n * V);
  const image = new Float32Array(n * V);
  const intensity = [-1, 1, 0.4, -0.2];
  for (let b = 0; b < n; b++) {
    const at = (): number[] => [0, 1, 2].map(() => size * (0.25 + 0.5 * r()));
    const sphere = r() < 0.75 ? { c: at(), radius: size * (0.1 + 0.08 * r()) } : null;
    const box = r() < 0.75 ? { c: at(), half: [0, 1, 2].map(() => size * (0.06 + 0.08 * r())) } : null;
    const shell = r() < 0.75 ? { c: at(), inner: size * (0.12 + 0.05 * r()), width: size * (0.05 + 0.04 * r()) } : null;
    for (let i = 0; i < V; i++) {
      const p = [i % size, Math.floor(i / size) % size, Math.floor(i / (size * size))];
      let k = 0;
      if (shell) {
        const d = Math.hypot(p[0] - shell.c[0], p[1] - shell.c[1], p[2] - shell.c[2]);
        if (d >= shell.inner && d < shell.inner + shell.width) k = 3;
      }
      if (box && p.every((x, a) => Math.abs(x - box.c[a]) <= box.half[a])) k = 2;
      if (sphere && Math.hypot(p[0] - sphere.c[0], p[1] - sphere.c[1], p[2] - sphere.c[2]) < sphere.radius) k = 1;
      labels[b * V + i] = k;
      image[b * V + i] = intensity[k] + noise * gauss();
    }
  }
  return { image, labels, n, size };
}
