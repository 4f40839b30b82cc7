/**
 * What the demo trains on: cases (one-channel image, normalised, and its label map), the number of
 * classes and their names, and each case's NIfTI geometry, so that a predicted label map can be
 * written with the geometry of the image it came from.
 */
import type { VolumeCase } from '../src/data/volume.js';
import { SHAPE_CLASS_NAMES, shapeVolume } from './shapes.js';

/** The geometry a predicted label map keeps (that of the case's image file). */
export interface CaseGeometry {
  affine: number[];
  qformCode: number;
  sformCode: number;
  xyztUnits: number;
}

export interface DemoCase extends VolumeCase {
  name: string;
  /** [X, Y, Z, 1]. */
  shape: [number, number, number, 1];
  dims: [number, number, number];
  geometry: CaseGeometry;
}

export interface DemoDataset {
  /** 'synthetic' (built in) or 'files' (brought by the user). */
  source: 'synthetic' | 'files';
  /** What the page calls it. */
  title: string;
  classes: number;
  classNames: string[];
  /** Cases the patches are drawn from. */
  training: DemoCase[];
  /** Cases that can be shown, evaluated and predicted (held out for the synthetic data). */
  shown: DemoCase[];
  /** Whether the shown cases are held out from training (says what their dice measures). */
  heldOut: boolean;
}

/** The identity geometry of 1 mm voxels (what a synthetic volume has). */
export function identityGeometry(): CaseGeometry {
  return { affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], qformCode: 1, sformCode: 1, xyztUnits: 10 };
}

/** A case from host arrays of one volume of dims [X, Y, Z]. */
export function demoCase(
  name: string,
  image: Float32Array,
  labels: Int32Array,
  dims: [number, number, number],
  geometry: CaseGeometry,
): DemoCase {
  return { name, image, labels, dims, shape: [...dims, 1], geometry };
}

/** The built-in data: `count` training volumes of edge `size` and one held-out volume. */
export function syntheticDataset(size = 32, count = 8): DemoDataset {
  const make = (name: string, seed: number): DemoCase => {
    const v = shapeVolume(size, seed);
    return demoCase(name, v.image, v.labels, [size, size, size], identityGeometry());
  };
  return {
    source: 'synthetic',
    title: `synthetic shapes (${count} training volumes of ${size}³, one held out)`,
    classes: SHAPE_CLASS_NAMES.length,
    classNames: [...SHAPE_CLASS_NAMES],
    training: Array.from({ length: count }, (_, i) => make(`synthetic ${i + 1}`, i + 1)),
    shown: [make('held-out', 1000)],
    heldOut: true,
  };
}
