/**
 * One optimizer step for one parameter (kernels/optimizer_update.wgsl): reads the parameter, its
 * gradient and the optimizer state, writes the new parameter and state to fresh tensors (pool
 * buffers, so steady-state training allocates nothing new). Not differentiable.
 */
import optimizerUpdateSource from '../../../kernels/optimizer_update.wgsl';
import type { Binding } from '../backend.js';
import { bind, bindingWindowElements, dispatch, workgroups } from '../dispatch.js';
import { engine } from '../engine.js';
import { defineKernel } from '../kernel.js';
import type { Tensor } from '../tensor.js';

const OPTIMIZER_UPDATE = defineKernel({
  name: 'optimizer_update',
  file: 'optimizer_update.wgsl',
  source: optimizerUpdateSource,
  params: {
    n: 'u32',
    lr: 'f32',
    weight_decay: 'f32',
    momentum: 'f32',
    beta1: 'f32',
    beta2: 'f32',
    epsilon: 'f32',
    bc1: 'f32',
    bc2: 'f32',
    clip_value: 'f32',
  },
  bindings: ['param', 'grad', 'state', 'scale', 'param_out', 'state_out'],
  overrides: ['KIND', 'NESTEROV'],
});

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
export function optimizerUpdate(
  param: Tensor,
  grad: Tensor,
  state: Tensor | null,
  scale: Tensor,
  spec: UpdateSpec,
): [Tensor, Tensor | null] {
  const n = param.size;
  const out = engine.empty(param.shape, 'float32');
  const stateOut = state ? engine.empty(state.shape, 'float32') : null;
  const dummy = state ? null : engine.empty([1], 'float32');
  const dummyOut = state ? null : engine.empty([1], 'float32');
  // Element i's state is element i (velocity) or elements 2i, 2i + 1 (Adam's m and v): windows of
  // consecutive elements bind consecutive state.
  const per = state ? state.size / n : 0;
  const window = Math.max(64, Math.floor(bindingWindowElements() / Math.max(1, per) / 64) * 64);
  for (let start = 0; start < n; start += window) {
    const count = Math.min(window, n - start);
    const stateRange = (t: Tensor): Binding => bind(t, start * per, count * per);
    dispatch(OPTIMIZER_UPDATE, {
      params: {
        n: count,
        lr: spec.lr,
        weight_decay: spec.weightDecay,
        momentum: spec.momentum,
        beta1: spec.beta1,
        beta2: spec.beta2,
        epsilon: spec.epsilon,
        bc1: spec.bc1,
        bc2: spec.bc2,
        clip_value: spec.clipValue,
      },
      bindings: {
        param: bind(param, start, count),
        grad: bind(grad, start, count),
        state: state ? stateRange(state) : bind(dummy!),
        scale: bind(scale),
        param_out: bind(out, start, count),
        state_out: stateOut ? stateRange(stateOut) : bind(dummyOut!),
      },
      workgroups: workgroups(count, 256),
      overrides: { KIND: KIND[spec.kind], NESTEROV: spec.nesterov ? 1 : 0 },
    });
  }
  dummy?.dispose();
  dummyOut?.dispose();
  return [out, stateOut];
}
