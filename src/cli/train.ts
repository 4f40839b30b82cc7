/**
 * `voxgrad train`: trains a 3D U-Net (or the small two-head network) on patches sampled from
 * volumes of any size (NIfTI image/label folders, or built-in synthetic cases), validates after
 * every epoch on whole volumes by sliding-window inference with per-case dice, and writes to the
 * output folder the whole model (model.json + weights.safetensors: `voxgrad predict` or
 * `vg.loadModel` rebuild it without this code), history.json, loss and dice curves and a slice
 * of a validation case. Every option and every file is checked before the GPU starts; a loss or
 * weight that stops being finite ends the run with nothing written.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { patchSampler } from '../data/patch_sampler.js';
import type { VolumeCase } from '../data/volume.js';
import { dice, tversky } from '../losses/overlap.js';
import { Adam } from '../nn/optimizers/adam.js';
import { cosineDecay } from '../nn/optimizers/schedules.js';
import { saveModel } from '../node/model_files.js';
import { init } from '../tensor/api.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  choiceOption,
  intOption,
  numberListOption,
  numberOption,
  type OptionSpec,
  optionError,
  parseArgs,
  sizeOption,
  stringOption,
} from './args.js';
import { normalise, readCases } from './cases.js';
import type { CommandHelp } from './help.js';
import {
  baseProblem,
  buildModel,
  DEFAULT_MODEL,
  MODEL_KINDS,
  type ModelKind,
  NORMS,
  patchMultiple,
  type UNetNorm,
} from './models.js';
import { checkOutputFolder, commitFolder, stagingFolder } from './output_folder.js';
import { trainOnPatches } from './patch_training.js';
import { lineChartSvg, slicePng } from './plots.js';
import { Progress } from './progress.js';
import { DEFAULT_VAL_FRACTION, splitCases } from './split.js';
import { SYNTHETIC_CLASS_NAMES, syntheticCases } from './synthetic_cases.js';
import { type InferenceOptions, type ValidationResult, validate, validationTable } from './validation.js';

const DEFAULTS = {
  epochs: 5,
  steps: 30,
  batchSize: 2,
  lr: 0.01,
  lossWeights: [0.5, 0.3],
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
    meaning: 'patches per training step (and windows per model call in validation)',
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
  },
  'nan-to': {
    kind: 'value',
    value: 'VALUE',
    meaning: 'replace NaN and infinite image voxels by VALUE (without it such images are refused)',
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
  quiet: { kind: 'flag', meaning: 'print only errors' },
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

interface Settings {
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
function settingsOf(o: ReturnType<typeof parseArgs>): Settings {
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
      batchSize: intOption(o, 'batch-size', DEFAULTS.batchSize, 1, 256),
    },
    seed: intOption(o, 'seed', DEFAULTS.seed, 0, 2 ** 31 - 1),
    out,
    quiet: o.quiet === true,
  };
}

interface Data {
  cases: VolumeCase[];
  classes: number;
  classNames: string[];
  source: string;
}

function dataOf(o: ReturnType<typeof parseArgs>, seed: number): Data {
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

const dimsOf = (c: VolumeCase): string => c.shape.slice(0, 3).join('x');

export async function train(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv, TRAIN_OPTIONS, 'train');
  const s = settingsOf(o);
  const data = dataOf(o, s.seed);
  const split = splitCases(
    o,
    data.cases.map((c) => c.name ?? ''),
    s.seed,
  );
  const trainCases = split.train.map((i) => data.cases[i]);
  const valCases = split.val.map((i) => data.cases[i]);
  const log = (line: string): void => {
    if (!s.quiet) console.log(line);
  };
  const sampler = patchSampler(trainCases, {
    patch: s.patch,
    pos: s.foreground,
    neg: 1 - s.foreground,
    flip: { prob: s.flip },
    scaleIntensity: { factors: s.scale, prob: s.scale > 0 ? 0.5 : 0 },
    shiftIntensity: { offsets: s.shift, prob: s.shift > 0 ? 0.5 : 0 },
    seed: s.seed,
  });

  // Host checks are done: the GPU work starts here.
  const info = await init();
  log(`voxgrad on ${info.adapter}`);
  const model = buildModel({ ...s, classes: data.classes });
  try {
    const totalSteps = s.epochs * s.steps;
    model.compile({
      optimizer: new Adam({ learningRate: cosineDecay({ initial: s.lr, decaySteps: totalSteps, alpha: 0.1 }) }),
      loss: {
        segmentation: (t: Tensor, p: Tensor) => dice(t, p, { activation: 'softmax', batch: 'summed' }),
        foreground: (t: Tensor, p: Tensor) => tversky(t, p, { activation: 'sigmoid', alpha: 0.3, beta: 0.7 }),
      },
      lossWeights: { segmentation: s.lossWeights[0], foreground: s.lossWeights[1] },
    });
    const parameters = model.trainableWeights.reduce((n, w) => n + w.size, 0);
    log(`data: ${data.source}`);
    log(
      valCases.length
        ? `validation: ${valCases.map((c) => `${c.name} (${dimsOf(c)})`).join(', ')} (${split.how})`
        : 'validation: none (--val 0 or a single case)',
    );
    log(
      `model: ${s.kind === 'unet' ? `U-Net, depth ${s.depth},` : 'small two-head network,'} ${s.base} base channels, ` +
        `${parameters.toLocaleString('en')} parameters; patch ${s.patch.join('x')}`,
    );
    log(
      `training: ${s.epochs} epochs of ${s.steps} steps, ${s.batchSize} patches a step from ${trainCases.length} cases ` +
        `(${Math.round(100 * s.foreground)}% foreground-centred, flips ${s.flip}, intensity ±${s.scale} scale and ±${s.shift} shift); ` +
        `Adam lr ${s.lr}, cosine decay; loss ${s.lossWeights[0]}·dice(segmentation) + ${s.lossWeights[1]}·tversky(foreground)`,
    );

    const history: Record<string, unknown>[] = [];
    const dims = new Map(data.cases.map((c) => [c.name ?? '', dimsOf(c)]));
    const predictions = new Map<string, Int32Array>();
    const validated: { last: ValidationResult | null } = { last: null };
    const progress = new Progress(s.epochs, s.steps, s.quiet);
    const started = performance.now();
    await trainOnPatches({
      model,
      sampler,
      epochs: s.epochs,
      steps: s.steps,
      batchSize: s.batchSize,
      hint: `The learning rate may be too high (--lr ${o.lr ?? s.lr}).`,
      onBatch: (b) => progress.batch(b),
      onEpoch: async (epoch, means) => {
        const entry: Record<string, unknown> = {
          epoch: epoch + 1,
          loss: means.loss,
          segmentation_loss: means.segmentation,
          foreground_loss: means.foreground,
        };
        progress.epoch(
          epoch,
          `loss ${means.loss.toFixed(4)}  segmentation ${means.segmentation.toFixed(4)}  foreground ${means.foreground.toFixed(4)}`,
        );
        if (valCases.length) {
          const r = await validate(model, valCases, data.classes, s.inference, predictions);
          validated.last = r;
          entry.val = {
            mean: r.mean,
            meanPerClass: Object.fromEntries(data.classNames.slice(1).map((n, i) => [n, r.meanPerClass[i]])),
            cases: Object.fromEntries(r.cases.map((c) => [c.name, c.dice])),
          };
          log(validationTable(r, data.classNames, dims));
        }
        entry.seconds = (performance.now() - started) / 1000;
        history.push(entry);
      },
    });
    const seconds = (performance.now() - started) / 1000;

    const staging = stagingFolder(s.out);
    try {
      await saveModel(model, staging);
      const record = {
        seconds,
        settings: { ...s, classes: data.classes, classNames: data.classNames, data: data.source },
        validation: valCases.map((c) => c.name),
        epochs: history,
      };
      writeFileSync(join(staging, 'history.json'), `${JSON.stringify(record, null, 2)}\n`);
      writeFileSync(join(staging, 'loss.svg'), lossChart(history));
      const result = validated.last;
      if (result) {
        writeFileSync(join(staging, 'val_dice.svg'), diceChart(history, data.classNames));
        const c = valCases[0];
        writeFileSync(join(staging, 'slice.png'), middleSlice(c, predictions.get(c.name ?? '')!));
      }
      const files = commitFolder(staging, s.out);
      log(
        `done in ${seconds.toFixed(1)} s` +
          (result
            ? `; validation mean dice ${fmt(result.mean)} (${data.classNames
                .slice(1)
                .map((n, i) => `${n} ${fmt(result.meanPerClass[i])}`)
                .join(', ')})`
            : ''),
      );
      log(`wrote ${s.out}: ${files.join(', ')}`);
      log(`label a volume: voxgrad predict --model ${s.out} --input VOLUME.nii.gz --output LABELS.nii.gz`);
    } catch (e) {
      rmSync(staging, { recursive: true, force: true });
      throw e;
    }
  } finally {
    model.dispose();
  }
}

const fmt = (v: number): string => (Number.isNaN(v) ? '-' : v.toFixed(3));

function lossChart(history: Record<string, unknown>[]): string {
  const series = (key: string, name: string) => ({ name, values: history.map((h) => h[key] as number) });
  return lineChartSvg('training losses (per head unweighted; total weighted)', [
    series('loss', 'total'),
    series('segmentation_loss', 'segmentation'),
    series('foreground_loss', 'foreground'),
  ]);
}

function diceChart(history: Record<string, unknown>[], classNames: readonly string[]): string {
  const val = history.map((h) => h.val as { mean: number; meanPerClass: Record<string, number> });
  return lineChartSvg(
    'validation dice (whole volumes, sliding window)',
    [
      { name: 'mean', values: val.map((v) => v.mean) },
      ...classNames.slice(1).map((n) => ({ name: n, values: val.map((v) => v.meanPerClass[n]) })),
    ],
    'dice',
  );
}

/** The middle z slice of a case: image, label map and prediction side by side. */
function middleSlice(c: VolumeCase, predicted: Int32Array): Uint8Array {
  const [X, Y, Z] = c.shape;
  const z = Math.floor(Z / 2);
  const image = new Float32Array(X * Y);
  const label = new Int32Array(X * Y);
  const prediction = new Int32Array(X * Y);
  for (let x = 0; x < X; x++)
    for (let y = 0; y < Y; y++) {
      const v = (x * Y + y) * Z + z;
      image[x * Y + y] = c.image[v];
      label[x * Y + y] = c.labels[v];
      prediction[x * Y + y] = predicted[v];
    }
  return slicePng([X, Y], image, label, prediction);
}
