/**
 * Ops: each op the engine can record has a name, a typed attrs object and a gradient rule (or is
 * declared not differentiable), all defined once, next to its forward (tfjs-core's
 * `KernelConfig` + `GradConfig`, tinygrad's `Ops` with its gradient table).
 *
 * An op module adds its name and attrs type to `OpAttrs` by declaration merging:
 *
 *   declare module '../op.js' { interface OpAttrs { softmax: { axis: number } } }
 *   defineOp('softmax', { saveOutputs: true, grad: (dy, s) => [...] });   // s.attrs.axis: number
 *
 * so `engine.run` and the rules take `OpName`, a union of the defined names, never a free string.
 * The tape (src/grad) reads the rules from here; the ops never import the tape.
 */
import type { DType } from './dtype.js';
import type { Tensor } from './tensor.js';

/** Attrs of every op, by name. Each op module adds its entry (see the header). */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging in the op modules.
export interface OpAttrs {}

export type OpName = keyof OpAttrs & string;

/** The attrs of an op that has none. */
export type NoAttrs = Readonly<Record<string, never>>;

export interface Saved<N extends OpName> {
  /** The op's inputs (only those the rule asked to save; others are undefined). */
  readonly inputs: readonly (Tensor | undefined)[];
  /** The op's outputs (only when the rule asked to save them). */
  readonly outputs: readonly (Tensor | undefined)[];
  /** Shapes and dtypes of all inputs, always available. */
  readonly inputShapes: readonly (readonly number[])[];
  readonly inputDTypes: readonly DType[];
  readonly attrs: Readonly<OpAttrs[N]>;
}

/**
 * Returns, per input, a thunk for its gradient, or null where the input has none. `needed` says
 * which inputs backward will ask for (a rule may compute several in one pass).
 */
export type GradFn<N extends OpName> = (
  dy: Tensor,
  saved: Saved<N>,
  needed: readonly boolean[],
) => ((() => Tensor) | null)[];

/** Which of an op's inputs or outputs a rule keeps for backward: all, some by index, or by attrs. */
export type SaveSpec<N extends OpName> =
  | boolean
  | readonly number[]
  | ((attrs: Readonly<OpAttrs[N]>) => boolean | readonly number[]);

export interface GradRule<N extends OpName> {
  /** Which inputs to keep alive until backward (true = all). */
  readonly saveInputs?: SaveSpec<N>;
  /** Which outputs to keep alive until backward (true = all). */
  readonly saveOutputs?: SaveSpec<N>;
  readonly grad: GradFn<N>;
}

/** Ops whose outputs carry no gradient (integer results, constants, backward passes themselves). */
export const NOT_DIFFERENTIABLE = 'not differentiable';

interface OpDefinition {
  readonly name: OpName;
  readonly rule: GradRule<OpName> | null;
}

const definitions = new Map<string, OpDefinition>();

export function defineOp<N extends OpName>(name: N, gradient: GradRule<N> | typeof NOT_DIFFERENTIABLE): void {
  if (definitions.has(name)) throw new Error(`op '${name}' defined twice`);
  // A rule for N only ever receives N's attrs (the tape looks it up by the recorded name).
  const rule = gradient === NOT_DIFFERENTIABLE ? null : (gradient as unknown as GradRule<OpName>);
  definitions.set(name, { name, rule });
}

/** The definition of a recorded op; an op that was never defined is a programming error. */
export function opDefinition(name: OpName): OpDefinition {
  const d = definitions.get(name);
  if (!d) throw new Error(`op '${name}' is run but was never defined with defineOp`);
  return d;
}

/** Every op defined so far, with whether it has a gradient rule. */
export function definedOps(): { name: OpName; differentiable: boolean }[] {
  return [...definitions.values()].map((d) => ({ name: d.name, differentiable: d.rule !== null }));
}
