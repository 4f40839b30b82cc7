// Arguments and async use: ragged nested arrays and typed arrays of other kinds are named errors
// naming the argument and the position; readAll names a non-tensor's index; customGrad checks what
// gradFunc returns; concurrent init() calls share one device; async functions given to tidy,
// tidyAsync, valueAndGrad, grad and backward leave behind only what they return, also when several
// run concurrently.
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { platform, setPlatform } from '../src/platform.js';
import { engine } from '../src/tensor/engine.js';
import { setup, suite } from './harness.js';
import { rejects } from './helpers.js';

const t = suite('arguments and async use');
t.before(setup);

const LIVE = ['liveTensors', 'liveBuffers', 'liveBytes'] as const;
function assertNoLeak(before: vg.MemoryInfo, label: string): void {
  const after = vg.memory();
  for (const k of LIVE) assert.is(after[k], before[k], `${label}: ${k}`);
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

t('ragged nested arrays: a ValueError naming the argument and the first ragged position', () => {
  const before = vg.memory();
  const cases: [string, () => unknown, RegExp][] = [
    [
      'short row',
      () => vg.tensor([[1, 2], [3]]),
      /^tensor: argument 'values' expected a rectangular nested array of shape \[2, 2\], got a ragged array: values\[1\] has length 1, not 2$/,
    ],
    [
      'deep',
      () =>
        vg.tensor([
          [[1], [2]],
          [[3], [4, 5]],
        ]),
      /got a ragged array: values\[1\]\[1\] has length 2, not 1$/,
    ],
    [
      'a number among rows',
      () => vg.tensor([[1, 2], 3]),
      /got a ragged array: values\[1\] is number, not an array of length 2$/,
    ],
    [
      'an array among numbers',
      () => vg.tensor([1, [2]]),
      /expected a nested array of numbers of shape \[2\], got an array at values\[1\]/,
    ],
    ['a string', () => vg.tensor([[1, '2']] as unknown as number[][]), /got string at values\[0\]\[1\]$/],
    ['variable', () => vg.variable([[1], [2, 3]]), /^tensor: argument 'values' .*values\[1\] has length 2, not 1/],
    [
      'loss host data',
      () =>
        vg.dice(
          [[0, 1], [1]],
          [
            [0.5, 0.5],
            [0.5, 0.5],
          ],
        ),
      /^dice: argument 'yTrue' expected a rectangular nested array of shape \[2, 2\], got a ragged array: yTrue\[1\] has length 1, not 2$/,
    ],
    [
      'loss prediction',
      () =>
        vg.dice(
          [
            [0, 1],
            [1, 0],
          ],
          [[0.5, 0.5], [0.5]],
        ),
      /^dice: argument 'yPred' .*yPred\[1\] has length 1, not 2$/,
    ],
  ];
  for (const [label, call, re] of cases)
    assert.throws(call, (e: Error) => e instanceof vg.ValueError && re.test(e.message), `${label}: ${re}`);
  assertNoLeak(before, 'ragged');
});

t(
  'typed arrays: any array of numbers is accepted; BigInt64Array, BigUint64Array and DataView are DTypeErrors',
  async () => {
    const before = vg.memory();
    for (const [label, values] of [
      ['Int8Array', new Int8Array([1, -2])],
      ['Uint16Array', new Uint16Array([1, 2])],
      ['Float64Array', new Float64Array([1, 2])],
      ['Uint8ClampedArray', new Uint8ClampedArray([1, 2])],
    ] as const) {
      const x = vg.tensor(values);
      assert.equal(Array.from(await x.data()), Array.from(values, Number), label);
      x.dispose();
    }
    const refused: [string, () => unknown, RegExp][] = [
      [
        'BigInt64Array',
        () => vg.tensor(new BigInt64Array(2) as never),
        /^tensor: argument 'values' expected numbers: .*got BigInt64Array$/,
      ],
      ['BigUint64Array', () => vg.tensor(new BigUint64Array(2) as never, [2], 'int32'), /got BigUint64Array$/],
      ['DataView', () => vg.tensor(new DataView(new ArrayBuffer(8)) as never), /got DataView$/],
      [
        'loss',
        () => vg.dice(new BigInt64Array(4) as never, new Float32Array(4)),
        /^dice: argument 'yTrue' expected numbers: .*got BigInt64Array$/,
      ],
      ['variable', () => vg.variable(new BigInt64Array(1) as never), /got BigInt64Array$/],
    ];
    for (const [label, call, re] of refused)
      assert.throws(call, (e: Error) => e instanceof vg.DTypeError && re.test(e.message), `${label}: ${re}`);
    assertNoLeak(before, 'typed arrays');
  },
);

t('readAll names the index of a non-tensor or a disposed tensor, before any GPU work', async () => {
  const x = vg.tensor([1, 2]);
  const gone = vg.tensor([3]);
  gone.dispose();
  const reads = vg.memory().dispatches;
  await rejects(
    () => vg.readAll([x, 3 as never]),
    vg.ValueError,
    /^readAll: argument 'tensors\[1\]' expected a Tensor, got 3$/,
  );
  await rejects(
    () => vg.readAll(x as never),
    vg.ValueError,
    /^readAll: argument 'tensors' expected an array of Tensors/,
  );
  await rejects(
    () => vg.readAll([x, x, gone]),
    vg.DisposedError,
    /^readAll: argument 'tensors\[2\]' expected a live tensor/,
  );
  assert.is(vg.memory().dispatches, reads);
  const [values] = await vg.readAll([x]);
  assert.equal(Array.from(values), [1, 2]);
  x.dispose();
});

t('customGrad: too few or too many gradients, or of the wrong shape, name the expected and the actual', () => {
  const a = vg.variable(vg.tensor([1, 2]), { name: 'a' });
  const b = vg.variable(vg.tensor([3, 4]), { name: 'b' });
  const before = vg.memory();
  const withGrads = (grads: (dy: vg.Tensor) => unknown) =>
    vg.customGrad((x: vg.Tensor, y: vg.Tensor) => ({
      value: vg.sum(vg.mul(x, y)),
      gradFunc: grads as (dy: vg.Tensor) => vg.Tensor[],
    }));
  const cases: [string, (dy: vg.Tensor) => unknown, RegExp][] = [
    [
      'too few',
      (dy) => [vg.mul(dy, b)],
      /^customGrad: argument 'gradFunc' expected to return 2 gradients \(one per input\), got 1$/,
    ],
    [
      'too many',
      (dy) => [vg.mul(dy, b), vg.mul(dy, a), vg.mul(dy, a)],
      /expected to return 2 gradients \(one per input\), got 3$/,
    ],
    ['not an array', (dy) => vg.mul(dy, b), /expected to return an array of 2 gradients \(one per input\), got Tensor/],
    [
      'wrong shape',
      (dy) => [vg.mul(dy, b), vg.reshape(vg.mul(dy, 1), [1])],
      /argument 'gradFunc\(dy\)\[1\]' expected a float32 tensor of the input's shape \[2\]/,
    ],
  ];
  for (const [label, grads, re] of cases) {
    const f = withGrads(grads);
    assert.throws(
      () => vg.grad(() => f(a, b), [a, b]),
      (e: Error) => e instanceof vg.GradientError && re.test(e.message),
      `${label}: ${re}`,
    );
    assertNoLeak(before, label);
  }
  assert.throws(
    () => vg.customGrad((x: vg.Tensor) => x as never)(a),
    /^customGrad: argument 'f' expected to return \{ value: Tensor, gradFunc: function \}/,
  );
  assert.throws(() => vg.customGrad(3 as never), /^customGrad: argument 'f' expected a function, got 3/);
  assert.throws(
    () => withGrads(() => [])(a, 2 as never),
    /^customGrad: argument 'inputs\[1\]' expected a Tensor, got 2/,
  );
  assertNoLeak(before, 'customGrad');
  a.dispose();
  b.dispose();
});

t('two concurrent init() calls share one device; dispose() during init() waits for it', async () => {
  const opened = engine.backend;
  // With a device open, both return it.
  const [one, two] = await Promise.all([vg.init(), vg.init()]);
  assert.is(one.adapter, two.adapter);
  assert.is(engine.backend, opened);
  // From no device: both calls await one opening, and dispose() called meanwhile closes it after.
  await vg.dispose();
  const first = vg.init();
  const second = vg.init();
  const [a, b] = await Promise.all([first, second]);
  assert.is(a.adapter, b.adapter);
  const device = engine.backend;
  const third = await vg.init();
  assert.is(third.adapter, a.adapter);
  assert.is(engine.backend, device, 'one device for all three calls');
  const x = vg.tensor([5]);
  assert.equal(Array.from(await x.data()), [5]);
  x.dispose();
});

/** Concurrent tidyAsync calls, each keeping an intermediate across awaits of different lengths. */
async function concurrentCalls(x: vg.Tensor): Promise<vg.Tensor[]> {
  return Promise.all(
    [1, 2, 3, 4].map((k) =>
      vg.tidyAsync(async () => {
        await tick();
        const a = vg.mul(x, k);
        await new Promise((resolve) => setTimeout(resolve, 2 * (5 - k)));
        return vg.sum(a);
      }),
    ),
  );
}

t(
  'tidy and tidyAsync of async functions free what is made after each await, also when several run at once',
  async () => {
    const x = vg.tensor([1, 2, 3]);
    const before = vg.memory();
    const viaTidy = await vg.tidy(async () => {
      const h = vg.relu(x);
      await tick();
      const y = vg.mul(h, 2);
      await tick();
      return vg.sum(y);
    });
    assert.equal(Array.from(await viaTidy.data()), [12]);
    viaTidy.dispose();
    assertNoLeak(before, 'tidy(async)');
    // Started together, interleaved, ending in the reverse order: each call's tensors are its own.
    const results = await concurrentCalls(x);
    const values = await vg.readAll(results);
    assert.equal(
      values.map((v) => v[0]),
      [6, 12, 18, 24],
    );
    for (const r of results) r.dispose();
    assertNoLeak(before, 'concurrent tidyAsync');
    // What the caller makes while a tidyAsync runs is the caller's, not the call's.
    const running = vg.tidyAsync(async () => {
      await tick();
      return vg.add(x, 1);
    });
    const mine = vg.mul(x, 10);
    const theirs = await running;
    assert.equal(Array.from(await mine.data()), [10, 20, 30]);
    assert.equal(Array.from(await theirs.data()), [2, 3, 4]);
    mine.dispose();
    theirs.dispose();
    // A rejected async function frees what it made too.
    await rejects(
      () =>
        vg.tidyAsync(async () => {
          vg.relu(x);
          await tick();
          vg.relu(x);
          throw new vg.ValueError('stop');
        }),
      vg.ValueError,
      /^stop$/,
    );
    assertNoLeak(before, 'rejected tidyAsync');
    x.dispose();
  },
);

t(
  'without an async context (browsers), concurrent calls return their results intact, and a tensor freed early is a DisposedError that says why',
  async () => {
    const x = vg.tensor([1, 2]);
    const node = platform();
    setPlatform({ ...node, asyncContext: () => null });
    try {
      const before = vg.memory();
      // Results created right after the last await are intact, whatever the order the calls end in.
      const results = await Promise.all(
        [1, 2, 3].map((k) =>
          vg.tidyAsync(async () => {
            await new Promise((resolve) => setTimeout(resolve, 2 * (4 - k)));
            return vg.sum(vg.mul(x, k));
          }),
        ),
      );
      assert.equal(
        (await vg.readAll(results)).map((v) => v[0]),
        [3, 6, 9],
      );
      for (const r of results) r.dispose();
      assertNoLeak(before, 'results');
      // An intermediate kept across an await may be freed by a call that ends meanwhile: never a
      // wrong value, a DisposedError that says why.
      const slow = vg.tidyAsync(async () => {
        await tick();
        const h = vg.mul(x, 3);
        await new Promise((resolve) => setTimeout(resolve, 20));
        return vg.sum(h);
      });
      const fast = vg.tidyAsync(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return vg.add(x, 1);
      });
      const quick = await fast;
      assert.equal(Array.from(await quick.data()), [2, 3]);
      await rejects(() => slow, vg.DisposedError, /the end of a tidy \/ tidyAsync scope freed it/);
      quick.dispose();
      assertNoLeak(before, 'interleaved');
    } finally {
      setPlatform(node);
    }
    x.dispose();
  },
);

