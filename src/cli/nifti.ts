/**
 * NIfTI volumes (.nii, .nii.gz): reading through nifti-reader-js (NIfTI-1 and -2, any common
 * datatype, scaling applied), writing as NIfTI-1 (float32 images, int16 label maps). Voxels are
 * converted between NIfTI's x-fastest order and voxgrad's (x, y, z) row-major order (z fastest).
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { ValueError } from '../errors.js';

export interface Volume {
  /** Intensities or labels in voxgrad order: index ((x·Y + y)·Z + z). */
  data: Float32Array;
  dims: [number, number, number];
  /** Voxel size in mm. */
  spacing: [number, number, number];
}

const TYPED: Record<number, (b: ArrayBuffer) => ArrayLike<number>> = {
  2: (b) => new Uint8Array(b),
  4: (b) => new Int16Array(b),
  8: (b) => new Int32Array(b),
  16: (b) => new Float32Array(b),
  64: (b) => new Float64Array(b),
  256: (b) => new Int8Array(b),
  512: (b) => new Uint16Array(b),
  768: (b) => new Uint32Array(b),
};

export function readNifti(path: string): Volume {
  let raw: ArrayBuffer;
  try {
    const file = readFileSync(path);
    raw = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
  } catch (e) {
    throw new ValueError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    if (nifti.isCompressed(raw)) raw = nifti.decompress(raw) as ArrayBuffer;
  } catch {
    throw new ValueError(`${path} is not a NIfTI file (its gzip data is corrupt)`);
  }
  if (!nifti.isNIFTI(raw)) throw new ValueError(`${path} is not a NIfTI file (no NIfTI-1/2 header)`);
  const header = nifti.readHeader(raw);
  const [X, Y, Z] = [header.dims[1], header.dims[2] || 1, header.dims[3] || 1];
  if (header.dims[0] > 3 && header.dims.slice(4, header.dims[0] + 1).some((d) => d > 1)) {
    throw new ValueError(
      `${path} has ${header.dims[0]} dimensions (${header.dims.slice(1, header.dims[0] + 1).join('x')}); a 3D volume is expected`,
    );
  }
  const typed = TYPED[header.datatypeCode];
  if (!typed) throw new ValueError(`${path} has NIfTI datatype ${header.datatypeCode}, which is not supported`);
  let image: ArrayBuffer;
  try {
    image = nifti.readImage(header, raw);
  } catch (e) {
    throw new ValueError(`${path} is truncated or corrupt (${(e as Error).message})`);
  }
  let values = typed(image);
  if (!header.littleEndian) values = typed(swapBytes(image, header.numBitsPerVoxel / 8));
  if (values.length < X * Y * Z)
    throw new ValueError(`${path} holds ${values.length} voxels, fewer than its ${X}x${Y}x${Z} header`);
  const slope = header.scl_slope || 1;
  const inter = header.scl_inter || 0;
  const data = new Float32Array(X * Y * Z);
  for (let z = 0; z < Z; z++)
    for (let y = 0; y < Y; y++)
      for (let x = 0; x < X; x++) {
        data[(x * Y + y) * Z + z] = values[x + X * (y + Y * z)] * slope + inter;
      }
  return { data, dims: [X, Y, Z], spacing: [header.pixDims[1] || 1, header.pixDims[2] || 1, header.pixDims[3] || 1] };
}

function swapBytes(b: ArrayBuffer, width: number): ArrayBuffer {
  const src = new Uint8Array(b);
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i += width) for (let k = 0; k < width; k++) out[i + k] = src[i + width - 1 - k];
  return out.buffer;
}

/** A NIfTI-1 file (gzipped when the name ends in .gz): float32 images or int16 label maps. */
export function niftiBytes(v: Volume, kind: 'image' | 'labels', gzip: boolean): Uint8Array {
  const [X, Y, Z] = v.dims;
  const bytesPer = kind === 'image' ? 4 : 2;
  const out = new ArrayBuffer(352 + X * Y * Z * bytesPer);
  const h = new DataView(out);
  h.setInt32(0, 348, true); // sizeof_hdr
  h.setInt16(40, 3, true); // dim[0]
  [X, Y, Z, 1, 1, 1, 1].forEach((d, i) => h.setInt16(42 + 2 * i, d, true));
  h.setInt16(70, kind === 'image' ? 16 : 4, true); // datatype: FLOAT32 / INT16
  h.setInt16(72, bytesPer * 8, true); // bitpix
  [1, ...v.spacing, 1, 1, 1, 1].forEach((d, i) => h.setFloat32(76 + 4 * i, d, true)); // pixdim (qfac 1)
  h.setFloat32(108, 352, true); // vox_offset
  h.setFloat32(112, 1, true); // scl_slope
  h.setUint8(123, 10); // xyzt_units: mm, s
  h.setInt16(254, 1, true); // sform_code: scanner
  [
    [v.spacing[0], 0, 0, 0],
    [0, v.spacing[1], 0, 0],
    [0, 0, v.spacing[2], 0],
  ].forEach((row, r) => row.forEach((e, c) => h.setFloat32(280 + 16 * r + 4 * c, e, true)));
  new Uint8Array(out, 344, 4).set([0x6e, 0x2b, 0x31, 0x00]); // magic "n+1\0"
  const body = kind === 'image' ? new Float32Array(out, 352) : new Int16Array(out, 352);
  for (let z = 0; z < Z; z++)
    for (let y = 0; y < Y; y++)
      for (let x = 0; x < X; x++) {
        body[x + X * (y + Y * z)] = v.data[(x * Y + y) * Z + z];
      }
  const bytes = new Uint8Array(out);
  return gzip ? new Uint8Array(gzipSync(bytes)) : bytes;
}
