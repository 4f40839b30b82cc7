/** Whether an image and its label map are voxel-aligned: same dims, affines equal within a tolerance. */
import { ValueError } from '../../errors.js';

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
