/**
 * The options of `voxgrad train`, each with its meaning and default (what `--help` prints), and
 * their reading into checked settings, before anything is read from disk or the GPU starts.
 */
import {
  choiceOption,
  intOption,
  numberListOption,
  numberOption,
  type OptionSpec,
  type Options,
  optionError,
  sizeOption,
  stringOption,
} from './args.js';
import type { CommandHelp } from './help.js';
import {
  baseProblem,
  DEFAULT_MODEL,
  MODEL_KINDS,
  type ModelKind,
  NORMS,
  patchMultiple,
  type UNetNorm,
} from './models.js';
import { checkOutputFolder } from './output_folder.js';
import { DEFAULT_VAL_FRACTION } from './split.js';
import type { InferenceOptions } from './validation.js';

export const DEFAULTS = {
  epochs: 5,
  steps: 30,
  batchSize: 2,
  lr: 0.01,
  lossWeights: [1, 0.3],
  foreground: 0.5,
  flip: 0.5,
  scale: 0.1,
  shift: 0.1,
  overlap: 0.25,
  cases: 16,
  seed: 1,
  out: 'voxgrad-run',
} as const;

export const TRAIN_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  model: {
    kind: 'value',
    value: 'unet|small',
    meaning: 'the network: a 3D U-Net, or the small two-head network',
    default: DEFAULT_MODEL.kind,
  },
  base: {
    kind: 'value',
    value: 'N',
    meaning: 'channels of the first U-Net level (doubled at each level down), or of the small network',
    default: String(DEFAULT_MODEL.base),
  },
  depth: {
    kind: 'value',
    value: 'N',
    meaning: 'resolution levels of the U-Net (depth − 1 poolings)',
    default: String(DEFAULT_MODEL.depth),
  },
  norm: {
    kind: 'value',
    value: 'group|instance|none',
    meaning: "the U-Net's normalisation after each convolution (groups of up to 8 channels, one per channel, or none)",
    default: DEFAULT_MODEL.norm,
  },
  patch: {
    kind: 'value',
    value: 'N|X,Y,Z',
    meaning:
      'patch size in voxels, also the sliding window of validation and predict; each side a multiple of 2^(depth − 1) for the U-Net',
    default: String(DEFAULT_MODEL.patch[0]),
  },
  'batch-size': {
    kind: 'value',
    value: 'N',
    meaning: 'patches per training step',
    default: String(DEFAULTS.batchSize),
  },
  epochs: {
    kind: 'value',
    value: 'N',
    meaning: 'epochs; each ends with validation on whole volumes',
    default: String(DEFAULTS.epochs),
  },
  steps: { kind: 'value', value: 'N', meaning: 'training steps (batches) per epoch', default: String(DEFAULTS.steps) },
  lr: {
    kind: 'value',
    value: 'RATE',
    meaning: "Adam's learning rate at the start, decayed along a cosine to a tenth of it",
    default: String(DEFAULTS.lr),
  },
  'loss-weights': {
    kind: 'value',
    value: 'S,F',
    meaning:
      'weights of the segmentation loss (dice + cross-entropy, softmax) and of the foreground loss (tversky, sigmoid) in the total',
    default: DEFAULTS.lossWeights.join(','),
  },
  foreground: {
    kind: 'value',
    value: 'F',
    meaning: 'fraction of patches centred on a foreground voxel (label > 0); the others on background',
    default: String(DEFAULTS.foreground),
  },
  flip: {
    kind: 'value',
    value: 'P',
    meaning: 'probability of flipping a patch along each axis (0: never)',
    default: String(DEFAULTS.flip),
  },
  scale: {
    kind: 'value',
    value: 'F',
    meaning: 'intensity scaling: half the patches are multiplied by 1 + f, f uniform in [−F, F] (0: off)',
    default: String(DEFAULTS.scale),
  },
  shift: {
    kind: 'value',
    value: 'O',
    meaning: 'intensity shift: half the patches get + o, o uniform in [−O, O] (0: off)',
    default: String(DEFAULTS.shift),
  },
  val: {
    kind: 'value',
    value: 'F|NAMES',
    meaning:
      'validation cases: a fraction of the cases (drawn with --seed; 0 for none) or case names separated by commas',
    default: String(DEFAULT_VAL_FRACTION),
  },
  overlap: {
    kind: 'value',
    value: 'F',
    meaning: 'fraction of a window shared with its neighbour in validation',
    default: String(DEFAULTS.overlap),
  },
  blend: {
    kind: 'value',
    value: 'gaussian|constant',
    meaning: 'how overlapping windows are weighted in validation',
    default: 'gaussian',
  },
  images: {
    kind: 'value',
    value: 'DIR',
    meaning: 'folder of NIfTI images (.nii or .nii.gz, any size); with --labels',
    default: 'built-in synthetic cases',
  },
  labels: {
    kind: 'value',
    value: 'DIR',
    meaning: 'folder of NIfTI label maps (class indices) with the same names as the images',
    default: 'none; required with --images',
  },
  'nan-to': {
    kind: 'value',
    value: 'VALUE',
    meaning: 'replace NaN and infinite image voxels by VALUE',
    default: 'none: images holding such voxels are refused',
  },
  cases: {
    kind: 'value',
    value: 'N',
    meaning: 'number of synthetic cases (without --images)',
    default: String(DEFAULTS.cases),
  },
  seed: {
    kind: 'value',
    value: 'N',
    meaning: 'seed of the weights, the synthetic cases, the validation draw and the patches',
    default: String(DEFAULTS.seed),
  },
  out: {
    kind: 'value',
    value: 'DIR',
    meaning: 'output folder (written only when training succeeds)',
    default: DEFAULTS.out,
  },
  quiet: { kind: 'flag', meaning: 'print only errors', default: 'off' },
};

