/** Element types voxgrad stores on the GPU. Both are 32-bit, so buffers are dtype-agnostic words. */
export type DType = 'float32' | 'int32';

export const DTYPES: readonly DType[] = ['float32', 'int32'];

export type DataArray = Float32Array | Int32Array;

export const BYTES_PER_ELEMENT = 4;

/** The WGSL scalar type that stores a dtype. */
export function wgslType(dtype: DType): 'f32' | 'i32' {
  return dtype === 'float32' ? 'f32' : 'i32';
}

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'int32';
}

/** The 32-bit pattern of a scalar stored as `dtype`. */
export function scalarBits(value: number, dtype: DType): number {
  const buf = new ArrayBuffer(4);
  if (dtype === 'float32') new Float32Array(buf)[0] = value;
  else new Int32Array(buf)[0] = value;
  return new Uint32Array(buf)[0];
}
