/**
 * NIfTI volumes as bytes (.nii, .nii.gz), for Node and the browser alike (no Node module here).
 *
 * `readNifti` parses NIfTI-1 and NIfTI-2 headers itself, in either byte order, and checks every
 * field it uses (dims, datatype, bitpix, vox_offset, the extension chain, pixdim, scaling, qform and
 * sform) before it reads a voxel, so that no file can make it hang, throw anything but a
 * `ValueError` naming the file and the field, or allocate more than the header promises (gzip
 * input is inflated in steps and stopped past that size). Voxels come back as float32 in voxgrad's
 * order, index ((x·Y + y)·Z + z)·C + c (NIfTI stores x fastest), with the voxel → world affine.
 *
 * `writeNifti` writes NIfTI-1 (little-endian, vox_offset 352) with the affine in the sform and a
 * qform derived from it, so that viewers line the output up with the volume it came from.
 */
import { Gunzip, gzipSync } from 'fflate';
import { ValueError, VoxgradError } from '../errors.js';

/** The voxel types read (NIfTI datatype names in lower case). */
export type NiftiDatatype = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

/** A volume read from a NIfTI file. */
export interface NiftiVolume {
  /** Voxels in voxgrad order: index ((x·Y + y)·Z + z)·C + c, scaling (scl_slope, scl_inter) applied. */
  data: Float32Array;
  dims: [number, number, number];
  /** 1 unless a 4D file was read with `{ channels: true }`. */
  channels: number;
  /** Voxel size (pixdim[1..3]; a zero, meaning unknown, reads as 1). */
  spacing: [number, number, number];
  /** 4x4 row-major voxel → world matrix: the sform, else the qform, else diag(spacing). */
  affine: number[];
  qformCode: number;
  sformCode: number;
  /** The datatype stored in the file. */
  datatype: NiftiDatatype;
  /** NIfTI's xyzt_units byte (spatial unit | temporal unit). */
  xyztUnits: number;
}

export interface NiftiReadOptions {
  /** Read a 4D file's 4th dimension as channels (otherwise dim[4] > 1 is an error). */
  channels?: boolean;
}

/** What `writeNifti` needs: voxels in voxgrad order and, optionally, the geometry to keep. */
export interface NiftiWritable {
  data: ArrayLike<number>;
  dims: readonly number[];
  channels?: number;
  /** 4x4 row-major voxel → world matrix (default: diag(spacing)). */
  affine?: readonly number[];
  /** Voxel size, used when no affine is given (default 1, 1, 1). */
  spacing?: readonly number[];
  /** Default 1 (scanner). */
  qformCode?: number;
  /** Default 1 (scanner). */
  sformCode?: number;
  /** Default 10 (mm and s). */
  xyztUnits?: number;
}

export interface NiftiWriteOptions {
  datatype: 'uint8' | 'int16' | 'int32' | 'float32';
  gzip?: boolean;
}

interface TypeInfo {
  name: NiftiDatatype;
  bytes: number;
  view: (b: ArrayBufferLike, n: number) => ArrayLike<number>;
}

const TYPES: Record<number, TypeInfo> = {
  2: { name: 'uint8', bytes: 1, view: (b, n) => new Uint8Array(b, 0, n) },
  256: { name: 'int8', bytes: 1, view: (b, n) => new Int8Array(b, 0, n) },
  4: { name: 'int16', bytes: 2, view: (b, n) => new Int16Array(b, 0, n) },
  512: { name: 'uint16', bytes: 2, view: (b, n) => new Uint16Array(b, 0, n) },
  8: { name: 'int32', bytes: 4, view: (b, n) => new Int32Array(b, 0, n) },
  768: { name: 'uint32', bytes: 4, view: (b, n) => new Uint32Array(b, 0, n) },
  16: { name: 'float32', bytes: 4, view: (b, n) => new Float32Array(b, 0, n) },
  64: { name: 'float64', bytes: 8, view: (b, n) => new Float64Array(b, 0, n) },
};

