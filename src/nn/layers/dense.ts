/** Fully connected layer on the last axis: y = activation(x·W + b). */
import { argMessage, ShapeError, ValueError } from '../../errors.js';
import { variable } from '../../grad/variable.js';
import { tidy } from '../../tensor/api.js';
import { add } from '../../tensor/ops/elementwise/index.js';
import { matmul } from '../../tensor/ops/matmul.js';
import { reshape } from '../../tensor/ops/movement.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { ActivationName } from '../activations.js';
import { activate, checkActivation } from '../activations.js';
import type { Initializer } from '../initializers.js';
import { initialize } from '../initializers.js';
import { Layer } from '../layer.js';
import type { Regularizer } from '../regularizers.js';
import { checkRegularizer, penalty } from '../regularizers.js';

export interface DenseOptions {
  units: number;
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: Initializer;
  seed?: number;
  /** l1 / l2 penalty on the kernel, added to the total loss. */
  kernelRegularizer?: Regularizer;
  name?: string;
}

export class Dense extends Layer {
  readonly units: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly #init: Initializer;
  readonly #seed: number;
  readonly #regularizer: Regularizer | null;

  constructor(o: DenseOptions) {
    super('dense', o.name);
    if (!Number.isInteger(o.units) || o.units < 1)
      throw new ValueError(argMessage('Dense', 'units', 'a positive integer', o.units));
    this.units = o.units;
    this.activation = checkActivation('Dense', o.activation);
    this.useBias = o.useBias ?? true;
    this.#init = o.kernelInitializer ?? 'glorotUniform';
    this.#seed = o.seed ?? 1;
    this.#regularizer = checkRegularizer('Dense', o.kernelRegularizer);
  }

  outputShape([s]: readonly (readonly number[])[]): number[] {
    if (s.length < 2)
      throw new ShapeError(argMessage(this.name, 'input', 'rank >= 2 (batch, ..., features)', `[${s.join(', ')}]`));
    return [...s.slice(0, -1), this.units];
  }

  protected override build([s]: readonly (readonly number[])[]): void {
    const fanIn = s[s.length - 1];
    this.weights.push(
      tidy(() => variable(initialize(this.#init, [fanIn, this.units], this.#seed), { name: `${this.name}/kernel` })),
    );
    if (this.useBias)
      this.weights.push(tidy(() => variable(initialize('zeros', [this.units], 0), { name: `${this.name}/bias` })));
  }

  override regularization(): Tensor | null {
    return this.#regularizer ? penalty(this.#regularizer, this.weights[0]) : null;
  }

  call([x]: readonly Tensor[]): Tensor {
    const [w, b] = this.weights;
    const flat = x.rank === 2 ? x : reshape(x, [-1, x.shape[x.rank - 1]]);
    let y = matmul(flat, w);
    if (b) y = add(y, b);
    if (x.rank !== 2) y = reshape(y, [...x.shape.slice(0, -1), this.units]);
    return activate(this.activation, y);
  }
}
