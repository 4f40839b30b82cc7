/** Adam (L2 weight decay added to the gradient) and AdamW (decoupled weight decay). */

import type { UpdateSpec } from '../../tensor/ops/optimizer_update.js';
import type { OptimizerOptions } from './optimizer.js';
import { checkNonNegative, checkUnitOpen, Optimizer } from './optimizer.js';

export interface AdamOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly #kind: 'adam' | 'adamw';

  constructor(options: AdamOptions = {}, kind: 'adam' | 'adamw' = 'adam') {
    super(kind === 'adam' ? 'Adam' : 'AdamW', options, 0.001);
    this.beta1 = checkUnitOpen(this.name, 'beta1', options.beta1, 0.9);
    this.beta2 = checkUnitOpen(this.name, 'beta2', options.beta2, 0.999);
    this.epsilon = checkNonNegative(this.name, 'epsilon', options.epsilon, 1e-7);
    this.#kind = kind;
  }

  protected stateFactor(): 2 {
    return 2;
  }

  protected spec(lr: number): UpdateSpec {
    const t = this.iterations + 1;
    return {
      kind: this.#kind,
      nesterov: false,
      lr,
      weightDecay: this.weightDecay,
      momentum: 0,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      bc1: 1 - this.beta1 ** t,
      bc2: 1 - this.beta2 ** t,
      clipValue: this.clipValue,
    };
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter): p −= lr·weightDecay·p each step. */
export class AdamW extends Adam {
  constructor(options: AdamOptions = {}) {
    super({ weightDecay: 0.004, ...options }, 'adamw');
  }
}