/** Known datatypes that are not read, named in the error. */
const UNSUPPORTED: Record<number, string> = {
  0: 'unknown',
  1: 'binary',
  32: 'complex64',
  128: 'rgb24',
  1024: 'int64',
  1280: 'uint64',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'rgba32',
};

const SUPPORTED_LIST = Object.entries(TYPES)
  .map(([code, t]) => `${code} (${t.name})`)
  .join(', ');

/** The largest file a header may promise (vox_offset + voxel bytes): 2 GiB. */
const MAX_FILE_BYTES = 2 ** 31;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Header fields as stored (both versions read into one shape). */
interface Header {
  version: 1 | 2;
  /** sizeof_hdr: 348 or 540. */
  size: number;
  littleEndian: boolean;
  dim: number[];
  datatype: number;
  bitpix: number;
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  /** quatern_b, quatern_c, quatern_d. */
  quatern: number[];
  /** qoffset_x, qoffset_y, qoffset_z. */
  qoffset: number[];
  /** srow_x, srow_y, srow_z (12 values). */
  srow: number[];
  xyztUnits: number;
}

/** A checked header: what the voxels are and where they lie. */
interface Layout {
  header: Header;
  dims: [number, number, number];
  channels: number;
  type: TypeInfo;
  dataBytes: number;
  /** vox_offset + dataBytes: the size the header promises. */
  end: number;
  spacing: [number, number, number];
  affine: number[];
}

function fieldError(name: string, field: string, expected: string, got: unknown): ValueError {
  return new ValueError(`readNifti: ${name}: field '${field}' expected ${expected}, got ${String(got)}`);
}

function notNifti(name: string, field: string, expected: string, got: unknown): ValueError {
  return new ValueError(`readNifti: ${name} is not a NIfTI file: field '${field}' expected ${expected}, got ${got}`);
}

/** Printable bytes of a magic string: "n+1\0" stays readable, other bytes as \xNN. */
function showBytes(b: Uint8Array): string {
  let s = '';
  for (const c of b)
    s +=
      c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c
        ? String.fromCharCode(c)
        : `\\x${c.toString(16).padStart(2, '0')}`;
  return `"${s}"`;
}

const GZIP_MAGIC = [0x1f, 0x8b];

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** sizeof_hdr in either byte order: the version and the byte order, or an error. */
function detect(bytes: Uint8Array, name: string): { version: 1 | 2; size: number; littleEndian: boolean } {
  if (bytes.length < 4)
    throw notNifti(name, 'sizeof_hdr', '348 (NIfTI-1) or 540 (NIfTI-2)', `a file of ${bytes.length} bytes`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const littleEndian of [true, false]) {
    const size = v.getInt32(0, littleEndian);
    if (size === 348 || size === 540) return { version: size === 348 ? 1 : 2, size, littleEndian };
  }
  throw notNifti(name, 'sizeof_hdr', '348 (NIfTI-1) or 540 (NIfTI-2) in either byte order', v.getInt32(0, true));
}

