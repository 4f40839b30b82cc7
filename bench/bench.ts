/**
 * voxgrad benchmark: the practical limit (copyBufferToBuffer), voxgrad's fused overlap-sum
 * kernels and the segmentation losses, plus a few core kernels, on one device in one process.
 * Bandwidth counts bytes read plus bytes written. Times are medians; where the adapter has
 * timestamp queries the GPU time between timestamps is the headline figure and the wall time
 * (including the host's wait) is shown beside it.
 * Usage: npm run bench [-- --quick | --smoke] [-- --json FILE] [-- --markdown FILE]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SYNTHETIC_CLASSES, syntheticVolumes } from '../src/data/synthetic.js';
import * as vg from '../src/index.node.js';
import { foregroundLoss, segmentationLoss, twoHeadModel } from '../src/models/two_heads.js';
import { engine } from '../src/tensor/engine.js';
import { conv3dGradInput, conv3dGradWeight } from '../src/tensor/ops/conv3d/backward.js';
import { conv3dGeometry } from '../src/tensor/ops/conv3d/geometry.js';
import { convShapeClass } from '../src/tensor/ops/conv3d/variants.js';
import { stepMemory } from './memory.js';
import { stepConvFlops, stepSetup, trainStep } from './models.js';
import type { PeerLoss, PeerResult, StepReference, StepResult } from './peers.js';
import { jaxLoss, jaxTrainStep, relativeDifference, tfjsLoss, tfjsTrainStep } from './peers.js';
import { loadCosts, measureLimits, measurePeak, roofline } from './roofline.js';
import { slidingWindowBench } from './sliding_window.js';
import type { Timing } from './timing.js';
import { bestMs, timeGpu } from './timing.js';
import { torchUNetStep } from './torch_peer.js';

const args = process.argv.slice(2);
// --smoke: the test suite's run, --quick with the U-Net at 32³, no tuning beyond 5 s, no peer
// installed (PyTorch only when present) and no sliding-window rows.
const smoke = args.includes('--smoke');
const quick = smoke || args.includes('--quick');
const argValue = (name: string, fallback: string): string => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const jsonPath = argValue('--json', 'bench-results/bench.json');
const markdownPath = argValue('--markdown', 'bench-results/bench.md');
const runs = quick ? 5 : 11;

const info = await vg.init();
// Both limits of this adapter, measured first in the same run.
// Measured at the start and again at the end (the machine's speed drifts): the faster of each counts.
let limits = await measureLimits(runs);

interface Row {
  name: string;
  shape: string;
  ms: number;
  wallMs: number;
  gbps: number | null;
  vsCopy: string;
  /** GB/s over what a compute shader's own vec4 copy reaches in this run. */
  vsShaderCopy: string;
  note: string;
  /** Bytes the work must move at least (read + written) and its FLOPs, counted from the shapes. */
  bytes: number;
  flops: number;
  /** max(bytes / copy bandwidth, FLOPs / compute peak), and that over the measured time. */
  rooflineMs: number | null;
  rooflineShare: number | null;
}
const rows: Row[] = [];
const copyGbps = new Map<string, number>();

/**
 * A measured row. `bytes` is what the work must read and write (null: not a memory-bound kernel
 * worth a bandwidth figure); `flops` its arithmetic (0 when it is pure data movement).
 */
function record(name: string, shape: number[], t: Timing, bytes: number | null, note = '', flops = 0): Row {
  const ms = bestMs(t);
  const key = shape.join('x');
  const gbps = bytes === null ? null : bytes / (ms * 1e6);
  const ref = copyGbps.get(key);
  const vsCopy = gbps !== null && ref ? `${((100 * gbps) / ref).toFixed(0)}%` : '';
  const vsShaderCopy = gbps !== null ? `${((100 * gbps * 1e9) / limits.shaderCopyBytesPerSecond).toFixed(0)}%` : '';
  const moved = bytes ?? 0;
  const roof = moved > 0 || flops > 0 ? roofline(limits, ms, moved, flops) : null;
  const row: Row = {
    name,
    shape: key,
    ms,
    wallMs: t.medianMs,
    gbps,
    vsCopy,
    vsShaderCopy,
    note,
    bytes: moved,
    flops,
    rooflineMs: roof?.rooflineMs ?? null,
    rooflineShare: roof?.rooflineShare ?? null,
  };
  rows.push(row);
  return row;
}

