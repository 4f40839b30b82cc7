// Hand-built NIfTI files for the NIfTI tests: any header field, NIfTI-1 or NIfTI-2, either byte
// order, extension chains and voxels given in NIfTI's own order (x fastest). Written from the
// format's layout, independently of src/io/nifti.ts, so the reader is checked against the format
// rather than against its own writer.

export type Kind = 'u8' | 'i8' | 'i16' | 'u16' | 'i32' | 'u32' | 'f32' | 'f64' | 'i64';

/** A header field: its name, byte offset and stored type. */
export interface Field {
  name: string;
  offset: number;
  kind: Kind;
}

const run = (name: string, offset: number, kind: Kind, n: number, width: number): Field[] =>
  Array.from({ length: n }, (_, i) => ({ name: `${name}[${i}]`, offset: offset + i * width, kind }));

/** The fields the reader uses, per version. */
export const FIELDS: Record<1 | 2, Field[]> = {
  1: [
    { name: 'sizeof_hdr', offset: 0, kind: 'i32' },
    ...run('dim', 40, 'i16', 8, 2),
    { name: 'datatype', offset: 70, kind: 'i16' },
    { name: 'bitpix', offset: 72, kind: 'i16' },
    ...run('pixdim', 76, 'f32', 8, 4),
    { name: 'vox_offset', offset: 108, kind: 'f32' },
    { name: 'scl_slope', offset: 112, kind: 'f32' },
    { name: 'scl_inter', offset: 116, kind: 'f32' },
    { name: 'xyzt_units', offset: 123, kind: 'u8' },
    { name: 'qform_code', offset: 252, kind: 'i16' },
    { name: 'sform_code', offset: 254, kind: 'i16' },
    ...run('quatern', 256, 'f32', 6, 4),
    ...run('srow', 280, 'f32', 12, 4),
    ...run('magic', 344, 'u8', 4, 1),
    { name: 'extender', offset: 348, kind: 'u8' },
  ],
  2: [
    { name: 'sizeof_hdr', offset: 0, kind: 'i32' },
    ...run('magic', 4, 'u8', 8, 1),
    { name: 'datatype', offset: 12, kind: 'i16' },
    { name: 'bitpix', offset: 14, kind: 'i16' },
    ...run('dim', 16, 'i64', 8, 8),
    ...run('pixdim', 104, 'f64', 8, 8),
    { name: 'vox_offset', offset: 168, kind: 'i64' },
    { name: 'scl_slope', offset: 176, kind: 'f64' },
    { name: 'scl_inter', offset: 184, kind: 'f64' },
    { name: 'qform_code', offset: 344, kind: 'i32' },
    { name: 'sform_code', offset: 348, kind: 'i32' },
    ...run('quatern', 352, 'f64', 6, 8),
    ...run('srow', 400, 'f64', 12, 8),
    { name: 'xyzt_units', offset: 500, kind: 'i32' },
    { name: 'extender', offset: 540, kind: 'u8' },
  ],
};

const WIDTH: Record<Kind, number> = { u8: 1, i8: 1, i16: 2, u16: 2, i32: 4, u32: 4, f32: 4, f64: 8, i64: 8 };

/** The stored kind and width of each datatype code. */
export const DATATYPES: Record<number, { kind: Kind; name: string }> = {
  2: { kind: 'u8', name: 'uint8' },
  256: { kind: 'i8', name: 'int8' },
  4: { kind: 'i16', name: 'int16' },
  512: { kind: 'u16', name: 'uint16' },
  8: { kind: 'i32', name: 'int32' },
  768: { kind: 'u32', name: 'uint32' },
  16: { kind: 'f32', name: 'float32' },
  64: { kind: 'f64', name: 'float64' },
};

/** Writes one value of a kind (integers wrap, as a C cast would; i64 takes any integer). */
const SETTERS: Record<Kind, (v: DataView, at: number, x: number, le: boolean) => void> = {
  u8: (v, at, x) => v.setUint8(at, x),
  i8: (v, at, x) => v.setInt8(at, x),
  i16: (v, at, x, le) => v.setInt16(at, x, le),
  u16: (v, at, x, le) => v.setUint16(at, x, le),
  i32: (v, at, x, le) => v.setInt32(at, x, le),
  u32: (v, at, x, le) => v.setUint32(at, x, le),
  f32: (v, at, x, le) => v.setFloat32(at, x, le),
  f64: (v, at, x, le) => v.setFloat64(at, x, le),
  i64: (v, at, x, le) => v.setBigInt64(at, BigInt.asIntN(64, BigInt(Math.trunc(Number.isFinite(x) ? x : 0))), le),
};

export function put(v: DataView, offset: number, kind: Kind, value: number, le: boolean): void {
  SETTERS[kind](v, offset, value, le);
}

