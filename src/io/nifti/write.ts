/** writeNifti: voxels in voxgrad's order to a NIfTI-1 file that keeps the volume's geometry. */
import { gzipSync } from 'fflate';
import { ValueError } from '../../errors.js';
import { affineToQuatern, det3 } from './affine.js';
import { HOST_LITTLE_ENDIAN } from './datatypes.js';
import type { NiftiWritable, NiftiWriteOptions } from './types.js';

const WRITE_TYPES = {
  uint8: { code: 2, bytes: 1, min: 0, max: 255 },
  int16: { code: 4, bytes: 2, min: -32768, max: 32767 },
  int32: { code: 8, bytes: 4, min: -2147483648, max: 2147483647 },
  float32: { code: 16, bytes: 4, min: Number.NEGATIVE_INFINITY, max: Number.POSITIVE_INFINITY },
} as const;

function writeError(arg: string, expected: string, got: unknown): ValueError {
  return new ValueError(`writeNifti: argument '${arg}' expected ${expected}, got ${String(got)}`);
}

function checkCode(arg: string, v: number | undefined, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 0 || v > max) throw writeError(arg, `an integer in 0..${max}`, v);
  return v;
}

/**
 * A NIfTI-1 file (little-endian, vox_offset 352) of `volume` (voxels in voxgrad order), with its
 * affine as the sform and as a qform derived from it; gzipped with `gzip: true`.
 */
export function writeNifti(volume: NiftiWritable, options: NiftiWriteOptions): Uint8Array {
  const t = WRITE_TYPES[options?.datatype as keyof typeof WRITE_TYPES] as
    | (typeof WRITE_TYPES)[keyof typeof WRITE_TYPES]
    | undefined;
  if (!t) throw writeError('options.datatype', `one of ${Object.keys(WRITE_TYPES).join(', ')}`, options?.datatype);
  const dims = volume.dims;
  if (dims?.length !== 3 || !dims.every((d) => Number.isInteger(d) && d >= 1 && d <= 32767))
    throw writeError('dims', '3 integers in 1..32767 (NIfTI-1 dims are int16)', `[${dims}]`);
  const C = volume.channels ?? 1;
  if (!Number.isInteger(C) || C < 1 || C > 32767) throw writeError('channels', 'an integer in 1..32767', C);
  const [X, Y, Z] = dims;
  const n = X * Y * Z * C;
  if (volume.data?.length !== n)
    throw writeError('data', `${n} values (${X}x${Y}x${Z}x${C})`, `${volume.data?.length} values`);

  let affine: readonly number[];
  if (volume.affine !== undefined) {
    affine = volume.affine;
    if (affine.length !== 16 || !affine.every(Number.isFinite))
      throw writeError('affine', '16 finite numbers (a 4x4 row-major matrix)', `[${affine}]`);
    if (affine[12] !== 0 || affine[13] !== 0 || affine[14] !== 0 || affine[15] !== 1)
      throw writeError('affine', 'a last row of 0, 0, 0, 1', `[${affine.slice(12)}]`);
  } else {
    const s = volume.spacing ?? [1, 1, 1];
    if (s.length !== 3 || !s.every((e) => Number.isFinite(e) && e > 0))
      throw writeError('spacing', '3 finite numbers > 0', `[${s}]`);
    affine = [s[0], 0, 0, 0, 0, s[1], 0, 0, 0, 0, s[2], 0, 0, 0, 0, 1];
  }
  const rot = [0, 1, 2].map((i) => [affine[4 * i], affine[4 * i + 1], affine[4 * i + 2]]);
  // The qform needs an invertible 3x3 part (relative to the voxel sizes, so tiny voxels pass).
  const norms = [0, 1, 2].map((j) => Math.hypot(rot[0][j], rot[1][j], rot[2][j]));
  if (!(Math.abs(det3(rot)) > 1e-12 * norms[0] * norms[1] * norms[2]))
    throw writeError('affine', 'an invertible 3x3 part (voxel axes not in one plane)', `[${affine}]`);
  const q = affineToQuatern(affine);
  const qformCode = checkCode('qformCode', volume.qformCode, 1, 32767);
  const sformCode = checkCode('sformCode', volume.sformCode, 1, 32767);
  const xyztUnits = checkCode('xyztUnits', volume.xyztUnits, 10, 255);

  const out = new ArrayBuffer(352 + n * t.bytes);
  const h = new DataView(out);
  h.setInt32(0, 348, true); // sizeof_hdr
  h.setUint8(38, 0x72); // regular = 'r'
  h.setInt16(40, C > 1 ? 4 : 3, true); // dim[0]
  [X, Y, Z, C, 1, 1, 1].forEach((d, i) => h.setInt16(42 + 2 * i, d, true));
  h.setInt16(70, t.code, true); // datatype
  h.setInt16(72, t.bytes * 8, true); // bitpix
  [q.qfac, ...q.pixdim, 1, 1, 1, 1].forEach((d, i) => h.setFloat32(76 + 4 * i, d, true)); // pixdim
  h.setFloat32(108, 352, true); // vox_offset
  h.setFloat32(112, 1, true); // scl_slope
  h.setUint8(123, xyztUnits);
  new Uint8Array(out, 148, 7).set([...'voxgrad'].map((ch) => ch.charCodeAt(0))); // descrip
  h.setInt16(252, qformCode, true);
  h.setInt16(254, sformCode, true);
  [...q.quatern, ...q.qoffset].forEach((e, i) => h.setFloat32(256 + 4 * i, e, true));
  for (let i = 0; i < 12; i++) h.setFloat32(280 + 4 * i, affine[i], true); // srow_x, srow_y, srow_z
  new Uint8Array(out, 344, 4).set([0x6e, 0x2b, 0x31, 0x00]); // magic "n+1\0"; extender bytes 348..351 stay 0

  const body =
    t.code === 16
      ? new Float32Array(out, 352)
      : t.code === 2
        ? new Uint8Array(out, 352)
        : t.code === 4
          ? new Int16Array(out, 352)
          : new Int32Array(out, 352);
  const integer = t.code !== 16;
  // Typed arrays store in the host's byte order; the file is little-endian.
  let i = 0;
  for (let c = 0; c < C; c++)
    for (let z = 0; z < Z; z++)
      for (let y = 0; y < Y; y++)
        for (let x = 0; x < X; x++, i++) {
          const v = volume.data[((x * Y + y) * Z + z) * C + c];
          if (integer && !(Number.isInteger(v) && v >= t.min && v <= t.max))
            throw writeError(
              'data',
              `integers in ${t.min}..${t.max} for ${options.datatype}`,
              `${v} at voxel (${x}, ${y}, ${z})${C > 1 ? ` channel ${c}` : ''}`,
            );
          body[i] = v;
        }
  const bytes = new Uint8Array(out);
  if (!HOST_LITTLE_ENDIAN && t.bytes > 1)
    for (let k = 352; k < bytes.length; k += t.bytes) bytes.subarray(k, k + t.bytes).reverse();
  return options.gzip ? gzipSync(bytes, { mtime: 0 }) : bytes;
}
