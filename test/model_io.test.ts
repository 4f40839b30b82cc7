// Saving and loading: weights from any byte view (Node Buffers, subarrays at odd offsets), save and
// load both async and bit-exact; layer configs and the registry; whole models as JSON + weights
// (toArtifacts / modelFromArtifacts, saveModel / loadModel) round-tripping bit for bit, and every
// malformed model.json or mismatched weights file a clear error that leaves nothing behind.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { twoHeadModel } from '../src/models/two_heads.js';
import { setup, suite } from './harness.js';
import { rejects } from './helpers.js';

const t = suite('model I/O');
t.before(setup);

let work: string;
t.before(() => {
  work = mkdtempSync(join(tmpdir(), 'voxgrad-model-io-'));
});
t.after(() => rmSync(work, { recursive: true, force: true }));

/** Every weight of a model as raw bits, by name. */
async function weightBits(m: vg.Model): Promise<Record<string, number[]>> {
  const ws = m.layers.flatMap((l) => [...l.allWeights]);
  const data = await vg.readAll(ws);
  return Object.fromEntries(ws.map((w, i) => [w.name, Array.from(new Uint32Array(data[i].buffer))]));
}

function disposeModel(m: vg.Model): void {
  m.dispose();
}

/** Gives every weight new random values, so a model no longer matches a fresh one of its seeds. */
function perturb(m: vg.Model, seed: number): void {
  m.layers
    .flatMap((l) => [...l.allWeights])
    .forEach((w, i) => {
      vg.tidy(() => w.assign(vg.randomNormal(w.shape, { seed: seed + i, stddev: 0.3 })));
    });
}

/** The raw bits of each output of `predict`, by output name (one read for all). */
async function predictionBits(m: vg.Model, x: vg.Tensor): Promise<Record<string, number[]>> {
  // In a scope: a Dense layer's call leaves its matmul and bias-add results to the caller's scope.
  const out = vg.tidy(() => m.predict(x));
  const names = Object.keys(out);
  const data = await vg.readAll(names.map((n) => out[n]));
  for (const n of names) out[n].dispose();
  return Object.fromEntries(names.map((n, i) => [n, Array.from(new Uint32Array(data[i].buffer))]));
}

const LIVE = ['liveTensors', 'liveBuffers', 'liveBytes'] as const;
function assertNoLeak(before: vg.MemoryInfo, label: string): void {
  const after = vg.memory();
  for (const k of LIVE) assert.is(after[k], before[k], `${label}: ${k}`);
}

const unetOptions = (): vg.UNet3dOptions => ({
  inputShape: [16, 16, 16, 1],
  baseFilters: 4,
  depth: 3,
  heads: {
    segmentation: { classes: 4, activation: 'softmax' },
    foreground: { classes: 1, activation: 'sigmoid' },
  },
});

t(
  'loadWeights takes any Uint8Array view: a Buffer from readFileSync, a pooled Buffer, a subarray at an odd offset',
  async () => {
    const source = twoHeadModel({ size: 8, classes: 3, filters: 4, seed: 5 });
    const bytes = await source.saveWeights();
    const path = join(work, 'weights.safetensors');
    writeFileSync(path, bytes);
    const padded = new Uint8Array(bytes.length + 7);
    padded.set(bytes, 3);
    const views: [string, Uint8Array][] = [
      ['readFileSync', readFileSync(path)],
      ['Buffer.from (pooled)', Buffer.from(bytes)],
      ['Buffer.concat().subarray', Buffer.concat([Buffer.alloc(5), Buffer.from(bytes)]).subarray(5)],
      ['subarray at offset 3', padded.subarray(3, 3 + bytes.length)],
    ];
    // The views that matter start inside a larger buffer (the bug read the whole pool).
    for (const [label, v] of views.slice(1)) assert.ok(v.byteOffset !== 0 || v.buffer.byteLength !== v.length, label);
    const expected = await weightBits(source);
    const before = vg.memory();
    for (const [label, v] of views) {
      const target = twoHeadModel({ size: 8, classes: 3, filters: 4, seed: 9 });
      await target.loadWeights(v);
      assert.equal(await weightBits(target), expected, label);
      const { tensors } = vg.loadSafetensors(v);
      assert.equal(Object.keys(tensors).sort(), Object.keys(expected).sort(), label);
      for (const x of Object.values(tensors)) x.dispose();
      disposeModel(target);
    }
    assert.is(vg.memory().liveTensors, before.liveTensors);
    assert.is(vg.memory().liveBuffers, before.liveBuffers);
    disposeModel(source);
  },
);

