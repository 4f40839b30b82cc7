/**
 * A slice of a volume on a canvas: the image in grey (between two intensity percentiles, so an
 * outlier does not wash it out) with a label map painted over it in the class colours (the
 * background stays clear). Voxels are drawn square and scaled to fit the canvas; the second axis
 * of the slice points up, as viewers show it.
 */
import { classColour } from './palette.js';

/** 0: sagittal (slices across x), 1: coronal (across y), 2: axial (across z). */
export type Axis = 0 | 1 | 2;

export interface SliceImage {
  /** (X, Y, Z) intensities, index (x·Y + y)·Z + z. */
  image: Float32Array;
  dims: readonly [number, number, number];
  /** Intensities shown as black and white. */
  window: readonly [number, number];
}

/** The two in-plane axes of a slice across `axis`: [horizontal, vertical]. */
function planeAxes(axis: Axis): [number, number] {
  return axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
}

/** The 1st and 99th percentiles of the intensities (of at most 65,536 evenly spaced voxels). */
export function intensityWindow(image: Float32Array): [number, number] {
  const stride = Math.max(1, Math.floor(image.length / 65536));
  const sample = Float32Array.from({ length: Math.ceil(image.length / stride) }, (_, i) => image[i * stride]).sort();
  const at = (q: number): number => sample[Math.min(sample.length - 1, Math.floor(q * sample.length))];
  const lo = at(0.01);
  const hi = at(0.99);
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

/** The slice across `axis` that holds the most classes (then the most labelled voxels). */
export function mostLabelledSlice(labels: ArrayLike<number>, dims: readonly number[], axis: Axis): number {
  const [X, Y, Z] = dims;
  const counts = new Array(dims[axis]).fill(0);
  const kinds = Array.from({ length: dims[axis] }, () => new Set<number>());
  for (let x = 0; x < X; x++)
    for (let y = 0; y < Y; y++)
      for (let z = 0; z < Z; z++) {
        const k = labels[(x * Y + y) * Z + z];
        if (k === 0) continue;
        const s = axis === 0 ? x : axis === 1 ? y : z;
        counts[s]++;
        kinds[s].add(k);
      }
  let best = Math.floor(dims[axis] / 2);
  for (let s = 0; s < dims[axis]; s++)
    if (kinds[s].size > kinds[best].size || (kinds[s].size === kinds[best].size && counts[s] > counts[best])) best = s;
  return best;
}

/** Draws slice `index` across `axis`, with `overlay` (class indices per voxel, or null) at `opacity`. */
export function drawSlice(
  canvas: HTMLCanvasElement,
  volume: SliceImage,
  overlay: ArrayLike<number> | null,
  axis: Axis,
  index: number,
  opacity: number,
): void {
  const dims = volume.dims;
  const [h, v] = planeAxes(axis);
  const width = dims[h];
  const height = dims[v];
  const pixels = new ImageData(width, height);
  const [lo, hi] = volume.window;
  const p = [0, 0, 0];
  p[axis] = Math.max(0, Math.min(dims[axis] - 1, index));
  for (let row = 0; row < height; row++)
    for (let col = 0; col < width; col++) {
      p[h] = col;
      p[v] = height - 1 - row;
      const voxel = (p[0] * dims[1] + p[1]) * dims[2] + p[2];
      const grey = Math.max(0, Math.min(255, (255 * (volume.image[voxel] - lo)) / (hi - lo)));
      let rgb = [grey, grey, grey];
      const k = overlay ? overlay[voxel] : 0;
      if (k > 0) {
        const c = classColour(k);
        rgb = rgb.map((g, i) => (1 - opacity) * g + opacity * c[i]);
      }
      const o = 4 * (row * width + col);
      pixels.data.set([rgb[0], rgb[1], rgb[2], 255], o);
    }
  const tile = document.createElement('canvas');
  tile.width = width;
  tile.height = height;
  tile.getContext('2d')!.putImageData(pixels, 0, 0);
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#000';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.imageSmoothingEnabled = false;
  const scale = Math.min(canvas.width / width, canvas.height / height);
  const w = width * scale;
  const hgt = height * scale;
  g.drawImage(tile, (canvas.width - w) / 2, (canvas.height - hgt) / 2, w, hgt);
}
