/**
 * The graph of a functional model: its layer calls in an order where every call comes after its
 * inputs, how real tensors flow through them (each intermediate value freed after its last
 * reader), and the topology as JSON values. The Model class builds on these three.
 */
import { argMessage, ValueError } from '../errors.js';
import { tidy } from '../tensor/api.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Layer } from './layer.js';
import { layerClassName } from './layers/registry.js';
import { InputLayer } from './layers/simple.js';
import type { LayerJSON, LayerRef, ModelJSON } from './model_io.js';
import type { OutputActivation } from './model_options.js';
import type { SymbolicTensor } from './symbolic.js';

/** What `model.toJSON()` writes as format and version (model_io.ts reads it). */
export const MODEL_FORMAT = 'voxgrad-model';
export const MODEL_FORMAT_VERSION = 1;

/** The layer calls the outputs depend on, each after its inputs; every input placeholder reached must be a model input. */
export function graphOrder(
  fn: string,
  inputs: readonly SymbolicTensor[],
  outputs: readonly SymbolicTensor[],
): SymbolicTensor[] {
  const order: SymbolicTensor[] = [];
  const seen = new Set<number>();
  const visit = (t: SymbolicTensor): void => {
    if (seen.has(t.id)) return;
    seen.add(t.id);
    if (t.layer instanceof InputLayer) {
      if (!inputs.includes(t))
        throw new ValueError(
          `${fn}: the output depends on the input '${t.name}', which is not among the model's inputs`,
        );
      return;
    }
    t.inputs.forEach(visit);
    order.push(t);
  };
  outputs.forEach(visit);
  return order;
}

/**
 * Runs the calls `order` on real inputs and returns the outputs' values, in the order of
 * `outputs`. Each layer call runs in its own scope, so what a layer makes besides its output is
 * freed at once, and each intermediate value is disposed as soon as its last reader has run (the
 * tape keeps its own handles on what backward needs): a forward pass holds only what is still to
 * be read (for a U-Net, the skip connections and the current level) and leaves behind only its
 * outputs. When a layer throws, every value made so far is freed (the inputs are the caller's).
 */
export function runGraph(
  order: readonly SymbolicTensor[],
  symbolicInputs: readonly SymbolicTensor[],
  outputs: readonly SymbolicTensor[],
  inputs: readonly Tensor[],
  training: boolean,
): Tensor[] {
  const values = new Map<number, Tensor>();
  symbolicInputs.forEach((s, i) => values.set(s.id, inputs[i]));
  // Pending reads of each tensor object (a layer may return its input unchanged); the inputs
  // and outputs are never disposed here.
  const pending = new Map<Tensor, number>();
  const kept = new Set<Tensor>(inputs);
  const release = (t: Tensor): void => {
    const left = (pending.get(t) ?? 0) - 1;
    pending.set(t, left);
    if (left <= 0 && !kept.has(t)) t.dispose();
  };
  const reads = new Map<number, number>();
  for (const node of order) for (const i of node.inputs) reads.set(i.id, (reads.get(i.id) ?? 0) + 1);
  for (const o of outputs) reads.set(o.id, (reads.get(o.id) ?? 0) + 1);
  const outputIds = new Set(outputs.map((o) => o.id));
  symbolicInputs.forEach((s, i) => pending.set(inputs[i], (pending.get(inputs[i]) ?? 0) + (reads.get(s.id) ?? 0)));
  try {
    for (const node of order) {
      const args = node.inputs.map((i) => values.get(i.id)!);
      const out = tidy(() => node.layer.call(args, training));
      values.set(node.id, out);
      pending.set(out, (pending.get(out) ?? 0) + (reads.get(node.id) ?? 0));
      if (outputIds.has(node.id)) kept.add(out);
      for (const a of args) release(a);
    }
  } catch (e) {
    for (const t of new Set(values.values())) if (!inputs.includes(t)) t.dispose();
    throw e;
  }
  return outputs.map((o) => values.get(o.id)!);
}

/** What the topology JSON is written from. */
export interface GraphDescription {
  readonly name: string;
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
  readonly outputNames: readonly string[];
  readonly outputActivations: Readonly<Record<string, OutputActivation>>;
  /** The layer calls in graph order (graphOrder). */
  readonly order: readonly SymbolicTensor[];
}

/**
 * The topology as JSON values (model.json): every layer in graph order with its class and
 * config, the inbound layers of each of its calls, the inputs, the outputs and how each is read.
 */
export function graphJSON(fn: string, g: GraphDescription): ModelJSON {
  // Each layer's calls in this graph, in order: a layer used twice is written once.
  const calls = new Map<Layer, SymbolicTensor[]>();
  for (const n of g.order) {
    const list = calls.get(n.layer);
    if (list) list.push(n);
    else calls.set(n.layer, [n]);
  }
  const layers = [...g.inputs.map((i) => i.layer), ...calls.keys()];
  const names = new Set<string>();
  for (const l of layers) {
    if (names.has(l.name))
      throw new ValueError(argMessage(fn, 'layers', 'layers with distinct names', `two layers named '${l.name}'`));
    names.add(l.name);
  }
  // A layer's output by name (its first call) or as [name, call] for a later call.
  const ref = (t: SymbolicTensor): LayerRef => {
    const k = calls.get(t.layer)?.indexOf(t) ?? 0;
    return k === 0 ? t.name : [t.name, k];
  };
  const entry = (layer: Layer): LayerJSON => ({
    className: layerClassName(fn, layer),
    config: layer.getConfig(),
    inbound: (calls.get(layer) ?? []).map((n) => n.inputs.map(ref)),
  });
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    name: g.name,
    layers: layers.map(entry),
    inputs: g.inputs.map((i) => i.name),
    outputs: g.outputNames.map((name, i) => ({ name, from: ref(g.outputs[i]) })),
    outputActivations: { ...g.outputActivations },
  };
}
