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
 *
 * The parts: types.ts, datatypes.ts, header.ts (reading and checking headers), affine.ts, read.ts,
 * write.ts, geometry.ts under src/io/nifti/.
 */
export { assertSameGeometry, geometryMismatch, type NiftiGeometry, sameGeometry } from './nifti/geometry.js';
export { readNifti } from './nifti/read.js';
export type { NiftiDatatype, NiftiReadOptions, NiftiVolume, NiftiWritable, NiftiWriteOptions } from './nifti/types.js';
export { writeNifti } from './nifti/write.js';
