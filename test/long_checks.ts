/**
 * The long reliability checks (`npm run test:long`), too slow for every CI run:
 * 1. leaks: live tensors, buffers and bytes after step 10 and after step 1000, for `fit` and for
 *    a hand-written loop with valueAndGrad and an optimizer, without any dispose call;
 * 2. process lifecycle: 100 consecutive runs of a short training script end with exit code 0
 *    (no segfault, abort or hang), each exiting within 2 s of dispose().
 * Prints one line per check and exits non-zero on a failure.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SYNTHETIC_CLASSES, syntheticVolumes } from '../src/data/synthetic.js';
import * as vg from '../src/index.node.js';
import { foregroundLoss, segmentationLoss, twoHeadModel } from '../src/models/two_heads.js';
import { repoRoot } from './harness.js';

const failures: string[] = [];
const check = (ok: boolean, line: string): void => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${line}`);
  if (!ok) failures.push(line);
};

await vg.init();
const S = 8;
const data = syntheticVolumes(4, S, 1);
const x = vg.tensor(data.image, [4, S, S, S, 1]);
const seg = vg.tensor(data.labels, [4, S, S, S], 'int32');
const fg = vg.tensor(
  Float32Array.from(data.labels, (k) => (k > 0 ? 1 : 0)),
  [4, S, S, S, 1],
);
const snapshot = () => {
  const m = vg.memory();
  return `${m.liveTensors} tensors / ${m.liveBuffers} buffers / ${m.liveBytes} bytes`;
};

// 1a. fit: 500 epochs of 2 steps = 1000 steps; memory after step 10 and after step 1000.
{
  const model = twoHeadModel({ size: S, classes: SYNTHETIC_CLASSES, filters: 4 });
  model.compile({
    optimizer: new vg.Adam({ learningRate: 0.01 }),
    loss: [segmentationLoss, foregroundLoss],
    lossWeights: [0.5, 0.3],
  });
  let step = 0;
  let at10 = '';
  let at1000 = '';
  await model.fit(x, [seg, fg], {
    epochs: 500,
    batchSize: 2,
    callbacks: [
      {
        onBatchEnd: () => {
          step++;
          if (step === 10) at10 = snapshot();
          if (step === 1000) at1000 = snapshot();
        },
      },
    ],
  });
  check(at10 === at1000 && step === 1000, `fit: after step 10 ${at10}; after step 1000 ${at1000}`);
}

// 1b. a hand-written loop: valueAndGrad + SGD with momentum, 1000 steps.
{
  const w = vg.variable(vg.randomNormal([3, 3, 3, 1, 4], { seed: 2 }), { name: 'loop/w' });
  const opt = new vg.SGD({ learningRate: 0.01, momentum: 0.9 });
  let at10 = '';
  for (let step = 1; step <= 1000; step++) {
    vg.tidy(() => {
      const { grads } = vg.valueAndGrad(() => vg.mean(vg.square(vg.conv3d(x, w, { padding: 'same' }))), [w]);
      opt.applyGradients([w], grads);
    });
    if (step === 10) at10 = snapshot();
  }
  await vg.sync();
  const at1000 = snapshot();
  check(at10 === at1000, `valueAndGrad loop: after step 10 ${at10}; after step 1000 ${at1000}`);
}
await vg.dispose();

// 2. 100 processes that each train a few steps, dispose and exit.
// The child uses the published library only: a two-head model written with its public layers.
const lib = pathToFileURL(join(repoRoot(), 'dist/voxgrad.node.js')).href;
const script = `
import * as vg from ${JSON.stringify(lib)};
await vg.init();
const x = vg.input({ shape: [6, 6, 6, 1] });
const h = new vg.Conv3D({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x);
const m = vg.model({ inputs: x, outputs: [new vg.Conv3D({ filters: 4, kernelSize: 1, name: 'seg' }).apply(h), new vg.Conv3D({ filters: 1, kernelSize: 1, name: 'fg' }).apply(h)] });
m.compile({ optimizer: new vg.SGD({ learningRate: 0.05 }), loss: [(t, p) => vg.dice(t, p, { activation: 'softmax' }), (t, p) => vg.tversky(t, p, { activation: 'sigmoid' })] });
const labels = Int32Array.from({ length: 2 * 216 }, (_, i) => (i * 7) % 4);
await m.fit(vg.randomNormal([2, 6, 6, 6, 1], { seed: 3 }), [vg.tensor(labels, [2, 6, 6, 6], 'int32'), vg.tensor(Float32Array.from(labels, (k) => (k > 0 ? 1 : 0)), [2, 6, 6, 6, 1])], { epochs: 2, batchSize: 1 });
await vg.dispose();
console.log('DISPOSED ' + Date.now());
`;
let ok = 0;
let worstExit = 0;
const bad: string[] = [];
for (let run = 0; run < 100; run++) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  const end = Date.now();
  const disposed = Number(/DISPOSED (\d+)/.exec(r.stdout)?.[1] ?? NaN);
  const exitMs = end - disposed;
  worstExit = Math.max(worstExit, exitMs);
  if (r.status === 0 && r.signal === null && exitMs < 2000) ok++;
  else bad.push(`run ${run}: status ${r.status}, signal ${r.signal}, exit ${exitMs} ms after dispose`);
}
check(
  ok === 100,
  `lifecycle: ${ok}/100 runs exited 0 within 2 s of dispose() (slowest ${worstExit} ms)${bad.length ? `; ${bad.slice(0, 3).join('; ')}` : ''}`,
);

console.log(`${failures.length === 0 ? 'all long checks passed' : `${failures.length} long check(s) failed`}`);
process.exit(failures.length ? 1 : 0);