/**
 * FLOPs per element of the overlap sums, as the kernel does them: t·p and three sums (4), and
 * with a fused softmax the max, subtraction, exp, sum and division (5 more). The backward pass
 * reads t and p, and writes dL/dp: 3 per element.
 */
const OVERLAP_FLOPS = 4;
const SOFTMAX_FLOPS = 5;
const OVERLAP_GRAD_FLOPS = 3;

const time = (fn: () => void): Promise<Timing> => timeGpu(() => vg.tidy(() => void fn()), { runs });

/** Random predictions and labels of a (B, X, Y, Z, C) volume, as one-hot and as class indices. */
function volume(shape: number[]): { pred: vg.Tensor; logits: vg.Tensor; onehot: vg.Tensor; labels: vg.Tensor } {
  return vg.tidy(() => {
    const C = shape[4];
    const labels = vg.cast(vg.mul(vg.randomUniform(shape.slice(0, 4), { seed: 3 }), C - 1e-3), 'int32');
    const classes = vg.tensor(
      Int32Array.from({ length: C }, (_, i) => i),
      [C],
      'int32',
    );
    const onehot = vg.cast(vg.equal(vg.expandDims(labels, -1), classes), 'float32');
    const logits = vg.randomNormal(shape, { seed: 4 });
    const pred = vg.softmax(logits);
    return { pred, logits, onehot, labels };
  });
}

interface PeerRow extends Omit<PeerResult, 'gradient'> {
  shape: string;
  voxgradValue: number;
  /** Largest |peer − voxgrad| gradient difference relative to the largest voxgrad gradient. */
  gradError: number;
  agrees: boolean;
  voxgradFwdMs: number;
  voxgradFwdBwdMs: number;
}
const peers: PeerRow[] = [];
// The peers run after every voxgrad row, so that no other engine's device, threads or memory
// exist in this process while voxgrad is timed: each comparison is queued here, run at the end.
const peerJobs: (() => Promise<void>)[] = [];
// Printed with the results (the package does not export its version).
const packageVersion = (path: string): string =>
  (JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { version: string }).version;
const jaxVersion = packageVersion('../../node_modules/@jax-js/jax/package.json');
const versions = `voxgrad ${packageVersion('../../package.json')}, webgpu (dawn.node) ${packageVersion('../../node_modules/webgpu/package.json')}, node ${process.version}`;

const shapes = quick
  ? [
      [2, 32, 32, 32, 4],
      [1, 128, 128, 128, 4],
    ]
  : [
      [2, 32, 32, 32, 4],
      [2, 64, 64, 64, 4],
      [1, 128, 128, 128, 4],
    ];
