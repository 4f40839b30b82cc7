/**
 * Whole models as data, in any environment (Keras 3's model.to_json / model_from_json and
 * save / load_model): `model.toJSON()` gives the topology, `modelFromJSON` rebuilds it, and
 * `model.toArtifacts()` / `modelFromArtifacts` add the weights (safetensors). The Node files
 * (model.json + weights.safetensors in a folder) are in src/node/model_files.ts.
 *
 * A rebuilt layer has its original name, so its weights have their original names and load by
 * name. Everything in a model.json is checked before any weight is created; a problem found while
 * wiring the graph or loading the weights frees what was created, so an error leaves nothing.
 */
import { argMessage, ValueError, VoxgradError } from '../errors.js';
import { checkKeys } from '../options.js';
import { describe } from '../tensor/ops/check.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from './graph.js';
import type { Layer, LayerConfig } from './layer.js';
import { buildLayer } from './layers/registry.js';
import type { InputLayer } from './layers/simple.js';
import type { Model } from './model.js';
import { model as makeModel } from './model.js';
import type { OutputActivation } from './model_options.js';
import { RESERVED_NAMES } from './safetensors.js';
import { SymbolicTensor } from './symbolic.js';

/** A layer's output: its name (its first call), or [name, call] for a later call of a shared layer. */
export type LayerRef = string | [string, number];

export interface LayerJSON {
  /** The registered class name ('Conv3D', ...). */
  className: string;
  /** Its constructor options (`getConfig()`), name included. */
  config: LayerConfig;
  /** Per call of the layer in this model, the outputs it was applied to (none for an input). */
  inbound: LayerRef[][];
}

/** model.json: what `model.toJSON()` returns and `modelFromJSON` reads. */
export interface ModelJSON {
  format: typeof MODEL_FORMAT;
  version: number;
  name: string;
  /** Every layer, inputs first, then in the order of their first call (graph order). */
  layers: LayerJSON[];
  /** The input layers' names, in the model's input order. */
  inputs: string[];
  /** The outputs in order: each one's name and the layer output it is. */
  outputs: { name: string; from: LayerRef }[];
  outputActivations: Record<string, OutputActivation>;
}

export interface ModelArtifacts {
  /** model.json's text. */
  modelJson: string;
  /** The weights in the safetensors format. */
  weights: Uint8Array;
}

const TOP_KEYS = ['format', 'version', 'name', 'layers', 'inputs', 'outputs', 'outputActivations'];
const LAYER_KEYS = ['className', 'config', 'inbound'];
const ACTIVATIONS: readonly OutputActivation[] = ['softmax', 'sigmoid', 'linear'];

/** The names no layer or output may have, for messages. */
const reserved = [...RESERVED_NAMES].map((n) => `'${n}'`).join(', ');

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A JSON value as written (cut short), for messages. */
const show = (v: unknown): string => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** Where a model.json came from, for messages: the function called and the argument holding it. */
interface Source {
  fn: string;
  arg: string;
}

/** The parsed and checked layers of a model.json, before anything is built. */
interface Plan {
  name: string;
  layers: { className: string; config: LayerConfig; inbound: [string, number][][] }[];
  inputs: string[];
  outputs: { name: string; from: [string, number] }[];
  outputActivations: Record<string, OutputActivation>;
}

