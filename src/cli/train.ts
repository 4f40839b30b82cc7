/**
 * `voxgrad train`: trains the two-head model (segmentation with dice, foreground with tversky,
 * weighted by --loss-weights) on built-in synthetic volumes or on NIfTI images and label maps,
 * and writes to the output folder: weights.safetensors, model.json, history.json, one loss-curve
 * SVG per output and a PNG slice of label vs prediction for a validation volume. Everything is
 * written to a temporary folder first, so a failed run leaves nothing half-written.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SYNTHETIC_CLASSES, syntheticVolumes } from '../data/synthetic.js';
import { argmaxClass, zScore } from '../data/voxels.js';
import { ValueError } from '../errors.js';
import { assertSameGeometry } from '../io/nifti.js';
import { foregroundLoss, segmentationLoss, twoHeadModel } from '../models/two_heads.js';
import { Adam } from '../nn/optimizers/adam.js';
import { cosineDecay } from '../nn/optimizers/schedules.js';
import { tidy } from '../tensor/api.js';
import { tensor } from '../tensor/ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { intOption, numberOption, parseArgs, stringOption } from './args.js';
import { readNifti } from './nifti.js';
import { lineChartSvg, slicePng } from './plots.js';
import { Progress } from './progress.js';

export const TRAIN_OPTIONS = {
  size: 'value',
  samples: 'value',
  val: 'value',
  epochs: 'value',
  'batch-size': 'value',
  lr: 'value',
  'loss-weights': 'value',
  seed: 'value',
  filters: 'value',
  out: 'value',
  images: 'value',
  labels: 'value',
  quiet: 'flag',
} as const;

interface Dataset {
  image: Float32Array;
  labels: Int32Array;
  n: number;
}

/** Reads image/label NIfTI pairs with the same file names, centre-cropped (or padded) to size³. */
function niftiDataset(imagesDir: string, labelsDir: string, size: number): { data: Dataset; classes: number } {
  for (const d of [imagesDir, labelsDir]) {
    if (!existsSync(d) || !statSync(d).isDirectory()) throw new ValueError(`${d} is not a folder`);
  }
  const names = readdirSync(imagesDir)
    .filter((f) => /\.nii(\.gz)?$/.test(f))
    .sort();
  if (!names.length) throw new ValueError(`${imagesDir} holds no .nii or .nii.gz files`);
  const V = size ** 3;
  const image = new Float32Array(names.length * V);
  const labels = new Int32Array(names.length * V);
  let classes = 2;
  names.forEach((name, b) => {
    const labelPath = join(labelsDir, name);
    if (!existsSync(labelPath))
      throw new ValueError(`${labelPath} is missing (each image needs a label map with the same name)`);
    const imagePath = join(imagesDir, name);
    const img = readNifti(imagePath);
    const lab = readNifti(labelPath);
    assertSameGeometry(img, imagePath, lab, labelPath);
    const { mean, sd } = zScore(img.data);
    const off = img.dims.map((d) => Math.floor((d - size) / 2));
    for (let x = 0; x < size; x++)
      for (let y = 0; y < size; y++)
        for (let z = 0; z < size; z++) {
          const [sx, sy, sz] = [x + off[0], y + off[1], z + off[2]];
          const inside = sx >= 0 && sy >= 0 && sz >= 0 && sx < img.dims[0] && sy < img.dims[1] && sz < img.dims[2];
          const src = (sx * img.dims[1] + sy) * img.dims[2] + sz;
          const dst = b * V + (x * size + y) * size + z;
          image[dst] = inside ? (img.data[src] - mean) / sd : 0;
          const k = inside ? Math.round(lab.data[src]) : 0;
          if (k < 0 || k > 255)
            throw new ValueError(`${name}: label ${lab.data[src]} is not a class index in [0, 255]`);
          labels[dst] = k;
          classes = Math.max(classes, k + 1);
        }
  });
  return { data: { image, labels, n: names.length }, classes };
}

function subset(d: Dataset, from: number, to: number, size: number): Dataset {
  const V = size ** 3;
  return { image: d.image.slice(from * V, to * V), labels: d.labels.slice(from * V, to * V), n: to - from };
}

function tensors(d: Dataset, size: number): { x: Tensor; seg: Tensor; fg: Tensor } {
  return {
    x: tensor(d.image, [d.n, size, size, size, 1]),
    seg: tensor(d.labels, [d.n, size, size, size], 'int32'),
    fg: tensor(
      Float32Array.from(d.labels, (k) => (k > 0 ? 1 : 0)),
      [d.n, size, size, size, 1],
    ),
  };
}

