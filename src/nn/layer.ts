/**
 * The layer base: a name, weights (variables) created on first use from the input shapes, and a
 * call on real tensors. `apply` on symbolic tensors wires the functional graph.
 */
import { argMessage, ValueError } from '../errors.js';
import type { Variable } from '../grad/variable.js';
import type { Tensor } from '../tensor/tensor.js';
import { SymbolicTensor } from './symbolic.js';

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
