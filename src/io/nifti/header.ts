/**
 * NIfTI-1 and NIfTI-2 headers in either byte order: every field the voxels depend on is read and
 * checked (dims, datatype, bitpix, vox_offset, pixdim, scaling, qform, sform), then the extension
 * chain and the voxels' place in the file, so that nothing past here can hang or over-allocate.
 */
import { ValueError } from '../../errors.js';
import { quaternToAffine } from './affine.js';
import { SUPPORTED_LIST, TYPES, type TypeInfo, UNSUPPORTED } from './datatypes.js';
import type { NiftiReadOptions } from './types.js';

/** The largest file a header may promise (vox_offset + voxel bytes): 2 GiB. */
export const MAX_FILE_BYTES = 2 ** 31;

/** Header fields as stored (both versions read into one shape). */
export interface Header {
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
export interface Layout {
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

export function fieldError(name: string, field: string, expected: string, got: unknown): ValueError {
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

/** sizeof_hdr in either byte order: the version and the byte order, or an error. */
export function detect(bytes: Uint8Array, name: string): { version: 1 | 2; size: number; littleEndian: boolean } {
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
export function readHeader(bytes: Uint8Array, name: string): Header {
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
export function checkHeader(h: Header, name: string, options: NiftiReadOptions): Layout {
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

/** Checks what needs the whole file: vox_offset within it, the extension chain, the voxels present. */
export function checkFile(bytes: Uint8Array, layout: Layout, name: string): void {
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
