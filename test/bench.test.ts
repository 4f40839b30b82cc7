// A smoke test of the benchmark: `--smoke` (a shorter --quick) runs to the end and writes valid JSON and markdown.
// (Speed is measured by the benchmark itself, never asserted in tests.)
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { runNode } from './child.js';
import { repoRoot, suite } from './harness.js';

const t = suite('benchmark smoke test');

t('npm run bench -- --smoke writes valid JSON with the limit, voxgrad rows and the peers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxgrad-bench-'));
  const script = join(repoRoot(), 'build/bench/bench.js');
  runNode([script, '--smoke', '--json', join(dir, 'b.json'), '--markdown', join(dir, 'b.md')]);
  const json = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8'));
  const names = json.rows.map((x: { name: string }) => x.name);
  for (const n of [
    'copyBufferToBuffer (limit)',
    'overlapSums fwd, one-hot',
    'dice fwd+bwd',
    'training step, two-head demo model',
    'conv3d 3x3x3 8 -> 8, forward',
    'matmul',
    'U-Net step, two heads, 16 base channels',
  ])
    assert.ok(names.includes(n), n);
  // Rooflines: the run measured both limits, and every row with bytes or FLOPs has its share.
  assert.ok(json.measuredLimits.copyBytesPerSecond > 0 && json.measuredLimits.flopsPerSecond > 0);
  const counted = json.rows.filter((x: { bytes: number; flops: number }) => x.bytes > 0 || x.flops > 0);
  assert.ok(counted.length > 10, 'rows carry their bytes and FLOPs');
  for (const x of counted) assert.ok(x.rooflineMs > 0 && x.rooflineShare > 0, `${x.name}: roofline and share`);
  assert.ok(json.rows.every((x: { ms: number }) => Number.isFinite(x.ms) && x.ms > 0));
  assert.ok(
    json.peers.length >= 6 && json.peers.every((p: { agrees: boolean }) => p.agrees),
    'peers computed the same loss values and gradients',
  );
  assert.equal([...new Set(json.peers.map((p: { loss: string }) => p.loss))], ['dice', 'iou', 'tversky']);
  assert.ok(json.limits.maxStorageBufferBindingSize > 0, 'the limits used are recorded');
  const tfjsStep = json.trainingStep.peers.find((p: { peer: string }) => p.peer === 'tfjs-webgpu');
  assert.ok(tfjsStep?.agrees, `the TensorFlow.js training step did the same work: ${JSON.stringify(tfjsStep)}`);
  assert.match(readFileSync(join(dir, 'b.md'), 'utf8'), /\| copyBufferToBuffer \(limit\) \|/);
});

t.run();