for (const shape of shapes) {
  const n = shape.reduce((a, b) => a * b, 1);
  const bytes = n * 4;
  const v = volume(shape);
  const scratch = vg.zeros(shape);
  const copy = await timeGpu(() => engine.backend.copy(v.pred.buffer, 0, scratch.buffer, 0, bytes), { runs });
  copyGbps.set(shape.join('x'), (2 * bytes) / (bestMs(copy) * 1e6));
  record('copyBufferToBuffer (limit)', shape, copy, 2 * bytes);

  record(
    'overlapSums fwd, one-hot',
    shape,
    await time(() => vg.overlapSums(v.onehot, v.pred)),
    2 * bytes,
    '',
    OVERLAP_FLOPS * n,
  );
  record(
    'overlapSums fwd, int32 labels',
    shape,
    await time(() => vg.overlapSums(v.labels, v.pred)),
    bytes + bytes / shape[4],
    '',
    OVERLAP_FLOPS * n,
  );
  record(
    'overlapSums fwd, labels+softmax',
    shape,
    await time(() => vg.overlapSums(v.labels, v.logits, { activation: 'softmax' })),
    bytes + bytes / shape[4],
    '',
    (OVERLAP_FLOPS + SOFTMAX_FLOPS) * n,
  );
  const dy = vg.onesLike(vg.overlapSums(v.onehot, v.pred));
  record(
    'overlapSums bwd (dL/dp), one-hot',
    shape,
    await time(() => vg.valueAndGrad(() => vg.sum(vg.mul(vg.overlapSums(v.onehot, v.pred), dy)), [v.pred])),
    // t and p read by each pass, dL/dp written.
    5 * bytes,
    'fwd + bwd',
    (OVERLAP_FLOPS + OVERLAP_GRAD_FLOPS) * n,
  );

  const losses: [string, (p: vg.Tensor) => vg.Tensor][] = [
    ['dice', (p) => vg.dice(v.onehot, p)],
    ['dice (labels, softmax logits)', (p) => vg.dice(v.labels, p, { activation: 'softmax' })],
    ['iou', (p) => vg.iou(v.onehot, p)],
    ['tversky', (p) => vg.tversky(v.onehot, p, { alpha: 0.3, beta: 0.7 })],
    ['generalizedDice', (p) => vg.generalizedDice(v.onehot, p)],
    ['diceCrossentropy (softmax logits)', (p) => vg.diceCrossentropy(v.labels, p, { activation: 'softmax' })],
  ];
  for (const [name, f] of losses) {
    const logits = name.includes('logits');
    const input = logits ? v.logits : v.pred;
    // Labels are read as one int32 per voxel, one-hot truth as C floats; the gradient pass reads
    // both again and writes dL/dp.
    const truthBytes = f === losses[1]![1] || name.startsWith('diceCrossentropy') ? bytes / shape[4] : bytes;
    const fwdFlops = (OVERLAP_FLOPS + (logits ? SOFTMAX_FLOPS : 0)) * n;
    record(`${name} fwd`, shape, await time(() => f(input)), truthBytes + bytes, '', fwdFlops);
    record(
      `${name} fwd+bwd`,
      shape,
      await time(() => vg.valueAndGrad(() => f(input), [input])),
      2 * (truthBytes + bytes) + bytes,
      '',
      fwdFlops + (OVERLAP_GRAD_FLOPS + (logits ? SOFTMAX_FLOPS : 0)) * n,
    );
  }
  // The same losses with the peers, on the same adapter, checked against voxgrad's value and gradient.
  if (shape[1] >= 64 || shape[1] === 32) {
    const key = shape.join('x');
    const peerRuns = quick ? 3 : 5;
    const [truth, pred] = await vg.readAll([v.onehot, v.pred]);
    const ourLoss: Record<PeerLoss, (p: vg.Tensor) => vg.Tensor> = {
      dice: (p) => vg.dice(v.onehot, p),
      iou: (p) => vg.iou(v.onehot, p),
      tversky: (p) => vg.tversky(v.onehot, p, { alpha: 0.3, beta: 0.7 }),
    };
    for (const kind of ['dice', 'iou', 'tversky'] as const) {
      const { value, grads } = vg.valueAndGrad(() => ourLoss[kind](v.pred), [v.pred]);
      const [ours, ourGrad] = await vg.readAll([value, grads[0]!]);
      vg.tidy(() => [value, grads[0]!].forEach((x) => x.dispose()));
      const oursFwd = rows.find((r) => r.shape === key && r.name === `${kind} fwd`)!;
      const oursBoth = rows.find((r) => r.shape === key && r.name === `${kind} fwd+bwd`)!;
      peerJobs.push(async () => {
        const results: (PeerResult | null)[] = [];
        if (shape[1] === 32)
          results.push(await tfjsLoss('cpu', kind, shape, truth as Float32Array, pred as Float32Array, peerRuns));
        else {
          results.push(await tfjsLoss('webgpu', kind, shape, truth as Float32Array, pred as Float32Array, peerRuns));
          results.push(await jaxLoss(kind, shape, truth as Float32Array, pred as Float32Array, peerRuns, jaxVersion));
        }
        for (const r of results) {
          if (!r) continue;
          const gradError = relativeDifference([ourGrad], [r.gradient]);
          const agrees = Math.abs(r.value - ours[0]) <= 1e-4 && gradError <= 1e-3;
          const { gradient: _, ...rest } = r;
          peers.push({
            ...rest,
            shape: key,
            voxgradValue: ours[0],
            gradError,
            agrees,
            voxgradFwdMs: oursFwd.wallMs,
            voxgradFwdBwdMs: oursBoth.wallMs,
          });
        }
      });
    }
  }
  if (!quick || shape[0] === 1) {
    record('sum over axes (1,2,3)', shape, await time(() => vg.sum(v.pred, [1, 2, 3])), bytes + 16, '', n);
    record('mul (elementwise)', shape, await time(() => vg.mul(v.pred, v.onehot)), 3 * bytes, '', n);
  }
  vg.tidy(() => [v.pred, v.logits, v.onehot, v.labels, scratch, dy].forEach((t) => t.dispose()));
}
// One training step of the demo's two-head model (batch 2 of 32³, 4 classes), voxgrad vs TensorFlow.js.
const trainShape = [2, 32, 32, 32];
const demoData = syntheticVolumes(2, 32, 3);
const demoModel = twoHeadModel({ size: 32, classes: SYNTHETIC_CLASSES, filters: 8 });
demoModel.compile({
  optimizer: new vg.Adam({ learningRate: 0.03 }),
  loss: [segmentationLoss, foregroundLoss],
  lossWeights: [0.5, 0.3],
});
const demoX = vg.tensor(demoData.image, [...trainShape, 1]);
const demoSeg = vg.tensor(demoData.labels, trainShape, 'int32');
const demoFg = vg.tensor(
  Float32Array.from(demoData.labels, (k) => (k > 0 ? 1 : 0)),
  [...trainShape, 1],
);
// voxgrad's loss and gradients at the initial weights: the peer's step is checked against them.
const stepRef: StepReference = { weights: {}, loss: 0, grads: {} };
for (const w of demoModel.trainableWeights)
  stepRef.weights[w.name] = { shape: [...w.shape], data: (await w.data()) as Float32Array };
{
  const { value, grads } = vg.valueAndGrad(() => {
    const p = demoModel.call(demoX, true);
    const names = demoModel.outputNames;
    return vg.add(
      vg.mul(segmentationLoss(demoSeg, p[names[0]]), 0.5),
      vg.mul(foregroundLoss(demoFg, p[names[1]]), 0.3),
    );
  }, demoModel.trainableWeights);
  stepRef.loss = (await value.data())[0];
  const values = await vg.readAll(grads.map((g) => g!));
  demoModel.trainableWeights.forEach((w, i) => {
    stepRef.grads[w.name] = values[i] as Float32Array;
  });
  vg.tidy(() => [value, ...grads].forEach((g) => g?.dispose()));
}
const stepTiming = await time(() => demoModel.trainStep(demoX, [demoSeg, demoFg]));
const ourStep = record(
  'training step, two-head demo model',
  [...trainShape, 1],
  stepTiming,
  null,
  'conv3d trunk, dice + tversky, Adam',
);
// Where the step's GPU time goes: each kernel's total over one step (per-dispatch timestamps).
const stepProfile =
  (await engine.backend.profileKernels(() =>
    vg.tidy(() => {
      demoModel.trainStep(demoX, [demoSeg, demoFg]);
    }),
  )) ?? [];
