/** 3D convolution layer, channels-last: y = activation(conv3d(x, kernel) + bias). */
import { argMessage, ShapeError, ValueError } from '../../errors.js';
import { variable } from '../../grad/variable.js';
import { tidy } from '../../tensor/api.js';
import type { Conv3dOptions } from '../../tensor/ops/conv3d/index.js';
import { conv3d, windowGeometryOfShape, windowOptions } from '../../tensor/ops/conv3d/index.js';
import { zeros } from '../../tensor/ops/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { ActivationName } from '../activations.js';
import { activate, checkActivation } from '../activations.js';
import type { Initializer } from '../initializers.js';
import { initialize } from '../initializers.js';
import { Layer } from '../layer.js';
import type { Regularizer } from '../regularizers.js';
import { checkRegularizer, penalty } from '../regularizers.js';

export interface Conv3DOptions extends Conv3dOptions {
  filters: number;
  kernelSize: number | readonly number[];
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: Initializer;
  seed?: number;
  /** l1 / l2 penalty on the kernel, added to the total loss. */
  kernelRegularizer?: Regularizer;
  name?: string;
}

export class Conv3D extends Layer {
  readonly filters: number;
  readonly kernelSize: [number, number, number];
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly options: Conv3dOptions;
  readonly #init: Initializer;
  readonly #seed: number;
  readonly #regularizer: Regularizer | null;

  constructor(o: Conv3DOptions) {
    super('conv3d', o.name);
    if (!Number.isInteger(o.filters) || o.filters < 1)
      throw new ValueError(argMessage('Conv3D', 'filters', 'a positive integer', o.filters));
    const k = typeof o.kernelSize === 'number' ? [o.kernelSize, o.kernelSize, o.kernelSize] : o.kernelSize;
    if (!Array.isArray(k) || k.length !== 3 || k.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ValueError(argMessage('Conv3D', 'kernelSize', 'a positive integer or three of them', o.kernelSize));
    }
    this.filters = o.filters;
    this.kernelSize = [k[0], k[1], k[2]];
    this.activation = checkActivation('Conv3D', o.activation);
    this.useBias = o.useBias ?? true;
    this.options = { strides: o.strides, padding: o.padding, dilation: o.dilation };
    // Strides, dilation and padding are checked now, not at the first call.
    windowOptions('Conv3D', this.options);
    this.#init = o.kernelInitializer ?? 'glorotUniform';
    this.#seed = o.seed ?? 1;
    this.#regularizer = checkRegularizer('Conv3D', o.kernelRegularizer);
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
