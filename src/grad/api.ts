/**
 * The user API of autodiff: `valueAndGrad`, `grad`, `backward` (accumulating into variables'
 * `.grad`), `noGrad`, `customGrad`, and `lossReach` (which variables each loss reaches).
 */
import { argMessage, GradientError, ValueError } from '../errors.js';
import { checkOptions } from '../options.js';
import { engine, type Scope, tensorsIn } from '../tensor/engine.js';
import { defineOp } from '../tensor/op.js';
import { checkFloat, checkTensor, describe } from '../tensor/ops/check.js';
import { ones } from '../tensor/ops/creation.js';
import { add } from '../tensor/ops/elementwise/index.js';
import { shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { backpropagate, filterNodesXToY, Tape } from './tape.js';
import { liveVariables, Variable } from './variable.js';

export type TensorList = readonly Tensor[];
export type TensorRecord = Readonly<Record<string, Tensor>>;
export type Grads<W> = W extends TensorList ? (Tensor | null)[] : { [K in keyof W]: Tensor | null };

export interface GradOptions {
  /** Gradient of the output to start from; required when the output is not a scalar. */
  dy?: Tensor;
  /** Throw when a requested tensor is not connected to the output (default: give null). */
  strict?: boolean;
}

interface Recorded<T> {
  result: T;
  tape: Tape;
}

/** `f(x)`, or `x.then(f)` when x is a promise. */
function then<A, B>(x: A | Promise<A>, f: (a: A) => B): B | Promise<B> {
  return x instanceof Promise ? x.then(f) : f(x);
}

/**
 * Runs `fn` with a fresh tape watching `sources`; returns its result and the tape. An async `fn`
 * (one returning a Promise) keeps the tape and its scope open until it settles, as tidyAsync does,
 * so what it makes after an await is recorded, and freed with the rest.
 */
function record<T>(fn: () => T | Promise<T>, sources: readonly Tensor[]): Recorded<T> | Promise<Recorded<T>> {
  const tape = new Tape();
  for (const s of sources) tape.watch(s);
  const saved = engine.observer;
  engine.observer = tape;
  // Intermediates of fn are freed when it returns: the tape holds its own views of what
  // backward needs.
  const restore = (): void => {
    // A recording started meanwhile (by async code) restores its own observer when it ends.
    if (engine.observer === tape) engine.observer = saved;
  };
  let scope: Scope;
  let result: T | Promise<T>;
  try {
    ({ scope, result } = engine.withScope(fn));
  } catch (e) {
    restore();
    tape.dispose();
    throw e;
  }
  const end = (value: unknown): void => {
    engine.endScope(value, scope);
    restore();
  };
  const fail = (e: unknown): never => {
    end(undefined);
    tape.dispose();
    throw e;
  };
  if (!(result instanceof Promise)) {
    end(result);
    return { result, tape };
  }
  engine.markAsync(scope);
  return result.then((r) => {
    end(r);
    return { result: r, tape };
  }, fail);
}

function checkFunction(fn: string, f: unknown): void {
  if (typeof f !== 'function') throw new ValueError(argMessage(fn, 'f', 'a function', describe(f)));
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
    const { scope, result } = engine.withScope(() => {
      const dy = options.dy ?? ones(y.shape);
      const grads = backpropagate(filtered, y.id, dy, xIds);
      return xs.map((x, i) => {
        if (x.id === y.id) return grads.get(x.id) ?? dy;
        const g = grads.get(x.id) ?? null;
        if (!g && options.strict) {
          throw new GradientError(
            `${fn}: wrt[${i}] (${x.toString()}) is not connected to the output; pass strict: false to get null`,
          );
        }
        return g;
      });
    });
    engine.endScope(result, scope);
    return result;
  });
}

