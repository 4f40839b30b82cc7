/**
 * The demo's built-in data: seeded synthetic volumes a person recognises at a glance. Each volume
 * holds one of every class, so every class has a dice score at every evaluation:
 * - class 1, an ellipsoid: bright;
 * - class 2, a tube winding through the volume: mid-grey;
 * - class 3, a spherical shell (hollow): dark.
 * The background carries a smooth intensity drift, and every voxel Gaussian noise, so the classes
 * differ by shape and mean intensity but no single voxel gives its class away.
 */
import { seededRandom } from '../src/data/synthetic.js';

export const SHAPE_CLASS_NAMES = ['background', 'ellipsoid', 'tube', 'shell'] as const;

/** Mean intensity of each class, before noise. */
const INTENSITY = [0, 1.8, 0.7, -1.1];
const NOISE = 0.35;

export interface ShapeVolume {
  /** (S, S, S) intensities, index (x·S + y)·S + z. */
  image: Float32Array;
  /** (S, S, S) class indices. */
  labels: Int32Array;
}

/** One seeded volume of edge `size` (at least 16, so that every shape has some thickness). */
export function shapeVolume(size: number, seed: number): ShapeVolume {
  if (!Number.isInteger(size) || size < 16)
    throw new RangeError(`shapeVolume: size must be an integer >= 16, got ${size}`);
  const r = seededRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const S = size;
  const between = (lo: number, hi: number): number => S * (lo + (hi - lo) * r());

  // The tube runs along `axis`; its centre line winds in the two other axes.
  const axis = Math.floor(r() * 3);
  const tube = {
    base: [between(0.3, 0.7), between(0.3, 0.7)],
    amplitude: [between(0.08, 0.16), between(0.08, 0.16)],
    phase: [2 * Math.PI * r(), 2 * Math.PI * r()],
    radius: between(0.075, 0.1),
  };
  const ellipsoid = { centre: [0, 0, 0], radii: [between(0.12, 0.2), between(0.12, 0.2), between(0.12, 0.2)] };
  const shell = { centre: [0, 0, 0], inner: between(0.1, 0.14), width: between(0.06, 0.08) };
  // The ellipsoid and the shell do not overlap (as far as a few draws allow).
  for (let attempt = 0; attempt < 32; attempt++) {
    ellipsoid.centre = [between(0.25, 0.75), between(0.25, 0.75), between(0.25, 0.75)];
    shell.centre = [between(0.25, 0.75), between(0.25, 0.75), between(0.25, 0.75)];
    const gap = Math.hypot(...ellipsoid.centre.map((c, a) => c - shell.centre[a]));
    if (gap > Math.max(...ellipsoid.radii) + shell.inner + shell.width + 1) break;
  }
  const drift = [2 * Math.PI * r(), 2 * Math.PI * r()];

  const image = new Float32Array(S * S * S);
  const labels = new Int32Array(S * S * S);
  for (let x = 0; x < S; x++)
    for (let y = 0; y < S; y++)
      for (let z = 0; z < S; z++) {
        const p = [x, y, z];
        let k = 0;
        const along = p[axis];
        const across = [p[(axis + 1) % 3], p[(axis + 2) % 3]];
        const offset = across.map(
          (c, i) => c - tube.base[i] - tube.amplitude[i] * Math.sin((2 * Math.PI * along) / S + tube.phase[i]),
        );
        if (Math.hypot(offset[0], offset[1]) < tube.radius) k = 2;
        const d = Math.hypot(...p.map((c, a) => c - shell.centre[a]));
        if (d >= shell.inner && d < shell.inner + shell.width) k = 3;
        if (p.reduce((s, c, a) => s + ((c - ellipsoid.centre[a]) / ellipsoid.radii[a]) ** 2, 0) < 1) k = 1;
        const i = (x * S + y) * S + z;
        labels[i] = k;
        const background =
          0.25 * Math.sin((2 * Math.PI * x) / S + drift[0]) * Math.cos((2 * Math.PI * z) / S + drift[1]);
        image[i] = (k === 0 ? background : INTENSITY[k]) + NOISE * gauss();
      }
  return { image, labels };
}
