import * as assert from 'uvu/assert';
import * as vg from '../src/index.node.js';
import { engine } from '../src/tensor/engine.js';
import { type BlockChunk, blockChunks, weightChunks } from '../src/tensor/ops/conv3d/uniform_weights.js';
import {
  CONV_VARIANTS,
  DIRECT_SUBGROUP,
  directSubgroupRuns,
  WEIGHT_VISITS,
  WEIGHT_VISITS_FAMILY,
} from '../src/tensor/ops/conv3d/variants.js';
import { checkGrad } from './gradcheck.js';
import { setup, suite } from './harness.js';
import { assertClose, randomNd, toGpu } from './helpers.js';
import { Nd } from './oracle.js';
import { withConvVariant } from './variants.js';
import { conv3dOracle, conv3dWeightGradOracle, fusedOracle, type ConvOpts as Opts } from './volume_oracle.js';

const t = suite('conv3d (float64 oracle, finite differences)');
t.before(setup);

const cases: [number[], number[], Opts][] = [
  [[1, 5, 6, 7, 3], [3, 3, 3, 3, 5], { padding: 'same' }],
  [[2, 7, 5, 6, 2], [3, 3, 3, 2, 4], { padding: 'valid' }],
  [[2, 9, 8, 7, 3], [3, 3, 3, 3, 2], { padding: 'same', strides: [2, 2, 2] }],
  [[1, 8, 7, 9, 4], [2, 3, 1, 4, 6], { padding: 'valid', strides: [2, 1, 3] }],
  [[1, 9, 9, 8, 2], [3, 3, 3, 2, 3], { padding: 'same', dilation: [2, 2, 1] }],
  [[2, 6, 6, 6, 5], [1, 1, 1, 5, 7], {}],
  [[1, 4, 4, 4, 1], [4, 4, 4, 1, 1], { padding: 'same', strides: [3, 3, 3] }],
];

// Every variant of the three passes (direct, and the tiled GEMMs the tuner may choose) runs the
// same oracle and finite-difference checks.
for (const variant of CONV_VARIANTS) {
  for (const [xs, ws, o] of cases) {
    t(`forward x[${xs}] w[${ws}] ${JSON.stringify(o)} (${variant})`, () =>
      withConvVariant(variant, async () => {
        const x = randomNd(xs, 1);
        const w = randomNd(ws, 2);
        await assertClose(vg.conv3d(toGpu(x), toGpu(w), o), conv3dOracle(x, w, o), { atol: 1e-5, rtol: 1e-5 });
      }),
    );
  }

  for (const [xs, ws, o] of [
    [[1, 4, 5, 3, 2], [3, 3, 3, 2, 3], { padding: 'same' }],
    [[2, 5, 4, 5, 3], [3, 2, 3, 3, 2], { padding: 'valid', strides: [2, 1, 2] }],
    [[1, 6, 5, 5, 2], [3, 3, 3, 2, 2], { padding: 'same', strides: [2, 2, 2], dilation: [1, 2, 1] }],
    // The last input row along x is read by no output (6 = 2·2 + 1 + a remainder).
    [[1, 6, 4, 6, 2], [3, 2, 3, 2, 2], { padding: 'valid', strides: [2, 1, 2] }],
    // Unit strides: the input gradient is a full convolution with the flipped kernel, padded
    // (K − 1)·dilation − pad before each axis ('valid', and 'same' with an even kernel and dilation).
    [[1, 5, 6, 5, 2], [3, 3, 3, 2, 3], { padding: 'valid' }],
    [[1, 7, 6, 7, 2], [3, 2, 3, 2, 2], { padding: 'same', dilation: [2, 1, 2] }],
    // Channels in multiples of 4, which the direct weight gradient reads as vec4s: whole blocks,
    // blocks past the last channel (12 input channels in blocks of 8, 12 output channels in
    // blocks of 8), and taps along z that do not slide (stride 2, dilation 2).
    [[1, 4, 5, 6, 4], [3, 3, 3, 4, 8], { padding: 'same' }],
    [[1, 5, 4, 6, 12], [3, 3, 3, 12, 4], { padding: 'valid', strides: [1, 2, 2] }],
    [[1, 4, 3, 7, 8], [1, 2, 5, 8, 12], { padding: 'same', dilation: [1, 1, 2] }],
  ] as [number[], number[], Opts][]) {
    t(`gradients x[${xs}] w[${ws}] ${JSON.stringify(o)} (${variant})`, () =>
      withConvVariant(variant, () =>
        checkGrad({
          label: 'conv3d',
          inputs: [randomNd(xs, 3), randomNd(ws, 4)],
          gpu: (x, w) => vg.conv3d(x, w, o),
          oracle: (x, w) => conv3dOracle(x, w, o),
        }),
      ),
    );
  }

  for (const [xs, ws, o, relu] of [
    [[1, 4, 5, 3, 2], [3, 3, 3, 2, 3], { padding: 'same' }, true],
    [[2, 5, 4, 5, 3], [3, 2, 3, 3, 4], { padding: 'valid', strides: [2, 1, 2] }, true],
    [[1, 4, 4, 4, 2], [1, 1, 1, 2, 1], {}, false],
  ] as [number[], number[], Opts, boolean][]) {
    t(
      `fused bias${relu ? ' and relu' : ''}: forward and gradients x[${xs}] w[${ws}] ${JSON.stringify(o)} (${variant})`,
      () =>
        withConvVariant(variant, async () => {
          const [x, w, b] = [randomNd(xs, 13), randomNd(ws, 14), randomNd([ws[4]], 15)];
          const activation = relu ? 'relu' : 'linear';
          await assertClose(
            vg.conv3d(toGpu(x), toGpu(w), { ...o, bias: toGpu(b), activation }),
            fusedOracle(x, w, b, o, relu),
            { atol: 1e-5, rtol: 1e-5 },
          );
          await checkGrad({
            label: `conv3d + bias${relu ? ' + relu' : ''}`,
            inputs: [x, w, b],
            gpu: (xi, wi, bi) => vg.conv3d(xi, wi, { ...o, bias: bi, activation }),
            oracle: (xi, wi, bi) => fusedOracle(xi, wi, bi, o, relu),
          });
        }),
    );
  }
}