/** Reads the header fields (bytes holds at least the header); checks the magic. */
function readHeader(bytes: Uint8Array, name: string): Header {
  const { version, size, littleEndian: le } = detect(bytes, name);
  if (bytes.length < size)
    throw fieldError(name, 'sizeof_hdr', `a header of ${size} bytes`, `a file of ${bytes.length} bytes (truncated)`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicAt = version === 1 ? 344 : 4;
  const magic = bytes.subarray(magicAt, magicAt + 4);
  const single = version === 1 ? 'n+1' : 'n+2';
  const pair = version === 1 ? 'ni1' : 'ni2';
  const is = (s: string) =>
    magic[0] === s.charCodeAt(0) && magic[1] === s.charCodeAt(1) && magic[2] === s.charCodeAt(2) && magic[3] === 0;
  if (is(pair))
    throw fieldError(
      name,
      'magic',
      `"${single}" (a single-file .nii)`,
      `"${pair}" (a header whose voxels are in a separate .img file, which is not read)`,
    );
  if (!is(single)) throw notNifti(name, 'magic', `"${single}"`, showBytes(magic));
  if (version === 1) {
    const f32 = (o: number) => v.getFloat32(o, le);
    return {
      version,
      size,
      littleEndian: le,
      dim: Array.from({ length: 8 }, (_, i) => v.getInt16(40 + 2 * i, le)),
      datatype: v.getInt16(70, le),
      bitpix: v.getInt16(72, le),
      pixdim: Array.from({ length: 8 }, (_, i) => f32(76 + 4 * i)),
      voxOffset: f32(108),
      sclSlope: f32(112),
      sclInter: f32(116),
      xyztUnits: v.getUint8(123),
      qformCode: v.getInt16(252, le),
      sformCode: v.getInt16(254, le),
      quatern: [f32(256), f32(260), f32(264)],
      qoffset: [f32(268), f32(272), f32(276)],
      srow: Array.from({ length: 12 }, (_, i) => f32(280 + 4 * i)),
    };
  }
  const f64 = (o: number) => v.getFloat64(o, le);
  const i64 = (o: number) => Number(v.getBigInt64(o, le));
  return {
    version,
    size,
    littleEndian: le,
    datatype: v.getInt16(12, le),
    bitpix: v.getInt16(14, le),
    dim: Array.from({ length: 8 }, (_, i) => i64(16 + 8 * i)),
    pixdim: Array.from({ length: 8 }, (_, i) => f64(104 + 8 * i)),
    voxOffset: i64(168),
    sclSlope: f64(176),
    sclInter: f64(184),
    qformCode: v.getInt32(344, le),
    sformCode: v.getInt32(348, le),
    quatern: [f64(352), f64(360), f64(368)],
    qoffset: [f64(376), f64(384), f64(392)],
    srow: Array.from({ length: 12 }, (_, i) => f64(400 + 8 * i)),
    xyztUnits: v.getInt32(500, le),
  };
}

/** Checks every header field the voxels depend on; needs only the header's bytes. */
function checkHeader(h: Header, name: string, options: NiftiReadOptions): Layout {
  const dim = h.dim;
  if (!(dim[0] >= 1 && dim[0] <= 7)) throw fieldError(name, 'dim[0]', 'a number of dimensions in 1..7', dim[0]);
  const used = dim.slice(1, dim[0] + 1);
  used.forEach((d, i) => {
    if (!(d >= 1)) throw fieldError(name, `dim[${i + 1}]`, 'a size >= 1', `${d} (dims ${used.join('x')})`);
  });
  const size = (i: number) => (i <= dim[0] ? dim[i] : 1);
  for (let i = 5; i <= 7; i++)
    if (size(i) > 1)
      throw fieldError(
        name,
        `dim[${i}]`,
        '1 (volumes of at most 4 dimensions are read)',
        `${dim[i]} (dims ${used.join('x')})`,
      );
  const channels = size(4);
  if (channels > 1 && !options.channels)
    throw fieldError(
      name,
      'dim[4]',
      '1 (a 3D volume; read with { channels: true } to take the 4th dimension as channels)',
      `${channels} (dims ${used.join('x')})`,
    );

  const type = TYPES[h.datatype];
  if (!type) {
    const known = UNSUPPORTED[h.datatype];
    throw fieldError(
      name,
      'datatype',
      `one of ${SUPPORTED_LIST}`,
      `${h.datatype}${known ? ` (${known})` : ''}, which is not supported`,
    );
  }
  if (h.bitpix !== type.bytes * 8)
    throw fieldError(name, 'bitpix', `${type.bytes * 8} for datatype ${h.datatype} (${type.name})`, h.bitpix);

  const dims: [number, number, number] = [size(1), size(2), size(3)];
  // Doubles hold these products exactly up to 2^53; anything near that is refused right here.
  const voxels = dims[0] * dims[1] * dims[2] * channels;
  const dataBytes = voxels * type.bytes;
  if (!(dataBytes <= MAX_FILE_BYTES))
    throw fieldError(
      name,
      'dim',
      `at most ${MAX_FILE_BYTES} bytes of voxels`,
      `${used.join('x')} ${type.name} voxels (${dataBytes} bytes)`,
    );
  if (!Number.isInteger(h.voxOffset) || h.voxOffset < h.size || h.voxOffset > MAX_FILE_BYTES)
    throw fieldError(
      name,
      'vox_offset',
      `a whole number of bytes >= the ${h.size}-byte header (voxels after the header)`,
      h.voxOffset,
    );

  for (let i = 0; i <= 3; i++)
    if (!Number.isFinite(h.pixdim[i])) throw fieldError(name, `pixdim[${i}]`, 'a finite number', h.pixdim[i]);
  // A zero voxel size means "unknown" in many files: it reads as 1 (a negative one by its magnitude).
  const spacing = [1, 2, 3].map((i) => Math.abs(h.pixdim[i]) || 1) as [number, number, number];

  const scaled = Number.isFinite(h.sclSlope) && h.sclSlope !== 0;
  if (scaled && !Number.isFinite(h.sclInter))
    throw fieldError(name, 'scl_inter', `a finite number (scl_slope is ${h.sclSlope})`, h.sclInter);

  return {
    header: h,
    dims,
    channels,
    type,
    dataBytes,
    end: h.voxOffset + dataBytes,
    spacing,
    affine: affineOf(h, name, spacing),
  };
}

const SROW = ['srow_x', 'srow_y', 'srow_z'];

/** The voxel → world matrix: sform (method 3), else qform (method 2), else diag(spacing) (method 1). */
function affineOf(h: Header, name: string, spacing: [number, number, number]): number[] {
  let affine: number[];
  let source: string;
  if (h.sformCode > 0) {
    h.srow.forEach((e, i) => {
      if (!Number.isFinite(e))
        throw fieldError(name, `${SROW[i >> 2]}[${i & 3}]`, `a finite number (sform_code is ${h.sformCode})`, e);
    });
    affine = [...h.srow, 0, 0, 0, 1];
    source = 'sform';
  } else if (h.qformCode > 0) {
    ['quatern_b', 'quatern_c', 'quatern_d', 'qoffset_x', 'qoffset_y', 'qoffset_z'].forEach((f, i) => {
      const e = i < 3 ? h.quatern[i] : h.qoffset[i - 3];
      if (!Number.isFinite(e)) throw fieldError(name, f, `a finite number (qform_code is ${h.qformCode})`, e);
    });
    const size = [1, 2, 3].map((i) => (h.pixdim[i] > 0 ? h.pixdim[i] : 1));
    affine = quaternToAffine(h.quatern, h.qoffset, size, h.pixdim[0] < 0 ? -1 : 1);
    source = 'qform';
  } else {
    affine = [spacing[0], 0, 0, 0, 0, spacing[1], 0, 0, 0, 0, spacing[2], 0, 0, 0, 0, 1];
    source = 'pixdim';
  }
  if (!affine.every(Number.isFinite))
    throw fieldError(
      name,
      source === 'qform' ? 'pixdim' : source,
      'values giving a finite affine',
      `[${affine.join(', ')}]`,
    );
  return affine;
}

/** NIfTI method 2: the rotation of quaternion (b, c, d), voxel sizes, qfac, then the offset. */
function quaternToAffine(q: number[], offset: number[], size: number[], qfac: number): number[] {
  let [b, c, d] = q;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // Not a unit quaternion: normalise (b, c, d) and take a 180° rotation, as nifti1_io does.
    const n = Math.sqrt(b * b + c * c + d * d);
    a = 0;
    b /= n;
    c /= n;
    d /= n;
  } else a = Math.sqrt(a);
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const s = [size[0], size[1], qfac < 0 ? -size[2] : size[2]];
  const m: number[] = [];
  for (let i = 0; i < 3; i++) m.push(r[i][0] * s[0], r[i][1] * s[1], r[i][2] * s[2], offset[i]);
  return [...m, 0, 0, 0, 1];
}

