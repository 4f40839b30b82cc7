/**
 * Gradient rules by op name. A rule declares what it saves from the forward pass and returns,
 * per input, a thunk computing that input's gradient: only inputs on a path to the loss have
 * their thunk called, so a branch no loss touches dispatches nothing.
 */
import type { DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';

export interface Saved {
  /** The op's inputs (only those the rule asked to save; others are undefined). */
  readonly inputs: readonly (Tensor | undefined)[];
  /** The op's outputs (only when the rule asked to save them). */
  readonly outputs: readonly (Tensor | undefined)[];
  /** Shapes and dtypes of all inputs, always available. */
  readonly inputShapes: readonly (readonly number[])[];
  readonly inputDTypes: readonly DType[];
  readonly attrs: Readonly<Record<string, unknown>>;
}

/**
 * Returns, per input, a thunk for its gradient, or null where the op is not differentiable.
 * `needed` says which inputs the backward pass will ask for (a rule may compute several at once).
 */
export type GradFn = (dy: Tensor, saved: Saved, needed: readonly boolean[]) => ((() => Tensor) | null)[];

export interface GradRule {
  /** Which inputs to keep alive until backward (true = all). */
  readonly saveInputs?: boolean | readonly number[];
  readonly saveOutputs?: boolean;
  readonly grad: GradFn;
}

const rules = new Map<string, GradRule>();

export function registerGradient(name: string, rule: GradRule): void {
  if (rules.has(name)) throw new Error(`gradient for '${name}' registered twice`);
  rules.set(name, rule);
}

export function gradientRule(name: string): GradRule | undefined {
  return rules.get(name);
}

export function registeredGradients(): string[] {
  return [...rules.keys()];
}
