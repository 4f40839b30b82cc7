/** NIfTI datatype codes: the ones read (with their typed-array views) and the known others. */
import type { NiftiDatatype } from './types.js';

export interface TypeInfo {
  name: NiftiDatatype;
  bytes: number;
  view: (b: ArrayBufferLike, n: number) => ArrayLike<number>;
}

export const TYPES: Record<number, TypeInfo> = {
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
export const UNSUPPORTED: Record<number, string> = {
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

export const SUPPORTED_LIST = Object.entries(TYPES)
  .map(([code, t]) => `${code} (${t.name})`)
  .join(', ');

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