t(
  'saveWeights and loadWeights are both async; errors reject and assign nothing; saving again gives the same bytes',
  async () => {
    const a = twoHeadModel({ size: 8, classes: 3, filters: 4, seed: 1 });
    const b = twoHeadModel({ size: 8, classes: 3, filters: 4, seed: 2 });
    const saved = a.saveWeights();
    assert.ok(saved instanceof Promise);
    const bytes = await saved;
    const original = await weightBits(b);
    // A bad file rejects the promise (no synchronous throw) and leaves the weights alone.
    let pending: Promise<void> | null = null;
    assert.not.throws(() => {
      pending = b.loadWeights(bytes.subarray(0, 12));
    });
    await rejects(pending!, vg.ValueError, /loadWeights: argument 'bytes'.*not a valid safetensors file/);
    await rejects(vg.loadWeights(b.layers[0].allWeights, bytes), vg.ValueError, /loadWeights: .*unexpected/);
    assert.equal(await weightBits(b), original);
    const loaded = b.loadWeights(bytes);
    assert.ok(loaded instanceof Promise);
    assert.is(await loaded, undefined);
    assert.equal(Array.from(await b.saveWeights()), Array.from(bytes), 'bit-exact');
    const x = vg.randomNormal([1, 8, 8, 8, 1], { seed: 3 });
    const pa = a.predict(x);
    const pb = b.predict(x);
    const [s1, f1, s2, f2] = await vg.readAll([pa.segmentation, pa.foreground, pb.segmentation, pb.foreground]);
    assert.equal(Array.from(new Uint32Array(s2.buffer)), Array.from(new Uint32Array(s1.buffer)));
    assert.equal(Array.from(new Uint32Array(f2.buffer)), Array.from(new Uint32Array(f1.buffer)));
    vg.tidy(() => [x, ...Object.values(pa), ...Object.values(pb)].forEach((v) => v.dispose()));
    disposeModel(a);
    disposeModel(b);
  },
);

