/** 3D convolution layer, channels-last: y = activation(conv3d(x, kernel) + bias). */
import { argMessage, ShapeError, ValueError } from '../../errors.js';
import { variable } from '../../grad/variable.js';
import { tidy } from '../../tensor/api.js';
import { describe } from '../../tensor/ops/check.js';
import type { Conv3dOptions } from '../../tensor/ops/conv3d/index.js';
import { conv3d, windowGeometryOfShape, windowOptions } from '../../tensor/ops/conv3d/index.js';
import { zeros } from '../../tensor/ops/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { ActivationName } from '../activations.js';
import { activate, checkActivation } from '../activations.js';
import type { Initializer } from '../initializers.js';
import { checkInitializer, initialize } from '../initializers.js';
import type { LayerConfig } from '../layer.js';
import { checkBoolean, checkSeed, checkTriple, Layer, layerOptions } from '../layer.js';
import type { Regularizer } from '../regularizers.js';
import { checkRegularizer, penalty } from '../regularizers.js';

export interface Conv3DOptions extends Conv3dOptions {
  filters: number;
  kernelSize: number | readonly number[];
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: Initializer;
  seed?: number;
  /** l1 / l2 penalty on the kernel, added to the total loss (null: none). */
  kernelRegularizer?: Regularizer | null;
  name?: string;
}

/** Conv3D's options with every default filled in, as `getConfig()` gives them. */
export interface Conv3DConfig extends LayerConfig {
  filters: number;
  kernelSize: [number, number, number];
  strides: [number, number, number];
  padding: 'same' | 'valid';
  dilation: [number, number, number];
  activation: ActivationName;
  useBias: boolean;
  kernelInitializer: Initializer;
  seed: number;
  kernelRegularizer: Required<Regularizer> | null;
}

const KEYS = [
  'filters',
  'kernelSize',
  'strides',
  'padding',
  'dilation',
  'activation',
  'useBias',
  'kernelInitializer',
  'seed',
  'kernelRegularizer',
  'name',
];

export class Conv3D extends Layer {
  readonly filters: number;
  readonly kernelSize: [number, number, number];
  readonly activation: ActivationName;
  readonly useBias: boolean;
  /** Strides, padding and dilation, resolved. */
  readonly options: ReturnType<typeof windowOptions>;
  readonly #init: Initializer;
  readonly #seed: number;
  readonly #regularizer: Required<Regularizer> | null;

  constructor(options: Conv3DOptions) {
    const fn = 'Conv3D';
    const o = layerOptions(fn, options, KEYS);
    super('conv3d', o.name);
    if (!Number.isInteger(o.filters) || (o.filters as number) < 1)
      throw new ValueError(argMessage(fn, 'filters', 'a positive integer', describe(o.filters)));
    this.filters = o.filters as number;
    this.kernelSize = checkTriple(fn, 'kernelSize', o.kernelSize);
    this.activation = checkActivation(fn, o.activation);
    this.useBias = checkBoolean(fn, 'useBias', o.useBias ?? true);
    // Strides, dilation and padding are checked now, not at the first call.
    this.options = windowOptions(fn, { strides: o.strides, padding: o.padding, dilation: o.dilation });
    this.#init = checkInitializer(fn, 'kernelInitializer', o.kernelInitializer, 'glorotUniform');
    this.#seed = checkSeed(fn, o.seed ?? 1);
    this.#regularizer = checkRegularizer(fn, o.kernelRegularizer);
  }

  override getConfig(): Conv3DConfig {
    const { strides, padding, dilation } = this.options;
    return {
      name: this.name,
      filters: this.filters,
      kernelSize: [...this.kernelSize],
      strides: [...strides],
      padding,
      dilation: [...dilation],
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: this.#init,
      seed: this.#seed,
      kernelRegularizer: this.#regularizer && { ...this.#regularizer },
    };
  }

  outputShape([s]: readonly (readonly number[])[]): number[] {
    if (s.length !== 5)
      throw new ShapeError(argMessage(this.name, 'input', 'rank 5 (batch, x, y, z, channels)', `[${s.join(', ')}]`));
    const g = windowGeometryOfShape(this.name, s, this.kernelSize, this.filters, this.options);
    return [-1, ...g.output, this.filters];
  }

  protected override build([s]: readonly (readonly number[])[]): void {
    this.weights.push(
      tidy(() =>
        variable(initialize(this.#init, [...this.kernelSize, s[4], this.filters], this.#seed), {
          name: `${this.name}/kernel`,
        }),
      ),
    );
    if (this.useBias) this.weights.push(tidy(() => variable(zeros([this.filters]), { name: `${this.name}/bias` })));
  }

  override regularization(): Tensor | null {
    return this.#regularizer ? penalty(this.#regularizer, this.weights[0]) : null;
  }

  call([x]: readonly Tensor[]): Tensor {
    const [w, b] = this.weights;
    // The bias and a relu run inside the convolution's output pass; other activations after it.
    const fused = this.activation === 'relu' || this.activation === 'linear';
    const y = conv3d(x, w, {
      ...this.options,
      bias: b ?? null,
      activation: fused ? (this.activation as 'relu' | 'linear') : 'linear',
    });
    return fused ? y : activate(this.activation, y);
  }
}