const theirSteps: StepResult[] = [];
peerJobs.push(async () => {
  theirSteps.push(
    await tfjsTrainStep(trainShape, demoData.image, demoData.labels, SYNTHETIC_CLASSES, 8, quick ? 3 : 5, stepRef),
  );
  const jaxStep = await jaxTrainStep(
    trainShape,
    demoData.image,
    demoData.labels,
    SYNTHETIC_CLASSES,
    8,
    quick ? 3 : 5,
    stepRef,
    jaxVersion,
  );
  if (jaxStep) theirSteps.push(jaxStep);
});
vg.tidy(() => [demoX, demoSeg, demoFg].forEach((t) => t.dispose()));

// --- convolutions, matmul and the U-Net step, against the compute peak ------------------------
// Each workload runs once, then the tuner times the variants of the shape classes it ran that
// have no stored choice for this adapter; the rows are then timed with the chosen variants.
const tuneLog: string[] = [];
const tuneNew = async (): Promise<void> => {
  await vg.sync();
  await vg.tune({ log: (line) => tuneLog.push(line), ...(smoke ? { budgetMs: 5000 } : {}) });
};
const variantOf = (family: string, shapeClass: string): string =>
  vg.tuning.choices()[`${family}|${shapeClass}`] ?? 'untuned default';
const gflops = (flops: number, ms: number): string => `${(flops / (ms * 1e6)).toFixed(2)} GFLOP/s`;

