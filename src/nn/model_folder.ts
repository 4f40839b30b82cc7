/**
 * How `model.save(dir)` writes a folder (Keras 3's model.save). Only Node has folders: its entry
 * installs `saveModel` here (src/node/model_files.ts), so the browser bundle imports no Node
 * module; without it, `save` says to use `model.toArtifacts()`.
 */
import type { Model } from './model.js';

export type FolderWriter = (model: Model, dir: string) => Promise<void>;

let writer: FolderWriter | null = null;

export function setModelFolderWriter(w: FolderWriter): void {
  writer = w;
}

export function modelFolderWriter(): FolderWriter | null {
  return writer;
}