/** Checks what needs the whole file: vox_offset within it, the extension chain, the voxels present. */
function checkFile(bytes: Uint8Array, layout: Layout, name: string): void {
  const h = layout.header;
  if (h.voxOffset > bytes.length)
    throw fieldError(name, 'vox_offset', `at most the file size (${bytes.length} bytes)`, h.voxOffset);
  // The 4 extender bytes follow the header when the voxels start after them; byte 0 set means extensions.
  if (h.voxOffset >= h.size + 4 && bytes[h.size] !== 0) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Each esize is checked positive, so the walk only moves forward: one pass, no loop.
    let at = h.size + 4;
    for (let k = 0; h.voxOffset - at >= 16; k++) {
      const esize = v.getInt32(at, h.littleEndian);
      if (!(esize >= 16 && esize % 16 === 0))
        throw fieldError(name, `esize (extension ${k} at byte ${at})`, 'a positive multiple of 16', esize);
      if (at + esize > h.voxOffset)
        throw fieldError(
          name,
          `esize (extension ${k} at byte ${at})`,
          `an extension ending by vox_offset ${h.voxOffset}`,
          `${esize} (ending at byte ${at + esize})`,
        );
      at += esize;
    }
  }
  if (layout.end > bytes.length)
    throw fieldError(
      name,
      'dim',
      `voxels that fit in the file (${layout.dims.join('x')}${layout.channels > 1 ? `x${layout.channels}` : ''} ${layout.type.name} = ${layout.dataBytes} bytes from vox_offset ${h.voxOffset}, a file of ${layout.end} bytes)`,
      `a file of ${bytes.length} bytes (truncated)`,
    );
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

