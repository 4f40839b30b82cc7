/** Optimizers and learning-rate schedules. */

export type { AdamOptions } from './adam.js';
export { Adam, AdamW } from './adam.js';
export type { OptimizerOptions } from './optimizer.js';
export { Optimizer } from './optimizer.js';
export type { Schedule } from './schedules.js';
export { cosineDecay, stepDecay } from './schedules.js';
export type { SGDOptions } from './sgd.js';
export { SGD } from './sgd.js';
