/** Group normalisation: the fused forward pass, its backward chain and their shared layout. */
export { groupNorm } from './group_norm.js';
export type { GroupNormOptions } from './group_norm.js';
export { groupNormGrad } from './backward.js';
export type { GroupNormLayout } from './layout.js';