export interface RawNifti {
  version?: 1 | 2;
  littleEndian?: boolean;
  /** dim[1..]; dim[0] is their count unless `dim0` is given. */
  dim: number[];
  dim0?: number;
  /** Default 16 (float32). */
  datatype?: number;
  /** Default: the datatype's width in bits. */
  bitpix?: number;
  /** pixdim[0..7]; default [1, 1, 1, 1, 1, 1, 1, 1]. */
  pixdim?: number[];
  /** Default: right after the header, its 4 extender bytes and the extensions. */
  voxOffset?: number;
  sclSlope?: number;
  sclInter?: number;
  qformCode?: number;
  sformCode?: number;
  /** quatern_b, quatern_c, quatern_d. */
  quatern?: number[];
  /** qoffset_x, qoffset_y, qoffset_z. */
  qoffset?: number[];
  /** srow_x, srow_y, srow_z. */
  srow?: number[];
  xyztUnits?: number;
  /** Default "n+1" / "n+2". */
  magic?: string;
  /** esize of each extension (its code 4, contents zero); the extender byte is set when given. */
  extensions?: number[];
  /** Voxels in NIfTI order, stored as the datatype. */
  values?: ArrayLike<number>;
  /** Bytes after the voxels (or instead of them). */
  tail?: Uint8Array;
}

/** The bytes of a single-file NIfTI (.nii) as described. */
export function buildNifti(s: RawNifti): Uint8Array {
  const version = s.version ?? 1;
  const le = s.littleEndian ?? true;
  const size = version === 1 ? 348 : 540;
  const datatype = s.datatype ?? 16;
  const type = DATATYPES[datatype];
  const width = type ? WIDTH[type.kind] : 1;
  const extensions = s.extensions ?? [];
  const extBytes = extensions.reduce((a, e) => a + Math.max(8, e), 0);
  const voxOffset = s.voxOffset ?? size + 4 + extBytes;
  const values = s.values ?? [];
  const dataEnd = Math.max(voxOffset, size + 4 + extBytes) + values.length * width;
  const out = new Uint8Array(dataEnd + (s.tail?.length ?? 0));
  const v = new DataView(out.buffer);
  const f = Object.fromEntries(FIELDS[version].map((x) => [x.name, x]));
  const set = (name: string, value: number) => put(v, f[name].offset, f[name].kind, value, le);
  set('sizeof_hdr', size);
  const magic = s.magic ?? (version === 1 ? 'n+1' : 'n+2');
  for (let i = 0; i < magic.length; i++) out[(version === 1 ? 344 : 4) + i] = magic.charCodeAt(i);
  if (version === 2 && s.magic === undefined) out.set([0x0d, 0x0a, 0x1a, 0x0a], 8);
  set('dim[0]', s.dim0 ?? s.dim.length);
  s.dim.forEach((d, i) => set(`dim[${i + 1}]`, d));
  set('datatype', datatype);
  set('bitpix', s.bitpix ?? width * 8);
  (s.pixdim ?? [1, 1, 1, 1, 1, 1, 1, 1]).forEach((p, i) => set(`pixdim[${i}]`, p));
  set('vox_offset', voxOffset);
  set('scl_slope', s.sclSlope ?? 0);
  set('scl_inter', s.sclInter ?? 0);
  set('qform_code', s.qformCode ?? 0);
  set('sform_code', s.sformCode ?? 0);
  [...(s.quatern ?? [0, 0, 0]), ...(s.qoffset ?? [0, 0, 0])].forEach((q, i) => set(`quatern[${i}]`, q));
  (s.srow ?? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).forEach((r, i) => set(`srow[${i}]`, r));
  set('xyzt_units', s.xyztUnits ?? 10);
  if (extensions.length) {
    out[size] = 1;
    let at = size + 4;
    for (const e of extensions) {
      v.setInt32(at, e, le);
      v.setInt32(at + 4, 4, le);
      at += Math.max(8, e);
    }
  }
  if (type) {
    const start = Math.max(voxOffset, size + 4 + extBytes);
    for (let i = 0; i < values.length; i++) put(v, start + i * width, type.kind, values[i], le);
  }
  if (s.tail) out.set(s.tail, dataEnd);
  return out;
}

/** NIfTI order (x fastest, channels slowest) to voxgrad's ((x·Y + y)·Z + z)·C + c. */
export function toVoxgradOrder(values: ArrayLike<number>, X: number, Y: number, Z: number, C = 1): number[] {
  const out = new Array<number>(X * Y * Z * C);
  let i = 0;
  for (let c = 0; c < C; c++)
    for (let z = 0; z < Z; z++)
      for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) out[((x * Y + y) * Z + z) * C + c] = values[i++];
  return out;
}
