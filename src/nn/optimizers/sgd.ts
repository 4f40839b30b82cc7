/** Stochastic gradient descent with optional momentum (heavy-ball or Nesterov) and L2 decay. */

import type { UpdateSpec } from '../../tensor/ops/optimizer_update.js';
import type { OptimizerOptions } from './optimizer.js';
import { checkUnitOpen, Optimizer } from './optimizer.js';

export interface SGDOptions extends OptimizerOptions {
  /** Velocity decay in [0, 1); 0 (default) is plain SGD. */
  momentum?: number;
  /** Nesterov momentum: step = g + momentum·velocity. */
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(options: SGDOptions = {}) {
    super('SGD', options, 0.01);
    this.momentum = checkUnitOpen('SGD', 'momentum', options.momentum, 0);
    this.nesterov = !!options.nesterov;
  }

  protected stateFactor(): 0 | 1 {
    return this.momentum > 0 ? 1 : 0;
  }

  protected spec(lr: number): UpdateSpec {
    return {
      kind: 'sgd',
      nesterov: this.nesterov,
      lr,
      weightDecay: this.weightDecay,
      momentum: this.momentum,
      beta1: 0,
      beta2: 0,
      epsilon: 0,
      bc1: 1,
      bc2: 1,
      clipValue: this.clipValue,
    };
  }
}
