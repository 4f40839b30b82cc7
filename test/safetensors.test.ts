import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';
import { rejects } from './helpers.js';

const t = suite('safetensors');
t.before(setup);

/** A file built by hand from the format description, independent of the writer. */
function handMade(header: object, data: Uint8Array, pad = true): Uint8Array {
  let json = JSON.stringify(header);
  if (pad) json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

t('round trip is bit-exact, and the layout follows the format', async () => {
  const values = Float32Array.from([0, -0, 1.5, -3.25e-30, 3.4e38, Math.PI, 1e-45, -7]);
  const a = vg.tensor(values, [2, 4]);
  const b = vg.tensor(new Int32Array([5, -6, 7]), [3], 'int32');
  const bytes = await vg.saveSafetensors({ 'trunk/W': a, 'head/b': b }, { format: 'pt' });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.is((8 + headerLength) % 8, 0, 'data 8-byte aligned');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  assert.equal(header['head/b'], { dtype: 'I32', shape: [3], data_offsets: [0, 12] });
  assert.equal(header['trunk/W'], { dtype: 'F32', shape: [2, 4], data_offsets: [12, 44] });
  assert.equal(header.__metadata__, { format: 'pt' });
  const { tensors, metadata } = vg.loadSafetensors(bytes);
  assert.equal(metadata, { format: 'pt' });
  const back = new Uint32Array((await tensors['trunk/W'].data()).buffer);
  assert.equal(Array.from(back), Array.from(new Uint32Array(values.buffer)));
  assert.equal(Array.from(await tensors['head/b'].data()), [5, -6, 7]);
  assert.equal([...tensors['trunk/W'].shape], [2, 4]);
});

t('reads a hand-made file (unpadded header, little-endian data)', async () => {
  const data = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
  const file = handMade({ w: { dtype: 'F32', shape: [3, 2], data_offsets: [0, 24] } }, data, false);
  const { tensors } = vg.loadSafetensors(file);
  assert.equal(Array.from(await tensors.w.data()), [1, 2, 3, 4, 5, 6]);
});

t('loadWeights assigns by name and refuses missing, extra or mis-shaped weights', async () => {
  const w = vg.variable(vg.tensor([1, 2, 3, 4], [2, 2]), { name: 'layer/w' });
  const b = vg.variable(vg.tensor([9], [1]), { name: 'layer/b' });
  const bytes = await vg.saveWeights([w, b]);
  w.assign(vg.zeros([2, 2]));
  b.assign(vg.zeros([1]));
  await vg.loadWeights([w, b], bytes);
  assert.equal(Array.from(await w.data()), [1, 2, 3, 4]);
  assert.equal(Array.from(await b.data()), [9]);
  const before = vg.memory().liveTensors;
  const other = vg.tidy(() => vg.variable(vg.zeros([3]), { name: 'layer/w' }));
  await rejects(
    vg.loadWeights([other, b], bytes),
    /loadWeights.*'layer\/w'.*float32 \[3\].*float32 \[2, 2\] in the file/,
  );
  const c = vg.tidy(() => vg.variable(vg.zeros([1]), { name: 'extra' }));
  await rejects(vg.loadWeights([w, b, c], bytes), /loadWeights.*without 'extra'/);
  await rejects(vg.loadWeights([w], bytes), /loadWeights.*unexpected 'layer\/b'/);
  assert.equal(Array.from(await w.data()), [1, 2, 3, 4], 'nothing assigned on error');
  other.dispose();
  c.dispose();
  assert.is(vg.memory().liveTensors, before, 'no tensor left behind');
});

t('corrupted files are clear ValueErrors, with nothing created', () => {
  const good = handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8));
  const before = vg.memory().liveTensors;
  const beforeBuffers = vg.memory().liveBuffers;
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(5), /shorter than the 8-byte header length/],
    [good.slice(0, 20), /header length \d+ exceeds/],
    [
      handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)),
      /data_offsets \[0,8\] for 2 elements in 4 data bytes/,
    ],
    [handMade({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), /dtype "F16"/],
    [handMade({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /shape \[-1\]/],
    [
      (() => {
        const x = good.slice();
        x[9] = 0x7b;
        x[10] = 0x7b;
        return x;
      })(),
      /header is not JSON/,
    ],
    [
      (() => {
        const x = good.slice();
        new DataView(x.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
        return x;
      })(),
      /header length 18446744073709551615 exceeds/,
    ],
    [handMade([1, 2], new Uint8Array(0)), /header is not a JSON object: array/],
    [handMade({ w: [0, 8] }, new Uint8Array(8)), /tensor 'w' is array of length 2, not an object/],
    [
      handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8], scale: 2 } }, new Uint8Array(8)),
      /tensor 'w' has the unknown field "scale"/,
    ],
    [
      handMade({ w: { dtype: 'F32', shape: [1, 1, 1, 1, 1, 1, 1, 1, 1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /shape \[1,1,1,1,1,1,1,1,1\] \(expected at most 8 non-negative integers\)/,
    ],
    [
      handMade({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /data_offsets \[0,4\] for 1\.2089258196146292e\+24 elements in 4 data bytes/,
    ],
    [handMade({ w: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, new Uint8Array(4)), /data_offsets \[-4,0\]/],
    [
      handMade(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        new Uint8Array(12),
      ),
      /tensors 'a' \[0,8\] and 'b' \[4,12\] overlap/,
    ],
    [
      handMade(JSON.parse('{"__proto__": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'), new Uint8Array(4)),
      /a tensor named "__proto__", which is not allowed/,
    ],
    [
      handMade({ constructor: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /a tensor named "constructor"/,
    ],
    [handMade({ __metadata__: { epoch: 3 } }, new Uint8Array(0)), /__metadata__ 'epoch' is 3, not a string/],
    [handMade({ __metadata__: 'pt' }, new Uint8Array(0)), /__metadata__ is "pt", not an object of strings/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(() => vg.loadSafetensors(bytes), re);
    assert.throws(
      () => vg.loadSafetensors(bytes),
      (e: unknown) => e instanceof vg.ValueError,
    );
  }
  assert.is(vg.memory().liveTensors, before);
  assert.is(vg.memory().liveBuffers, beforeBuffers);
});

t.run();