t(
  'every layer class has a JSON config that layerFromConfig rebuilds exactly; constructors refuse unknown options',
  () => {
    const layers: vg.Layer[] = [
      new vg.InputLayer({ shape: [4, 4, 4, 1], name: 'cfg_input' }),
      new vg.Conv3D({
        filters: 3,
        kernelSize: [3, 1, 2],
        strides: 2,
        padding: 'same',
        dilation: [1, 2, 1],
        activation: 'tanh',
        useBias: false,
        kernelInitializer: 'heUniform',
        seed: 7,
        kernelRegularizer: { l2: 0.1 },
        name: 'cfg_conv',
      }),
      new vg.Dense({ units: 5, activation: 'sigmoid', kernelInitializer: 'zeros', seed: 2, name: 'cfg_dense' }),
      new vg.GroupNormalization({ groups: 2, epsilon: 1e-3, activation: 'relu', name: 'cfg_norm' }),
      new vg.Activation({ activation: 'softmax', name: 'cfg_act' }),
      new vg.MaxPool3D({ poolSize: [2, 2, 1], strides: 1, padding: 'same', name: 'cfg_max' }),
      new vg.AvgPool3D({ poolSize: 3, name: 'cfg_avg' }),
      new vg.UpSampling3D({ size: [2, 1, 2], name: 'cfg_up' }),
      new vg.Concatenate({ name: 'cfg_cat' }),
      new vg.Dropout({ rate: 0.25, seed: 3, name: 'cfg_drop' }),
    ];
    // Every layer class voxgrad exports is covered here.
    const exported = Object.entries(vg)
      .filter(([, v]) => typeof v === 'function' && v.prototype instanceof vg.Layer)
      .map(([k]) => k)
      .sort();
    assert.equal(layers.map((l) => l.constructor.name).sort(), exported);
    for (const layer of layers) {
      const className = layer.constructor.name;
      const config = layer.getConfig();
      assert.is(config.name, layer.name);
      assert.equal(JSON.parse(JSON.stringify(config)), config, `${className}: JSON values only`);
      const again = vg.layerFromConfig(className, config);
      assert.ok(again instanceof (layer.constructor as typeof vg.Layer), className);
      assert.equal(again.getConfig(), config, className);
    }
    // Defaults are filled in, so a config says everything.
    assert.equal(new vg.Conv3D({ filters: 2, kernelSize: 3, name: 'cfg_defaults' }).getConfig(), {
      name: 'cfg_defaults',
      filters: 2,
      kernelSize: [3, 3, 3],
      strides: [1, 1, 1],
      padding: 'valid',
      dilation: [1, 1, 1],
      activation: 'linear',
      useBias: true,
      kernelInitializer: 'glorotUniform',
      seed: 1,
      kernelRegularizer: null,
    });
    assert.equal(new vg.MaxPool3D({ poolSize: 3 }).getConfig().strides, [3, 3, 3]);
    const typo = { filters: 2, kernelSize: 3, kernelInitialiser: 'heNormal' } as unknown as vg.Conv3DOptions;
    assert.throws(
      () => new vg.Conv3D(typo),
      /Conv3D: argument 'options' .*'kernelInitialiser'.*did you mean 'kernelInitializer'/,
    );
    assert.throws(
      () => new vg.Dense({ units: 2, kernelInitializer: 'ones' as vg.Initializer }),
      /Dense: argument 'kernelInitializer' expected 'glorotUniform' \| 'heNormal' \| 'heUniform' \| 'zeros', got "ones"/,
    );
    assert.throws(() => new vg.Dropout({ rate: 0.1, seed: 1.5 }), /Dropout: argument 'seed' expected an integer/);
    assert.throws(
      () => vg.layerFromConfig('Conv3d', { name: 'c' }),
      /layerFromConfig: layer 'c': argument 'className' expected a registered layer class .*got "Conv3d" \(did you mean 'Conv3D'\?\)/,
    );
  },
);

t("toJSON: the two-head model's topology in graph order, the same as JSON.stringify(model)", () => {
  const m = twoHeadModel({ size: 8, classes: 3, filters: 4 });
  const json = m.toJSON();
  assert.is(json.format, 'voxgrad-model');
  assert.is(json.version, 1);
  assert.is(json.name, 'two_heads');
  assert.equal(
    json.layers.map((l) => [l.className, l.config.name, l.inbound]),
    [
      ['InputLayer', 'image', []],
      ['Conv3D', 'trunk_conv1', [['image']]],
      ['GroupNormalization', 'trunk_norm', [['trunk_conv1']]],
      ['Conv3D', 'trunk_conv2', [['trunk_norm']]],
      ['Conv3D', 'segmentation', [['trunk_conv2']]],
      ['Conv3D', 'foreground', [['trunk_conv2']]],
    ],
  );
  assert.equal(json.layers[0].config, { name: 'image', shape: [8, 8, 8, 1] });
  assert.equal(json.inputs, ['image']);
  assert.equal(json.outputs, [
    { name: 'segmentation', from: 'segmentation' },
    { name: 'foreground', from: 'foreground' },
  ]);
  assert.equal(json.outputActivations, { segmentation: 'linear', foreground: 'linear' });
  assert.is(JSON.stringify(m), JSON.stringify(json));
  m.dispose();
});

