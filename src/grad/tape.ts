/**
 * The tape: records top-level ops whose inputs are on the tape, then backpropagates through
 * only the nodes that lie on a path between the requested tensors and the loss.
 */
import { GradientError } from '../errors.js';
import { engine, type OpObserver, type OpRecord } from '../tensor/engine.js';
import { type GradRule, type OpName, opDefinition, type Saved, type SaveSpec } from '../tensor/op.js';
import { add } from '../tensor/ops/elementwise/index.js';
import { shapesEqual } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

export interface TapeNode {
  readonly id: number;
  readonly name: OpName;
  readonly inputIds: readonly number[];
  readonly outputIds: readonly number[];
  readonly inputs: readonly { shape: readonly number[]; dtype: string }[];
  readonly saved: Saved<OpName>;
  /** null for an op declared not differentiable. */
  readonly rule: GradRule<OpName> | null;
}

/** Which variables (or watched tensors) ride along each recorded tensor. */
export class Tape implements OpObserver {
  readonly nodes: TapeNode[] = [];
  /** Ids of tensors on the tape: watched sources and outputs of recorded nodes. */
  readonly #onTape = new Set<number>();
  readonly #savedViews: Tensor[] = [];

  watch(t: Tensor): void {
    this.#onTape.add(t.id);
  }

  #disposed = false;

  wants(inputs: readonly Tensor[]): boolean {
    // A disposed tape left as the observer (an async recording that ended out of order) records nothing.
    return !this.#disposed && inputs.some((t) => this.#onTape.has(t.id) || t.requiresGrad);
  }

  #save(t: Tensor): Tensor {
    const v = engine.keep(engine.view(t));
    this.#savedViews.push(v);
    return v;
  }

  record<N extends OpName>(op: OpRecord<N>): void {
    const { rule } = opDefinition(op.name);
    const resolve = (spec: SaveSpec<OpName> | undefined): boolean | readonly number[] =>
      typeof spec === 'function' ? spec(op.attrs) : (spec ?? false);
    const [saveIn, saveOut] = [resolve(rule?.saveInputs), resolve(rule?.saveOutputs)];
    const pick = (which: boolean | readonly number[], i: number): boolean =>
      which === true || (Array.isArray(which) && which.includes(i));
    const saved: Saved<OpName> = {
      inputs: op.inputs.map((t, i) => (pick(saveIn, i) ? this.#save(t) : undefined)),
      outputs: op.outputs.map((t, i) => (pick(saveOut, i) ? this.#save(t) : undefined)),
      inputShapes: op.inputs.map((t) => t.shape),
      inputDTypes: op.inputs.map((t) => t.dtype),
      attrs: op.attrs,
    };
    for (const o of op.outputs) this.#onTape.add(o.id);
    this.nodes.push({
      id: this.nodes.length,
      name: op.name,
      inputIds: op.inputs.map((t) => t.id),
      outputIds: op.outputs.map((t) => t.id),
      inputs: op.inputs.map((t) => ({ shape: t.shape, dtype: t.dtype })),
      saved,
      rule,
    });
  }

  /** Releases every tensor saved for backward. */
  dispose(): void {
    this.#disposed = true;
    for (const v of this.#savedViews) v.dispose();
    this.#savedViews.length = 0;
    this.nodes.length = 0;
  }
}

/** What the filter reads of a node: its position and the tensors it links. */
export interface NodeLinks {
  readonly id: number;
  readonly inputIds: readonly number[];
  readonly outputIds: readonly number[];
}

export interface FilteredNode<T extends NodeLinks = TapeNode> {
  readonly node: T;
  /** Per input: whether its gradient is needed (it lies on a path from xs to y). */
  readonly needed: readonly boolean[];
}

/**
 * The nodes on a path from any of `xIds` to `yId`, in recording order (tfjs-core's
 * getFilteredNodesXToY): a forward pass marks what the xs reach, a backward pass marks what
 * reaches y; a node is kept when it has an input reached from x and an output leading to y.
 */
export function filterNodesXToY<T extends NodeLinks>(
  nodes: readonly T[],
  xIds: ReadonlySet<number>,
  yId: number,
): FilteredNode<T>[] {
  const fromX = new Set<number>(xIds);
  const nodeFromX = new Array<boolean>(nodes.length).fill(false);
  for (const n of nodes) {
    if (n.inputIds.some((id) => fromX.has(id))) {
      nodeFromX[n.id] = true;
      for (const o of n.outputIds) fromX.add(o);
    }
  }
  const toY = new Set<number>([yId]);
  const kept: FilteredNode<T>[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (!n.outputIds.some((id) => toY.has(id))) continue;
    for (const id of n.inputIds) toY.add(id);
    if (nodeFromX[i]) kept.push({ node: n, needed: n.inputIds.map((id) => fromX.has(id)) });
  }
  return kept.reverse();
}

/**
 * Walks `filtered` in reverse, accumulating gradients in a map keyed by tensor id. Returns the
 * gradients of `xIds` (absent where unreached). Memory is given back as early as possible: each
 * gradient thunk runs in its own scope, a partial gradient is freed once accumulated, a node's
 * output gradient once the node has run, and the tensors a node saved once it has run.
 */
export function backpropagate(
  filtered: readonly FilteredNode[],
  yId: number,
  dy: Tensor,
  xIds: ReadonlySet<number>,
): Map<number, Tensor> {
  const grads = new Map<number, Tensor>([[yId, dy]]);
  const accumulate = (id: number, g: Tensor): void => {
    const prev = grads.get(id);
    if (!prev) {
      grads.set(id, g);
      return;
    }
    grads.set(id, add(prev, g));
    if (prev !== dy) prev.dispose();
    g.dispose();
  };
  for (let k = filtered.length - 1; k >= 0; k--) {
    const { node, needed } = filtered[k];
    const outId = node.outputIds[0];
    const g = grads.get(outId);
    if (!g) continue;
    if (!node.rule) {
      throw new GradientError(`backward: op '${node.name}' lies on the path to the loss but has no gradient rule`);
    }
    const thunks = node.rule.grad(g, node.saved, needed);
    needed.forEach((need, i) => {
      if (!need) return;
      const thunk = thunks[i];
      if (!thunk) return;
      // A rule may pass dy through unchanged (add, reshape of same shape): give it its own
      // handle so freeing dy later does not free the input's gradient.
      let gi = runScoped(thunk);
      if (gi === g) gi = engine.view(g);
      const want = node.inputs[i];
      if (!shapesEqual(gi.shape, want.shape) || gi.dtype !== want.dtype) {
        throw new GradientError(
          `backward: the gradient rule of '${node.name}' gave input ${i} a ${gi.dtype} gradient of shape [${gi.shape.join(', ')}], expected ${want.dtype} [${want.shape.join(', ')}]`,
        );
      }
      accumulate(node.inputIds[i], gi);
    });
    if (!xIds.has(outId)) {
      grads.delete(outId);
      if (g !== dy) g.dispose();
    }
    // Backward visits each node once: what it saved is not needed any more.
    for (const t of [...node.saved.inputs, ...node.saved.outputs]) t?.dispose();
  }
  for (const [id, g] of grads) {
    if (!xIds.has(id)) {
      grads.delete(id);
      if (g !== dy) g.dispose();
    }
  }
  return grads;
}

/** Runs a gradient thunk in a scope of its own, so its temporaries are freed as soon as it returns. */
function runScoped(thunk: () => Tensor): Tensor {
  const { scope, result } = engine.withScope(thunk);
  engine.endScope(result, scope);
  return result;
}