/** Checks a model.json (text or parsed) completely; every problem is a ValueError naming where it is. */
function plan(src: Source, json: unknown): Plan {
  const { fn, arg } = src;
  // `got` is a description; raw values go through describe (strings quoted, objects by kind).
  const bad = (at: string, expected: string, got: string): ValueError =>
    new ValueError(argMessage(fn, at, expected, got));
  let root = json;
  if (typeof json === 'string') {
    try {
      root = JSON.parse(json);
    } catch (e) {
      throw bad(arg, 'model JSON (model.toJSON())', `text that is not JSON (${(e as Error).message})`);
    }
  }
  if (!isObject(root)) throw bad(arg, 'model JSON (model.toJSON())', describe(root));
  checkKeys(fn, arg, root, TOP_KEYS, 'field');
  if (root.format !== MODEL_FORMAT) throw bad(`${arg}.format`, `'${MODEL_FORMAT}'`, describe(root.format));
  if (root.version !== MODEL_FORMAT_VERSION)
    throw bad(`${arg}.version`, `${MODEL_FORMAT_VERSION} (the version this voxgrad reads)`, describe(root.version));
  if (typeof root.name !== 'string') throw bad(`${arg}.name`, 'a string', describe(root.name));
  if (!Array.isArray(root.layers) || !root.layers.length)
    throw bad(`${arg}.layers`, 'a list of layers', describe(root.layers));

  // Layers: class, config (with the layer's name) and the calls' inbound outputs.
  const calls = new Map<string, number>();
  const raw = root.layers.map((entry: unknown, i: number) => {
    const at = `${arg}.layers[${i}]`;
    if (!isObject(entry)) throw bad(at, 'a layer { className, config, inbound }', describe(entry));
    checkKeys(fn, at, entry, LAYER_KEYS, 'field');
    const { className, config, inbound } = entry;
    if (typeof className !== 'string') throw bad(`${at}.className`, 'a layer class name', describe(className));
    if (!isObject(config)) throw bad(`${at}.config`, `the options of a ${className}`, describe(config));
    const name = config.name;
    if (typeof name !== 'string' || !name) throw bad(`${at}.config.name`, 'the layer name', describe(name));
    // Layer and output names key records (weights, losses, logs): none may reach a prototype.
    if (RESERVED_NAMES.has(name)) throw bad(`${at}.config.name`, `a layer name other than ${reserved}`, describe(name));
    if (calls.has(name)) throw bad(`${at}.config.name`, 'a name no other layer has', `a second layer '${name}'`);
    if (!Array.isArray(inbound) || inbound.some((c) => !Array.isArray(c)))
      throw bad(`${at}.inbound`, `a list of calls of '${name}', each a list of layer outputs`, show(inbound));
    calls.set(name, inbound.length);
    return { className, config: config as LayerConfig, inbound: inbound as unknown[][], name, at };
  });
  const isInput = new Map(raw.map((l) => [l.name, l.className === 'InputLayer']));

  // A reference to a layer output must name a layer of this file and one of its calls.
  const resolve = (r: unknown, at: string): [string, number] => {
    const [name, call] = typeof r === 'string' ? [r, 0] : Array.isArray(r) && r.length === 2 ? r : [null, null];
    if (typeof name !== 'string' || !Number.isInteger(call) || call < 0)
      throw bad(at, "a layer's name, or [name, call]", show(r));
    const n = calls.get(name);
    if (n === undefined) throw bad(at, 'the name of a layer in the file', `'${name}', which is missing`);
    if (!isInput.get(name) && call >= n) throw bad(at, `one of the ${n} call(s) of '${name}'`, `call ${call}`);
    if (isInput.get(name) && call !== 0) throw bad(at, `the input '${name}'`, `call ${call}`);
    return [name, call];
  };
  const layers = raw.map((l) => {
    if (l.className === 'InputLayer' ? l.inbound.length !== 0 : l.inbound.length === 0)
      throw bad(
        `${l.at}.inbound`,
        l.className === 'InputLayer' ? 'no calls (an input)' : `at least one call of '${l.name}'`,
        `${l.inbound.length} calls`,
      );
    const inbound = l.inbound.map((c, k) => {
      if (!c.length) throw bad(`${l.at}.inbound[${k}]`, 'at least one layer output', 'none');
      return c.map((r, j) => resolve(r, `${l.at}.inbound[${k}][${j}]`));
    });
    return { className: l.className, config: l.config, inbound };
  });

  // Inputs: exactly the input layers. Outputs: distinct names, each a layer output.
  const inputs = root.inputs;
  const inputLayers = raw.filter((l) => l.className === 'InputLayer').map((l) => l.name);
  if (
    !Array.isArray(inputs) ||
    inputs.length !== inputLayers.length ||
    inputs.some((n) => typeof n !== 'string' || !isInput.get(n)) ||
    new Set(inputs).size !== inputs.length
  )
    throw bad(
      `${arg}.inputs`,
      `the input layers' names (${inputLayers.map((n) => `'${n}'`).join(', ')})`,
      show(inputs),
    );
  if (!Array.isArray(root.outputs) || !root.outputs.length)
    throw bad(`${arg}.outputs`, 'a list of outputs', describe(root.outputs));
  const outputs = root.outputs.map((o: unknown, i: number) => {
    const at = `${arg}.outputs[${i}]`;
    if (!isObject(o) || typeof o.name !== 'string') throw bad(at, 'an output { name, from }', show(o));
    checkKeys(fn, at, o, ['name', 'from'], 'field');
    if (RESERVED_NAMES.has(o.name)) throw bad(`${at}.name`, `an output name other than ${reserved}`, describe(o.name));
    return { name: o.name, from: resolve(o.from, `${at}.from`) };
  });
  const outputNames = outputs.map((o) => o.name);
  if (new Set(outputNames).size !== outputNames.length)
    throw bad(`${arg}.outputs`, 'outputs with distinct names', outputNames.join(', '));
  const activations = root.outputActivations ?? {};
  if (!isObject(activations)) throw bad(`${arg}.outputActivations`, 'a record by output name', describe(activations));
  checkKeys(fn, `${arg}.outputActivations`, activations, outputNames, 'output');
  for (const [k, v] of Object.entries(activations))
    if (!ACTIVATIONS.includes(v as OutputActivation))
      throw bad(`${arg}.outputActivations['${k}']`, "'softmax', 'sigmoid' or 'linear'", describe(v));
  return {
    name: root.name,
    layers,
    inputs: inputs as string[],
    outputs,
    outputActivations: activations as Record<string, OutputActivation>,
  };
}