export const TRAIN_HELP: CommandHelp = {
  name: 'train',
  summary: 'train a 3D U-Net on patches of NIfTI volumes (or built-in synthetic ones), validating on whole volumes',
  description:
    'Samples patches from volumes of any size (foreground-biased, with flips and intensity augmentation, prepared ' +
    'while the GPU trains), trains with Adam, and after every epoch predicts each validation case whole by ' +
    'sliding-window inference and prints its dice per class. Writes the model (model.json + weights.safetensors), ' +
    'history.json, loss.svg, val_dice.svg and slice.png to --out. A loss or weight that becomes NaN or infinite ' +
    'stops training with a message and nothing is written.',
  options: TRAIN_OPTIONS,
  examples: [
    'voxgrad train                                   # synthetic cases, about a minute',
    'voxgrad train --images imgs/ --labels labels/ --patch 32 --val case3,case7 --epochs 20 --out run1',
    'voxgrad train --model small --base 8 --patch 16 --loss-weights 1,0.5 --seed 2',
  ],
};

export interface Settings {
  kind: ModelKind;
  base: number;
  depth: number;
  norm: UNetNorm;
  patch: [number, number, number];
  batchSize: number;
  epochs: number;
  steps: number;
  lr: number;
  lossWeights: number[];
  foreground: number;
  flip: number;
  scale: number;
  shift: number;
  inference: InferenceOptions;
  seed: number;
  out: string;
  quiet: boolean;
}

/** Every option, checked; nothing is read from disk yet. */
export function settingsOf(o: Options): Settings {
  const kind = choiceOption(o, 'model', MODEL_KINDS, DEFAULT_MODEL.kind);
  const base = intOption(o, 'base', DEFAULT_MODEL.base, 1, 256);
  const depth = intOption(o, 'depth', DEFAULT_MODEL.depth, 1, 6);
  const patch = sizeOption(o, 'patch', [...DEFAULT_MODEL.patch], 1, 256);
  const multiple = patchMultiple(kind, depth);
  if (patch.some((p) => p % multiple !== 0))
    throw optionError(
      o,
      'patch',
      `sides that are multiples of ${multiple} (2^(depth − 1) for --depth ${depth})`,
      `'${o.patch}'`,
    );
  const norm = choiceOption(o, 'norm', NORMS, DEFAULT_MODEL.norm);
  const problem = baseProblem(kind, base, depth, norm);
  if (problem) throw optionError(o, 'base', '1, 2, 4 or a multiple of 8 channels', `${base}: ${problem}`);
  const lossWeights = numberListOption(o, 'loss-weights', DEFAULTS.lossWeights, 2, { min: 0 });
  if (lossWeights[0] + lossWeights[1] === 0)
    throw optionError(o, 'loss-weights', 'weights not both 0', `'${o['loss-weights']}'`);
  const out = stringOption(o, 'out') ?? DEFAULTS.out;
  checkOutputFolder(out);
  return {
    kind,
    base,
    depth,
    norm,
    patch,
    batchSize: intOption(o, 'batch-size', DEFAULTS.batchSize, 1, 256),
    epochs: intOption(o, 'epochs', DEFAULTS.epochs, 1, 100000),
    steps: intOption(o, 'steps', DEFAULTS.steps, 1, 1000000),
    lr: numberOption(o, 'lr', DEFAULTS.lr, { min: 0, exclusiveMin: true }),
    lossWeights,
    foreground: numberOption(o, 'foreground', DEFAULTS.foreground, { min: 0, max: 1 }),
    flip: numberOption(o, 'flip', DEFAULTS.flip, { min: 0, max: 1 }),
    scale: numberOption(o, 'scale', DEFAULTS.scale, { min: 0, max: 1 }),
    shift: numberOption(o, 'shift', DEFAULTS.shift, { min: 0 }),
    inference: {
      overlap: numberOption(o, 'overlap', DEFAULTS.overlap, { min: 0, max: 0.95 }),
      blend: choiceOption(o, 'blend', ['gaussian', 'constant'] as const, 'gaussian'),
    },
    seed: intOption(o, 'seed', DEFAULTS.seed, 0, 2 ** 31 - 1),
    out,
    quiet: o.quiet === true,
  };
}
