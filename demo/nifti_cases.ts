/**
 * The user's data: NIfTI image + label map pairs (see pairing.ts) read into demo cases. Every pair
 * is checked before training: one-channel 3D images, label maps voxel-aligned with their image
 * (same dims and affine), labels that are class indices 0…255. Images are z-scored per volume, as
 * the command line does; the number of classes is the largest label found plus one.
 */
import { zScore } from '../src/data/voxels.js';
import { assertSameGeometry, readNifti } from '../src/index.js';
import { type DemoCase, type DemoDataset, demoCase } from './dataset.js';
import { pairFiles } from './pairing.js';

/** A file as dropped or picked: its path (with the folders it was dropped in) and its contents. */
export interface InputFile {
  path: string;
  file: Blob;
}

const MAX_CLASS = 255;

/** Reads and checks every pair; errors name the file at fault. */
export async function datasetFromFiles(
  files: readonly InputFile[],
): Promise<{ dataset: DemoDataset; ignored: string[] }> {
  const { pairs, ignored } = pairFiles(files, (f) => f.path);
  const cases: DemoCase[] = [];
  let classes = 2;
  for (const pair of pairs) {
    const image = readNifti(new Uint8Array(await pair.image.file.arrayBuffer()), pair.image.path);
    const label = readNifti(new Uint8Array(await pair.label.file.arrayBuffer()), pair.label.path);
    assertSameGeometry(image, pair.image.path, label, pair.label.path);
    const labels = new Int32Array(label.data.length);
    for (let i = 0; i < labels.length; i++) {
      const k = label.data[i];
      if (!(Number.isInteger(k) && k >= 0 && k <= MAX_CLASS)) {
        const [, Y, Z] = label.dims;
        const at = [Math.floor(i / (Y * Z)), Math.floor(i / Z) % Y, i % Z];
        throw new Error(
          `${pair.label.path}: label ${k} at voxel (${at.join(', ')}) is not a class index in 0…${MAX_CLASS}`,
        );
      }
      labels[i] = k;
      if (k + 1 > classes) classes = k + 1;
    }
    const { mean, sd } = zScore(image.data);
    const normalised = Float32Array.from(image.data, (v) => (v - mean) / sd);
    cases.push(
      demoCase(pair.name, normalised, labels, image.dims, {
        affine: image.affine,
        qformCode: image.qformCode,
        sformCode: image.sformCode,
        xyztUnits: image.xyztUnits,
      }),
    );
  }
  const dataset: DemoDataset = {
    source: 'files',
    title: `${cases.length} case(s) from your files: ${cases.map((c) => `${c.name} (${c.dims.join('×')})`).join(', ')}`,
    classes,
    classNames: Array.from({ length: classes }, (_, k) => (k === 0 ? 'background' : `label ${k}`)),
    training: cases,
    shown: cases,
    heldOut: false,
  };
  return { dataset, ignored };
}
