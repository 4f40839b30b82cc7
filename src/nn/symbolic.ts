/**
 * Symbolic tensors of the functional API: a shape (batch axis -1) and the layer call that makes
 * it. Models are graphs of these; no GPU work happens until the model runs on real tensors.
 */
import type { Layer } from './layer.js';

let nextId = 0;

export class SymbolicTensor {
  readonly id = nextId++;
  constructor(
    /** Shape with -1 for the batch axis. */
    readonly shape: readonly number[],
    /** The layer whose call produced it. */
    readonly layer: Layer,
    /** The call's inputs (none for an input placeholder). */
    readonly inputs: readonly SymbolicTensor[],
  ) {}

  /** The producing layer's name: also the output's name in a model. */
  get name(): string {
    return this.layer.name;
  }
}
