/**
 * Whole models in a folder, in Node (Keras 3's model.save / keras.saving.load_model): model.json
 * (the topology, `model.toJSON()`) and weights.safetensors. Both are written under temporary
 * names and renamed once both are complete, so a failed save never leaves a half-written file
 * under the final names. The browser has `model.toArtifacts()` / `modelFromArtifacts` instead.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { argMessage, ValueError } from '../errors.js';
import { Model } from '../nn/model.js';
import { setModelFolderWriter } from '../nn/model_folder.js';
import { modelFromArtifactsAs } from '../nn/model_io.js';
import { describe } from '../tensor/ops/check.js';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.safetensors';

function checkDir(fn: string, dir: unknown): string {
  if (typeof dir !== 'string' || !dir) throw new ValueError(argMessage(fn, 'dir', 'a folder path', describe(dir)));
  return dir;
}

/** Writes `model` to the folder `dir` (created if needed): model.json and weights.safetensors. */
export async function saveModel(model: Model, dir: string): Promise<void> {
  const fn = 'saveModel';
  if (!(model instanceof Model)) throw new ValueError(argMessage(fn, 'model', 'a Model', describe(model)));
  checkDir(fn, dir);
  const { modelJson, weights } = await model.toArtifacts();
  await mkdir(dir, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const files: [string, string | Uint8Array][] = [
    [WEIGHTS_FILE, weights],
    [MODEL_FILE, modelJson],
  ];
  const temporary = files.map(([name]) => join(dir, `.${name}.${tag}.partial`));
  try {
    await Promise.all(files.map(([, data], i) => writeFile(temporary[i], data)));
    for (let i = 0; i < files.length; i++) await rename(temporary[i], join(dir, files[i][0]));
  } finally {
    await Promise.all(temporary.map((p) => rm(p, { force: true })));
  }
}

setModelFolderWriter(saveModel);

/** Reads a folder written by `saveModel`: the same model, with the same weights bit for bit. */
export async function loadModel(dir: string): Promise<Model> {
  const fn = 'loadModel';
  checkDir(fn, dir);
  const read = async <T>(file: string, how: () => Promise<T>): Promise<T> => {
    try {
      return await how();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? `no ${file}` : `${file} unreadable (${(e as Error).message})`;
      const isDir = await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      throw new ValueError(
        argMessage(
          fn,
          'dir',
          `a folder with ${MODEL_FILE} and ${WEIGHTS_FILE} (written by saveModel)`,
          isDir ? `'${dir}', with ${why}` : `'${dir}', which is not a folder`,
        ),
      );
    }
  };
  const modelJson = await read(MODEL_FILE, () => readFile(join(dir, MODEL_FILE), 'utf8'));
  const weights = await read(WEIGHTS_FILE, () => readFile(join(dir, WEIGHTS_FILE)));
  return modelFromArtifactsAs({ fn, arg: MODEL_FILE }, modelJson, weights);
}
