// Saving and loading: weights from any byte view (Node Buffers, subarrays at odd offsets), save and
// load both async and bit-exact; layer configs and the registry.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  for (const l of m.layers) for (const w of l.allWeights) w.dispose();
}

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

t.run();
