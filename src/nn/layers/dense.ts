/** Fully connected layer on the last axis: y = activation(x·W + b). */
import { argMessage, ShapeError, ValueError } from '../../errors.js';
import { variable } from '../../grad/variable.js';
import { tidy } from '../../tensor/api.js';
import { describe } from '../../tensor/ops/check.js';
import { add } from '../../tensor/ops/elementwise/index.js';
import { matmul } from '../../tensor/ops/matmul.js';
import { reshape } from '../../tensor/ops/movement.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { ActivationName } from '../activations.js';
import { activate, checkActivation } from '../activations.js';
import type { Initializer } from '../initializers.js';
import { checkInitializer, initialize } from '../initializers.js';
import type { LayerConfig } from '../layer.js';
import { checkBoolean, checkSeed, Layer, layerOptions } from '../layer.js';
import type { Regularizer } from '../regularizers.js';
import { checkRegularizer, penalty } from '../regularizers.js';

export interface DenseOptions {
  units: number;
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: Initializer;
  seed?: number;
  /** l1 / l2 penalty on the kernel, added to the total loss (null: none). */
  kernelRegularizer?: Regularizer | null;
  name?: string;
}

/** Dense's options with every default filled in, as `getConfig()` gives them. */
export interface DenseConfig extends LayerConfig {
  units: number;
  activation: ActivationName;
  useBias: boolean;
  kernelInitializer: Initializer;
  seed: number;
  kernelRegularizer: Required<Regularizer> | null;
}

const KEYS = ['units', 'activation', 'useBias', 'kernelInitializer', 'seed', 'kernelRegularizer', 'name'];

export class Dense extends Layer {
  readonly units: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly #init: Initializer;
  readonly #seed: number;
  readonly #regularizer: Required<Regularizer> | null;

  constructor(options: DenseOptions) {
    const fn = 'Dense';
    const o = layerOptions(fn, options, KEYS);
    super('dense', o.name);
    if (!Number.isInteger(o.units) || (o.units as number) < 1)
      throw new ValueError(argMessage(fn, 'units', 'a positive integer', describe(o.units)));
    this.units = o.units as number;
    this.activation = checkActivation(fn, o.activation);
    this.useBias = checkBoolean(fn, 'useBias', o.useBias ?? true);
    this.#init = checkInitializer(fn, 'kernelInitializer', o.kernelInitializer, 'glorotUniform');
    this.#seed = checkSeed(fn, o.seed ?? 1);
    this.#regularizer = checkRegularizer(fn, o.kernelRegularizer);
  }

  override getConfig(): DenseConfig {
    return {
      name: this.name,
      units: this.units,
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: this.#init,
      seed: this.#seed,
      kernelRegularizer: this.#regularizer && { ...this.#regularizer },
    };
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
    // Only the output is left behind, whatever scope the call runs in.
    return tidy(() => {
      const flat = x.rank === 2 ? x : reshape(x, [-1, x.shape[x.rank - 1]]);
      let y = matmul(flat, w);
      if (b) y = add(y, b);
      if (x.rank !== 2) y = reshape(y, [...x.shape.slice(0, -1), this.units]);
      return activate(this.activation, y);
    });
  }
}
