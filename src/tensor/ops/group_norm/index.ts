/** Group normalisation: the fused forward pass, its backward chain and their shared layout. */

export { groupNormGrad } from './backward.js';
export type { GroupNormOptions } from './group_norm.js';
export { groupNorm } from './group_norm.js';
export type { GroupNormLayout } from './layout.js';