t('two-head model: toArtifacts -> modelFromArtifacts is bit-exact (weights, predictions, topology)', async () => {
  const before = vg.memory();
  const m = twoHeadModel({ size: 8, classes: 3, filters: 4, seed: 2 });
  perturb(m, 100);
  const { modelJson, weights } = await m.toArtifacts();
  assert.type(modelJson, 'string');
  const back = await vg.modelFromArtifacts(modelJson, weights);
  assert.is(back.name, 'two_heads');
  assert.equal(back.outputNames, m.outputNames);
  assert.equal(back.toJSON(), m.toJSON());
  assert.equal(await weightBits(back), await weightBits(m));
  assert.equal(Array.from(await back.saveWeights({ format: 'voxgrad', model: 'two_heads' })), Array.from(weights));
  const x = vg.randomNormal([2, 8, 8, 8, 1], { seed: 4 });
  assert.equal(await predictionBits(back, x), await predictionBits(m, x));
  // The topology alone gives the same structure with freshly initialised weights (the same seeds).
  const fresh = vg.modelFromJSON(m.toJSON());
  const reference = twoHeadModel({ size: 8, classes: 3, filters: 4, seed: 2 });
  assert.equal(fresh.toJSON(), m.toJSON());
  assert.equal(await weightBits(fresh), await weightBits(reference));
  for (const model of [fresh, reference, back, m]) model.dispose();
  x.dispose();
  assertNoLeak(before, 'two heads');
});

t('U-Net: saveModel -> loadModel is bit-exact, written through temporary names', async () => {
  const before = vg.memory();
  const m = vg.unet3d(unetOptions());
  perturb(m, 500);
  const dir = join(work, 'unet');
  await vg.saveModel(m, dir);
  assert.equal(readdirSync(dir).sort(), ['model.json', 'weights.safetensors']);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  assert.equal(json, m.toJSON());
  assert.equal(json.outputActivations, { segmentation: 'softmax', foreground: 'sigmoid' });
  const back = await vg.loadModel(dir);
  assert.equal(back.outputActivations, m.outputActivations);
  assert.equal(await weightBits(back), await weightBits(m));
  const x = vg.randomNormal([1, 16, 16, 16, 1], { seed: 8 });
  const [a, b] = [await predictionBits(m, x), await predictionBits(back, x)];
  assert.equal(Object.keys(b), ['segmentation', 'foreground']);
  assert.equal(b, a);
  // Saving again over the folder replaces both files.
  perturb(back, 900);
  await vg.saveModel(back, dir);
  assert.equal(readdirSync(dir).sort(), ['model.json', 'weights.safetensors']);
  const again = await vg.loadModel(dir);
  assert.equal(await weightBits(again), await weightBits(back));
  for (const model of [again, back, m]) model.dispose();
  x.dispose();
  assertNoLeak(before, 'U-Net');
});

t('a layer called twice and outputs named apart from their layers round-trip', async () => {
  const before = vg.memory();
  const x = vg.input({ shape: [3], name: 'shared_x' });
  const dense = new vg.Dense({ units: 3, activation: 'tanh', seed: 5, name: 'shared_dense' });
  const once = dense.apply(x);
  const twice = dense.apply(once);
  const head = new vg.Dense({ units: 2, seed: 6, name: 'shared_head' }).apply(twice);
  const m = vg.model({
    inputs: x,
    outputs: { first: once, last: head, again: twice },
    name: 'shared',
    outputActivations: { last: 'sigmoid' },
  });
  const json = m.toJSON();
  assert.equal(json.layers[1].inbound, [['shared_x'], ['shared_dense']]);
  assert.equal(json.layers[2].inbound, [[['shared_dense', 1]]]);
  assert.equal(json.outputs, [
    { name: 'first', from: 'shared_dense' },
    { name: 'last', from: 'shared_head' },
    { name: 'again', from: ['shared_dense', 1] },
  ]);
  perturb(m, 40);
  const { modelJson, weights } = await m.toArtifacts();
  const back = await vg.modelFromArtifacts(modelJson, weights);
  assert.equal(back.outputNames, ['first', 'last', 'again']);
  assert.equal(back.outputActivations, { first: 'linear', last: 'sigmoid', again: 'linear' });
  assert.equal(back.toJSON(), json);
  const input = vg.tensor([0.5, -1, 2, 0, 1, -0.25], [2, 3]);
  assert.equal(await predictionBits(back, input), await predictionBits(m, input));
  input.dispose();
  back.dispose();
  m.dispose();
  assertNoLeak(before, 'shared layer');
});