// Channel counts that leave partial channel blocks (11 → 13 channels) and a kernel with a long z
// extent whose 'same' padding differs from 1 (the direct kernel's z taps slide along each row).
const chunkedCases: [number, number, [number, number, number]][] = [
  [3, 4, [3, 3, 3]],
  [11, 13, [3, 3, 3]],
  [2, 3, [2, 3, 5]],
];
for (const variant of CONV_VARIANTS)
  for (const [CI, CO, K] of chunkedCases)
    t(
      `a weight gradient over many voxels is split into chunks and stays exact: ${CI} → ${CO} channels, kernel ${K.join('x')} (${variant})`,
      () =>
        withConvVariant(variant, async () => {
          const N = CI > 8 ? 9 : 12;
          const x = randomNd([2, N, N, N, CI], 5);
          const w = randomNd([...K, CI, CO], 6);
          const xg = toGpu(x);
          const wg = toGpu(w);
          const dy = randomNd([2, N, N, N, CO], 7);
          const { grads } = vg.valueAndGrad(
            () => vg.sum(vg.mul(vg.conv3d(xg, wg, { padding: 'same' }), toGpu(dy))),
            [wg],
          );
          const expected = conv3dWeightGradOracle(x, dy, K, { padding: 'same' });
          await assertClose(grads[0]!, expected, { atol: 1e-3, rtol: 1e-4 });
        }),
    );

// Both forms of the direct kernel: each invocation loading its weights, and one load per subgroup
// shared by shuffles (the latter runs as the former on a device without subgroups of 8 or more).
const DIRECT_VARIANTS = ['direct', DIRECT_SUBGROUP];

