/** Optimizers and learning-rate schedules. */
export { Optimizer } from './optimizer.js';
export type { OptimizerOptions } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { Adam, AdamW } from './adam.js';
export type { AdamOptions } from './adam.js';
export { cosineDecay, stepDecay } from './schedules.js';
export type { Schedule } from './schedules.js';
