/**
 * One optimizer step for one parameter (kernels/optimizer_update.wgsl): reads the parameter, its
 * gradient and the optimizer state, writes the new parameter and state to fresh tensors (pool
 * buffers, so steady-state training allocates nothing new). Not differentiable.
 */
import { engine } from '../engine.js';
import { ParamWriter } from '../params.js';
import type { Tensor } from '../tensor.js';
import { bind, groups256 } from './check.js';

export interface UpdateSpec {
  kind: 'sgd' | 'adam' | 'adamw';
  nesterov: boolean;
  lr: number;
  weightDecay: number;
  momentum: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Bias corrections 1 − β1^t and 1 − β2^t of this step (Adam). */
  bc1: number;
  bc2: number;
  /** Element-wise clip of the (scaled) gradient; 0 = none. */
  clipValue: number;
}

const KIND = { sgd: 0, adam: 1, adamw: 2 } as const;

/**
 * Returns [newParam, newState]. `state` is the velocity (SGD with momentum), m and v stacked
 * (Adam / AdamW), or null for plain SGD; `scale` is a 1-element gradient factor (global-norm clip).
 */
export function optimizerUpdate(param: Tensor, grad: Tensor, state: Tensor | null, scale: Tensor, spec: UpdateSpec): [Tensor, Tensor | null] {
  const n = param.size;
  const out = engine.empty(param.shape, 'float32');
  const stateOut = state ? engine.empty(state.shape, 'float32') : null;
  const dummy = state ? null : engine.empty([1], 'float32');
  const dummyOut = state ? null : engine.empty([1], 'float32');
  const params = new ParamWriter()
    .u32(n).f32(spec.lr).f32(spec.weightDecay).f32(spec.momentum).f32(spec.beta1).f32(spec.beta2).f32(spec.epsilon)
    .f32(spec.bc1).f32(spec.bc2).f32(spec.clipValue).u32(0).u32(0)
    .bytes();
  const constants = { KIND: KIND[spec.kind], NESTEROV: spec.nesterov ? 1 : 0 };
  engine.gpu.dispatch({ kernel: 'optimizer_update', constants }, params,
    [bind(param), bind(grad), bind(state ?? dummy!), bind(scale), bind(out), bind(stateOut ?? dummyOut!)], groups256(n));
  dummy?.dispose();
  dummyOut?.dispose();
  return [out, stateOut];
}
