/**
 * `vg.data`: training data on the host. Cases (image + label map, any size) → seeded patches
 * (foreground-biased centres, padding, flips, intensity scale and shift) → batches, prepared ahead
 * of the GPU step that uses them.
 */
export type { Augmentation, FlipOptions, ScaleIntensityOptions, ShiftIntensityOptions } from './augment.js';
export { oneHot } from './one_hot.js';
export type { BatchesOptions, PatchBatch, PatchInfo, PatchSamplerOptions } from './patch_sampler.js';
export { PatchSampler, patchSampler, toTensors } from './patch_sampler.js';
export type { PrefetchOptions } from './prefetch.js';
export { prefetch } from './prefetch.js';
export type { HostVolume, VolumeCase } from './volume.js';