t('toJSON refuses what model.json cannot say: an unregistered layer class, two layers with one name', () => {
  class Scaled extends vg.Dense {}
  const x = vg.input({ shape: [2], name: 'custom_x' });
  const m = vg.model({ inputs: x, outputs: new Scaled({ units: 2, name: 'custom_scaled' }).apply(x) });
  assert.throws(
    () => m.toJSON(),
    /model\.toJSON: argument 'layers' expected layers of registered classes .*got layer 'custom_scaled' of the unregistered class Scaled/,
  );
  vg.registerLayer('Scaled', Scaled);
  const back = vg.modelFromJSON(m.toJSON());
  assert.ok(back.layers[0] instanceof Scaled);
  assert.throws(() => vg.registerLayer('Scaled', class extends vg.Dense {}), /registerLayer: argument 'className'/);
  const y = vg.input({ shape: [2], name: 'twin_x' });
  const a = new vg.Dense({ units: 2, name: 'twin' }).apply(y);
  const twins = vg.model({ inputs: y, outputs: { a, b: new vg.Dense({ units: 2, name: 'twin' }).apply(a) } });
  assert.throws(
    () => twins.toJSON(),
    /model\.toJSON: argument 'layers' expected layers with distinct names, got two layers named 'twin'/,
  );
  for (const model of [m, back, twins]) model.dispose();
});

/** A safetensors file with one more float32 [1] entry, named `name`, after the others. */
function withEntryNamed(name: string, bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)).trim();
  const dataLength = bytes.length - 8 - headerLength;
  const entry = `${JSON.stringify(name)}:{"dtype":"F32","shape":[1],"data_offsets":[${dataLength},${dataLength + 4}]}`;
  const text = new TextEncoder().encode(`{${entry},${header.slice(1)}`);
  const out = new Uint8Array(8 + text.length + dataLength + 4);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(bytes.subarray(8 + headerLength), 8 + text.length);
  return out;
}

/** The two-head model's JSON with one change. */
function edited(change: (j: vg.ModelJSON) => void): vg.ModelJSON {
  const m = twoHeadModel({ size: 8, classes: 3, filters: 4 });
  const j = structuredClone(m.toJSON());
  m.dispose();
  change(j);
  return j;
}

