/** readNifti: a NIfTI file's bytes (plain or gzipped) to float32 voxels in voxgrad's order. */
import { Gunzip } from 'fflate';
import { ValueError, VoxgradError } from '../../errors.js';
import { HOST_LITTLE_ENDIAN } from './datatypes.js';
import { checkFile, checkHeader, detect, fieldError, readHeader } from './header.js';
import type { NiftiReadOptions, NiftiVolume } from './types.js';

const GZIP_MAGIC = [0x1f, 0x8b];

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/**
 * Inflates gzip data in steps, reading the header as soon as it is out and stopping with an error
 * once the output passes the size that header promises, so a gzip bomb costs a few MiB at most.
 */
function gunzipCapped(bytes: Uint8Array, name: string, options: NiftiReadOptions): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let cap = Number.POSITIVE_INFINITY;
  let headerSize = 0;
  let last = false;
  const gunzip = new Gunzip((chunk) => {
    chunks.push(chunk);
    total += chunk.length;
  });
  const joined = () => {
    if (chunks.length !== 1) {
      const all = new Uint8Array(total);
      let o = 0;
      for (const c of chunks) {
        all.set(c, o);
        o += c.length;
      }
      chunks.length = 0;
      chunks.push(all);
    }
    return chunks[0] ?? new Uint8Array(0);
  };
  for (let at = 0; !last; ) {
    // Deflate expands at most ~1032x: steps sized to what is left keep the overshoot near the cap.
    // Until the header is out (cap unknown), steps of 1 KiB: at most ~1 MiB out.
    const step =
      cap === Number.POSITIVE_INFINITY ? 1024 : Math.min(65536, Math.max(1024, Math.floor((cap - total) / 1032)));
    const end = Math.min(bytes.length, at + step);
    last = end === bytes.length;
    try {
      gunzip.push(bytes.subarray(at, end), last);
    } catch (e) {
      if (e instanceof VoxgradError) throw e;
      throw new ValueError(`readNifti: ${name}: its gzip data is corrupt or truncated (${(e as Error)?.message ?? e})`);
    }
    at = end;
    if (!headerSize && total >= 4) headerSize = detect(joined(), name).size;
    if (headerSize && cap === Number.POSITIVE_INFINITY && total >= headerSize)
      cap = checkHeader(readHeader(joined(), name), name, options).end;
    if (total > cap)
      throw new ValueError(
        `readNifti: ${name}: its gzip data inflates past the ${cap} bytes its header promises (vox_offset + voxels); stopped at ${total}`,
      );
  }
  return joined();
}

/**
 * Reads a NIfTI-1 or NIfTI-2 file (.nii, or gzipped .nii.gz, detected by its magic) of uint8, int8,
 * int16, uint16, int32, uint32, float32 or float64 voxels. `name` names the file in errors.
 */
export function readNifti(bytes: Uint8Array, name: string, options: NiftiReadOptions = {}): NiftiVolume {
  if (!(bytes instanceof Uint8Array))
    throw new ValueError(`readNifti: argument 'bytes' expected a Uint8Array, got ${typeof bytes}`);
  options = options ?? {};
  if (isGzip(bytes)) bytes = gunzipCapped(bytes, name, options);
  const layout = checkHeader(readHeader(bytes, name), name, options);
  checkFile(bytes, layout, name);
  const h = layout.header;
  const [X, Y, Z] = layout.dims;
  const C = layout.channels;
  const n = X * Y * Z * C;
  let data: Float32Array;
  let raw: Uint8Array;
  try {
    data = new Float32Array(n);
    // A copy (not Buffer#slice, a view): aligned for the typed view, swapped in place when the byte orders differ.
    raw = new Uint8Array(layout.dataBytes);
    raw.set(bytes.subarray(h.voxOffset, h.voxOffset + layout.dataBytes));
  } catch {
    throw fieldError(name, 'dim', 'a volume that fits in memory', `${layout.dims.join('x')}x${C} voxels`);
  }
  const width = layout.type.bytes;
  if (width > 1 && h.littleEndian !== HOST_LITTLE_ENDIAN)
    for (let i = 0; i < raw.length; i += width)
      for (let a = i, b = i + width - 1; a < b; a++, b--) {
        const t = raw[a];
        raw[a] = raw[b];
        raw[b] = t;
      }
  const src = layout.type.view(raw.buffer, n);
  // Slope 1 and intercept 0 is no scaling: skipping it keeps float voxels bit-exact (-0 stays -0).
  const scaled = Number.isFinite(h.sclSlope) && h.sclSlope !== 0 && !(h.sclSlope === 1 && h.sclInter === 0);
  const slope = scaled ? h.sclSlope : 1;
  const inter = scaled ? h.sclInter : 0;
  // NIfTI order is x fastest, then y, z, and channels slowest.
  let i = 0;
  for (let c = 0; c < C; c++)
    for (let z = 0; z < Z; z++)
      for (let y = 0; y < Y; y++)
        for (let x = 0; x < X; x++, i++) {
          const o = ((x * Y + y) * Z + z) * C + c;
          data[o] = scaled ? src[i] * slope + inter : src[i];
        }
  return {
    data,
    dims: layout.dims,
    channels: C,
    spacing: layout.spacing,
    affine: layout.affine,
    qformCode: Math.max(0, h.qformCode),
    sformCode: Math.max(0, h.sformCode),
    datatype: layout.type.name,
    // Only the unit bits are defined (space 0x07, time 0x38); NIfTI-2 stores an int32.
    xyztUnits: h.xyztUnits & 0x3f,
  };
}
