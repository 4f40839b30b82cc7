/**
 * `voxgrad predict`: loads a model folder written by `voxgrad train` (or `vg.saveModel`), predicts
 * a NIfTI volume of any size by sliding-window inference with the model's patch as the window,
 * and writes the label map (argmax over classes) as NIfTI with the input's dims, affine, qform
 * and sform codes, spacing and units, so it lines up with the image in any viewer. The image is
 * z-scored as in training. The file is written under a temporary name and renamed when complete.
 */
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValueError } from '../errors.js';
import { loadModel, MODEL_FILE, WEIGHTS_FILE } from '../node/model_files.js';
import { init } from '../tensor/api.js';
import {
  choiceOption,
  intOption,
  numberOption,
  type OptionSpec,
  optionError,
  parseArgs,
  stringOption,
} from './args.js';
import { normalise } from './cases.js';
import type { CommandHelp } from './help.js';
import { niftiBytes, readImage } from './nifti.js';
import { predictLabels } from './validation.js';

export const PREDICT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  model: {
    kind: 'value',
    value: 'DIR',
    meaning: 'model folder written by voxgrad train (model.json + weights.safetensors)',
    default: 'none; required',
  },
  input: {
    kind: 'value',
    value: 'FILE',
    meaning: 'the NIfTI image to label (.nii or .nii.gz, any size)',
    default: 'none; required',
  },
  output: {
    kind: 'value',
    value: 'FILE',
    meaning: 'where to write the label map (.nii or .nii.gz: gzipped)',
    default: 'none; required',
  },
  overlap: { kind: 'value', value: 'F', meaning: 'fraction of a window shared with its neighbour', default: '0.25' },
  blend: {
    kind: 'value',
    value: 'gaussian|constant',
    meaning: 'how overlapping windows are weighted: a Gaussian centred on each window, or equally',
    default: 'gaussian',
  },
  'batch-size': {
    kind: 'value',
    value: 'N',
    meaning:
      'windows per model call (more uses more GPU memory; the result is the same); by default as many as hold about 131,072 voxels, at most 32',
    default: 'by window size',
  },
  'nan-to': {
    kind: 'value',
    value: 'VALUE',
    meaning: 'replace NaN and infinite voxels by VALUE',
    default: 'none: images holding such voxels are refused',
  },
};

export const PREDICT_HELP: CommandHelp = {
  name: 'predict',
  summary: 'label a NIfTI volume with a trained model (sliding-window inference over the whole volume)',
  description:
    "Predicts the whole volume window by window (the model's patch size), blends the overlapping windows and " +
    "writes the label map with the input's dims, affine, spacing and codes, so it lines up with the image.",
  options: PREDICT_OPTIONS,
  examples: ['voxgrad predict --model voxgrad-run --input case9.nii.gz --output case9_labels.nii.gz --overlap 0.5'],
};

const NIFTI = /\.nii(\.gz)?$/;

export async function predict(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv, PREDICT_OPTIONS, 'predict');
  const required = (name: string): string => {
    const v = stringOption(o, name);
    if (!v) throw optionError(o, name, `a ${name === 'model' ? 'folder' : 'file'} (it is required)`, 'nothing');
    return v;
  };
  const dir = required('model');
  const inputPath = required('input');
  const outputPath = required('output');
  if (!NIFTI.test(outputPath))
    throw optionError(o, 'output', 'a file name ending in .nii or .nii.gz', `'${outputPath}'`);
  if (existsSync(outputPath) && statSync(outputPath).isDirectory())
    throw optionError(o, 'output', 'a file name', `${outputPath}, which is a folder`);
  const inference = {
    overlap: numberOption(o, 'overlap', 0.25, { min: 0, max: 0.95 }),
    blend: choiceOption(o, 'blend', ['gaussian', 'constant'] as const, 'gaussian'),
    batchSize: o['batch-size'] === undefined ? undefined : intOption(o, 'batch-size', 1, 1, 256),
  };
  const nanText = stringOption(o, 'nan-to');
  const nanTo = nanText === undefined ? undefined : numberOption(o, 'nan-to', 0);
  for (const f of [MODEL_FILE, WEIGHTS_FILE])
    if (!existsSync(join(dir, f)))
      throw new ValueError(`${join(dir, f)} is missing (is ${dir} a folder written by voxgrad train?)`);
  const { volume, replaced } = readImage(inputPath, nanTo);
  if (volume.channels !== 1)
    throw new ValueError(`${inputPath}: ${volume.channels} channels; the models voxgrad train makes read one`);

  await init();
  const model = await loadModel(dir);
  try {
    if (!model.outputNames.includes('segmentation'))
      throw new ValueError(
        `${join(dir, MODEL_FILE)}: the model has no 'segmentation' output (its outputs: ${model.outputNames.join(', ')})`,
      );
    const channels = model.inputs[0]?.shape[4];
    if (model.inputs.length !== 1 || channels !== 1)
      throw new ValueError(`${join(dir, MODEL_FILE)}: the model does not take one single-channel volume`);
    const image = normalise(Float32Array.from(volume.data));
    const labels = await predictLabels(model, image, [...volume.dims, 1], inference);
    const tmp = `${outputPath}.partial-${process.pid}`;
    try {
      // The input's geometry (affine, qform and sform codes, spacing, units): the map lines up with it.
      writeFileSync(tmp, niftiBytes({ ...volume, data: labels }, 'labels', outputPath.endsWith('.gz')));
      renameSync(tmp, outputPath);
    } finally {
      rmSync(tmp, { force: true });
    }
    const classes = model.outputs[model.outputNames.indexOf('segmentation')].shape[4];
    const counts = new Array<number>(classes).fill(0);
    for (const k of labels) counts[k]++;
    const patch = model.inputs[0].shape.slice(1, 4).join('x');
    console.log(
      `wrote ${outputPath}: ${volume.dims.join('x')} label map (windows of ${patch}, overlap ${inference.overlap}, ` +
        `${inference.blend} blend); voxels per class ${counts.join(', ')}` +
        (replaced ? `; ${replaced} non-finite input voxels set to ${nanTo}` : ''),
    );
  } finally {
    model.dispose();
  }
}
