/// <reference types="@webgpu/types" preserve="true" />
/**
 * voxgrad: a WebGPU tensor engine for training multi-output 3D segmentation networks. This is the
 * whole public API: the engine (device, memory, tensors, ops), autodiff, the segmentation losses
 * and metrics, layers, functional models, optimizers, weights and models as bytes and JSON, NIfTI
 * volumes, training patches from whole volumes (`data`) and sliding-window inference.
 *
 * The reference above is kept in the emitted declarations (`preserve`): they name GPUDevice and
 * other WebGPU types, which a consumer's type-check then finds in `@webgpu/types`, a dependency.
 */
export * as data from './data/index.js';
export * from './errors.js';
// --- autodiff -------------------------------------------------------------------------------------
export type { GradOptions, Grads } from './grad/api.js';
export { backward, customGrad, grad, lossReach, noGrad, valueAndGrad } from './grad/api.js';
export { Variable, variable } from './grad/variable.js';
// --- inference ----------------------------------------------------------------------------------
export type { SlidingWindowOptions, VolumePrediction } from './inference/sliding_window.js';
export { slidingWindowInference } from './inference/sliding_window.js';
// --- NIfTI volumes --------------------------------------------------------------------------------
export type {
  NiftiDatatype,
  NiftiGeometry,
  NiftiReadOptions,
  NiftiVolume,
  NiftiWritable,
  NiftiWriteOptions,
} from './io/nifti.js';
export { assertSameGeometry, geometryMismatch, readNifti, sameGeometry, writeNifti } from './io/nifti.js';
// --- losses and metrics ---------------------------------------------------------------------------
export * from './losses/index.js';
export type { UNet3dOptions, UNetHead } from './models/unet3d.js';
export { unet3d } from './models/unet3d.js';
// --- layers, models, training ---------------------------------------------------------------------
export { earlyStopping } from './nn/callbacks.js';
export type { ClassWeight } from './nn/class_weight.js';
export type { LossArg, LossFn, LossSpec, NamedLoss, WeightsArg } from './nn/compile_loss.js';
export type { Initializer } from './nn/initializers.js';
export type { LayerConfig } from './nn/layer.js';
export { Layer } from './nn/layer.js';
export type { Conv3DConfig, Conv3DOptions } from './nn/layers/conv3d.js';
export { Conv3D } from './nn/layers/conv3d.js';
export type { DenseConfig, DenseOptions } from './nn/layers/dense.js';
export { Dense } from './nn/layers/dense.js';
export type { GroupNormalizationConfig, GroupNormalizationOptions } from './nn/layers/group_normalization.js';
export { GroupNormalization } from './nn/layers/group_normalization.js';
export type { LayerClass } from './nn/layers/registry.js';
export { layerFromConfig, registerLayer } from './nn/layers/registry.js';
export type { Pooling3DConfig } from './nn/layers/simple.js';
export {
  Activation,
  AvgPool3D,
  Concatenate,
  Dropout,
  InputLayer,
  MaxPool3D,
  UpSampling3D,
} from './nn/layers/simple.js';
export { input, Model, model } from './nn/model.js';
export type { LayerJSON, LayerRef, ModelArtifacts, ModelJSON } from './nn/model_io.js';
export { modelFromArtifacts, modelFromJSON } from './nn/model_io.js';
export type {
  Callback,
  CompileOptions,
  EvaluateOptions,
  FitOptions,
  History,
  Logs,
  MetricFn,
  ModelConfig,
  OutputActivation,
  PredictOptions,
  TargetsArg,
  TensorsArg,
  TrainStepOptions,
} from './nn/model_options.js';
export * from './nn/optimizers/index.js';
export type { Verbose } from './nn/progress.js';
export type { Regularizer } from './nn/regularizers.js';
export type { Safetensors } from './nn/safetensors.js';
export { loadSafetensors, loadWeights, saveSafetensors, saveWeights } from './nn/safetensors.js';
export type { SampleWeightArg, SampleWeights } from './nn/sample_weight.js';
export { SymbolicTensor } from './nn/symbolic.js';
// --- engine: device, scopes, memory, reads ------------------------------------------------------
export * from './tensor/api.js';
export type { DeviceLimits } from './tensor/backend.js';
export type { DataArray, DType } from './tensor/dtype.js';
export type { MemoryInfo } from './tensor/engine.js';
export { flags } from './tensor/flags.js';
export { checkNumerics } from './tensor/numerics.js';
// --- ops ------------------------------------------------------------------------------------------
export { cast } from './tensor/ops/cast.js';
export type { Conv3dFused, Conv3dOptions } from './tensor/ops/conv3d/index.js';
export { conv3d } from './tensor/ops/conv3d/index.js';
export * from './tensor/ops/creation.js';
export {
  abs,
  add,
  affine,
  clip,
  cos,
  div,
  equal,
  exp,
  greater,
  greaterEqual,
  less,
  lessEqual,
  log,
  log1p,
  maximum,
  minimum,
  mul,
  neg,
  notEqual,
  pow,
  reciprocal,
  relu,
  rsqrt,
  sigmoid,
  sign,
  sin,
  softplus,
  sqrt,
  square,
  step,
  sub,
  tanh,
  where,
} from './tensor/ops/elementwise/index.js';
export type { GroupNormOptions } from './tensor/ops/group_norm/index.js';
export { groupNorm } from './tensor/ops/group_norm/index.js';
export type { MatmulOptions } from './tensor/ops/matmul.js';
export { matmul } from './tensor/ops/matmul.js';
export { broadcastTo, concat, expandDims, pad, reshape, slice, squeeze, transpose } from './tensor/ops/movement.js';
export type {
  Activation as OverlapActivation,
  OverlapStats,
  OverlapSumsOptions,
  StatName,
} from './tensor/ops/overlap/index.js';
export { overlapSums, statSlots } from './tensor/ops/overlap/index.js';
export type { Pool3dOptions } from './tensor/ops/pool3d.js';
export { avgPool3d, maxPool3d } from './tensor/ops/pool3d.js';
export { max, mean, min, sum } from './tensor/ops/reduce.js';
export { logSoftmax, softmax } from './tensor/ops/softmax.js';
export { upSampling3d } from './tensor/ops/upsample.js';
export type { NestedArray } from './tensor/tensor.js';
export { Tensor } from './tensor/tensor.js';
export type { TuneOptions, TuneResult } from './tensor/tune.js';
export { tune, tuning } from './tensor/tune.js';
export type { InitOptions } from './tensor/webgpu/device.js';
