/**
 * The user API of autodiff: `valueAndGrad`, `grad`, `backward` (accumulating into variables'
 * `.grad`), `noGrad`, `customGrad`, and `lossReach` (which variables each loss reaches).
 */
import { argMessage, GradientError, ValueError } from '../errors.js';
import { engine } from '../tensor/engine.js';
import { defineOp } from '../tensor/op.js';
import { ones } from '../tensor/ops/creation.js';
import { add } from '../tensor/ops/elementwise/index.js';
import { shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { backpropagate, filterNodesXToY, Tape } from './tape.js';
import { liveVariables, type Variable } from './variable.js';

export type TensorList = readonly Tensor[];
export type TensorRecord = Readonly<Record<string, Tensor>>;
export type Grads<W> = W extends TensorList ? (Tensor | null)[] : { [K in keyof W]: Tensor | null };

export interface GradOptions {
  /** Gradient of the output to start from; required when the output is not a scalar. */
  dy?: Tensor;
  /** Throw when a requested tensor is not connected to the output (default: give null). */
  strict?: boolean;
}

/** Runs `fn` with a fresh tape watching `sources`; returns its result and the tape. */
function record<T>(fn: () => T, sources: readonly Tensor[]): { result: T; tape: Tape } {
  const tape = new Tape();
  for (const s of sources) tape.watch(s);
  const saved = engine.observer;
  engine.observer = tape;
  // Intermediates of fn are freed when it returns: the tape holds its own views of what
  // backward needs.
  engine.startScope();
  let result: T | undefined;
  try {
    result = fn();
    return { result, tape };
  } catch (e) {
    tape.dispose();
    throw e;
  } finally {
    engine.endScope(result);
    engine.observer = saved;
  }
}

function checkOutput(fn: string, y: unknown, dy: Tensor | undefined): Tensor {
  if (!(y instanceof Tensor)) throw new GradientError(argMessage(fn, 'f', 'a function returning a Tensor', typeof y));
  if (y.dtype !== 'float32')
    throw new GradientError(
      `${fn}: cannot differentiate an ${y.dtype} output (shape [${y.shape.join(', ')}]); gradients need float32`,
    );
  if (dy === undefined && y.size !== 1) {
    throw new GradientError(
      `${fn}: the output has shape [${y.shape.join(', ')}], not a scalar; pass options.dy (a seed gradient of that shape) or reduce it first`,
    );
  }
  if (dy !== undefined && (!shapesEqual(dy.shape, y.shape) || dy.dtype !== 'float32')) {
    throw new GradientError(
      argMessage(fn, 'options.dy', `a float32 tensor of shape [${y.shape.join(', ')}]`, dy.toString()),
    );
  }
  return y;
}

/** Computes gradients of y (recorded on `tape`) with respect to `xs`; frees all temporaries. */
function gradientsOf(
  fn: string,
  tape: Tape,
  y: Tensor,
  xs: readonly Tensor[],
  options: GradOptions,
): (Tensor | null)[] {
  const xIds = new Set(xs.map((x) => x.id));
  const filtered = filterNodesXToY(tape.nodes, xIds, y.id);
  return engine.withoutObserver(() => {
    engine.startScope();
    let out: (Tensor | null)[] = [];
    try {
      const dy = options.dy ?? ones(y.shape);
      const grads = backpropagate(filtered, y.id, dy, xIds);
      out = xs.map((x, i) => {
        if (x.id === y.id) return grads.get(x.id) ?? dy;
        const g = grads.get(x.id) ?? null;
        if (!g && options.strict) {
          throw new GradientError(
            `${fn}: wrt[${i}] (${x.toString()}) is not connected to the output; pass strict: false to get null`,
          );
        }
        return g;
      });
    } finally {
      engine.endScope(out);
    }
    return out;
  });
}

function listOf(fn: string, wrt: TensorList | TensorRecord): { keys: string[] | null; xs: Tensor[] } {
  const keys = Array.isArray(wrt) ? null : Object.keys(wrt);
  const xs = Array.isArray(wrt) ? [...wrt] : Object.values(wrt as TensorRecord);
  xs.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw new ValueError(argMessage(fn, `wrt[${keys?.[i] ?? i}]`, 'a Tensor', typeof x));
    x.storageFor(fn, `wrt[${keys?.[i] ?? i}]`);
    if (x.dtype !== 'float32')
      throw new GradientError(
        `${fn}: cannot take a gradient with respect to wrt[${keys?.[i] ?? i}], an ${x.dtype} tensor; gradients need float32`,
      );
  });
  return { keys, xs };
}

function shape<W extends TensorList | TensorRecord>(keys: string[] | null, grads: (Tensor | null)[]): Grads<W> {
  if (!keys) return grads as Grads<W>;
  return Object.fromEntries(keys.map((k, i) => [k, grads[i]])) as Grads<W>;
}