const convCases: [number[], number][] = quick
  ? [[[2, 32, 32, 32, 8], 8]]
  : [
      [[2, 32, 32, 32, 8], 8],
      [[1, 64, 64, 64, 16], 16],
      [[1, 32, 32, 32, 32], 32],
    ];
for (const [xs, co] of convCases) {
  const x = vg.randomNormal(xs, { seed: 8 });
  const w = vg.randomNormal([3, 3, 3, xs[4]!, co], { seed: 9, stddev: 0.1 });
  const g = conv3dGeometry('bench', x, w, { padding: 'same' });
  const dy = vg.randomNormal([g.B, ...g.output, co], { seed: 10 });
  const flops = 2 * g.B * g.output[0] * g.output[1] * g.output[2] * 27 * xs[4]! * co;
  const passes: [string, () => vg.Tensor][] = [
    ['forward', () => vg.conv3d(x, w, { padding: 'same' })],
    ['input', () => conv3dGradInput(dy, w, g)],
    ['weight', () => conv3dGradWeight(x, dy, g)],
  ];
  for (const [, run] of passes) run().dispose();
  await tuneNew();
  const shapeClass = convShapeClass(g);
  for (const [pass, run] of passes) {
    const t = await time(run);
    const label = pass === 'forward' ? 'forward' : `${pass} gradient`;
    record(
      `conv3d 3x3x3 ${xs[4]} -> ${co}, ${label}`,
      xs,
      t,
      null,
      `${gflops(flops, bestMs(t))}, ${variantOf(`conv3d.${pass}`, shapeClass)}`,
      flops,
    );
  }
  for (const tt of [x, w, dy]) tt.dispose();
}

for (const m of [256, 512]) {
  const a = vg.randomNormal([m, m], { seed: 2 });
  vg.matmul(a, a).dispose();
  await tuneNew();
  const mm = await time(() => vg.matmul(a, a));
  const cls = `m${m} n${m} k${m} nn`;
  record(
    'matmul',
    [m, m, m],
    mm,
    3 * m * m * 4,
    `${gflops(2 * m ** 3, bestMs(mm))}, ${variantOf('matmul', cls)}`,
    2 * m ** 3,
  );
  a.dispose();
}

// The two-head U-Net's training step (batch 1, 16 base channels, depth 3, group norm, dice +
// tversky, Adam) at patch sizes users train on; the peak of live device memory beside what the
// step must hold (saved activations, weights, gradients, Adam's state).
interface UNetRow {
  size: number;
  wallMs: number;
  convFlops: number;
  /** The compute peak measured right before and after the step (their mean). */
  besidePeak: number;
  peakBytes: number;
  neededBytes: number;
  savedBytes: number;
}
const unetRows: UNetRow[] = [];
const unetSizes = smoke ? [32] : quick ? [64] : [64, 96, 128];
for (const size of unetSizes) {
  vg.releasePool();
  const setup = stepSetup('unet', size, 1, 16);
  const convFlops = stepConvFlops(setup);
  const mem = stepMemory(setup);
  const first = trainStep(setup);
  await first.data();
  first.dispose();
  await tuneNew();
  const peakBefore = await measurePeak(runs);
  vg.resetPeakBytes();
  const t = await timeGpu(() => trainStep(setup).dispose(), { runs: size >= 96 ? 1 : 3, warmup: 1 });
  const peakBytes = vg.memory().peakBytes;
  const besidePeak = (peakBefore + (await measurePeak(runs))) / 2;
  const row = record(
    'U-Net step, two heads, 16 base channels',
    [1, size, size, size, 1],
    t,
    null,
    `${gflops(convFlops, t.medianMs)} of convolutions, peak ${(peakBytes / 2 ** 20).toFixed(0)} MiB (needs ${(mem.neededBytes / 2 ** 20).toFixed(0)} MiB)`,
    convFlops,
  );
  // A whole step is judged by its wall time (it waits on the host between dispatch batches).
  Object.assign(row, roofline(limits, t.medianMs, 0, convFlops), { ms: t.medianMs });
  unetRows.push({
    size,
    wallMs: t.medianMs,
    convFlops,
    besidePeak,
    peakBytes,
    neededBytes: mem.neededBytes,
    savedBytes: mem.savedBytes,
  });
  setup.dispose();
}
const torchStep = torchUNetStep(unetSizes[0]!, 1, quick ? 2 : 3, { install: !smoke });

