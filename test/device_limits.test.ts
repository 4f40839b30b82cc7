// Device limits, read from the device: elementwise maths, fill, random and reductions over a tensor
// larger than maxStorageBufferBindingSize (the other op families: big_tensors.test.ts), and a
// tensor larger than maxBufferSize refused before any allocation, naming that limit.
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { setup, suite } from './harness.js';

const t = suite('device limits (bindings over maxStorageBufferBindingSize, maxBufferSize)');
t.before(setup);

const limits = () => vg.deviceInfo().limits;
/** Elements just over one binding: a multiple of 4096 so it reshapes to the shapes below. */
const bigElements = () => Math.ceil(limits().maxStorageBufferBindingSize / 4 / 4096) * 4096 + 4096;

async function engineWorks(label: string): Promise<void> {
  const s = vg.sum(vg.add(vg.tensor([1, 2, 3]), 1));
  assert.equal(Array.from(await s.data()), [9], `${label}: the engine no longer computes`);
  s.dispose();
}

t('elementwise and unary ops over more than one binding give exact results', async () => {
  const n = bigElements();
  if (n * 4 > limits().maxBufferSize) return console.log('  (skipped: maxBufferSize is below one binding + 16 KiB)');
  const big = vg.fill([n], 2);
  const y = vg.exp(vg.mul(vg.add(big, big), 0.25)); // exp(1) everywhere
  const data = await y.data();
  const e = Math.fround(Math.E);
  let wrong = 0;
  for (let i = 0; i < n; i++) if (Math.abs(data[i] - e) > 1e-6) wrong++;
  assert.is(wrong, 0, `${wrong} of ${n} values differ from e`);
  vg.tidy(() => [big, y].forEach((v) => v.dispose()));
  await engineWorks('elementwise');
});

t('fill and the seeded random tensors are the same whether written in one binding or in windows', async () => {
  const whole = [vg.randomNormal([10000], { seed: 5 }), vg.randomUniform([10000], { seed: 6 }), vg.fill([10000], 3)];
  vg.flags.maxBindingWindowBytes = 4096;
  let windowed: vg.Tensor[];
  try {
    windowed = [vg.randomNormal([10000], { seed: 5 }), vg.randomUniform([10000], { seed: 6 }), vg.fill([10000], 3)];
  } finally {
    vg.flags.maxBindingWindowBytes = 0;
  }
  const [a, b] = [await vg.readAll(whole), await vg.readAll(windowed)];
  a.forEach((v, i) => assert.equal(Array.from(b[i]), Array.from(v)));
  vg.tidy(() => [...whole, ...windowed].forEach((v) => v.dispose()));
});

t('reductions over more than one binding: windows of whole rows, checked against exact values', async () => {
  const n = bigElements();
  if (n * 4 > limits().maxBufferSize) return console.log('  (skipped: maxBufferSize is below one binding + 16 KiB)');
  // x[i] = (i mod 1024) - 512: every partial sum is an exact float32 integer.
  const big = vg.tensor(
    Float32Array.from({ length: n }, (_, i) => (i % 1024) - 512),
    [n],
  );
  const before = vg.memory();
  const [total, maxCols, minRows, meanCols] = [
    vg.sum(big),
    vg.max(vg.reshape(big, [n / 1024, 1024]), 0),
    vg.min(vg.reshape(big, [n / 4, 4]), 1),
    vg.mean(vg.reshape(big, [n / 4096, 4, 1024]), [0, 1]),
  ];
  const [s, mx, mn, me] = await vg.readAll([total, maxCols, minRows, meanCols]);
  assert.is(s[0], (n / 1024) * -512);
  assert.ok(
    mx.every((v, i) => v === i - 512),
    'max over rows',
  );
  assert.ok(
    mn.every((v, r) => v === ((r * 4) % 1024) - 512),
    'min over each row of 4',
  );
  assert.ok(
    me.every((v, i) => v === i - 512),
    'mean over the leading axes',
  );
  vg.tidy(() => [total, maxCols, minRows, meanCols].forEach((t) => t.dispose()));
  assert.is(vg.memory().liveBuffers, before.liveBuffers);
  big.dispose();
});

t('a tensor larger than maxBufferSize is refused before any allocation, naming the limit', async () => {
  const max = limits().maxBufferSize;
  const before = vg.memory();
  const elements = Math.floor(max / 4) + 1;
  for (const [fn, call] of [
    ['zeros', () => vg.zeros([elements])],
    ['fill', () => vg.fill([2, Math.ceil(elements / 2)], 1)],
    ['randomNormal', () => vg.randomNormal([elements])],
  ] as const) {
    assert.throws(
      () => call(),
      (e: Error) =>
        e instanceof vg.DeviceError &&
        new RegExp(`^${fn}: .*needs ${elements * 4}|^${fn}: .*maxBufferSize \\(${max} bytes\\)`).test(e.message) &&
        e.message.includes(`maxBufferSize (${max} bytes)`),
      fn,
    );
  }
  assert.is(vg.memory().liveBuffers, before.liveBuffers);
  assert.is(vg.memory().allocatedBytes, before.allocatedBytes);
  await engineWorks('maxBufferSize');
});

t.run();