// ---- writing ----------------------------------------------------------------------------------

const WRITE_TYPES = {
  uint8: { code: 2, bytes: 1, min: 0, max: 255 },
  int16: { code: 4, bytes: 2, min: -32768, max: 32767 },
  int32: { code: 8, bytes: 4, min: -2147483648, max: 2147483647 },
  float32: { code: 16, bytes: 4, min: Number.NEGATIVE_INFINITY, max: Number.POSITIVE_INFINITY },
} as const;

function writeError(arg: string, expected: string, got: unknown): ValueError {
  return new ValueError(`writeNifti: argument '${arg}' expected ${expected}, got ${String(got)}`);
}

function det3(m: number[][]): number {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}

/** The orthogonal matrix nearest to m (polar decomposition by Newton's iteration X ← (X + X⁻ᵀ)/2). */
function nearestRotation(m: number[][]): number[][] {
  let x = m.map((r) => [...r]);
  for (let it = 0; it < 100; it++) {
    const d = det3(x);
    // Inverse transpose: the cofactor matrix over the determinant.
    const cof = (i: number, j: number) => {
      const r = [0, 1, 2].filter((k) => k !== i);
      const c = [0, 1, 2].filter((k) => k !== j);
      const v = x[r[0]][c[0]] * x[r[1]][c[1]] - x[r[0]][c[1]] * x[r[1]][c[0]];
      return (i + j) % 2 ? -v : v;
    };
    const next = x.map((row, i) => row.map((e, j) => 0.5 * (e + cof(i, j) / d)));
    let diff = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) diff += Math.abs(next[i][j] - x[i][j]);
    x = next;
    if (diff < 1e-14) break;
  }
  return x;
}

/**
 * The qform of an affine (nifti1_io's mat44_to_quatern): pixdim from the column norms, the nearest
 * rotation, qfac from the sign of its determinant, and the rotation's quaternion (b, c, d).
 */
