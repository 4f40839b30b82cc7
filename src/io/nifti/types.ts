/** The public shapes of NIfTI volumes read and written (src/io/nifti/read.ts, write.ts). */

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
