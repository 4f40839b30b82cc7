/** The fused overlap sums of segmentation volumes: argument checks, forward pass and backward pass. */

export type { Activation, OverlapGeometry, OverlapStats, StatName } from './geometry.js';
export { checkActivation, checkStats, MAX_CLASSES, overlapGeometry, statSlots } from './geometry.js';
export type { OverlapSumsAttrs } from './plan.js';
export type { OverlapSumsOptions } from './sums.js';
export { overlapSums, overlapSumsOf } from './sums.js';
export { overlapSumsGrad } from './sums_grad.js';
