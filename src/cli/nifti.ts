/**
 * NIfTI files for the command line: reads them from disk and hands the bytes to src/io/nifti.ts,
 * which does all the parsing and writing (NIfTI-1 and -2, either byte order, gzip, geometry).
 * Images must hold finite intensities and label maps class indices; either check names the file.
 */
import { readFileSync } from 'node:fs';
import { ValueError } from '../errors.js';
import {
  type NiftiReadOptions,
  type NiftiVolume,
  type NiftiWritable,
  readNifti as parseNifti,
  writeNifti,
} from '../io/nifti.js';

export type Volume = NiftiVolume;

/** The most classes a label map may index (class indices 0 … 255). */
export const MAX_CLASSES = 256;

/** Reads a .nii or .nii.gz file; errors name the path. */
export function readNifti(path: string, options?: NiftiReadOptions): NiftiVolume {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ValueError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseNifti(bytes, path, options);
}

/**
 * An image volume with finite intensities: NaN and ±Inf voxels are refused (naming the file and
 * how many of each), or replaced by `nanTo` when it is given (`--nan-to`).
 */
export function readImage(path: string, nanTo?: number): { volume: NiftiVolume; replaced: number } {
  const volume = readNifti(path);
  const data = volume.data;
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isNaN(v)) nan++;
    else if (v === Infinity) posInf++;
    else if (v === -Infinity) negInf++;
  }
  const bad = nan + posInf + negInf;
  if (bad === 0) return { volume, replaced: 0 };
  if (nanTo === undefined) {
    const kinds = [
      nan ? `${nan} NaN` : '',
      posInf ? `${posInf} +Infinity` : '',
      negInf ? `${negInf} -Infinity` : '',
    ].filter(Boolean);
    throw new ValueError(
      `${path}: ${bad} of ${data.length} voxels are not finite (${kinds.join(', ')}); ` +
        'fix the file, or replace them with --nan-to VALUE',
    );
  }
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) data[i] = nanTo;
  return { volume, replaced: bad };
}

/** A label map's voxels as class indices (integers in [0, 255]); anything else names the file. */
export function readLabels(path: string): { volume: NiftiVolume; labels: Int32Array } {
  const volume = readNifti(path);
  const data = volume.data;
  const labels = new Int32Array(data.length);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    const k = Math.round(data[i]);
    // NaN fails every comparison, so it is caught by the negated test.
    if (!(k >= 0 && k < MAX_CLASSES && Math.abs(data[i] - k) <= 1e-3)) {
      bad++;
      if (first < 0) first = i;
    } else labels[i] = k;
  }
  if (bad > 0)
    throw new ValueError(
      `${path}: ${bad} of ${data.length} voxels are not class indices (integers in [0, ${MAX_CLASSES - 1}]), ` +
        `the first ${data[first]} at voxel ${first}`,
    );
  return { volume, labels };
}

/**
 * A NIfTI-1 file (gzipped when asked): float32 images or int16 label maps, with the volume's
 * geometry (affine, qform and sform codes) when it has one.
 */
export function niftiBytes(v: NiftiWritable, kind: 'image' | 'labels', gzip: boolean): Uint8Array {
  return writeNifti(v, { datatype: kind === 'image' ? 'float32' : 'int16', gzip });
}
