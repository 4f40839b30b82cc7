/** 3D convolution: geometry, the fused forward pass, and its two backward passes. */

export { conv3dGradInput, conv3dGradWeight } from './backward.js';
export type { Conv3dFused } from './conv3d.js';
export { conv3d } from './conv3d.js';
export type { Conv3dGeometry, Conv3dOptions } from './geometry.js';
export { conv3dGeometry, windowGeometry, windowGeometryOfShape, windowOptions } from './geometry.js';

import './tunables.js';
