// The browser demo's host-side parts, in Node (no GPU, no browser): how dropped files are paired,
// the per-class dice it plots, the settings it accepts, the synthetic shapes it trains on, and the
// NIfTI label map it hands back.
import * as assert from 'uvu/assert';
import { syntheticDataset } from '../demo/dataset.js';
import { argmaxLabels, maskOfLogits, perClassDice } from '../demo/dice.js';
import { labelMapNifti } from '../demo/downloads.js';
import { pairFiles } from '../demo/pairing.js';
import { parseSettings, type SettingsFields } from '../demo/settings.js';
import { SHAPE_CLASS_NAMES, shapeVolume } from '../demo/shapes.js';
import { readNifti } from '../src/io/nifti.js';
import { suite } from './harness.js';

const t = suite('browser demo parts (host)');

const paths = (list: string[]) => pairFiles(list, (p) => p);

t('pairs images and label maps by suffix, by folder and by nnU-Net channel name', () => {
  const r = paths([
    'b.nii.gz',
    'b_seg.nii.gz',
    'a.nii',
    'a-label.nii',
    'imagesTr/c.nii.gz',
    'labelsTr/c.nii.gz',
    'd_0000.nii.gz',
    'masks/d.nii.gz',
    'dataset.json',
  ]);
  assert.equal(
    r.pairs.map((p) => [p.name, p.image, p.label]),
    [
      ['a', 'a.nii', 'a-label.nii'],
      ['b', 'b.nii.gz', 'b_seg.nii.gz'],
      ['c', 'imagesTr/c.nii.gz', 'labelsTr/c.nii.gz'],
      ['d', 'd_0000.nii.gz', 'masks/d.nii.gz'],
    ],
  );
  assert.equal(r.ignored, ['dataset.json']);
});

t('a file without a partner, a duplicate or no NIfTI at all is an error naming the files', () => {
  assert.throws(() => paths(['x.nii.gz']), /image 'x.nii.gz' has no label map \(name it 'x_label.nii.gz'/);
  assert.throws(() => paths(['x_mask.nii']), /label map 'x_mask.nii' has no image/);
  assert.throws(
    () => paths(['one/x.nii', 'two/x.nii.gz', 'x_label.nii']),
    /'one\/x.nii' and 'two\/x.nii.gz' are both the image of case 'x'/,
  );
  assert.throws(() => paths(['notes.txt']), /no NIfTI files \(.nii or .nii.gz\) among 1 file\(s\): notes.txt/);
});

t('per-class dice: exact counts, NaN for a class in neither map', () => {
  const truth = [0, 0, 1, 1, 1, 2, 2, 0];
  const pred = [0, 1, 1, 1, 0, 2, 0, 0];
  const d = perClassDice(truth, pred, 4);
  // class 0: truth 3, pred 4, both 2; class 1: 3, 3, 2; class 2: 2, 1, 1; class 3 absent.
  assert.equal(d.slice(0, 3), [4 / 7, 4 / 6, 2 / 3]);
  assert.ok(Number.isNaN(d[3]));
  assert.throws(() => perClassDice([0, 1], [0], 2), /2 true labels vs 1 predicted/);
});

t('label maps from logits: argmax per voxel, and a mask where the logit is above 0', () => {
  assert.equal([...argmaxLabels([0.1, 2, -1, 5, 0, 0, 1, 1, 1], 3)], [1, 0, 0]);
  assert.equal([...maskOfLogits([-0.5, 0, 0.25])], [0, 0, 1]);
});

const fields: SettingsFields = {
  model: 'two_heads',
  filters: '8',
  patch: '32',
  batch: '1',
  lr: '0.03',
  w1: '1',
  w2: '0.5',
  steps: '20',
  evalEvery: '5',
};

t('settings: the page fields become training settings; bad ones name the field', () => {
  assert.equal(parseSettings(fields), {
    kind: 'two_heads',
    patch: 32,
    filters: 8,
    batchSize: 1,
    learningRate: 0.03,
    lossWeights: { segmentation: 1, foreground: 0.5 },
    steps: 20,
    evaluateEvery: 5,
  });
  const bad: [Partial<SettingsFields>, RegExp][] = [
    [{ steps: '2.5' }, /^steps: expected a whole number from 1 to 1000000, got '2.5'$/],
    [{ batch: '' }, /^batch size: expected a whole number/],
    [{ lr: '0' }, /^learning rate: expected a number in \(0, 1\], got '0'$/],
    [{ w2: '-1' }, /^w₂ \(foreground\): expected a number >= 0, got '-1'$/],
    [{ w1: '0', w2: '0' }, /both 0/],
    [{ model: 'unet', patch: '30' }, /^patch size: the U-Net needs a multiple of 4, got 30$/],
    [{ model: 'vnet' }, /^model: expected 'two_heads' or 'unet', got 'vnet'$/],
  ];
  for (const [change, message] of bad) assert.throws(() => parseSettings({ ...fields, ...change }), message);
});

t('synthetic shapes: seeded, every class in every volume, classes brighter or darker on average', () => {
  const a = shapeVolume(32, 7);
  const b = shapeVolume(32, 7);
  assert.equal(a.image, b.image);
  assert.equal(a.labels, b.labels);
  const d = syntheticDataset(32, 3);
  assert.equal(d.classes, SHAPE_CLASS_NAMES.length);
  for (const c of [...d.training, ...d.shown]) {
    const sum = new Float64Array(d.classes);
    const n = new Float64Array(d.classes);
    c.labels.forEach((k, i) => {
      sum[k] += c.image[i];
      n[k]++;
    });
    for (let k = 0; k < d.classes; k++) assert.ok(n[k] >= 50, `${c.name}: class ${k} has ${n[k]} voxels`);
    const mean = [...sum].map((s, k) => s / n[k]);
    // ellipsoid > tube > background > shell
    assert.ok(mean[1] > mean[2] && mean[2] > mean[0] && mean[0] > mean[3], `${c.name}: means ${mean}`);
  }
  assert.throws(() => shapeVolume(8, 1), /size must be an integer >= 16, got 8/);
});

t("the predicted label map is a NIfTI with the case's dims and affine", () => {
  const dims: [number, number, number] = [5, 4, 3];
  const affine = [0, -1.5, 0, 10, 2, 0, 0, -4, 0, 0, 3, 7.5, 0, 0, 0, 1];
  const labels = Uint8Array.from({ length: 60 }, (_, i) => i % 3);
  const c = {
    name: 'c',
    image: new Float32Array(60),
    labels: Int32Array.from(labels),
    dims,
    shape: [...dims, 1] as [number, number, number, 1],
    geometry: { affine, qformCode: 1, sformCode: 2, xyztUnits: 10 },
  };
  const v = readNifti(labelMapNifti(c, labels), 'c_prediction.nii.gz');
  assert.equal(v.dims, dims);
  assert.equal(v.datatype, 'uint8');
  assert.equal(v.sformCode, 2);
  v.affine.forEach((e, i) => assert.ok(Math.abs(e - affine[i]) < 1e-5, `affine[${i}] ${e} vs ${affine[i]}`));
  assert.equal([...v.data], [...labels]);
});

t.run();
