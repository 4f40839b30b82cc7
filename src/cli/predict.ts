/**
 * `voxgrad predict`: runs a model trained by `voxgrad train` (its folder: model.json and
 * weights.safetensors) on a NIfTI volume and writes the label map (argmax over classes) as NIfTI.
 * The network is fully convolutional, so the volume may have any size.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { argmaxClass, zScore } from '../data/voxels.js';
import { ValueError } from '../errors.js';
import { twoHeadModel } from '../models/two_heads.js';
import { tidy } from '../tensor/api.js';
import { tensor } from '../tensor/ops/creation.js';
import { parseArgs, stringOption } from './args.js';
import { niftiBytes, readNifti } from './nifti.js';

export const PREDICT_OPTIONS = { model: 'value', input: 'value', output: 'value' } as const;

export async function predict(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv, PREDICT_OPTIONS, 'predict');
  const dir = stringOption(o, 'model');
  const inputPath = stringOption(o, 'input');
  const outputPath = stringOption(o, 'output');
  if (!dir || !inputPath || !outputPath)
    throw new ValueError('voxgrad predict needs --model DIR --input VOLUME.nii[.gz] --output LABELS.nii[.gz]');
  const configPath = join(dir, 'model.json');
  const weightsPath = join(dir, 'weights.safetensors');
  for (const p of [configPath, weightsPath])
    if (!existsSync(p)) throw new ValueError(`${p} is missing (is ${dir} a folder written by voxgrad train?)`);
  let config: { classes: number; filters: number; seed?: number };
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (e) {
    throw new ValueError(`${configPath} is not valid JSON (${(e as Error).message})`);
  }
  if (!Number.isInteger(config.classes) || !Number.isInteger(config.filters))
    throw new ValueError(`${configPath} lacks integer 'classes' and 'filters'`);
  const volume = readNifti(inputPath);
  const model = twoHeadModel({
    size: volume.dims,
    classes: config.classes,
    filters: config.filters,
    seed: config.seed,
  });
  await model.loadWeights(readFileSync(weightsPath));

  // The same intensity normalisation as training on NIfTI data (z-score per volume).
  const { mean, sd } = zScore(volume.data);
  const x = tensor(
    volume.data.map((v) => (v - mean) / sd),
    [1, ...volume.dims, 1],
  );
  const logits = tidy(() => model.predict(x).segmentation);
  const values = await logits.data();
  logits.dispose();
  x.dispose();
  const C = config.classes;
  const labels = new Float32Array(volume.data.length);
  for (let i = 0; i < labels.length; i++) labels[i] = argmaxClass(values, i, C);
  const tmp = `${outputPath}.partial-${process.pid}`;
  try {
    writeFileSync(
      tmp,
      // The input's geometry (affine, qform and sform codes), so the label map lines up with it.
      niftiBytes({ ...volume, data: labels }, 'labels', outputPath.endsWith('.gz')),
    );
    renameSync(tmp, outputPath);
  } finally {
    rmSync(tmp, { force: true });
  }
  const counts = Array.from({ length: C }, (_, c) => labels.filter((k) => k === c).length);
  console.log(`wrote ${outputPath}: ${volume.dims.join('x')} label map; voxels per class ${counts.join(', ')}`);
}
