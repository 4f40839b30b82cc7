/**
 * The built-in training data of `voxgrad train` without a data folder: seeded volumes of varied
 * shapes (sides of 16 to 43 voxels) holding a sphere (class 1), a box (class 2) and a spherical
 * shell (class 3), apart from each other, on a background (class 0). Each structure is present
 * with probability 0.8 (at least one always is), so some classes are missing from some cases, as
 * in real data. The image is a class intensity plus Gaussian noise, so single voxels are
 * ambiguous and the network must use context. The sphere is bright, the box dark and the shell
 * dimmer than the sphere and hollow: a network that normalises each patch (group or instance
 * normalisation) loses absolute intensity, so classes differ in contrast and shape too.
 */
import { seededRandom } from '../data/synthetic.js';
import type { VolumeCase } from '../data/volume.js';

export const SYNTHETIC_CLASS_NAMES = ['background', 'sphere', 'box', 'shell'] as const;

const INTENSITY = [0, 4, -2, 1];
const NOISE = 0.4;

/** `n` cases named synthetic-01, synthetic-02, …; the same seed gives the same cases. */
export function syntheticCases(n: number, seed: number): VolumeCase[] {
  const r = seededRandom(seed * 7919 + 17);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const digits = Math.max(2, String(n).length);
  return Array.from({ length: n }, (_, index) => {
    // A size of 20 to 36 voxels, each axis within ±20% of it.
    const size = 20 + 16 * r();
    const dims = [0, 1, 2].map(() => Math.round(size * (0.8 + 0.4 * r())));
    const [X, Y, Z] = dims;
    const side = Math.min(X, Y, Z);
    // Structures do not overlap: each centre is drawn until it clears those placed before.
    const placed: { c: number[]; extent: number }[] = [];
    const place = (extent: number): number[] | null => {
      for (let tries = 0; tries < 50; tries++) {
        const c = dims.map((d) => extent + (d - 2 * extent) * r());
        if (placed.every((p) => Math.hypot(c[0] - p.c[0], c[1] - p.c[1], c[2] - p.c[2]) > extent + p.extent + 1)) {
          placed.push({ c, extent });
          return c;
        }
      }
      return null;
    };
    let present = [r() < 0.8, r() < 0.8, r() < 0.8];
    if (!present.some(Boolean)) present = [0, 1, 2].map((k) => k === Math.floor(r() * 3));
    const radius = side * (0.14 + 0.06 * r());
    const half = [0, 1, 2].map(() => side * (0.1 + 0.05 * r()));
    const outer = side * (0.17 + 0.05 * r());
    const sphere = present[0] ? place(radius) : null;
    const box = present[1] ? place(Math.hypot(half[0], half[1], half[2])) : null;
    const shell = present[2] ? place(outer) : null;
    const inner = outer - Math.max(2, side * 0.09);
    const voxels = X * Y * Z;
    const labels = new Int32Array(voxels);
    const image = new Float32Array(voxels);
    for (let x = 0, i = 0; x < X; x++)
      for (let y = 0; y < Y; y++)
        for (let z = 0; z < Z; z++, i++) {
          let k = 0;
          if (sphere && Math.hypot(x - sphere[0], y - sphere[1], z - sphere[2]) < radius) k = 1;
          else if (
            box &&
            Math.abs(x - box[0]) <= half[0] &&
            Math.abs(y - box[1]) <= half[1] &&
            Math.abs(z - box[2]) <= half[2]
          )
            k = 2;
          else if (shell) {
            const d = Math.hypot(x - shell[0], y - shell[1], z - shell[2]);
            if (d >= inner && d < outer) k = 3;
          }
          labels[i] = k;
          image[i] = INTENSITY[k] + NOISE * gauss();
        }
    return {
      name: `synthetic-${String(index + 1).padStart(digits, '0')}`,
      image,
      labels,
      shape: [X, Y, Z, 1],
    };
  });
}