/**
 * Evaluates `f()` and the gradients of its (scalar) result with respect to `wrt`, a list or a
 * record of tensors. Tensors `f` reaches from none of them get null. Only ops on a path from
 * `wrt` to the result are differentiated.
 */
export function valueAndGrad<W extends TensorList | TensorRecord>(
  f: () => Tensor,
  wrt: W,
  options: GradOptions = {},
): { value: Tensor; grads: Grads<W> } {
  const fn = 'valueAndGrad';
  const { keys, xs } = listOf(fn, wrt);
  const { result, tape } = record(f, xs);
  try {
    const y = checkOutput(fn, result, options.dy);
    const grads = gradientsOf(fn, tape, y, xs, options);
    return { value: y, grads: shape<W>(keys, grads) };
  } catch (e) {
    if (result instanceof Tensor) result.dispose();
    throw e;
  } finally {
    tape.dispose();
  }
}

/** The gradients of `f()` with respect to `wrt` (the value is disposed). */
export function grad<W extends TensorList | TensorRecord>(
  f: () => Tensor,
  wrt: W,
  options: GradOptions = {},
): Grads<W> {
  const { value, grads } = valueAndGrad(f, wrt, options);
  if (!Object.values(grads as object).includes(value)) value.dispose();
  return grads;
}

/**
 * Evaluates `f()` (a scalar loss) and adds its gradient into `.grad` of every trainable variable
 * it reaches (all of them, or those in `variables`). Returns the loss; unreached variables keep
 * their `.grad` as it was.
 */
export function backward(f: () => Tensor, variables?: readonly Variable[], options: GradOptions = {}): Tensor {
  const fn = 'backward';
  const { result, tape } = record(f, variables ?? []);
  try {
    const y = checkOutput(fn, result, options.dy);
    const vars = variables ?? collectVariables(tape);
    const grads = gradientsOf(fn, tape, y, vars, options);
    vars.forEach((v, i) => {
      const g = grads[i];
      if (!g) return;
      if (v.grad) {
        const sum = engine.keep(engine.withoutObserver(() => add(v.grad!, g)));
        v.grad.dispose();
        g.dispose();
        v.grad = sum;
      } else {
        v.grad = engine.keep(g);
      }
    });
    return y;
  } catch (e) {
    if (result instanceof Tensor) result.dispose();
    throw e;
  } finally {
    tape.dispose();
  }
}

function collectVariables(tape: Tape): Variable[] {
  const onTape = new Set<number>(tape.nodes.flatMap((n) => n.inputIds));
  return liveVariables().filter((v) => v.trainable && onTape.has(v.id));
}

/** Runs `fn` without recording anything on the tape. */
export function noGrad<T>(fn: () => T): T {
  return engine.withoutObserver(fn);
}

/**
 * For each named loss computed by `f`, the names of the variables (among `variables`) that its
 * gradient reaches, found from the recorded graph without running any backward kernel.
 */
export function lossReach(
  f: () => Readonly<Record<string, Tensor>>,
  variables: readonly Variable[],
): Record<string, string[]> {
  const { result, tape } = record(f, variables);
  try {
    const out: Record<string, string[]> = {};
    for (const [name, loss] of Object.entries(result)) {
      const reached = new Set<number>();
      for (const { node, needed } of filterNodesXToY(tape.nodes, new Set(variables.map((v) => v.id)), loss.id)) {
        node.inputIds.forEach((id, i) => needed[i] && reached.add(id));
      }
      out[name] = variables.filter((v) => reached.has(v.id)).map((v) => v.name);
      loss.dispose();
    }
    return out;
  } finally {
    tape.dispose();
  }
}

type GradFunc = (dy: Tensor) => Tensor[];

declare module '../tensor/op.js' {
  interface OpAttrs {
    /** `gradFunc` is set when the forward has run (the user's function returns it). */
    customGrad: { gradFunc: GradFunc | null };
  }
}

defineOp('customGrad', {
  grad: (dy, s) => {
    // gradFunc runs once per backward, however many inputs need their gradient.
    let computed: Tensor[] | null = null;
    const all = (): Tensor[] => {
      computed ??= s.attrs.gradFunc!(dy);
      return computed;
    };
    return s.inputShapes.map((_, i) => () => all()[i]);
  },
});

/**
 * Wraps `f` so that its gradient is the one it defines: `f(...inputs)` returns `{ value,
 * gradFunc }`, where `gradFunc(dy)` returns one gradient per input (in the inputs' shapes).
 */
export function customGrad(
  f: (...inputs: Tensor[]) => { value: Tensor; gradFunc: GradFunc },
): (...inputs: Tensor[]) => Tensor {
  return (...inputs: Tensor[]) => {
    // The tape keeps this attrs object, so gradFunc lives exactly as long as the recorded node.
    const attrs: { gradFunc: GradFunc | null } = { gradFunc: null };
    return engine.run('customGrad', inputs, attrs, () => {
      const r = f(...inputs);
      attrs.gradFunc = r.gradFunc;
      return r.value;
    });
  };
}
