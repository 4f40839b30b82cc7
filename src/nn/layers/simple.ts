/**
 * Layers without weights: activation, pooling, upsampling, concatenation, dropout, and the input
 * placeholder of the functional API.
 */
import { argMessage, ShapeError, ValueError } from '../../errors.js';
import { cast } from '../../tensor/ops/cast.js';
import { windowGeometryOfShape } from '../../tensor/ops/conv3d/index.js';
import { randomUniform } from '../../tensor/ops/creation.js';
import { affine, greater, mul } from '../../tensor/ops/elementwise/index.js';
import { concat } from '../../tensor/ops/movement.js';
import type { Pool3dOptions } from '../../tensor/ops/pool3d.js';
import { avgPool3d, maxPool3d } from '../../tensor/ops/pool3d.js';
import { upSampling3d } from '../../tensor/ops/upsample.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { ActivationName } from '../activations.js';
import { activate, checkActivation } from '../activations.js';
import { Layer } from '../layer.js';

/** The placeholder a model's input stands for. */
export class InputLayer extends Layer {
  constructor(
    readonly shape: readonly number[],
    name?: string,
  ) {
    super('input', name);
  }
  outputShape(): number[] {
    return [-1, ...this.shape];
  }
  call([x]: readonly Tensor[]): Tensor {
    return x;
  }
}

export class Activation extends Layer {
  readonly activation: ActivationName;
  constructor(o: { activation: ActivationName; name?: string }) {
    super('activation', o.name);
    this.activation = checkActivation('Activation', o.activation);
  }
  outputShape([s]: readonly (readonly number[])[]): number[] {
    return [...s];
  }
  call([x]: readonly Tensor[]): Tensor {
    return activate(this.activation, x);
  }
}

class Pooling3D extends Layer {
  readonly #size: [number, number, number];
  constructor(
    prefix: string,
    readonly kind: 'max' | 'avg',
    readonly options: Pool3dOptions & { name?: string },
  ) {
    super(prefix, options.name);
    const size = options.poolSize ?? 2;
    const k = typeof size === 'number' ? [size, size, size] : size;
    if (!Array.isArray(k) || k.length !== 3 || k.some((d) => !Number.isInteger(d) || d < 1))
      throw new ValueError(argMessage(prefix, 'poolSize', 'a positive integer or three of them', size));
    this.#size = [k[0], k[1], k[2]];
  }
  outputShape([s]: readonly (readonly number[])[]): number[] {
    if (s.length !== 5)
      throw new ShapeError(argMessage(this.name, 'input', 'rank 5 (batch, x, y, z, channels)', `[${s.join(', ')}]`));
    const g = windowGeometryOfShape(this.name, s, this.#size, s[4], {
      strides: this.options.strides ?? this.#size,
      padding: this.options.padding,
    });
    return [-1, ...g.output, s[4]];
  }
  call([x]: readonly Tensor[]): Tensor {
    const o = { poolSize: this.#size, strides: this.options.strides, padding: this.options.padding };
    return this.kind === 'max' ? maxPool3d(x, o) : avgPool3d(x, o);
  }
}

export class MaxPool3D extends Pooling3D {
  constructor(o: Pool3dOptions & { name?: string } = {}) {
    super('max_pool3d', 'max', o);
  }
}

export class AvgPool3D extends Pooling3D {
  constructor(o: Pool3dOptions & { name?: string } = {}) {
    super('avg_pool3d', 'avg', o);
  }
}

export class UpSampling3D extends Layer {
  readonly size: [number, number, number];
  constructor(o: { size?: number | readonly number[]; name?: string } = {}) {
    super('up_sampling3d', o.name);
    const f = o.size ?? 2;
    const k = typeof f === 'number' ? [f, f, f] : f;
    if (!Array.isArray(k) || k.length !== 3 || k.some((d) => !Number.isInteger(d) || d < 1))
      throw new ValueError(argMessage('UpSampling3D', 'size', 'a positive integer or three of them', f));
    this.size = [k[0], k[1], k[2]];
  }
  outputShape([s]: readonly (readonly number[])[]): number[] {
    if (s.length !== 5)
      throw new ShapeError(argMessage(this.name, 'input', 'rank 5 (batch, x, y, z, channels)', `[${s.join(', ')}]`));
    return [-1, s[1] * this.size[0], s[2] * this.size[1], s[3] * this.size[2], s[4]];
  }
  call([x]: readonly Tensor[]): Tensor {
    return upSampling3d(x, this.size);
  }
}

/** Concatenation along the channel (last) axis, e.g. for U-Net skip connections. */
export class Concatenate extends Layer {
  constructor(o: { name?: string } = {}) {
    super('concatenate', o.name);
  }
  outputShape(shapes: readonly (readonly number[])[]): number[] {
    const [first] = shapes;
    for (const s of shapes) {
      if (s.length !== first.length || s.slice(0, -1).some((d, i) => d !== first[i])) {
        throw new ShapeError(
          `${this.name}: inputs must agree on every axis but the last, got ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')}`,
        );
      }
    }
    return [...first.slice(0, -1), shapes.reduce((n, s) => n + s[s.length - 1], 0)];
  }
  call(inputs: readonly Tensor[]): Tensor {
    return concat(inputs, -1);
  }
}

/** Inverted dropout: in training, zeroes each value with probability `rate` and scales the rest. */
export class Dropout extends Layer {
  readonly rate: number;
  #seed: number;
  constructor(o: { rate: number; seed?: number; name?: string }) {
    super('dropout', o.name);
    if (typeof o.rate !== 'number' || !(o.rate >= 0 && o.rate < 1))
      throw new ValueError(argMessage('Dropout', 'rate', 'a number in [0, 1)', o.rate));
    this.rate = o.rate;
    this.#seed = o.seed ?? 1;
  }
  outputShape([s]: readonly (readonly number[])[]): number[] {
    return [...s];
  }
  call([x]: readonly Tensor[], training: boolean): Tensor {
    if (!training || this.rate === 0) return x;
    // A fresh seed per call: a different mask every step, the same sequence every run.
    const keep = cast(greater(randomUniform(x.shape, { seed: this.#seed++ }), this.rate), 'float32');
    return affine(mul(x, keep), 1 / (1 - this.rate));
  }
}