// --- whole-volume prediction -------------------------------------------------------------------
// `voxgrad predict`'s work: sliding windows over a 128x128x96 volume, host volume to host result.
for (const r of smoke ? [] : await slidingWindowBench(quick))
  rows.push({
    name: r.name,
    shape: r.shape.join('x'),
    ms: r.ms,
    wallMs: r.ms,
    gbps: null,
    vsCopy: '',
    vsShaderCopy: '',
    note: r.note,
    bytes: 0,
    flops: 0,
    rooflineMs: null,
    rooflineShare: null,
  });

// --- report --------------------------------------------------------------------------------
{
  const end = await measureLimits(runs);
  limits = {
    copyBytesPerSecond: Math.max(limits.copyBytesPerSecond, end.copyBytesPerSecond),
    copyBytes: limits.copyBytes,
    flopsPerSecond: Math.max(limits.flopsPerSecond, end.flopsPerSecond),
    shaderCopyBytesPerSecond: Math.max(limits.shaderCopyBytesPerSecond, end.shaderCopyBytesPerSecond),
    loads: {
      storageF32: Math.max(limits.loads.storageF32, end.loads.storageF32),
      storageVec4: Math.max(limits.loads.storageVec4, end.loads.storageVec4),
      uniformVec4: Math.max(limits.loads.uniformVec4, end.loads.uniformVec4),
      uniformSharedVec4: Math.max(limits.loads.uniformSharedVec4, end.loads.uniformSharedVec4),
    },
  };
  for (const r of rows) {
    if (r.rooflineMs === null) continue;
    const roof = roofline(limits, r.ms, r.bytes, r.flops);
    r.rooflineMs = roof.rooflineMs;
    r.rooflineShare = roof.rooflineShare;
    if (r.gbps !== null) r.vsShaderCopy = `${((100 * r.gbps * 1e9) / limits.shaderCopyBytesPerSecond).toFixed(0)}%`;
  }
}
for (const job of peerJobs) await job();
const timing = engine.backend.hasTimestamps ? 'GPU timestamps (median)' : 'wall clock (median)';
const limitNames = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupStorageSize',
  'minUniformBufferOffsetAlignment',
] as const;
const limitsUsed = Object.fromEntries(limitNames.map((n) => [n, engine.backend.limits[n]]));
const share = (r: Row): string => (r.rooflineShare === null ? '' : `${(100 * r.rooflineShare).toFixed(0)}%`);
const costs = loadCosts(limits);
const limitsLine = `limits measured in this run: copy ${(limits.copyBytesPerSecond / 1e9).toFixed(1)} GB/s (read + written), compute peak ${(limits.flopsPerSecond / 1e9).toFixed(1)} GFLOP/s (independent vec4 FMA chains), a compute shader's own vec4 copy ${(limits.shaderCopyBytesPerSecond / 1e9).toFixed(1)} GB/s; one float loaded by one invocation costs ${costs.storageF32.toFixed(1)} multiply-adds from storage as f32, ${costs.storageVec4.toFixed(1)} as vec4, ${costs.uniformVec4.toFixed(1)} from a uniform array, ${costs.uniformSharedVec4.toFixed(1)} from one at an address the whole workgroup reads (bench/kernels/load_probe.wgsl); roofline = max(bytes / copy bandwidth, FLOPs / peak), share = roofline / time`;
const torchLine =
  'skipped' in torchStep
    ? `PyTorch CPU peer skipped: ${torchStep.skipped}`
    : `PyTorch ${torchStep.version} on the CPU (${torchStep.threads} threads), the same U-Net step at ${unetSizes[0]}³: ${torchStep.stepMs.toFixed(0)} ms`;
