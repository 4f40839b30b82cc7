/**
 * The optimizer base: step counting, learning-rate schedules, gradient clipping and per-variable
 * state. Each step is one kernel per variable (kernels/optimizer_update.wgsl) plus, with
 * `clipNorm`, a few tiny reductions for the global norm, all on the GPU: nothing is read back.
 */
import { argMessage, ValueError } from '../../errors.js';
import { valueAndGrad } from '../../grad/api.js';
import { Variable } from '../../grad/variable.js';
import { tidy } from '../../tensor/api.js';
import { engine } from '../../tensor/engine.js';
import { ones, zeros } from '../../tensor/ops/creation.js';
import { add, div, maximum, minimum, sqrt, square } from '../../tensor/ops/elementwise/index.js';
import { reshape } from '../../tensor/ops/movement.js';
import type { UpdateSpec } from '../../tensor/ops/optimizer_update.js';
import { optimizerUpdate } from '../../tensor/ops/optimizer_update.js';
import { sum } from '../../tensor/ops/reduce.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Schedule } from './schedules.js';

export interface OptimizerOptions {
  /** A number or a schedule of the step count (default 0.01 for SGD, 0.001 for Adam). */
  learningRate?: number | Schedule;
  /** L2 penalty added to the gradient (SGD, Adam) or decoupled decay (AdamW). Default 0. */
  weightDecay?: number;
  /** Rescales all gradients together so their global L2 norm is at most this. */
  clipNorm?: number;
  /** Clamps every gradient element to [−clipValue, clipValue] (after clipNorm). */
  clipValue?: number;
}

export function checkNonNegative(fn: string, arg: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new ValueError(argMessage(fn, arg, 'a finite number >= 0', v));
  return v;
}

/** A rate or decay factor in [0, 1). */
export function checkUnitOpen(fn: string, arg: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new ValueError(argMessage(fn, arg, 'a number in [0, 1)', v));
  return v;
}

export abstract class Optimizer {
  /** Updates applied so far (the step count schedules and Adam's bias correction see). */
  iterations = 0;
  readonly #learningRate: number | Schedule;
  readonly weightDecay: number;
  readonly clipNorm: number;
  readonly clipValue: number;
  readonly #state = new Map<Variable, Tensor>();

  protected constructor(
    readonly name: string,
    options: OptimizerOptions,
    defaultRate: number,
  ) {
    const lr = options.learningRate ?? defaultRate;
    if (typeof lr !== 'function') checkNonNegative(name, 'learningRate', lr, defaultRate);
    this.#learningRate = lr;
    this.weightDecay = checkNonNegative(name, 'weightDecay', options.weightDecay, 0);
    this.clipNorm = checkNonNegative(name, 'clipNorm', options.clipNorm, 0);
    this.clipValue = checkNonNegative(name, 'clipValue', options.clipValue, 0);
  }

  /** The learning rate of the next update. */
  get learningRate(): number {
    const lr = this.#learningRate;
    return typeof lr === 'function' ? lr(this.iterations) : lr;
  }

  /** State elements per parameter element: 0 (plain SGD), 1 (momentum) or 2 (Adam's m and v). */
  protected abstract stateFactor(): 0 | 1 | 2;
  /** The kernel's settings for the update about to run. */
  protected abstract spec(lr: number): UpdateSpec;

  /**
   * Applies one update to each variable from its gradient (`grads[i]`, or `variables[i].grad`
   * when no list is given). Variables without a gradient are left unchanged.
   */
  applyGradients(variables: readonly Variable[], grads?: readonly (Tensor | null)[]): void {
    const fn = `${this.name}.applyGradients`;
    if (grads && grads.length !== variables.length) {
      throw new ValueError(
        argMessage(fn, 'grads', `${variables.length} gradients (one per variable)`, `${grads.length}`),
      );
    }
    const pairs: [Variable, Tensor][] = [];
    variables.forEach((v, i) => {
      if (!(v instanceof Variable)) throw new ValueError(argMessage(fn, `variables[${i}]`, 'a Variable', typeof v));
      const g = grads ? grads[i] : v.grad;
      if (!g) return;
      if (g.size !== v.size)
        throw new ValueError(argMessage(fn, `grads[${i}]`, `${v.size} elements (variable '${v.name}')`, `${g.size}`));
      pairs.push([v, g]);
    });
    const spec = this.spec(this.learningRate);
    this.iterations++;
    if (pairs.length === 0) return;
    tidy(() => {
      const scale = this.clipNorm > 0 ? this.#clipScale(pairs.map(([, g]) => g)) : ones([1]);
      for (const [v, g] of pairs) {
        const old = this.#state.get(v) ?? null;
        const state = old ?? this.#initState(v);
        const [next, nextState] = optimizerUpdate(v, g, state, scale, spec);
        v.assign(next);
        next.dispose();
        if (state && nextState) {
          this.#state.set(v, engine.keep(nextState));
          state.dispose();
        }
      }
    });
  }

  /** Computes the loss and its gradients for `variables`, applies them, returns the loss. */
  minimize(loss: () => Tensor, variables: readonly Variable[]): Tensor {
    const { value, grads } = valueAndGrad(loss, variables);
    this.applyGradients(variables, grads);
    for (const g of grads) g?.dispose();
    return value;
  }

  /** Releases the optimizer state (momentum, Adam moments) of these variables, or of all. */
  dispose(variables?: readonly Variable[]): void {
    for (const v of variables ?? [...this.#state.keys()]) {
      this.#state.get(v)?.dispose();
      this.#state.delete(v);
    }
  }

  #initState(v: Variable): Tensor | null {
    const factor = this.stateFactor();
    if (factor === 0) return null;
    const s = engine.keep(zeros([factor * v.size]));
    this.#state.set(v, s);
    return s;
  }

  /** min(1, clipNorm / ‖all gradients‖₂) as a 1-element tensor, computed on the GPU. */
  #clipScale(grads: readonly Tensor[]): Tensor {
    let total = sum(square(grads[0]));
    for (const g of grads.slice(1)) total = add(total, sum(square(g)));
    const norm = maximum(sqrt(total), 1e-12);
    return reshape(minimum(div(this.clipNorm, norm), 1), [1]);
  }
}