t(
  'direct-subgroup runs the subgroup kernel where the device has subgroups of 8 or more, the plain one elsewhere',
  async () => {
    const x = vg.randomNormal([1, 6, 6, 6, 4], { seed: 1 });
    const w = vg.randomNormal([3, 3, 3, 4, 8], { seed: 2 });
    // The kernels a forward pass and an input gradient dispatch (null without timestamp queries).
    const kernelsOf = (variant: string) =>
      withConvVariant(variant, () =>
        engine.backend.profileKernels(() =>
          vg.tidy(() => {
            vg.valueAndGrad(() => vg.sum(vg.conv3d(x, w, { padding: 'same' })), [x]);
          }),
        ),
      );
    const plain = await kernelsOf('direct');
    const shared = await kernelsOf(DIRECT_SUBGROUP);
    x.dispose();
    w.dispose();
    if (plain === null || shared === null) return;
    const names = (k: typeof plain) => k.map((e) => e.kernel.split(' ')[0]);
    const expected = engine.backend.subgroupMinSize >= 8 ? 'conv3d_subgroup' : 'conv3d';
    assert.equal(
      names(shared).filter((n) => n.startsWith('conv3d')),
      [expected, expected],
      `kernels run: ${names(shared).join(', ')}`,
    );
    assert.equal(
      names(plain).filter((n) => n.startsWith('conv3d')),
      ['conv3d', 'conv3d'],
    );
  },
);

t('the direct weight gradient reads x and dy as vec4s where its channels and blocks are multiples of 4', async () => {
  // The weight-gradient kernels a conv3d(x, w) gradient dispatches, with their constants.
  const kernelsOf = (CI: number, CO: number) => {
    const x = vg.randomNormal([1, 5, 5, 5, CI], { seed: 1 });
    const w = vg.randomNormal([3, 3, 3, CI, CO], { seed: 2 });
    return withConvVariant('direct', async () => {
      const run = await engine.backend.profileKernels(() =>
        vg.tidy(() => {
          vg.valueAndGrad(() => vg.sum(vg.conv3d(x, w, { padding: 'same' })), [w]);
        }),
      );
      x.dispose();
      w.dispose();
      return run?.map((e) => e.kernel).filter((k) => k.startsWith('conv3d_grad_weight')) ?? null;
    });
  };
  const widths = async (CI: number, CO: number) =>
    (await kernelsOf(CI, CO))?.map((k) => (JSON.parse(k.slice(k.indexOf('{'))) as { VW: number }).VW) ?? null;
  const cases: [number, number, number][] = [
    [8, 16, 4],
    [12, 4, 4],
    [4, 6, 1],
    [6, 8, 1],
    [1, 16, 1],
  ];
  for (const [CI, CO, VW] of cases) {
    const found = await widths(CI, CO);
    if (found === null) return;
    assert.equal(found, [VW], `${CI} -> ${CO} channels`);
  }
});

// Rows of 64 or more voxels along z whose taps slide: the direct weight gradient takes 1 voxel
// per visit of its accumulators, or, where the tuner chose 'two-voxels' for the class, 2 voxels
// a visit, then the odd voxel of an odd row alone. Rows of 64 to 67 voxels, 'same' (taps in the
// padding at both ends) and 'valid', channels read as f32 and as vec4s; infinities at both ends
// of a row of x, against the float64 oracle (NaN and infinities in dy, which padding taps
// multiply by 0, are in special_values.test.ts), with the voxels a visit the host chose checked.
for (const [visits, VP] of [
  ['one-voxel', 1],
  ['two-voxels', 2],
] as const)
  t(`the direct weight gradient over long rows (${visits} a visit) matches the oracle, infinities included`, () =>
    withConvVariant('direct', async () => {
      vg.tuning.force(WEIGHT_VISITS_FAMILY, visits);
      try {
        const cases: [number[], number[], Opts][] = [
          [[1, 2, 3, 65, 4], [3, 3, 3, 4, 8], { padding: 'same' }],
          [[2, 2, 2, 64, 3], [3, 3, 3, 3, 5], { padding: 'same' }],
          [[1, 3, 4, 69, 8], [3, 3, 3, 8, 4], { padding: 'valid' }],
          [[1, 2, 3, 66, 2], [3, 2, 5, 2, 3], { padding: 'same' }],
        ];
        for (const [xs, ws, o] of cases) {
          const x = randomNd(xs, 41);
          const IZ = xs[3]!;
          const CI = xs[4]!;
          x.data[0] = Infinity;
          x.data[(IZ - 1) * CI + CI - 1] = -Infinity;
          const xg = toGpu(x);
          const wg = vg.randomNormal(ws, { seed: 42 });
          const y = vg.conv3d(xg, wg, o);
          const dy = randomNd([...y.shape], 43);
          const dyg = toGpu(dy);
          const run = () => vg.valueAndGrad(() => vg.sum(vg.mul(vg.conv3d(xg, wg, o), dyg)), [wg]).grads[0]!;
          const kernels = await engine.backend.profileKernels(() => vg.tidy(() => void run()));
          const dw = run();
          await assertClose(dw, conv3dWeightGradOracle(x, dy, ws.slice(0, 3), o), { atol: 1e-3, rtol: 1e-4 });
          if (kernels !== null) {
            const pairs = kernels
              .map((e) => e.kernel)
              .filter((k) => k.startsWith('conv3d_grad_weight'))
              .map((k) => (JSON.parse(k.slice(k.indexOf('{'))) as { VP: number }).VP);
            assert.equal(pairs, [VP], `x[${xs}] w[${ws}]: voxels a visit`);
          }
          for (const tt of [xg, wg, y, dyg, dw]) tt.dispose();
        }
      } finally {
        vg.tuning.force(WEIGHT_VISITS_FAMILY, null);
      }
    }),
  );

