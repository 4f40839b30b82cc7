/** The segmentation losses and metrics; all read the volume once through the fused overlap sums. */

export type { CrossentropyOptions, DiceCrossentropyOptions } from './crossentropy.js';
export { binaryCrossentropy, categoricalCrossentropy, diceCrossentropy } from './crossentropy.js';
export { generalizedDice } from './generalized_dice.js';
export type { HostData, SegInput } from './inputs.js';
export type { MetricOptions } from './metrics.js';
export { diceMetric, iouMetric } from './metrics.js';
export type { BatchMode, GeneralizedDiceOptions, OverlapLossOptions, Reduction, TverskyOptions } from './options.js';
export { dice, iou, jaccard, tversky } from './overlap.js';
export { meanAbsoluteError, meanSquaredError } from './regression.js';
