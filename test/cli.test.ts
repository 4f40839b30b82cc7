import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { niftiBytes, readNifti } from '../src/cli/nifti.js';
import { syntheticVolumes } from '../src/data/synthetic.js';
import * as vg from '../src/index.node.js';
import { repoRoot, setup, suite } from './harness.js';
import { buildNifti } from './nifti_files.js';

const t = suite('voxgrad command line (train, predict, NIfTI, bad input)');
t.before(setup);

const cli = join(repoRoot(), 'dist/cli/voxgrad.js');
const work = mkdtempSync(join(tmpdir(), 'voxgrad-cli-'));
const run = (...args: string[]) => runWith({}, ...args);
const runWith = (env: Record<string, string>, ...args: string[]) => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l && !l.startsWith('Warning: maxDynamic'))
    .join('\n');
  return { status: r.status, stdout: r.stdout, stderr };
};

t('NIfTI round trip: float32 images and int16 label maps, plain and gzipped, in voxgrad order', () => {
  const dims: [number, number, number] = [3, 4, 5];
  const data = Float32Array.from({ length: 60 }, (_, i) => Math.sin(i) * 10);
  for (const gz of [false, true]) {
    const path = join(work, `v${gz ? '.nii.gz' : '.nii'}`);
    writeFileSync(path, niftiBytes({ data, dims, spacing: [1, 1.5, 2] }, 'image', gz));
    const back = readNifti(path);
    assert.equal(back.dims, dims);
    assert.equal(back.spacing, [1, 1.5, 2]);
    assert.equal(Array.from(back.data), Array.from(data));
    const labels = Float32Array.from({ length: 60 }, (_, i) => i % 4);
    writeFileSync(path, niftiBytes({ data: labels, dims, spacing: [1, 1, 1] }, 'labels', gz));
    assert.equal(Array.from(readNifti(path).data), Array.from(labels));
  }
  // NIfTI stores x fastest; voxgrad's (x, y, z) row-major order has z fastest.
  const raw = readFileSync(join(work, 'v.nii'));
  const body = new Int16Array(raw.buffer.slice(raw.byteOffset + 352, raw.byteOffset + 352 + 120));
  assert.is(body[1], Float32Array.from({ length: 60 }, (_, i) => i % 4)[(1 * 4 + 0) * 5 + 0]);
});

