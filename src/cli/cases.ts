/**
 * Training cases from two folders of NIfTI files: an image and its label map share a name,
 * whether each is .nii or .nii.gz (case7.nii.gz pairs with case7.nii). Volumes may have any size;
 * an image and its label map must be voxel-aligned (same dims and affine). Images are z-scored per
 * volume, as `voxgrad predict` does with the volumes it labels. Everything here runs on the host,
 * before any GPU work, so bad data fails fast.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { VolumeCase } from '../data/volume.js';
import { zScore } from '../data/voxels.js';
import { ValueError } from '../errors.js';
import { assertSameGeometry } from '../io/nifti.js';
import { readImage, readLabels } from './nifti.js';

const NIFTI = /\.nii(\.gz)?$/;

/** A volume's intensities as z-scores (in place): mean 0, standard deviation 1. */
export function normalise(data: Float32Array): Float32Array {
  const { mean, sd } = zScore(data);
  for (let i = 0; i < data.length; i++) data[i] = (data[i] - mean) / sd;
  return data;
}

/** The NIfTI files of a folder by case name (the file name without .nii / .nii.gz). */
function niftiFiles(dir: string, option: string): Map<string, string> {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new ValueError(`voxgrad train: argument '--${option}' expected a folder, got ${dir}, which is not a folder`);
  const files = new Map<string, string>();
  for (const f of readdirSync(dir).sort()) {
    if (!NIFTI.test(f)) continue;
    const name = f.replace(NIFTI, '');
    const other = files.get(name);
    if (other) throw new ValueError(`${join(dir, other)} and ${join(dir, f)}: two files for case '${name}' (keep one)`);
    files.set(name, f);
  }
  if (files.size === 0) throw new ValueError(`${dir} holds no .nii or .nii.gz files`);
  return files;
}

export interface NiftiCases {
  cases: VolumeCase[];
  /** 1 + the largest class index in any label map (at least 2). */
  classes: number;
  /** Voxels replaced by --nan-to, per case name. */
  replaced: Map<string, number>;
}

/** Reads every image/label pair; `nanTo` replaces non-finite image voxels (otherwise they are an error). */
export function readCases(imagesDir: string, labelsDir: string, nanTo?: number): NiftiCases {
  const images = niftiFiles(imagesDir, 'images');
  const labels = niftiFiles(labelsDir, 'labels');
  for (const [name, f] of labels)
    if (!images.has(name))
      throw new ValueError(`${join(labelsDir, f)} has no image: ${imagesDir} holds no ${name}.nii or ${name}.nii.gz`);
  const cases: VolumeCase[] = [];
  const replaced = new Map<string, number>();
  let classes = 2;
  for (const [name, f] of images) {
    const imagePath = join(imagesDir, f);
    const labelFile = labels.get(name);
    if (!labelFile)
      throw new ValueError(
        `${imagePath} has no label map: ${labelsDir} holds no ${name}.nii or ${name}.nii.gz (label maps share the image's name)`,
      );
    const labelPath = join(labelsDir, labelFile);
    const image = readImage(imagePath, nanTo);
    const label = readLabels(labelPath);
    assertSameGeometry(image.volume, imagePath, label.volume, labelPath);
    if (image.replaced) replaced.set(name, image.replaced);
    for (const k of label.labels) if (k >= classes) classes = k + 1;
    cases.push({ name, image: normalise(image.volume.data), labels: label.labels, shape: [...image.volume.dims, 1] });
  }
  return { cases, classes, replaced };
}