t('malformed model.json: a ValueError naming the function, the layer and the field; nothing left behind', async () => {
  const layer = (j: vg.ModelJSON, name: string) => j.layers.find((l) => l.config.name === name)!;
  const cases: [string, vg.ModelJSON | string, RegExp][] = [
    [
      'not JSON',
      '{"format": "voxgrad-model",',
      /modelFromJSON: argument 'json' expected model JSON \(model\.toJSON\(\)\), got text that is not JSON/,
    ],
    ['not an object', '[1, 2]', /argument 'json' expected model JSON .*got array of length 2/],
    [
      'format',
      edited((j) => {
        (j as { format: string }).format = 'keras';
      }),
      /argument 'json\.format' expected 'voxgrad-model', got "keras"/,
    ],
    [
      'version',
      edited((j) => {
        j.version = 2;
      }),
      /argument 'json\.version' expected 1 \(the version this voxgrad reads\), got 2/,
    ],
    [
      'unknown field',
      edited((j) => {
        (j as unknown as Record<string, unknown>).optimizer = 'adam';
      }),
      /argument 'json' expected keys among the fields .*got the key 'optimizer'/,
    ],
    [
      'no layers',
      edited((j) => {
        j.layers = [];
      }),
      /argument 'json\.layers' expected a list of layers, got array of length 0/,
    ],
    [
      'unknown layer class',
      edited((j) => {
        layer(j, 'trunk_norm').className = 'GroupNorm';
      }),
      /modelFromJSON: layer 'trunk_norm': argument 'className' expected a registered layer class .*got "GroupNorm"/,
    ],
    [
      'unknown config key',
      edited((j) => {
        layer(j, 'trunk_conv2').config.filter = 8;
      }),
      /modelFromJSON: layer 'trunk_conv2' \(Conv3D\): Conv3D: argument 'options' expected keys among .*got the key 'filter'.*did you mean 'filters'/,
    ],
    [
      'badly typed config',
      edited((j) => {
        layer(j, 'trunk_conv1').config.filters = '4';
      }),
      /modelFromJSON: layer 'trunk_conv1' \(Conv3D\): Conv3D: argument 'filters' expected a positive integer, got "4"/,
    ],
    [
      'bad padding',
      edited((j) => {
        layer(j, 'segmentation').config.padding = 'full';
      }),
      /layer 'segmentation' \(Conv3D\): Conv3D: argument 'padding' expected 'same' or 'valid', got "full"/,
    ],
    [
      'bad useBias',
      edited((j) => {
        layer(j, 'foreground').config.useBias = 'yes';
      }),
      /layer 'foreground' \(Conv3D\): Conv3D: argument 'useBias' expected true or false, got "yes"/,
    ],
    [
      'bad epsilon',
      edited((j) => {
        layer(j, 'trunk_norm').config.epsilon = -1;
      }),
      /layer 'trunk_norm' \(GroupNormalization\): GroupNormalization: argument 'epsilon' expected a finite number > 0, got -1/,
    ],
    [
      'bad input shape',
      edited((j) => {
        layer(j, 'image').config.shape = [8, 0, 8, 1];
      }),
      /layer 'image' \(InputLayer\): InputLayer: argument 'shape' expected positive integers/,
    ],
    [
      'missing name',
      edited((j) => {
        delete (layer(j, 'trunk_norm').config as Partial<vg.LayerConfig>).name;
      }),
      /argument 'json\.layers\[2\]\.config\.name' expected the layer name, got undefined/,
    ],
    [
      'repeated name',
      edited((j) => {
        layer(j, 'foreground').config.name = 'segmentation';
      }),
      /argument 'json\.layers\[5\]\.config\.name' expected a name no other layer has, got a second layer 'segmentation'/,
    ],
    [
      'missing inbound layer',
      edited((j) => {
        layer(j, 'trunk_conv2').inbound = [['trunk_norm2']];
      }),
      /argument 'json\.layers\[3\]\.inbound\[0\]\[0\]' expected the name of a layer in the file, got 'trunk_norm2', which is missing/,
    ],
    [
      'missing call',
      edited((j) => {
        layer(j, 'trunk_conv2').inbound = [[['trunk_norm', 1]]];
      }),
      /argument 'json\.layers\[3\]\.inbound\[0\]\[0\]' expected one of the 1 call\(s\) of 'trunk_norm', got call 1/,
    ],
    [
      'bad reference',
      edited((j) => {
        layer(j, 'trunk_conv2').inbound = [[7 as unknown as string]];
      }),
      /inbound\[0\]\[0\]' expected a layer's name, or \[name, call\], got 7/,
    ],
    [
      'never called',
      edited((j) => {
        layer(j, 'foreground').inbound = [];
      }),
      /argument 'json\.layers\[5\]\.inbound' expected at least one call of 'foreground', got 0 calls/,
    ],
    [
      'cycle',
      edited((j) => {
        layer(j, 'trunk_conv1').inbound = [['trunk_conv2']];
      }),
      /argument 'json\.layers' expected a graph without cycles, got layers that wait on each other: 'trunk_conv1', 'trunk_norm', 'trunk_conv2'/,
    ],
    [
      'output from a missing layer',
      edited((j) => {
        j.outputs[1].from = 'fg';
      }),
      /argument 'json\.outputs\[1\]\.from' expected the name of a layer in the file, got 'fg', which is missing/,
    ],
    [
      'inputs',
      edited((j) => {
        j.inputs = ['trunk_conv1'];
      }),
      /argument 'json\.inputs' expected the input layers' names \('image'\), got \["trunk_conv1"\]/,
    ],
    [
      'output activation',
      edited((j) => {
        j.outputActivations.segmentation = 'relu' as vg.OutputActivation;
      }),
      /argument 'json\.outputActivations\['segmentation'\]' expected 'softmax', 'sigmoid' or 'linear', got "relu"/,
    ],
    [
      'activation of no output',
      edited((j) => {
        j.outputActivations.labels = 'softmax';
      }),
      /argument 'json\.outputActivations' expected keys among the outputs .*got the key 'labels'/,
    ],
    // Names key records (weights, losses, logs): none may reach Object.prototype.
    [
      'a layer named __proto__',
      edited((j) => {
        layer(j, 'foreground').config.name = '__proto__';
        j.outputs[1].from = '__proto__';
      }),
      /argument 'json\.layers\[5\]\.config\.name' expected a layer name other than '__proto__', 'constructor', 'prototype', got "__proto__"/,
    ],
    [
      'an input named constructor',
      edited((j) => {
        layer(j, 'image').config.name = 'constructor';
        j.inputs = ['constructor'];
        layer(j, 'trunk_conv1').inbound = [['constructor']];
      }),
      /argument 'json\.layers\[0\]\.config\.name' expected a layer name other than .*got "constructor"/,
    ],
    [
      'an output named __proto__',
      JSON.stringify(
        edited((j) => {
          j.outputs[1].name = 'reserved_output';
          j.outputActivations = { segmentation: 'softmax', reserved_output: 'sigmoid' };
        }),
      ).replaceAll('reserved_output', '__proto__'),
      /argument 'json\.outputs\[1\]\.name' expected an output name other than .*got "__proto__"/,
    ],
    // Found while wiring the graph, after the first layer's weights exist: they are freed.
    [
      'shapes that do not fit',
      edited((j) => {
        layer(j, 'trunk_norm').config.groups = 3;
      }),
      /modelFromJSON: layer 'trunk_norm', call 0: trunk_norm: argument 'input' expected channels divisible by 3 groups/,
    ],
  ];
  for (const [label, json, re] of cases) {
    const before = vg.memory();
    let error: unknown = null;
    try {
      vg.modelFromJSON(json).dispose();
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof vg.ValueError, `${label}: expected a ValueError, got ${String(error)}`);
    assert.match((error as Error).message, re, `${label}: ${(error as Error).message}`);
    assertNoLeak(before, label);
  }
  // The same checks through modelFromArtifacts and loadModel name those functions.
  const weights = await (async () => {
    const m = twoHeadModel({ size: 8, classes: 3, filters: 4 });
    const bytes = await m.saveWeights();
    m.dispose();
    return bytes;
  })();
  const before = vg.memory();
  await rejects(
    vg.modelFromArtifacts('{', weights),
    vg.ValueError,
    /^modelFromArtifacts: argument 'modelJson' expected model JSON/,
  );
  await rejects(
    vg.modelFromArtifacts(JSON.stringify(cases[7][1]), weights),
    vg.ValueError,
    /^modelFromArtifacts: layer 'trunk_conv2' \(Conv3D\)/,
  );
  await rejects(
    vg.modelFromArtifacts({} as unknown as string, weights),
    vg.ValueError,
    /^modelFromArtifacts: argument 'modelJson' expected model\.json's text/,
  );
  await rejects(
    vg.modelFromArtifacts(JSON.stringify(edited(() => {})), Array.from(weights) as unknown as Uint8Array),
    vg.ValueError,
    /^modelFromArtifacts: argument 'weights' expected safetensors bytes/,
  );
  assertNoLeak(before, 'artifacts');
});