// Rows of several blocks of 8 voxels along z: with subgroups, the direct kernel takes the last
// positions of a block's input window from the next lane's loads (the next block of the same row),
// and loads them itself at a row's end. Rows of 19-30 voxels (blocks of 8 and a shorter last
// one), z extents 3 and 5, 'same' and 'valid', with a NaN and infinities on block boundaries.
for (const variant of DIRECT_VARIANTS)
  for (const [xs, ws, o] of [
    [[2, 3, 2, 21, 3], [3, 3, 3, 3, 5], { padding: 'same' }],
    [[1, 2, 3, 19, 4], [3, 2, 5, 4, 8], { padding: 'same' }],
    [[1, 3, 3, 30, 2], [3, 3, 3, 2, 3], { padding: 'valid' }],
  ] as [number[], number[], Opts][])
    t(`rows of several z-blocks: forward and gradients x[${xs}] w[${ws}] ${JSON.stringify(o)} (${variant})`, () =>
      withConvVariant(variant, async () => {
        const [x, w] = [randomNd(xs, 33), randomNd(ws, 34)];
        const special = x.map((v) => v);
        const CI = xs[4]!;
        special.data[8 * CI] = Number.NaN;
        special.data[(xs[3]! + 7) * CI + 1] = Number.POSITIVE_INFINITY;
        special.data[(xs[3]! + 16) * CI] = Number.NEGATIVE_INFINITY;
        await assertClose(vg.conv3d(toGpu(special), toGpu(w), o), conv3dOracle(special, w, o), {
          atol: 1e-4,
          rtol: 1e-4,
        });
        await checkGrad({
          label: 'conv3d',
          inputs: [x, w],
          gpu: (a, b) => vg.conv3d(a, b, o),
          oracle: (a, b) => conv3dOracle(a, b, o),
        });
      }),
    );

