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
import { parseArgs } from './args.js';
import { buildModel } from './models.js';
import { commitFolder, stagingFolder } from './output_folder.js';
import { trainOnPatches } from './patch_training.js';
import { Progress } from './progress.js';
import { splitCases } from './split.js';
import { trainingData } from './train_data.js';
import { settingsOf, TRAIN_OPTIONS } from './train_options.js';
import { diceChart, type EpochRecord, lossChart, middleSlice } from './train_report.js';
import { type ValidationResult, validate, validationTable } from './validation.js';

const dimsOf = (c: VolumeCase): string => c.shape.slice(0, 3).join('x');

export async function train(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv, TRAIN_OPTIONS, 'train');
  const s = settingsOf(o);
  const data = trainingData(o, s.seed);
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

    const history: EpochRecord[] = [];
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
        const entry: EpochRecord = {
          epoch: epoch + 1,
          loss: means.loss,
          segmentation_loss: means.segmentation,
          foreground_loss: means.foreground,
          seconds: 0,
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
