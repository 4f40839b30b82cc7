// GPU validation errors: each is a KernelError naming the op that caused it, work recorded in the
// same batch before and after it is computed correctly (WebGPU drops a whole command buffer that
// holds one invalid command), nothing is leaked, and the engine keeps working. Three ways in: a
// binding the host refuses before recording (synchronous), a kernel that fails to compile (found
// by the device, asynchronously), and any other validation error inside an op (its error scope).
import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { bind } from '../src/tensor/dispatch.js';
import { engine } from '../src/tensor/engine.js';
import { definedKernels, type Kernel } from '../src/tensor/kernel.js';
import type { WebGPUBackend } from '../src/tensor/webgpu/backend.js';
import { setup, suite } from './harness.js';
import { rejects } from './helpers.js';

const t = suite('GPU validation errors (named, isolated, engine usable)');
t.before(setup);

const unaryKernel = (): Kernel => definedKernels().find((k) => k.name === 'unary')!;

/** Unrelated work recorded around a failure: two chains whose values are known. */
function unrelatedWork(): { a: vg.Tensor; check: () => Promise<void> } {
  const x = vg.tensor([1, 2, 3, 4]);
  const a = vg.tidy(() => vg.mul(vg.add(x, 1), 2));
  x.dispose();
  return {
    a,
    check: async () => {
      const [va] = await vg.readAll([a]);
      assert.equal(Array.from(va), [4, 6, 8, 10]);
    },
  };
}

/** Asserts that the engine computes a fresh op correctly. */
async function engineWorks(): Promise<void> {
  const y = vg.tidy(() => vg.sum(vg.square(vg.tensor([1, 2, 3]))));
  assert.equal(Array.from(await y.data()), [14]);
  y.dispose();
}

t('a binding WebGPU would reject is refused before anything is recorded: a KernelError naming the op', async () => {
  const before = vg.memory();
  const first = unrelatedWork();
  const x = vg.tensor([1, -2, 3, -4]);
  const dispatches = vg.memory().dispatches;
  const cases: [string, (y: vg.Tensor) => { buffer: unknown; offset: number; size: number }, RegExp][] = [
    ['past the end', () => ({ ...bind(x), size: 4096 }), /binding 'x' covers bytes \[0, 4096\) of a buffer of \d+/],
    ['misaligned', () => ({ ...bind(x), offset: 4, size: 16 }), /binding 'x' starts at byte 4, not a multiple of/],
    [
      'below the minimum',
      () => ({ ...bind(x), size: 4 }),
      /binding 'x' covers 4 bytes; it needs a multiple of 4, at least 16/,
    ],
    [
      'aliased with the output',
      (y) => bind(y),
      /bindings 'x' and 'y' overlap in one buffer and one of them is written/,
    ],
  ];
  for (const [label, binding, re] of cases) {
    assert.throws(
      () =>
        engine.run('relu', [x], { alpha: 0, beta: 0 }, () => {
          const y = engine.empty([4], 'float32');
          engine.backend.dispatch(unaryKernel(), {
            params: { n: 4, alpha: 0, beta: 0 },
            bindings: { x: binding(y) as ReturnType<typeof bind>, y: bind(y) },
            workgroups: 1,
            overrides: { OP: 6 },
          });
          return y;
        }),
      (e: Error) =>
        e instanceof vg.KernelError &&
        /^relu: kernel unary \(kernels\/unary\.wgsl\): /.test(e.message) &&
        re.test(e.message),
      label,
    );
  }
  assert.is(vg.memory().dispatches, dispatches, 'nothing recorded');
  // A released buffer (a tensor used after its storage went back to the pool) is refused too.
  const gone = vg.tensor([1, 2, 3, 4]);
  const stale = bind(gone);
  assert.throws(
    () =>
      engine.run('relu', [x], { alpha: 0, beta: 0 }, () => {
        const y = engine.empty([4], 'float32');
        gone.dispose();
        engine.backend.dispatch(unaryKernel(), {
          params: { n: 4, alpha: 0, beta: 0 },
          bindings: { x: stale, y: bind(y) },
          workgroups: 1,
          overrides: { OP: 6 },
        });
        return y;
      }),
    /^relu: kernel unary .*binding 'x' is a buffer already released/,
  );
  const second = unrelatedWork();
  await first.check();
  await second.check();
  await engineWorks();
  for (const r of [first.a, second.a, x]) r.dispose();
  const after = vg.memory();
  assert.is(after.liveTensors, before.liveTensors, 'nothing leaked');
  assert.is(after.liveBuffers, before.liveBuffers, 'no buffer leaked');
});

t('a kernel that fails to compile: the error names the op and the line, the batch around it is intact', async () => {
  const broken: Kernel = {
    name: 'broken_for_test',
    file: 'broken_for_test.wgsl',
    source:
      '@group(0) @binding(0) var<uniform> params: vec4<u32>;\n@group(0) @binding(1) var<storage, read_write> y: array<f32>;\n@compute @workgroup_size(1)\nfn main() {\n  y[0] = undefined_value;\n}\n',
    preludes: [],
    params: {},
    bindings: ['y'],
    overrides: [],
    consts: [],
    aliases: [],
    requires: [],
  };
  const before = vg.memory();
  const first = unrelatedWork();
  const runBroken = (): vg.Tensor =>
    engine.run('sigmoid', [], { alpha: 0, beta: 0 }, () => {
      const y = engine.empty([4], 'float32');
      engine.backend.dispatch(broken, { params: {}, bindings: { y: bind(y) }, workgroups: 1 });
      return y;
    });
  const garbage = runBroken();
  const second = unrelatedWork();
  // The next read reports the failure, naming the op and the kernel's file and line.
  const error = await rejects(
    () => vg.readAll([first.a, second.a]),
    vg.KernelError,
    /^sigmoid: kernels\/broken_for_test\.wgsl:5:\d+: .*undefined_value/,
  );
  assert.ok(error);
  // Then the work batched before and after it reads back correctly: none of it was dropped.
  await first.check();
  await second.check();
  // A pipeline known to be broken is refused at once on its next use, and nothing is left.
  const count = vg.memory().liveTensors;
  assert.throws(runBroken, /^sigmoid: kernels\/broken_for_test\.wgsl:5/);
  assert.is(vg.memory().liveTensors, count);
  await engineWorks();
  for (const r of [first.a, second.a, garbage]) r.dispose();
  assert.is(vg.memory().liveTensors, before.liveTensors, 'nothing leaked');
});

t('any other validation error inside an op is caught by its error scope and named; the engine goes on', async () => {
  const first = unrelatedWork();
  const device = (engine.backend as WebGPUBackend).device;
  const y = engine.run('tanh', [], { alpha: 0, beta: 0 }, () => {
    // An invalid descriptor: WebGPU reports it asynchronously, to the innermost error scope.
    device.createBuffer({ size: 16, usage: 0 });
    return vg.tensor([0.5]);
  });
  const second = unrelatedWork();
  await rejects(() => vg.sync(), vg.KernelError, /^tanh: /);
  await first.check();
  await second.check();
  assert.equal(Array.from(await y.data()), [0.5]);
  await engineWorks();
  for (const r of [first.a, second.a, y]) r.dispose();
});

t.run();
