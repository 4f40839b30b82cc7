/** voxgrad: a WebGPU tensor engine for training multi-output 3D segmentation networks. */
export * from './errors.js';
export type { DType } from './tensor/dtype.js';
export { Tensor } from './tensor/tensor.js';
export type { NestedArray } from './tensor/tensor.js';
export type { MemoryInfo } from './tensor/engine.js';
export type { InitOptions } from './tensor/device.js';
export { flags } from './tensor/flags.js';
export { checkNumerics } from './tensor/numerics.js';
export * from './tensor/api.js';
export * from './tensor/ops/creation.js';
export {
  abs, add, affine, clip, cos, div, equal, exp, greater, greaterEqual, less, lessEqual, log, log1p, maximum,
  minimum, mul, neg, notEqual, pow, reciprocal, relu, rsqrt, sigmoid, sign, sin, softplus, sqrt, square, step, sub,
  tanh, where,
} from './tensor/ops/elementwise.js';
export { max, mean, min, sum } from './tensor/ops/reduce.js';
export { logSoftmax, softmax } from './tensor/ops/softmax.js';
export { matmul } from './tensor/ops/matmul.js';
export { conv3d } from './tensor/ops/conv3d.js';
export type { Conv3dFused, Conv3dOptions } from './tensor/ops/conv3d.js';
export { avgPool3d, maxPool3d } from './tensor/ops/pool3d.js';
export type { Pool3dOptions } from './tensor/ops/pool3d.js';
export { upSampling3d } from './tensor/ops/upsample.js';
export { overlapSums, statSlots } from './tensor/ops/overlap_sums.js';
export type { Activation as OverlapActivation, OverlapStats, OverlapSumsOptions, StatName } from './tensor/ops/overlap_sums.js';
export type { MatmulOptions } from './tensor/ops/matmul.js';
export { broadcastTo, cast, concat, expandDims, pad, reshape, slice, squeeze, transpose } from './tensor/ops/movement.js';
export { backward, customGrad, grad, lossReach, noGrad, valueAndGrad } from './grad/api.js';
export type { GradOptions, Grads } from './grad/api.js';
export { Variable, variable } from './grad/variable.js';
export * from './losses/index.js';
export * from './nn/optimizers/index.js';
export { loadSafetensors, loadWeights, saveSafetensors, saveWeights } from './nn/safetensors.js';
export type { Safetensors } from './nn/safetensors.js';
export { groupNorm } from './tensor/ops/group_norm.js';
export type { GroupNormOptions } from './tensor/ops/group_norm.js';
export { meanAbsoluteError, meanSquaredError } from './nn/regression_losses.js';
export { computeLosses, resolveLosses } from './nn/compile_loss.js';
export type { LossArg, LossFn, LossSpec, LossValues, ResolvedLoss, WeightsArg } from './nn/compile_loss.js';
export { Layer } from './nn/layer.js';
export { SymbolicTensor } from './nn/symbolic.js';
export { Dense } from './nn/layers/dense.js';
export type { DenseOptions } from './nn/layers/dense.js';
export { Conv3D } from './nn/layers/conv3d.js';
export type { Conv3DOptions } from './nn/layers/conv3d.js';
export { Activation, AvgPool3D, Concatenate, Dropout, MaxPool3D, UpSampling3D } from './nn/layers/simple.js';
export { GroupNormalization } from './nn/layers/group_normalization.js';
export { input, model, Model } from './nn/model.js';
export type { Callback, CompileOptions, FitOptions, History, Logs, MetricFn, TensorsArg } from './nn/model.js';
export type { Regularizer } from './nn/regularizers.js';
export { earlyStopping } from './nn/callbacks.js';
export type { Initializer } from './nn/initializers.js';
export { SYNTHETIC_CLASSES, seededRandom, syntheticVolumes } from './data/synthetic.js';
export type { SyntheticVolumes } from './data/synthetic.js';
export { argmaxClass, zScore } from './data/voxels.js';
export { foregroundLoss, segmentationLoss, twoHeadModel } from './models/two_heads.js';
export type { TwoHeadOptions } from './models/two_heads.js';
