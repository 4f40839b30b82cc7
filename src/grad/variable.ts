/** Trainable variables: tensors whose value can be replaced and whose gradient accumulates in `.grad`. */
import { argMessage, ValueError } from '../errors.js';
import { engine } from '../tensor/engine.js';
import { checkTensor } from '../tensor/ops/check.js';
import { type TensorLike, tensor } from '../tensor/ops/creation.js';
import { shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

let nextVariable = 0;
const registry = new Set<WeakRef<Variable>>();

/** Every variable not yet disposed (so `backward` can find those a loss reaches). */
export function liveVariables(): Variable[] {
  const out: Variable[] = [];
  for (const ref of registry) {
    const v = ref.deref();
    if (!v || v.isDisposed) registry.delete(ref);
    else out.push(v);
  }
  return out;
}

export class Variable extends Tensor {
  readonly name: string;
  readonly trainable: boolean;
  /** The accumulated gradient (null until a backward pass reaches this variable). */
  grad: Tensor | null = null;

  /** @internal use `variable()` */
  constructor(init: Tensor, name: string, trainable: boolean) {
    const storage = init.storageFor('variable', 'initialValue');
    storage.refs++;
    super(init.shape, init.dtype, storage);
    this.name = name;
    this.trainable = trainable;
    this.requiresGrad = trainable;
  }

  /** Replaces the value (same shape and dtype); the old buffer is released. */
  assign(value: Tensor): void {
    checkTensor('assign', 'value', value, this.dtype);
    if (!shapesEqual(value.shape, this.shape)) {
      throw new ValueError(
        argMessage(
          `assign (variable '${this.name}')`,
          'value',
          `shape [${this.shape.join(', ')}]`,
          `[${value.shape.join(', ')}]`,
        ),
      );
    }
    const s = value.storageFor('assign', 'value');
    s.refs++;
    this.swapStorage(s);
  }

  /** Drops the accumulated gradient. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  override dispose(): void {
    this.zeroGrad();
    super.dispose();
  }
}

/**
 * A trainable variable initialised from a tensor (shared, no copy) or from values. Variables are
 * never freed by scopes; dispose them explicitly.
 */
export function variable(
  initialValue: Tensor | TensorLike,
  options: { name?: string; trainable?: boolean } = {},
): Variable {
  const init =
    initialValue instanceof Tensor ? checkTensor('variable', 'initialValue', initialValue) : tensor(initialValue);
  if (options.trainable !== false && init.dtype !== 'float32') {
    throw new ValueError(
      argMessage('variable', 'initialValue', 'a float32 tensor for a trainable variable', `${init.dtype}`),
    );
  }
  const v = new Variable(init, options.name ?? `variable_${nextVariable++}`, options.trainable ?? true);
  if (!(initialValue instanceof Tensor)) init.dispose();
  registry.add(new WeakRef(v));
  return engine.keep(engine.adopt(v));
}