// The weight gradient's subgroup form: invocations of neighbouring output-channel blocks share
// their input loads (XD = 1), of neighbouring input-channel blocks their dy loads (DD = the
// number of output-channel blocks), each loading one vec4 of two and taking the other from its
// partner's lane, where the partner runs the same tap row and chunk (3 input-channel blocks put
// some partners in the next tap row: they load both themselves). Chunks of 36 invocations and
// more do not align with subgroups. NaN and infinities in x, rows of 66 and 67 voxels (one and
// two voxels a visit, an odd one alone), against the float64 oracle, with the partners the host
// chose checked (NaN and infinities in dy: special_values.test.ts). 8 → 8 channels are split into
// two input-channel blocks of 4 so that they have dy partners.
for (const visits of WEIGHT_VISITS)
  t(
    `the subgroup weight gradient shares input and dy loads between partner invocations and matches the oracle (${visits} a visit on long rows)`,
    () =>
      withConvVariant(DIRECT_SUBGROUP, async () => {
        vg.tuning.force(WEIGHT_VISITS_FAMILY, visits);
        try {
          const cases: [number[], number[], Opts, { XD: number; DD: number }][] = [
            [[1, 3, 4, 6, 16], [3, 3, 3, 16, 16], { padding: 'same' }, { XD: 1, DD: 2 }],
            [[1, 3, 3, 5, 24], [3, 3, 3, 24, 32], { padding: 'same' }, { XD: 1, DD: 4 }],
            [[1, 2, 3, 4, 16], [3, 3, 3, 16, 64], { padding: 'same' }, { XD: 1, DD: 0 }],
            [[2, 3, 3, 5, 16], [3, 2, 3, 16, 8], { padding: 'valid' }, { XD: 0, DD: 1 }],
            [[1, 3, 3, 4, 12], [3, 3, 3, 12, 8], { padding: 'same' }, { XD: 0, DD: 1 }],
            [[2, 3, 4, 5, 8], [3, 3, 3, 8, 8], { padding: 'same' }, { XD: 0, DD: 1 }],
            [[1, 2, 2, 66, 16], [3, 3, 3, 16, 16], { padding: 'same' }, { XD: 1, DD: 2 }],
            [[1, 2, 3, 67, 24], [3, 3, 3, 24, 32], { padding: 'same' }, { XD: 1, DD: 4 }],
          ];
          for (const [xs, ws, o, partners] of cases) {
            const x = randomNd(xs, 61);
            x.data[5] = Number.POSITIVE_INFINITY;
            x.data[x.size - 9] = Number.NaN;
            x.data[x.size - 30] = Number.NEGATIVE_INFINITY;
            const xg = toGpu(x);
            const wg = vg.randomNormal(ws, { seed: 62 });
            const y = vg.conv3d(xg, wg, o);
            const dy = randomNd([...y.shape], 63);
            const dyg = toGpu(dy);
            const run = () => vg.valueAndGrad(() => vg.sum(vg.mul(vg.conv3d(xg, wg, o), dyg)), [wg]).grads[0]!;
            const kernels = await engine.backend.profileKernels(() => vg.tidy(() => void run()));
            const dw = run();
            const label = `x[${xs}] w[${ws}]`;
            await assertClose(dw, conv3dWeightGradOracle(x, dy, ws.slice(0, 3), o), { atol: 1e-3, rtol: 1e-4, label });
            if (kernels !== null) {
              const found = kernels
                .map((e) => e.kernel)
                .filter((k) => k.startsWith('conv3d_grad_weight'))
                .map((k) => {
                  const c = JSON.parse(k.slice(k.indexOf('{'))) as { XD: number; DD: number; VP: number };
                  return { kernel: k.split(' ')[0], XD: c.XD, DD: c.DD, VP: c.VP };
                });
              const shares = directSubgroupRuns();
              const VP = visits === 'two-voxels' && xs[3]! >= 64 ? 2 : 1;
              assert.equal(
                found,
                [
                  shares
                    ? { kernel: 'conv3d_grad_weight_subgroup', ...partners, VP }
                    : { kernel: 'conv3d_grad_weight', XD: 0, DD: 0, VP },
                ],
                `${label}: partners and voxels a visit`,
              );
            }
            for (const tt of [xg, wg, y, dyg, dw]) tt.dispose();
          }
        } finally {
          vg.tuning.force(WEIGHT_VISITS_FAMILY, null);
        }
      }),
  );

// Kernels with more than 8 weight vec4s an input channel (KZ · CB4: 5 · 2 and 7 · 2), which the
// subgroup form loads in several rounds of 8 lanes.
for (const variant of DIRECT_VARIANTS)
  for (const [xs, ws] of [
    [
      [1, 4, 5, 7, 3],
      [3, 3, 5, 3, 8],
    ],
    [
      [1, 3, 4, 9, 2],
      [1, 1, 7, 2, 6],
    ],
  ] as [number[], number[]][])
    t(`weights of ${ws[2]! * 2} vec4s an input channel: forward and gradients x[${xs}] w[${ws}] (${variant})`, () =>
      withConvVariant(variant, async () => {
        const o: Opts = { padding: 'same' };
        const [x, w] = [randomNd(xs, 31), randomNd(ws, 32)];
        await assertClose(vg.conv3d(toGpu(x), toGpu(w), o), conv3dOracle(x, w, o), { atol: 1e-4, rtol: 1e-4 });
        await checkGrad({
          label: 'conv3d',
          inputs: [x, w],
          gpu: (a, b) => vg.conv3d(a, b, o),
          oracle: (a, b) => conv3dOracle(a, b, o),
        });
      }),
    );