export async function train(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv, TRAIN_OPTIONS, 'train');
  const size = intOption(o, 'size', 24, 4, 256);
  const epochs = intOption(o, 'epochs', 15, 1, 100000);
  const batchSize = intOption(o, 'batch-size', 2, 1, 4096);
  const lr = numberOption(o, 'lr', 0.03);
  const seed = intOption(o, 'seed', 1, 0);
  const filters = intOption(o, 'filters', 8, 1, 256);
  const out = stringOption(o, 'out') ?? 'voxgrad-run';
  const weightsText = stringOption(o, 'loss-weights') ?? '0.5,0.3';
  const lossWeights = weightsText.split(',').map(Number);
  if (lossWeights.length !== 2 || lossWeights.some((w) => !Number.isFinite(w) || w < 0)) {
    throw new ValueError(
      `option --loss-weights expects two numbers >= 0 (segmentation,foreground), got '${weightsText}'`,
    );
  }
  const imagesDir = stringOption(o, 'images');
  const labelsDir = stringOption(o, 'labels');
  if (!!imagesDir !== !!labelsDir) throw new ValueError('options --images and --labels go together');

  // Data (host side) before any GPU work, so bad input fails fast.
  let all: Dataset;
  let classes = SYNTHETIC_CLASSES;
  let valCount: number;
  let source: string;
  if (imagesDir && labelsDir) {
    const r = niftiDataset(imagesDir, labelsDir, size);
    all = r.data;
    classes = r.classes;
    valCount = all.n > 1 ? Math.max(1, Math.round(all.n * 0.2)) : 0;
    source = `${all.n} NIfTI volumes from ${imagesDir}`;
  } else {
    const samples = intOption(o, 'samples', 12, 1, 100000);
    valCount = intOption(o, 'val', 2, 0, 100000);
    const v = syntheticVolumes(samples + valCount, size, seed);
    all = { image: v.image, labels: v.labels, n: v.n };
    source = `${samples} synthetic volumes (sphere, box, shell; seed ${seed})`;
  }
  const trainSet = subset(all, 0, all.n - valCount, size);
  const valSet = valCount ? subset(all, all.n - valCount, all.n, size) : trainSet;
  const quiet = o.quiet === true;
  const log = (s: string): void => {
    if (!quiet) console.log(s);
  };

  const model = twoHeadModel({ size, classes, filters, seed });
  const stepsPerEpoch = Math.ceil(trainSet.n / batchSize);
  model.compile({
    optimizer: new Adam({ learningRate: cosineDecay({ initial: lr, decaySteps: epochs * stepsPerEpoch, alpha: 0.1 }) }),
    loss: [segmentationLoss, foregroundLoss],
    lossWeights,
    metrics: { segmentation: ['dice'] },
  });
  if (!quiet) model.summary();
  log(
    `training on ${source}, ${size}^3, ${classes} classes; total = ${lossWeights[0]}·dice(segmentation) + ${lossWeights[1]}·tversky(foreground)`,
  );
  const t = tensors(trainSet, size);
  const v = tensors(valSet, size);
  const paths = model.lossPaths(t.x, [t.seg, t.fg]);
  log(`dice reaches ${paths.segmentation.join(', ')}; tversky reaches ${paths.foreground.join(', ')}`);

  const tmp = `${out.replace(/[/\\]+$/, '')}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const progress = new Progress(epochs, stepsPerEpoch, quiet);
    const t0 = performance.now();
    const history = await model.fit(t.x, [t.seg, t.fg], {
      epochs,
      batchSize,
      seed,
      validationData: valCount ? [v.x, [v.seg, v.fg]] : undefined,
      callbacks: [{ onBatchEnd: (b) => progress.batch(b), onEpochEnd: (e, logs) => void progress.epoch(e, logs) }],
    });
    const seconds = (performance.now() - t0) / 1000;

    // Report: weights, config, history, curves, one slice of a validation volume.
    writeFileSync(join(tmp, 'weights.safetensors'), await model.saveWeights({ format: 'voxgrad', model: 'two_heads' }));
    writeFileSync(
      join(tmp, 'model.json'),
      `${JSON.stringify({ model: 'two_heads', size, classes, filters, seed, lossWeights, epochs, batchSize, lr, source }, null, 2)}\n`,
    );
    writeFileSync(join(tmp, 'history.json'), `${JSON.stringify({ seconds, ...history }, null, 2)}\n`);
    for (const output of ['segmentation', 'foreground']) {
      const series = [{ name: `train ${output}_loss`, values: history.history[`${output}_loss`] }];
      if (history.history[`val_${output}_loss`])
        series.push({ name: `val ${output}_loss`, values: history.history[`val_${output}_loss`] });
      writeFileSync(
        join(tmp, `loss_${output}.svg`),
        lineChartSvg(`${output} loss (${output === 'segmentation' ? 'dice' : 'tversky'}, unweighted)`, series),
      );
    }
    // Argmax of the logits (the softmax would not change it).
    const logits = tidy(() => model.predict(v.x).segmentation);
    const data = await logits.data();
    logits.dispose();
    const z = Math.floor(size / 2);
    const sliceImage = new Float32Array(size * size);
    const sliceLabel = new Int32Array(size * size);
    const slicePred = new Int32Array(size * size);
    for (let x = 0; x < size; x++)
      for (let y = 0; y < size; y++) {
        const vox = (x * size + y) * size + z;
        sliceImage[x * size + y] = valSet.image[vox];
        sliceLabel[x * size + y] = valSet.labels[vox];
        slicePred[x * size + y] = argmaxClass(data, vox, classes);
      }
    writeFileSync(join(tmp, 'slice.png'), slicePng([size, size], sliceImage, sliceLabel, slicePred));
    mkdirSync(out, { recursive: true });
    for (const f of readdirSync(tmp)) renameSync(join(tmp, f), join(out, f));
    const h = history.history;
    const last = (k: string): string => (h[k] ? h[k][h[k].length - 1].toFixed(4) : '-');
    log(
      `done in ${seconds.toFixed(1)} s: loss ${h.loss[0].toFixed(4)} -> ${last('loss')}, segmentation dice ${last('segmentation_dice')}, val loss ${last('val_loss')}`,
    );
    log(
      `wrote ${readdirSync(out)
        .filter((f) => !f.startsWith('.'))
        .map((f) => join(basename(out), f))
        .join(', ')}`,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
