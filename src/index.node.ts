/// <reference types="@webgpu/types" preserve="true" />
/**
 * voxgrad for Node: the whole library (src/index.ts) on Dawn's Node bindings (the `webgpu`
 * package), with the tuner's choices kept in a file between runs, and models saved to folders.
 */
import './node/platform.js';

export * from './index.js';
export { loadModel, saveModel } from './node/model_files.js';