// The direct forward kernel reads its weights through the uniform path, at most 64 KiB a
// dispatch: larger kernels are split over their output-channel blocks, each dispatch with every
// input channel where a block's weights fit, else each block also over its input channels, each
// of those dispatches adding to the partial sums of the one before and the last adding the bias
// and applying the relu; a kernel whose single input channel of one block is too large runs the
// GEMM variant instead. The plan covers every (block, input channel) pair once.
function assertCoversOnce(plan: BlockChunk[], blocks: number, summed: number, label: string): void {
  const count = new Array<number>(blocks * summed).fill(0);
  for (const c of plan)
    for (let b = c.cb0; b < c.cb0 + c.cbc; b++) for (let ch = c.c0; ch < c.c0 + c.n; ch++) count[b * summed + ch]!++;
  assert.ok(
    count.every((n) => n === 1),
    `${label}: every block and channel once`,
  );
}

for (const [xs, ws, dispatches, inputChunks] of [
  [[1, 4, 5, 6, 40], [3, 3, 3, 40, 32], 4, false],
  [[2, 3, 4, 5, 9], [3, 3, 3, 9, 160], 3, false],
  [[2, 3, 4, 5, 9], [3, 3, 3, 9, 320], 5, false],
  [[1, 3, 3, 3, 2], [3, 3, 3, 2, 640], 3, false],
  [[1, 3, 4, 5, 96], [3, 3, 3, 96, 20], 6, true],
  [[1, 3, 3, 4, 160], [3, 3, 3, 160, 8], 3, true],
  [[1, 3, 3, 3, 1], [13, 13, 13, 1, 8], 0, false],
] as [number[], number[], number, boolean][])
  for (const variant of DIRECT_VARIANTS)
    t(
      `direct forward: a kernel of ${ws.reduce((a, b) => a * b) * 4} bytes runs in ${dispatches || 'no'} dispatches${inputChunks ? ' with input-channel chunks' : ''}, bias and relu on the last (${variant})`,
      () =>
        withConvVariant(variant, async () => {
          const blocks = Math.ceil(ws[4]! / 8);
          const found = blockChunks(ws[0]! * ws[1]! * ws[2]!, ws[3]!, blocks, 2);
          assert.is(found?.length ?? 0, dispatches);
          if (found) {
            assertCoversOnce(found, blocks, ws[3]!, `w[${ws}]`);
            assert.is(
              found.some((c) => c.n < ws[3]!),
              inputChunks,
            );
          }
          const [x, w, b] = [randomNd(xs, 21), randomNd(ws, 22), randomNd([ws[4]!], 23)];
          await assertClose(
            vg.conv3d(toGpu(x), toGpu(w), { padding: 'same', bias: toGpu(b), activation: 'relu' }),
            fusedOracle(x, w, b, { padding: 'same' }, true),
            { atol: 1e-4, rtol: 1e-4 },
          );
        }),
    );