const unetLines = [
  'U-Net training step (batch 1, two heads, 16 base channels, depth 3; wall ms):',
  ...unetRows.map(
    (u) =>
      `  ${u.size}³: ${u.wallMs.toFixed(0)} ms, ${(u.convFlops / 1e9).toFixed(1)} GFLOP of convolutions = ${gflops(u.convFlops, u.wallMs)} (${((100 * ((1000 * u.convFlops) / limits.flopsPerSecond)) / u.wallMs).toFixed(0)}% of the run's compute peak, ${((100 * ((1000 * u.convFlops) / u.besidePeak)) / u.wallMs).toFixed(0)}% of the ${(u.besidePeak / 1e9).toFixed(1)} GFLOP/s measured right before and after the step); peak memory ${(u.peakBytes / 2 ** 20).toFixed(0)} MiB, needed ${(u.neededBytes / 2 ** 20).toFixed(0)} MiB (saved activations ${(u.savedBytes / 2 ** 20).toFixed(0)} MiB), ratio ${(u.peakBytes / u.neededBytes).toFixed(2)}`,
  ),
  `  ${torchLine}`,
];
const header = `voxgrad bench on ${info.adapter} (${versions}, ${timing}, ${runs} runs)`;
console.log(header);
console.log(`limits used: ${limitNames.map((n) => `${n} ${limitsUsed[n]}`).join(', ')}`);
console.log(limitsLine);
console.log(
  `${'kernel'.padEnd(44)}${'shape'.padEnd(16)}${'ms'.padStart(9)}${'wall ms'.padStart(10)}${'GB/s'.padStart(8)}${'vs copy'.padStart(9)}${'vs shader'.padStart(10)}${'roofline'.padStart(10)}${'share'.padStart(7)}`,
);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(44)}${r.shape.padEnd(16)}${r.ms.toFixed(2).padStart(9)}${r.wallMs.toFixed(2).padStart(10)}${(r.gbps === null ? '-' : r.gbps.toFixed(2)).padStart(8)}${r.vsCopy.padStart(9)}${r.vsShaderCopy.padStart(10)}${(r.rooflineMs === null ? '-' : r.rooflineMs.toFixed(2)).padStart(10)}${share(r).padStart(7)}  ${r.note}`,
  );
}
console.log(`\n${unetLines.join('\n')}`);
console.log(`\nkernel variants (tuned on this adapter; ${tuneLog.length} classes timed in this run):`);
for (const [k, v] of Object.entries(vg.tuning.choices())) console.log(`  ${k}: ${v}`);
const stepLine = (p: StepResult): string =>
  `${p.peer} ${p.version} ${p.stepMs.toFixed(1)} ms (${(p.stepMs / ourStep.wallMs).toFixed(1)}x); checked at voxgrad's initial weights: loss ${p.loss.toFixed(6)} vs ${stepRef.loss.toFixed(6)}, largest gradient difference ${p.gradError.toExponential(1)} of the largest gradient: ${p.agrees ? 'the same work' : 'DIFFERENT work, so the time is not comparable'}`;
console.log(`\ntraining step of the demo model (2x32x32x32, wall ms): voxgrad ${ourStep.wallMs.toFixed(1)}`);
for (const p of theirSteps) console.log(`  ${stepLine(p)}`);
const stepKernelMs = stepProfile.reduce((t, r) => t + r.ms, 0);
if (stepProfile.length) {
  console.log(
    `\nwhere the training step's GPU time goes (${stepKernelMs.toFixed(1)} ms of kernels, each dispatch timed alone):`,
  );
  for (const r of stepProfile.slice(0, 12))
    console.log(
      `  ${r.kernel.padEnd(44)}${String(r.dispatches).padStart(3)} x ${r.ms.toFixed(2).padStart(8)} ms ${((100 * r.ms) / stepKernelMs).toFixed(1).padStart(5)}%`,
    );
}
const agreement = (p: PeerRow): string =>
  p.agrees
    ? `agrees (gradient within ${p.gradError.toExponential(1)})`
    : `DIFFERS: value ${p.value.toFixed(6)} vs ${p.voxgradValue.toFixed(6)}, gradient ${p.gradError.toExponential(1)} of the largest`;
