/**
 * NIfTI files for the command line: reads them from disk and hands the bytes to src/io/nifti.ts,
 * which does all the parsing and writing (NIfTI-1 and -2, either byte order, gzip, geometry).
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
 * A NIfTI-1 file (gzipped when asked): float32 images or int16 label maps, with the volume's
 * geometry (affine, qform and sform codes) when it has one.
 */
export function niftiBytes(v: NiftiWritable, kind: 'image' | 'labels', gzip: boolean): Uint8Array {
  return writeNifti(v, { datatype: kind === 'image' ? 'float32' : 'int16', gzip });
}