t('train writes weights, config, history, one loss curve per output and a slice; predict round-trips', () => {
  const out = join(work, 'run');
  const r = run(
    'train',
    '--epochs',
    '2',
    '--samples',
    '3',
    '--val',
    '1',
    '--size',
    '8',
    '--batch-size',
    '2',
    '--quiet',
    '--out',
    out,
  );
  assert.is(r.status, 0, r.stderr);
  assert.equal(readdirSync(out).sort(), [
    'history.json',
    'loss_foreground.svg',
    'loss_segmentation.svg',
    'model.json',
    'slice.png',
    'weights.safetensors',
  ]);
  const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
  assert.is(history.history.loss.length, 2);
  for (const k of ['segmentation_loss', 'foreground_loss', 'segmentation_dice', 'val_loss'])
    assert.is(history.history[k].length, 2, k);
  for (const o of ['segmentation', 'foreground']) {
    const svg = readFileSync(join(out, `loss_${o}.svg`), 'utf8');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.is((svg.match(/<polyline /g) ?? []).length, 2, 'train and validation curves');
  }
  const png = readFileSync(join(out, 'slice.png'));
  assert.equal(Array.from(png.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(
    vg.loadSafetensors(new Uint8Array(readFileSync(join(out, 'weights.safetensors')))).tensors['trunk_conv1/kernel'],
  );

  // predict on a volume of another size (the network is fully convolutional), in oblique
  // geometry: the label map keeps the input's affine and codes.
  const v = syntheticVolumes(1, 10, 5);
  const input = join(work, 'volume.nii.gz');
  const affine = [0, -1.5, 0, 90, 0.75, 0, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1];
  writeFileSync(
    input,
    niftiBytes({ data: v.image, dims: [10, 10, 10], affine, qformCode: 1, sformCode: 2 }, 'image', true),
  );
  const labelsOut = join(work, 'labels.nii.gz');
  const p = run('predict', '--model', out, '--input', input, '--output', labelsOut);
  assert.is(p.status, 0, p.stderr);
  const labels = readNifti(labelsOut);
  assert.equal(labels.dims, [10, 10, 10]);
  assert.ok(labels.data.every((k) => Number.isInteger(k) && k >= 0 && k < 4));
  assert.equal(labels.affine, affine);
  assert.is(labels.datatype, 'int16');
  assert.equal([labels.qformCode, labels.sformCode], [1, 2]);
  assert.ok(vg.sameGeometry(readNifti(input), labels));
});

t('train reads NIfTI images and label maps from folders', () => {
  const images = join(work, 'images');
  const labels = join(work, 'labels');
  mkdirSync(images);
  mkdirSync(labels);
  const v = syntheticVolumes(3, 9, 2);
  for (let b = 0; b < 3; b++) {
    const V = 9 ** 3;
    writeFileSync(
      join(images, `case${b}.nii.gz`),
      niftiBytes({ data: v.image.slice(b * V, (b + 1) * V), dims: [9, 9, 9], spacing: [1, 1, 1] }, 'image', true),
    );
    writeFileSync(
      join(labels, `case${b}.nii.gz`),
      niftiBytes(
        { data: Float32Array.from(v.labels.slice(b * V, (b + 1) * V)), dims: [9, 9, 9], spacing: [1, 1, 1] },
        'labels',
        true,
      ),
    );
  }
  const out = join(work, 'nifti-run');
  const r = run(
    'train',
    '--images',
    images,
    '--labels',
    labels,
    '--size',
    '8',
    '--epochs',
    '1',
    '--quiet',
    '--out',
    out,
  );
  assert.is(r.status, 0, r.stderr);
  assert.ok(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).source.includes('3 NIfTI volumes'));
});

t('bad input: one clear line, a non-zero exit, nothing written', () => {
  const out = join(work, 'never');
  const notNifti = join(work, 'bad-images');
  mkdirSync(notNifti);
  writeFileSync(join(notNifti, 'a.nii'), 'this is not a volume');
  const labelsDir = join(work, 'bad-labels');
  mkdirSync(labelsDir);
  writeFileSync(
    join(labelsDir, 'a.nii'),
    niftiBytes({ data: new Float32Array(8), dims: [2, 2, 2], spacing: [1, 1, 1] }, 'labels', false),
  );
  const mismatch = join(work, 'mismatch-images');
  mkdirSync(mismatch);
  writeFileSync(
    join(mismatch, 'a.nii'),
    niftiBytes({ data: new Float32Array(27), dims: [3, 3, 3], spacing: [1, 1, 1] }, 'image', false),
  );
  const shifted = join(work, 'shifted-images');
  mkdirSync(shifted);
  writeFileSync(
    join(shifted, 'a.nii'),
    niftiBytes(
      { data: new Float32Array(8), dims: [2, 2, 2], affine: [1, 0, 0, 5, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] },
      'image',
      false,
    ),
  );
  // An extension chain whose first esize is 0 (432 bytes): it used to spin the reader forever.
  const looping = join(work, 'loop.nii');
  writeFileSync(
    looping,
    buildNifti({ dim: [2, 2, 2], datatype: 512, values: new Array(8).fill(1), extensions: [0], voxOffset: 416 }),
  );
  const corrupt = join(work, 'corrupt-model');
  mkdirSync(corrupt);
  writeFileSync(join(corrupt, 'model.json'), JSON.stringify({ classes: 4, filters: 8 }));
  writeFileSync(join(corrupt, 'weights.safetensors'), new Uint8Array([1, 2, 3]));
  const volume = join(work, 'volume.nii.gz');
  const cases: [string[], RegExp][] = [
    [['train', '--images', join(work, 'missing'), '--labels', labelsDir, '--out', out], /missing is not a folder/],
    [['train', '--images', notNifti, '--labels', labelsDir, '--out', out], /a\.nii is not a NIfTI file/],
    [
      ['train', '--images', mismatch, '--labels', labelsDir, '--out', out],
      /image 3x3x3 and label map 2x2x2 differ in shape/,
    ],
    [
      ['train', '--images', shifted, '--labels', labelsDir, '--out', out],
      /shifted-images\/a\.nii and .*bad-labels\/a\.nii: image and label map differ in geometry: affine\[0\]\[3\] is 5 vs 0/,
    ],
    [
      ['predict', '--model', corrupt, '--input', looping, '--output', join(out, 'x.nii')],
      /loop\.nii: field 'esize \(extension 0 at byte 352\)' expected a positive multiple of 16, got 0/,
    ],
    [['train', '--epochs', 'many', '--out', out], /voxgrad train: argument '--epochs' expected an integer/],
    [
      ['train', '--colour', 'red'],
      /voxgrad train: argument '--colour' expected one of the options .*, got an unknown option/,
    ],
    [
      ['predict', '--model', corrupt, '--input', volume, '--output', join(out, 'x.nii')],
      /not a valid safetensors file/,
    ],
    [
      ['predict', '--model', join(work, 'nothing'), '--input', volume, '--output', join(out, 'x.nii')],
      /model\.json is missing/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    assert.is(r.status, 1, `${args.join(' ')}: exit ${r.status}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.is(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.not.ok(existsSync(out), 'no output folder was created');
  assert.not.ok(
    readdirSync(work).some((f) => f.includes('.partial-')),
    'no temporary folder left',
  );
});

t('a device lost mid-training: one clear line, exit 1, no output folder, a prompt exit', () => {
  const out = join(work, 'lost');
  const started = Date.now();
  // The first training step records ~100 dispatches: the device goes in the middle of it.
  const r = runWith(
    { VOXGRAD_LOSE_DEVICE_AFTER_DISPATCHES: '60' },
    'train',
    '--epochs',
    '2',
    '--size',
    '16',
    '--out',
    out,
    '--quiet',
  );
  assert.is(r.status, 1, `exit ${r.status}: ${r.stderr}`);
  assert.match(
    r.stderr,
    /^voxgrad: \w+: the WebGPU device was lost \(destroyed: device loss injected after 60 dispatches\); call init\(\) again$/,
  );
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  assert.not.ok(existsSync(out), 'no output folder was created');
  assert.not.ok(
    readdirSync(work).some((f) => f.includes('.partial-')),
    'no temporary folder left',
  );
  assert.ok(Date.now() - started < 60_000, 'the process ended');
});

t('without a WebGPU adapter the CLI says what to install and exits non-zero', () => {
  if (process.platform !== 'linux') return;
  // No Vulkan driver at all: Dawn finds no adapter.
  const r = runWith(
    { VK_ICD_FILENAMES: join(work, 'no-such-driver.json') },
    'train',
    '--epochs',
    '1',
    '--out',
    join(work, 'no-adapter'),
  );
  assert.is(r.status, 1);
  assert.match(
    r.stderr,
    /voxgrad: init: no WebGPU adapter was found\. Install a Vulkan driver.*install-software-vulkan\.sh/,
  );
  assert.not.ok(existsSync(join(work, 'no-adapter')));
});

t.run();