function listOf(fn: string, wrt: TensorList | TensorRecord): { keys: string[] | null; xs: Tensor[] } {
  if (wrt === null || typeof wrt !== 'object' || wrt instanceof Tensor)
    throw new ValueError(argMessage(fn, 'wrt', 'a list or a record of tensors', describe(wrt)));
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
 * `wrt` to the result are differentiated. An async `f` gives a promise of the same, with what `f`
 * makes across its awaits recorded and freed as in tidyAsync.
 */
export function valueAndGrad<W extends TensorList | TensorRecord>(
  f: () => Promise<Tensor>,
  wrt: W,
  options?: GradOptions,
): Promise<{ value: Tensor; grads: Grads<W> }>;
export function valueAndGrad<W extends TensorList | TensorRecord>(
  f: () => Tensor,
  wrt: W,
  options?: GradOptions,
): { value: Tensor; grads: Grads<W> };
export function valueAndGrad<W extends TensorList | TensorRecord>(
  f: () => Tensor | Promise<Tensor>,
  wrt: W,
  options: GradOptions = {},
): { value: Tensor; grads: Grads<W> } | Promise<{ value: Tensor; grads: Grads<W> }> {
  const fn = 'valueAndGrad';
  checkFunction(fn, f);
  const o = checkGradOptions(fn, options);
  const { keys, xs } = listOf(fn, wrt);
  return then(record(f, xs), ({ result, tape }) => {
    try {
      const y = checkOutput(fn, result, o.dy);
      const grads = gradientsOf(fn, tape, y, xs, o);
      return { value: y, grads: shape<W>(keys, grads) };
    } catch (e) {
      for (const t of tensorsIn(result)) t.dispose();
      throw e;
    } finally {
      tape.dispose();
    }
  });
}

function checkGradOptions(fn: string, options: GradOptions): GradOptions {
  const o = checkOptions(fn, options, ['dy', 'strict']);
  if (o.dy !== undefined) checkFloat(fn, 'options.dy', o.dy);
  if (o.strict !== undefined && typeof o.strict !== 'boolean')
    throw new ValueError(argMessage(fn, 'options.strict', 'true or false', describe(o.strict)));
  return o;
}

/** The gradients of `f()` with respect to `wrt` (the value is disposed); a promise for an async `f`. */
export function grad<W extends TensorList | TensorRecord>(
  f: () => Promise<Tensor>,
  wrt: W,
  options?: GradOptions,
): Promise<Grads<W>>;
export function grad<W extends TensorList | TensorRecord>(f: () => Tensor, wrt: W, options?: GradOptions): Grads<W>;
export function grad<W extends TensorList | TensorRecord>(
  f: () => Tensor | Promise<Tensor>,
  wrt: W,
  options: GradOptions = {},
): Grads<W> | Promise<Grads<W>> {
  checkFunction('grad', f);
  const run = valueAndGrad as (
    f: () => Tensor | Promise<Tensor>,
    wrt: W,
    options: GradOptions,
  ) => { value: Tensor; grads: Grads<W> } | Promise<{ value: Tensor; grads: Grads<W> }>;
  return then(run(f, wrt, options), ({ value, grads }) => {
    if (!Object.values(grads as object).includes(value)) value.dispose();
    return grads;
  });
}

/**
 * Evaluates `f()` (a scalar loss) and adds its gradient into `.grad` of every trainable variable
 * it reaches (all of them, or those in `variables`). Returns the loss; unreached variables keep
 * their `.grad` as it was. An async `f` gives a promise of the loss.
 */
export function backward(
  f: () => Promise<Tensor>,
  variables?: readonly Variable[],
  options?: GradOptions,
): Promise<Tensor>;
export function backward(f: () => Tensor, variables?: readonly Variable[], options?: GradOptions): Tensor;
export function backward(
  f: () => Tensor | Promise<Tensor>,
  variables?: readonly Variable[],
  options: GradOptions = {},
): Tensor | Promise<Tensor> {
  const fn = 'backward';
  checkFunction(fn, f);
  const o = checkGradOptions(fn, options);
  if (variables !== undefined) {
    if (!Array.isArray(variables))
      throw new ValueError(argMessage(fn, 'variables', 'a list of variables', describe(variables)));
    variables.forEach((v, i) => {
      if (!(v instanceof Variable)) throw new ValueError(argMessage(fn, `variables[${i}]`, 'a Variable', describe(v)));
      v.storageFor(fn, `variables[${i}]`);
    });
  }
  return then(record(f, variables ?? []), ({ result, tape }) => {
    try {
      const y = checkOutput(fn, result, o.dy);
      const vars = variables ?? collectVariables(tape);
      const grads = gradientsOf(fn, tape, y, vars, o);
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
      for (const t of tensorsIn(result)) t.dispose();
      throw e;
    } finally {
      tape.dispose();
    }
  });
}

function collectVariables(tape: Tape): Variable[] {
  const onTape = new Set<number>(tape.nodes.flatMap((n) => n.inputIds));
  return liveVariables().filter((v) => v.trainable && onTape.has(v.id));
}

/** Runs `fn` without recording anything on the tape. */
export function noGrad<T>(fn: () => T): T {
  checkFunction('noGrad', fn);
  return engine.withoutObserver(fn);
}

/**
 * For each named loss computed by `f`, the names of the variables (among `variables`) that its
 * gradient reaches, found from the recorded graph without running any backward kernel (a promise
 * of them for an async `f`).
 */
export function lossReach(
  f: () => Promise<Readonly<Record<string, Tensor>>>,
  variables: readonly Variable[],
): Promise<Record<string, string[]>>;
export function lossReach(
  f: () => Readonly<Record<string, Tensor>>,
  variables: readonly Variable[],
): Record<string, string[]>;
export function lossReach(
  f: () => Readonly<Record<string, Tensor>> | Promise<Readonly<Record<string, Tensor>>>,
  variables: readonly Variable[],
): Record<string, string[]> | Promise<Record<string, string[]>> {
  const fn = 'lossReach';
  checkFunction(fn, f);
  if (!Array.isArray(variables))
    throw new ValueError(argMessage(fn, 'variables', 'a list of variables', describe(variables)));
  variables.forEach((v, i) => {
    if (!(v instanceof Variable)) throw new ValueError(argMessage(fn, `variables[${i}]`, 'a Variable', describe(v)));
  });
  return then(record(f, variables), ({ result, tape }) => {
    try {
      const losses = result === null || typeof result !== 'object' ? null : Object.entries(result);
      const bad = losses?.find(([, loss]) => !(loss instanceof Tensor));
      if (!losses || bad) {
        for (const [, loss] of losses ?? []) if (loss instanceof Tensor) loss.dispose();
        throw new ValueError(
          argMessage(
            fn,
            'f',
            'a function returning a record of loss tensors',
            bad ? `'${bad[0]}': ${describe(bad[1])}` : describe(result),
          ),
        );
      }
      const out: Record<string, string[]> = {};
      for (const [name, loss] of losses) {
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
  });
}

type GradFunc = (dy: Tensor) => Tensor[];

declare module '../tensor/op.js' {
  interface OpAttrs {
    /** `gradFunc` is set when the forward has run (the user's function returns it). */
    customGrad: { gradFunc: GradFunc | null };
  }
}

/** Checks what a user's gradFunc returned: one float32 gradient per input, in the input's shape. */
function checkCustomGradients(given: unknown, shapes: readonly (readonly number[])[]): Tensor[] {
  const fn = 'customGrad';
  const count = `${shapes.length} gradient${shapes.length === 1 ? '' : 's'} (one per input)`;
  if (!Array.isArray(given))
    throw new GradientError(argMessage(fn, 'gradFunc', `to return an array of ${count}`, describe(given)));
  if (given.length !== shapes.length)
    throw new GradientError(argMessage(fn, 'gradFunc', `to return ${count}`, `${given.length}`));
  given.forEach((g, i) => {
    if (!(g instanceof Tensor) || g.dtype !== 'float32' || !shapesEqual(g.shape, shapes[i]))
      throw new GradientError(
        argMessage(
          fn,
          `gradFunc(dy)[${i}]`,
          `a float32 tensor of the input's shape [${shapes[i].join(', ')}]`,
          describe(g),
        ),
      );
  });
  return given;
}

defineOp('customGrad', {
  grad: (dy, s) => {
    // gradFunc runs once per backward, however many inputs need their gradient.
    let computed: Tensor[] | null = null;
    const all = (): Tensor[] => {
      computed ??= checkCustomGradients(s.attrs.gradFunc!(dy), s.inputShapes);
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
  const fn = 'customGrad';
  if (typeof f !== 'function') throw new ValueError(argMessage(fn, 'f', 'a function', describe(f)));
  return (...inputs: Tensor[]) => {
    inputs.forEach((x, i) => {
      checkTensor(fn, `inputs[${i}]`, x);
    });
    // The tape keeps this attrs object, so gradFunc lives exactly as long as the recorded node.
    const attrs: { gradFunc: GradFunc | null } = { gradFunc: null };
    return engine.run('customGrad', inputs, attrs, () => {
      const r: unknown = f(...inputs);
      const { value, gradFunc } = (r ?? {}) as { value?: unknown; gradFunc?: unknown };
      if (!(value instanceof Tensor) || typeof gradFunc !== 'function')
        throw new ValueError(argMessage(fn, 'f', 'to return { value: Tensor, gradFunc: function }', describe(r)));
      attrs.gradFunc = gradFunc as GradFunc;
      return value;
    });
  };
}
