/**
 * The cases `voxgrad train` learns from: NIfTI folders (`--images`, `--labels`, `--nan-to`) or
 * built-in synthetic cases (`--cases`), z-scored per volume, with the names of their classes.
 */
import type { VolumeCase } from '../data/volume.js';
import { intOption, numberOption, type Options, optionError, stringOption } from './args.js';
import { normalise, readCases } from './cases.js';
import { SYNTHETIC_CLASS_NAMES, syntheticCases } from './synthetic_cases.js';
import { DEFAULTS } from './train_options.js';

export interface TrainingData {
  cases: VolumeCase[];
  classes: number;
  classNames: string[];
  source: string;
}

export function trainingData(o: Options, seed: number): TrainingData {
  const images = stringOption(o, 'images');
  const labels = stringOption(o, 'labels');
  if (!!images !== !!labels)
    throw optionError(
      o,
      images ? 'labels' : 'images',
      `a folder, given with --${images ? 'images' : 'labels'}`,
      'nothing',
    );
  const nanText = stringOption(o, 'nan-to');
  const nanTo = nanText === undefined ? undefined : numberOption(o, 'nan-to', 0);
  if (images && labels) {
    if (o.cases !== undefined)
      throw optionError(o, 'cases', 'no value with --images (it sets synthetic cases)', `'${o.cases}'`);
    const r = readCases(images, labels, nanTo);
    const replaced = [...r.replaced].map(([name, n]) => `${n} in ${name}`);
    return {
      cases: r.cases,
      classes: r.classes,
      classNames: Array.from({ length: r.classes }, (_, c) => `class ${c}`),
      source:
        `${r.cases.length} NIfTI cases from ${images} and ${labels}` +
        (replaced.length ? `; non-finite voxels set to ${nanTo}: ${replaced.join(', ')}` : ''),
    };
  }
  if (nanTo !== undefined)
    throw optionError(o, 'nan-to', 'no value without --images (synthetic cases are finite)', `'${nanText}'`);
  const n = intOption(o, 'cases', DEFAULTS.cases, 1, 10000);
  const cases = syntheticCases(n, seed).map((c) => ({ ...c, image: normalise(c.image) }));
  return {
    cases,
    classes: SYNTHETIC_CLASS_NAMES.length,
    classNames: [...SYNTHETIC_CLASS_NAMES],
    source: `${n} synthetic cases of varied shapes (sides of 16 to 43 voxels; a sphere, a box and a shell; seed ${seed})`,
  };
}