function affineToQuatern(affine: readonly number[]): {
  quatern: number[];
  qoffset: number[];
  pixdim: number[];
  qfac: number;
} {
  const m = [0, 1, 2].map((i) => [affine[4 * i], affine[4 * i + 1], affine[4 * i + 2]]);
  const pixdim = [0, 1, 2].map((j) => Math.hypot(m[0][j], m[1][j], m[2][j]));
  const unit = m.map((row) => row.map((e, j) => e / pixdim[j]));
  const r = nearestRotation(unit);
  let qfac = 1;
  if (det3(r) < 0) {
    qfac = -1;
    for (const row of r) row[2] = -row[2];
  }
  let a = r[0][0] + r[1][1] + r[2][2] + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r[2][1] - r[1][2])) / a;
    c = (0.25 * (r[0][2] - r[2][0])) / a;
    d = (0.25 * (r[1][0] - r[0][1])) / a;
  } else {
    const xd = 1 + r[0][0] - (r[1][1] + r[2][2]);
    const yd = 1 + r[1][1] - (r[0][0] + r[2][2]);
    const zd = 1 + r[2][2] - (r[0][0] + r[1][1]);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      a = (0.25 * (r[2][1] - r[1][2])) / b;
      c = (0.25 * (r[0][1] + r[1][0])) / b;
      d = (0.25 * (r[0][2] + r[2][0])) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      a = (0.25 * (r[0][2] - r[2][0])) / c;
      b = (0.25 * (r[0][1] + r[1][0])) / c;
      d = (0.25 * (r[1][2] + r[2][1])) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      a = (0.25 * (r[1][0] - r[0][1])) / d;
      b = (0.25 * (r[0][2] + r[2][0])) / d;
      c = (0.25 * (r[1][2] + r[2][1])) / d;
    }
    // q and -q are the same rotation; NIfTI stores the one with a >= 0.
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { quatern: [b, c, d], qoffset: [affine[3], affine[7], affine[11]], pixdim, qfac };
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

// ---- geometry ---------------------------------------------------------------------------------

/** What two volumes must share to be voxel-aligned. */
export interface NiftiGeometry {
  dims: readonly number[];
  affine: readonly number[];
}

function close(a: number, b: number, tolerance: number): boolean {
  // Relative for large entries (translations in mm), absolute near zero.
  return Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Equal dims and affines equal within `tolerance` (relative to entries larger than 1). */
export function sameGeometry(a: NiftiGeometry, b: NiftiGeometry, tolerance = 1e-4): boolean {
  return geometryMismatch(a, 'a', b, 'b', tolerance) === null;
}

const showAffine = (m: readonly number[]) =>
  `[${[0, 1, 2]
    .map((r) =>
      m
        .slice(4 * r, 4 * r + 4)
        .map((e) => +e.toPrecision(6))
        .join(' '),
    )
    .join('; ')}]`;

/**
 * Why an image and its label map are not voxel-aligned (naming both files), or null when they are:
 * dims first, then the affine's first entry that differs beyond `tolerance`.
 */
export function geometryMismatch(
  image: NiftiGeometry,
  imageName: string,
  label: NiftiGeometry,
  labelName: string,
  tolerance = 1e-4,
): string | null {
  if (image.dims.length !== label.dims.length || image.dims.some((d, i) => d !== label.dims[i]))
    return `${imageName} and ${labelName}: image ${image.dims.join('x')} and label map ${label.dims.join('x')} differ in shape`;
  for (let k = 0; k < 16; k++)
    if (!close(image.affine[k], label.affine[k], tolerance))
      return (
        `${imageName} and ${labelName}: image and label map differ in geometry: affine[${k >> 2}][${k & 3}] is ` +
        `${image.affine[k]} vs ${label.affine[k]} (tolerance ${tolerance}); image affine ${showAffine(image.affine)}, ` +
        `label map affine ${showAffine(label.affine)}`
      );
  return null;
}

/** Throws a ValueError naming both files when an image and its label map are not voxel-aligned. */
export function assertSameGeometry(
  image: NiftiGeometry,
  imageName: string,
  label: NiftiGeometry,
  labelName: string,
  tolerance = 1e-4,
): void {
  const why = geometryMismatch(image, imageName, label, labelName, tolerance);
  if (why) throw new ValueError(why);
}