t(
  'weights that do not fit the rebuilt model, and folders that are not models: clear errors, nothing left behind',
  async () => {
    const twoHeads = twoHeadModel({ size: 8, classes: 3, filters: 4 });
    const { modelJson, weights } = await twoHeads.toArtifacts();
    twoHeads.dispose();
    const unet = vg.unet3d(unetOptions());
    const unetWeights = await unet.saveWeights();
    unet.dispose();
    const wider = JSON.stringify(
      edited((j) => {
        j.layers[3].config.filters = 6;
      }),
    );
    const dir = join(work, 'models');
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      [
        "another model's weights",
        () => vg.modelFromArtifacts(modelJson, unetWeights),
        /^modelFromArtifacts: the weights do not fit the model 'two_heads': loadWeights: argument 'bytes' expected weights for 'trunk_conv1\/kernel', .*got a file without 'trunk_conv1\/kernel'/,
      ],
      [
        'a layer of another width',
        () => vg.modelFromArtifacts(wider, weights),
        /^modelFromArtifacts: the weights do not fit the model 'two_heads': loadWeights: argument ''trunk_conv2\/kernel'' expected float32 \[3, 3, 3, 4, 6\], got float32 \[3, 3, 3, 4, 4\] in the file/,
      ],
      [
        'a weight too many',
        () =>
          vg.modelFromArtifacts(
            JSON.stringify(
              edited((j) => {
                j.layers[5].config.useBias = false;
              }),
            ),
            weights,
          ),
        /^modelFromArtifacts: the weights do not fit the model 'two_heads': .*unexpected 'foreground\/bias'/,
      ],
      [
        'weights with an entry named __proto__',
        () => vg.modelFromArtifacts(modelJson, withEntryNamed('__proto__', weights)),
        /^modelFromArtifacts: the weights do not fit .*a tensor named "__proto__", which is not allowed/,
      ],
      [
        'corrupted weights',
        () => vg.modelFromArtifacts(modelJson, weights.subarray(0, 40)),
        /^modelFromArtifacts: the weights do not fit .*not a valid safetensors file/,
      ],
      [
        'no folder',
        () => vg.loadModel(join(work, 'nowhere')),
        /^loadModel: argument 'dir' expected a folder with model\.json and weights\.safetensors \(written by saveModel\), got '.*nowhere', which is not a folder/,
      ],
      [
        'no weights file',
        async () => {
          mkdirSync(join(work, 'half'));
          writeFileSync(join(work, 'half', 'model.json'), modelJson);
          return vg.loadModel(join(work, 'half'));
        },
        /^loadModel: argument 'dir' expected a folder with model\.json and weights\.safetensors .*with no weights\.safetensors/,
      ],
      [
        'a model.json of another kind',
        async () => {
          writeFileSync(join(work, 'half', 'weights.safetensors'), weights);
          writeFileSync(join(work, 'half', 'model.json'), JSON.stringify({ classes: 3, filters: 4 }));
          return vg.loadModel(join(work, 'half'));
        },
        /^loadModel: argument 'model\.json' expected keys among the fields .*got the key 'classes'/,
      ],
      [
        'not a model',
        () => vg.saveModel({} as vg.Model, dir),
        /^saveModel: argument 'model' expected a Model, got Object/,
      ],
      [
        'no folder name',
        () => {
          const identity = vg.input({ shape: [1], name: 'identity' });
          return vg.saveModel(vg.model({ inputs: identity, outputs: identity }), '');
        },
        /^saveModel: argument 'dir' expected a folder path, got ""/,
      ],
    ];
    for (const [label, call, re] of cases) {
      const before = vg.memory();
      await rejects(call, vg.ValueError, re).catch((e) => {
        throw new Error(`${label}: ${e.message}`);
      });
      assertNoLeak(before, label);
    }
    assert.not.ok(existsSync(dir), 'nothing written');
  },
);

t.run();
