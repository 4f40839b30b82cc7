/**
 * The layer base: a name, weights (variables) created on first use from the input shapes, a call
 * on real tensors, and its config (the constructor options, as JSON values). `apply` on symbolic
 * tensors wires the functional graph.
 */
import { argMessage, ValueError } from '../errors.js';
import type { Variable } from '../grad/variable.js';
import { checkOptions } from '../options.js';
import { checkInt, describe } from '../tensor/ops/check.js';
import type { Tensor } from '../tensor/tensor.js';
import { SymbolicTensor } from './symbolic.js';

/**
 * A layer's constructor options as JSON values (numbers, strings, booleans, null, arrays and
 * objects of them), enough to rebuild it: `layerFromConfig(className, config)` (Keras' get_config).
 */
export interface LayerConfig {
  name: string;
  [option: string]: unknown;
}

/**
 * A layer constructor's options: an object with only the layer's keys (a typo is an error that
 * suggests the nearest key, never an ignored option).
 */
export function layerOptions<T extends object>(
  fn: string,
  options: T | undefined,
  keys: readonly string[],
): Partial<T> {
  return checkOptions(fn, options, keys) as Partial<T>;
}

/** A seed for the random initialisers: an integer in [0, 2^53). */
export function checkSeed(fn: string, seed: unknown): number {
  return checkInt(fn, 'seed', seed, 0, Number.MAX_SAFE_INTEGER);
}

export function checkBoolean(fn: string, arg: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ValueError(argMessage(fn, arg, 'true or false', describe(v)));
  return v;
}

/** One positive integer for all three axes, or three of them, as [x, y, z]. */
export function checkTriple(fn: string, arg: string, v: unknown): [number, number, number] {
  const t = typeof v === 'number' ? [v, v, v] : v;
  if (!Array.isArray(t) || t.length !== 3 || t.some((d) => !Number.isInteger(d) || d < 1))
    throw new ValueError(argMessage(fn, arg, 'a positive integer or three of them', v));
  return [t[0], t[1], t[2]];
}

const counters = new Map<string, number>();

/** A unique default name: `conv3d`, `conv3d_1`, ... */
export function uniqueName(prefix: string): string {
  const n = counters.get(prefix) ?? 0;
  counters.set(prefix, n + 1);
  return n === 0 ? prefix : `${prefix}_${n}`;
}

export abstract class Layer {
  readonly name: string;
  protected readonly weights: Variable[] = [];
  #built = false;

  protected constructor(prefix: string, name?: string) {
    if (name !== undefined && (typeof name !== 'string' || !name))
      throw new ValueError(argMessage(prefix, 'name', 'a non-empty string', name));
    this.name = name ?? uniqueName(prefix);
  }

  /**
   * The constructor options that rebuild this layer, as JSON values with the defaults filled in
   * (every voxgrad layer has it; a layer class of your own defines it to be saved in a model).
   */
  getConfig(): LayerConfig {
    throw new ValueError(
      `${this.name}.getConfig: the layer class ${this.constructor.name} does not define getConfig(), so it cannot be saved in a model's topology`,
    );
  }

  /** Output shape (batch axis -1) for these input shapes; throws on incompatible inputs. */
  abstract outputShape(inputShapes: readonly (readonly number[])[]): number[];
  /** Creates the weights for these input shapes (called once). */
  protected build(_inputShapes: readonly (readonly number[])[]): void {}
  /** Runs the layer on real tensors. */
  abstract call(inputs: readonly Tensor[], training: boolean): Tensor;

  /** Wires this layer into a functional graph. */
  apply(input: SymbolicTensor | readonly SymbolicTensor[]): SymbolicTensor {
    const inputs = Array.isArray(input) ? input : [input as SymbolicTensor];
    inputs.forEach((x, i) => {
      if (!(x instanceof SymbolicTensor))
        throw new ValueError(
          argMessage(
            `${this.name}.apply`,
            `inputs[${i}]`,
            'a symbolic tensor (from input() or another layer)',
            typeof x,
          ),
        );
    });
    const shapes = inputs.map((x) => x.shape);
    const out = this.outputShape(shapes);
    if (!this.#built) {
      this.build(shapes);
      this.#built = true;
    }
    return new SymbolicTensor(out, this, inputs);
  }

  /**
   * The layer's regularisation penalty (a scalar), or null: Keras adds every layer's penalty,
   * sum-reduced, to the total loss.
   */
  regularization(): Tensor | null {
    return null;
  }

  get trainableWeights(): readonly Variable[] {
    return this.weights.filter((w) => w.trainable);
  }

  get allWeights(): readonly Variable[] {
    return this.weights;
  }

  countParams(): number {
    return this.weights.reduce((n, w) => n + w.size, 0);
  }
}