t('valueAndGrad, grad and backward of async functions: recorded across awaits, nothing left behind', async () => {
  const w = vg.variable(vg.tensor([1, -2, 3]), { name: 'w' });
  const before = vg.memory();
  const loss = async (): Promise<vg.Tensor> => {
    const h = vg.mul(w, w);
    await tick();
    const s = vg.sum(vg.relu(h));
    await tick();
    return vg.mul(s, 0.5);
  };
  const { value, grads } = await vg.valueAndGrad(loss, [w]);
  assert.equal(Array.from(await value.data()), [7]);
  assert.equal(Array.from(await grads[0]!.data()), [1, -2, 3]);
  value.dispose();
  grads[0]!.dispose();
  assertNoLeak(before, 'valueAndGrad(async)');
  const [g] = await vg.grad(loss, [w]);
  assert.equal(Array.from(await g!.data()), [1, -2, 3]);
  g!.dispose();
  assertNoLeak(before, 'grad(async)');
  const l = await vg.backward(loss, [w]);
  assert.equal(Array.from(await w.grad!.data()), [1, -2, 3]);
  l.dispose();
  w.zeroGrad();
  assertNoLeak(before, 'backward(async)');
  // An async function that rejects after an await: nothing of it is left.
  await rejects(
    () =>
      vg.valueAndGrad(async () => {
        vg.mul(w, 2);
        await tick();
        vg.mul(w, 3);
        throw new vg.ValueError('no loss');
      }, [w]),
    vg.ValueError,
    /^no loss$/,
  );
  // One that resolves to something other than a tensor: a named error, nothing left.
  await rejects(
    () => vg.valueAndGrad((async () => [vg.sum(w)]) as never, [w]),
    vg.GradientError,
    /^valueAndGrad: argument 'f' expected a function returning a Tensor/,
  );
  assertNoLeak(before, 'failed valueAndGrad(async)');
  // Bad arguments are refused before anything runs.
  assert.throws(
    () => vg.valueAndGrad(() => vg.sum(w), null as never),
    /^valueAndGrad: argument 'wrt' expected a list or a record of tensors, got null/,
  );
  assert.throws(
    () => vg.valueAndGrad(() => vg.sum(w), [w], { seed: 1 } as never),
    /^valueAndGrad: argument 'options' expected keys among the options 'dy', 'strict', got the key 'seed'/,
  );
  assert.throws(
    () => vg.backward(() => vg.sum(w), [3] as never),
    /^backward: argument 'variables\[0\]' expected a Variable, got 3/,
  );
  assertNoLeak(before, 'refused');
  w.dispose();
});

t.run();