// The same for the input gradient (unit strides run the forward kernel over dy with the taps
// flipped, its blocks of input channels each summing the output channels; strided ones their own
// kernel, whose chunks split the output channels it sums): dx against the gradient of
// sum(conv3d(x, w) · dy) with respect to x, summed here in float64.
for (const [xs, ws, s, chunks] of [
  [[1, 4, 5, 6, 32], [3, 3, 3, 32, 40], 1, 4],
  [[1, 3, 3, 4, 8], [3, 3, 3, 8, 160], 1, 3],
  [[1, 3, 4, 5, 320], [3, 3, 3, 320, 9], 1, 5],
  [[1, 3, 3, 3, 640], [3, 3, 3, 640, 2], 1, 3],
  [[1, 5, 6, 7, 32], [3, 3, 3, 32, 40], 2, 3],
] as [number[], number[], number, number][])
  for (const variant of DIRECT_VARIANTS)
    t(
      `direct input gradient, strides ${s}: a kernel of ${ws.reduce((a, b) => a * b) * 4} bytes runs in ${chunks} dispatches (${variant})`,
      () =>
        withConvVariant(variant, async () => {
          const found =
            s === 1
              ? blockChunks(27, ws[4]!, Math.ceil(ws[3]! / 8), 2)?.length
              : weightChunks(27, ws[4]!, Math.ceil(ws[3]! / 8) * 2)?.length;
          assert.is(found ?? 0, chunks);
          const [, X, Y, Z, CI] = xs as [number, number, number, number, number];
          const CO = ws[4]!;
          const [OX, OY, OZ] = [X, Y, Z].map((n) => Math.ceil(n / s)) as [number, number, number];
          // 'same' padding before each axis (TensorFlow's rule).
          const [px, py, pz] = [X, Y, Z].map((n, a) => Math.floor(Math.max(([OX, OY, OZ][a]! - 1) * s + 3 - n, 0) / 2));
          const [x, w] = [randomNd(xs, 24), randomNd(ws, 25)];
          const dy = randomNd([1, OX, OY, OZ, CO], 26);
          const xg = toGpu(x);
          const { grads } = vg.valueAndGrad(
            () => vg.sum(vg.mul(vg.conv3d(xg, toGpu(w), { padding: 'same', strides: s }), toGpu(dy))),
            [xg],
          );
          // dx[i, ci] = Σ over outputs o and taps k with i = o·s + k − pad of dy[o, co] · w[k, ci, co].
          const expected = new Float64Array(x.size);
          for (let ox = 0; ox < OX; ox++)
            for (let oy = 0; oy < OY; oy++)
              for (let oz = 0; oz < OZ; oz++)
                for (let k = 0; k < 27; k++) {
                  const [ix, iy, iz] = [
                    ox * s + Math.floor(k / 9) - px!,
                    oy * s + (Math.floor(k / 3) % 3) - py!,
                    oz * s + (k % 3) - pz!,
                  ];
                  if (ix < 0 || iy < 0 || iz < 0 || ix >= X || iy >= Y || iz >= Z) continue;
                  const o = ((ox * OY + oy) * OZ + oz) * CO;
                  for (let ci = 0; ci < CI; ci++) {
                    let acc = 0;
                    for (let co = 0; co < CO; co++) acc += dy.data[o + co]! * w.data[(k * CI + ci) * CO + co]!;
                    expected[((ix * Y + iy) * Z + iz) * CI + ci] += acc;
                  }
                }
          await assertClose(grads[0]!, new Nd(x.shape, expected), { atol: 1e-4, rtol: 1e-4 });
        }),
    );

t('bad input is rejected before any GPU work', () => {
  const x = vg.zeros([1, 4, 4, 4, 2]);
  const before = vg.memory();
  const cases: [() => unknown, RegExp][] = [
    [() => vg.conv3d(vg.zeros([4, 4, 4, 2]), vg.zeros([3, 3, 3, 2, 1])), /conv3d.*'x'.*rank 5/],
    [() => vg.conv3d(x, vg.zeros([3, 3, 3, 3, 1])), /conv3d.*'kernel'.*2 input channels/],
    [() => vg.conv3d(x, vg.zeros([5, 3, 3, 2, 1])), /conv3d.*spatial size >= 5 on axis 1/],
    [() => vg.conv3d(x, vg.zeros([3, 3, 3, 2, 1]), { strides: [2, 0, 1] }), /conv3d.*strides.*positive integer/],
    [() => vg.conv3d(x, vg.zeros([3, 3, 3, 2, 1]), { padding: 'full' as never }), /conv3d.*padding.*'same' or 'valid'/],
    [
      () => vg.conv3d(x, vg.zeros([3, 3, 3, 2, 1]), { bias: vg.zeros([2]) }),
      /conv3d: argument 'bias' expected shape \[1\]/,
    ],
    [
      () => vg.conv3d(x, vg.zeros([3, 3, 3, 2, 1]), { activation: 'tanh' as never }),
      /conv3d: argument 'activation' expected 'linear' or 'relu'/,
    ],
  ];
  const d0 = vg.memory().dispatches;
  for (const [f, re] of cases) assert.throws(() => vg.tidy(() => f() as vg.Tensor), re);
  assert.is(vg.memory().liveTensors, before.liveTensors);
  assert.ok(vg.memory().dispatches - d0 <= 6 * 2, "only the test's own zeros() dispatched");
  x.dispose();
});

t.run();
