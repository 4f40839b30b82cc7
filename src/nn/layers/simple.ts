/**
 * Layers without weights: activation, pooling, upsampling, concatenation, dropout, and the input
 * placeholder of the functional API.
 */
import { argMessage, ShapeError, ValueError } from '../../errors.js';
import { tidy } from '../../tensor/api.js';
import { cast } from '../../tensor/ops/cast.js';
import { describe } from '../../tensor/ops/check.js';
import { windowGeometryOfShape, windowOptions } from '../../tensor/ops/conv3d/index.js';
import { randomUniform } from '../../tensor/ops/creation.js';
import { affine, greater, mul } from '../../tensor/ops/elementwise/index.js';
import { concat } from '../../tensor/ops/movement.js';
import type { Pool3dOptions } from '../../tensor/ops/pool3d.js';
import { avgPool3d, maxPool3d } from '../../tensor/ops/pool3d.js';
import { upSampling3d } from '../../tensor/ops/upsample.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { ActivationName } from '../activations.js';
import { activate, checkActivation } from '../activations.js';
import type { LayerConfig } from '../layer.js';
import { checkSeed, checkTriple, Layer, layerOptions } from '../layer.js';

/** The placeholder a model's input stands for. */
export class InputLayer extends Layer {
  /** The per-sample shape (no batch axis). */
  readonly shape: readonly number[];
  constructor(options: { shape: readonly number[]; name?: string }) {
    const fn = 'InputLayer';
    const o = layerOptions(fn, options, ['shape', 'name']);
    super('input', o.name);
    if (!Array.isArray(o.shape) || o.shape.some((d) => !Number.isInteger(d) || d < 1))
      throw new ValueError(
        argMessage(fn, 'shape', 'positive integers (per-sample shape, no batch axis)', describe(o.shape)),
      );
    this.shape = [...o.shape];
  }
  override getConfig(): LayerConfig & { shape: number[] } {
    return { name: this.name, shape: [...this.shape] };
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
  constructor(options: { activation: ActivationName; name?: string }) {
    const o = layerOptions('Activation', options, ['activation', 'name']);
    super('activation', o.name);
    this.activation = checkActivation('Activation', o.activation);
  }
  override getConfig(): LayerConfig & { activation: ActivationName } {
    return { name: this.name, activation: this.activation };
  }
  outputShape([s]: readonly (readonly number[])[]): number[] {
    return [...s];
  }
  call([x]: readonly Tensor[]): Tensor {
    return activate(this.activation, x);
  }
}

/** A pooling layer's options with every default filled in, as `getConfig()` gives them. */
export interface Pooling3DConfig extends LayerConfig {
  poolSize: [number, number, number];
  strides: [number, number, number];
  padding: 'same' | 'valid';
}

abstract class Pooling3D extends Layer {
  readonly poolSize: [number, number, number];
  readonly strides: [number, number, number];
  readonly padding: 'same' | 'valid';
  constructor(
    fn: string,
    prefix: string,
    readonly kind: 'max' | 'avg',
    options: (Pool3dOptions & { name?: string }) | undefined,
  ) {
    const o = layerOptions(fn, options, ['poolSize', 'strides', 'padding', 'name']);
    super(prefix, o.name);
    this.poolSize = checkTriple(fn, 'poolSize', o.poolSize ?? 2);
    // Strides (default: the pool size) and padding are checked now, not at the first call.
    const w = windowOptions(fn, { strides: o.strides ?? this.poolSize, padding: o.padding });
    this.strides = w.strides;
    this.padding = w.padding;
  }
  override getConfig(): Pooling3DConfig {
    return { name: this.name, poolSize: [...this.poolSize], strides: [...this.strides], padding: this.padding };
  }
  outputShape([s]: readonly (readonly number[])[]): number[] {
    if (s.length !== 5)
      throw new ShapeError(argMessage(this.name, 'input', 'rank 5 (batch, x, y, z, channels)', `[${s.join(', ')}]`));
    const g = windowGeometryOfShape(this.name, s, this.poolSize, s[4], {
      strides: this.strides,
      padding: this.padding,
    });
    return [-1, ...g.output, s[4]];
  }
  call([x]: readonly Tensor[]): Tensor {
    const o = { poolSize: this.poolSize, strides: this.strides, padding: this.padding };
    return this.kind === 'max' ? maxPool3d(x, o) : avgPool3d(x, o);
  }
}

export class MaxPool3D extends Pooling3D {
  constructor(o: Pool3dOptions & { name?: string } = {}) {
    super('MaxPool3D', 'max_pool3d', 'max', o);
  }
}

export class AvgPool3D extends Pooling3D {
  constructor(o: Pool3dOptions & { name?: string } = {}) {
    super('AvgPool3D', 'avg_pool3d', 'avg', o);
  }
}

export class UpSampling3D extends Layer {
  readonly size: [number, number, number];
  constructor(options: { size?: number | readonly number[]; name?: string } = {}) {
    const o = layerOptions('UpSampling3D', options, ['size', 'name']);
    super('up_sampling3d', o.name);
    this.size = checkTriple('UpSampling3D', 'size', o.size ?? 2);
  }
  override getConfig(): LayerConfig & { size: [number, number, number] } {
    return { name: this.name, size: [...this.size] };
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
  constructor(options: { name?: string } = {}) {
    const o = layerOptions('Concatenate', options, ['name']);
    super('concatenate', o.name);
  }
  override getConfig(): LayerConfig {
    return { name: this.name };
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
  readonly seed: number;
  /** The seed of the next training call's mask. */
  #nextSeed: number;
  constructor(options: { rate: number; seed?: number; name?: string }) {
    const o = layerOptions('Dropout', options, ['rate', 'seed', 'name']);
    super('dropout', o.name);
    if (typeof o.rate !== 'number' || !(o.rate >= 0 && o.rate < 1))
      throw new ValueError(argMessage('Dropout', 'rate', 'a number in [0, 1)', describe(o.rate)));
    this.rate = o.rate;
    this.seed = checkSeed('Dropout', o.seed ?? 1);
    this.#nextSeed = this.seed;
  }
  override getConfig(): LayerConfig & { rate: number; seed: number } {
    return { name: this.name, rate: this.rate, seed: this.seed };
  }
  outputShape([s]: readonly (readonly number[])[]): number[] {
    return [...s];
  }
  call([x]: readonly Tensor[], training: boolean): Tensor {
    if (!training || this.rate === 0) return x;
    // A fresh seed per call: a different mask every step, the same sequence every run. Only the
    // output is left behind, whatever scope the call runs in.
    const seed = this.#nextSeed++;
    return tidy(() => {
      const keep = cast(greater(randomUniform(x.shape, { seed }), this.rate), 'float32');
      return affine(mul(x, keep), 1 / (1 - this.rate));
    });
  }
}