if (peers.length) {
  console.log(
    "\nthe same losses with the peers (median wall ms; ratio = peer time / voxgrad time; value within 1e-4 and gradient within 1e-3 of voxgrad's)",
  );
  console.log(
    `${'loss'.padEnd(9)}${'peer'.padEnd(22)}${'version'.padEnd(10)}${'shape'.padEnd(18)}${'fwd ms'.padStart(10)}${'x'.padStart(8)}${'fwd+bwd ms'.padStart(12)}${'x'.padStart(8)}  check`,
  );
  for (const p of peers) {
    console.log(
      `${p.loss.padEnd(9)}${p.peer.padEnd(22)}${p.version.padEnd(10)}${p.shape.padEnd(18)}${p.forwardMs.toFixed(1).padStart(10)}${(p.forwardMs / p.voxgradFwdMs).toFixed(1).padStart(8)}${p.forwardBackwardMs.toFixed(1).padStart(12)}${(p.forwardBackwardMs / p.voxgradFwdBwdMs).toFixed(1).padStart(8)}  ${agreement(p)}`,
    );
  }
}
const md = [
  `Measured on ${info.adapter} (${versions}); times are ${timing} of ${runs} runs, wall clock beside them. Limits used: ${limitNames.map((n) => `${n} ${limitsUsed[n]}`).join(', ')}.`,
  '',
  `${limitsLine}.`,
  '',
  '| kernel | shape | ms | wall ms | GB/s | vs copy | vs shader copy | roofline ms | share of roofline |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.name}${r.note ? ` (${r.note})` : ''} | ${r.shape} | ${r.ms.toFixed(2)} | ${r.wallMs.toFixed(2)} | ${r.gbps === null ? '' : r.gbps.toFixed(2)} | ${r.vsCopy} | ${r.vsShaderCopy} | ${r.rooflineMs === null ? '' : r.rooflineMs.toFixed(2)} | ${share(r)} |`,
  ),
  '',
  ...unetLines,
  '',
  `Kernel variants chosen on this adapter: ${Object.entries(vg.tuning.choices())
    .map(([k, v]) => `${k} → ${v}`)
    .join('; ')}.`,
  '',
  `One training step of the two-head demo model (2x32x32x32, wall ms): voxgrad ${ourStep.wallMs.toFixed(1)}; ${theirSteps.map(stepLine).join('; ')}.`,
  ...(stepProfile.length
    ? [
        '',
        `Where the training step's GPU time goes (${stepKernelMs.toFixed(1)} ms of kernels, each dispatch timed in its own pass):`,
        '',
        '| kernel | dispatches | ms | share |',
        '|---|---:|---:|---:|',
        ...stepProfile
          .slice(0, 12)
          .map(
            (r) =>
              `| ${r.kernel.replace(/[{}"]/g, '').replace(/,/g, ' ')} | ${r.dispatches} | ${r.ms.toFixed(2)} | ${((100 * r.ms) / stepKernelMs).toFixed(1)}% |`,
          ),
      ]
    : []),
  ...(peers.length
    ? [
        '',
        "The same losses with the peers on the same adapter (median wall ms, each waiting for its result, against voxgrad's wall ms; ratio = peer / voxgrad; value within 1e-4 and gradient within 1e-3 of voxgrad's):",
        '',
        '| loss | peer | version | shape | fwd ms | vs voxgrad | fwd+bwd ms | vs voxgrad | same value and gradient |',
        '|---|---|---|---|---:|---:|---:|---:|---|',
        ...peers.map(
          (p) =>
            `| ${p.loss} | ${p.peer} | ${p.version} | ${p.shape} | ${p.forwardMs.toFixed(1)} | ${(p.forwardMs / p.voxgradFwdMs).toFixed(1)}x | ${p.forwardBackwardMs.toFixed(1)} | ${(p.forwardBackwardMs / p.voxgradFwdBwdMs).toFixed(1)}x | ${agreement(p)} |`,
        ),
      ]
    : []),
].join('\n');
for (const p of [jsonPath, markdownPath]) mkdirSync(dirname(p), { recursive: true });
writeFileSync(
  jsonPath,
  JSON.stringify(
    {
      device: info.adapter,
      node: process.version,
      versions,
      limits: limitsUsed,
      measuredLimits: limits,
      unet: unetRows,
      torchUNetStep: torchStep,
      variants: vg.tuning.choices(),
      timing,
      quick,
      runs,
      rows,
      peers,
      trainingStep: {
        voxgradWallMs: ourStep.wallMs,
        voxgradLoss: stepRef.loss,
        peers: theirSteps,
        kernels: stepProfile,
      },
    },
    null,
    2,
  ),
);
writeFileSync(markdownPath, `${md}\n`);
console.log(`wrote ${jsonPath} and ${markdownPath}`);
await vg.dispose();