/** Frees every weight the given layers have created. */
function disposeLayers(layers: Iterable<Layer>): void {
  for (const l of layers) for (const w of l.allWeights) w.dispose();
}

/** Builds the layers (no weights yet), wires the graph (creating the weights), then the model. */
function build(src: Source, p: Plan): Model {
  const { fn } = src;
  // Constructors check each config and create nothing, so a bad config leaves nothing behind.
  const layers = new Map(p.layers.map((l) => [l.config.name, buildLayer(fn, l.className, l.config)]));
  try {
    const outputs = new Map<string, SymbolicTensor[]>();
    const inputs = p.inputs.map((name) => {
      const layer = layers.get(name) as InputLayer;
      const t = new SymbolicTensor(layer.outputShape(), layer, []);
      outputs.set(name, [t]);
      return t;
    });
    const get = ([name, call]: [string, number]): SymbolicTensor | undefined => outputs.get(name)?.[call];
    // Each call runs once its inputs exist; the calls of a layer in order (the first builds it).
    const pending = p.layers.map((l) => ({ layer: layers.get(l.config.name)!, calls: l.inbound, next: 0 }));
    for (let progress = true; progress; ) {
      progress = false;
      for (const e of pending) {
        while (e.next < e.calls.length && e.calls[e.next].every((r) => get(r))) {
          const args = e.calls[e.next].map((r) => get(r)!);
          let out: SymbolicTensor;
          try {
            out = e.layer.apply(args.length === 1 ? args[0] : args);
          } catch (err) {
            if (err instanceof VoxgradError)
              throw new ValueError(`${fn}: layer '${e.layer.name}', call ${e.next}: ${err.message}`);
            throw err;
          }
          outputs.set(e.layer.name, [...(outputs.get(e.layer.name) ?? []), out]);
          e.next++;
          progress = true;
        }
      }
    }
    const waiting = pending.filter((e) => e.next < e.calls.length).map((e) => `'${e.layer.name}'`);
    if (waiting.length)
      throw new ValueError(
        argMessage(
          fn,
          `${src.arg}.layers`,
          'a graph without cycles',
          `layers that wait on each other: ${waiting.join(', ')}`,
        ),
      );
    // A list keeps the output order when the names are the layers' names; a record otherwise.
    const outs = p.outputs.map((o) => get(o.from)!);
    const byLayerName = p.outputs.every((o, i) => o.name === outs[i].name);
    try {
      return makeModel({
        inputs,
        outputs: byLayerName ? outs : Object.fromEntries(p.outputs.map((o, i) => [o.name, outs[i]])),
        name: p.name,
        outputActivations: p.outputActivations,
      });
    } catch (err) {
      if (err instanceof VoxgradError) throw new ValueError(`${fn}: ${err.message}`);
      throw err;
    }
  } catch (err) {
    disposeLayers(layers.values());
    throw err;
  }
}

/** @internal modelFromJSON with the caller's name in messages. */
export function modelFromJSONAs(src: Source, json: unknown): Model {
  return build(src, plan(src, json));
}

/**
 * @internal modelFromArtifacts with the caller's name in messages: a weights file that does not
 * fit the rebuilt model is a ValueError, and the model's weights are freed.
 */
export async function modelFromArtifactsAs(src: Source, modelJson: unknown, weights: Uint8Array): Promise<Model> {
  const m = modelFromJSONAs(src, modelJson);
  try {
    await m.loadWeights(weights);
  } catch (err) {
    m.dispose();
    if (err instanceof VoxgradError)
      throw new ValueError(`${src.fn}: the weights do not fit the model '${m.name}': ${err.message}`);
    throw err;
  }
  return m;
}

/** Rebuilds a model from `model.toJSON()` (or its text), with freshly initialised weights. */
export function modelFromJSON(json: ModelJSON | string): Model {
  return modelFromJSONAs({ fn: 'modelFromJSON', arg: 'json' }, json);
}

/** Rebuilds a model and loads its weights, from `model.toArtifacts()`: the same weights, bit for bit. */
export async function modelFromArtifacts(modelJson: string, weights: Uint8Array): Promise<Model> {
  const fn = 'modelFromArtifacts';
  if (typeof modelJson !== 'string')
    throw new ValueError(
      argMessage(fn, 'modelJson', "model.json's text (toArtifacts().modelJson)", describe(modelJson)),
    );
  if (!(weights instanceof Uint8Array))
    throw new ValueError(argMessage(fn, 'weights', 'safetensors bytes (a Uint8Array)', describe(weights)));
  return modelFromArtifactsAs({ fn, arg: 'modelJson' }, modelJson, weights);
}
