import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { DAWN_LIMIT_WARNING, runWithoutDawnWarnings } from '../src/cli/dawn_warnings.js';
import { niftiBytes, readNifti } from '../src/cli/nifti.js';
import { PREDICT_OPTIONS } from '../src/cli/predict.js';
import { TRAIN_OPTIONS } from '../src/cli/train_options.js';
import { seededRandom } from '../src/data/synthetic.js';
import * as vg from '../src/index.node.js';
import { repoRoot, setup, suite } from './harness.js';
import { buildNifti } from './nifti_files.js';

const t = suite('voxgrad command line (help, train on patches, predict, NIfTI, bad input)');
t.before(setup);

const cli = join(repoRoot(), 'dist/cli/voxgrad.js');
const work = mkdtempSync(join(tmpdir(), 'voxgrad-cli-'));
const run = (...args: string[]) => runWith({}, ...args);
// stderr as users see it: nothing is filtered here, so Dawn's warnings would show.
const runWith = (env: Record<string, string>, ...args: string[]) => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
};
// No Vulkan driver: anything that opened the GPU would fail with "no WebGPU adapter".
const NO_GPU = { VK_ICD_FILENAMES: join(work, 'no-such-driver.json') };
// A U-Net small enough for tests: 8³ patches, one pooling, 2 base channels.
const TINY = ['--patch', '8', '--base', '2', '--depth', '2', '--batch-size', '2', '--quiet'];
const partials = (): string[] => readdirSync(work).filter((f) => f.includes('.partial-'));

/** A case: a bright sphere (class 1) and a dark box (class 2) in noise, in voxgrad order. */
function makeCase(dims: [number, number, number], seed: number): { image: Float32Array; labels: Float32Array } {
  const r = seededRandom(seed);
  const [X, Y, Z] = dims;
  const image = new Float32Array(X * Y * Z);
  const labels = new Float32Array(X * Y * Z);
  const c = dims.map((d) => d * (0.3 + 0.1 * r()));
  const radius = Math.min(...dims) * 0.22;
  for (let x = 0, i = 0; x < X; x++)
    for (let y = 0; y < Y; y++)
      for (let z = 0; z < Z; z++, i++) {
        let k = 0;
        if (Math.hypot(x - c[0], y - c[1], z - c[2]) < radius) k = 1;
        else if (x >= X * 0.65 && y >= Y * 0.6 && z >= Z * 0.6) k = 2;
        labels[i] = k;
        image[i] = [0, 2, -2][k] + 0.3 * (r() - 0.5);
      }
  return { image, labels };
}

const OBLIQUE = [0, -1.5, 0, 90, 0.75, 0, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1];

function writeCase(
  dir: { images: string; labels: string },
  name: string,
  dims: [number, number, number],
  seed: number,
  files: { image: '.nii' | '.nii.gz'; labels: '.nii' | '.nii.gz' } = { image: '.nii.gz', labels: '.nii.gz' },
): void {
  const c = makeCase(dims, seed);
  const geometry = { dims, affine: OBLIQUE, qformCode: 1, sformCode: 2 };
  writeFileSync(
    join(dir.images, name + files.image),
    niftiBytes({ ...geometry, data: c.image }, 'image', files.image === '.nii.gz'),
  );
  writeFileSync(
    join(dir.labels, name + files.labels),
    niftiBytes({ ...geometry, data: c.labels }, 'labels', files.labels === '.nii.gz'),
  );
}

function folders(name: string): { images: string; labels: string } {
  const d = { images: join(work, `${name}-images`), labels: join(work, `${name}-labels`) };
  mkdirSync(d.images);
  mkdirSync(d.labels);
  return d;
}

t('help: every command prints each option with its meaning and default, starts nothing, exits 0', () => {
  const expectOptions = (
    text: string,
    options: Record<string, { meaning: string; default?: string }>,
    what: string,
  ) => {
    for (const [name, spec] of Object.entries(options)) {
      const line = text.split('\n').findIndex((l) => l.startsWith(`  --${name} `) || l === `  --${name}`);
      assert.ok(line >= 0, `${what}: --${name} is listed`);
      // The meaning and the default follow the option, wrapped over the next lines.
      const block = text
        .split('\n')
        .slice(line, line + 4)
        .join(' ')
        .replace(/\s+/g, ' ');
      assert.ok(block.includes(spec.meaning.split(' ').slice(0, 4).join(' ')), `${what}: --${name} has its meaning`);
      assert.ok(spec.default !== undefined, `${what}: --${name} declares its default`);
      assert.ok(block.includes(`(default: ${spec.default})`), `${what}: --${name} has its default`);
    }
    assert.match(text, /--help\s+print this help/);
  };
  for (const args of [
    ['train', '--help'],
    ['help', 'train'],
    ['train', '--epochs', 'many', '--colour', '-h'],
  ]) {
    const r = runWith(NO_GPU, ...args);
    assert.is(r.status, 0, args.join(' '));
    assert.is(r.stderr, '', `${args.join(' ')}: nothing on stderr (no GPU, no Dawn warning)`);
    assert.match(r.stdout, /^usage: voxgrad train \[options\]/);
    expectOptions(r.stdout, TRAIN_OPTIONS, args.join(' '));
  }
  for (const args of [
    ['predict', '--help'],
    ['help', 'predict'],
  ]) {
    const r = runWith(NO_GPU, ...args);
    assert.is(r.status, 0);
    assert.is(r.stderr, '');
    expectOptions(r.stdout, PREDICT_OPTIONS, args.join(' '));
  }
  const bench = runWith(NO_GPU, 'bench', '--help');
  assert.is(bench.status, 0);
  assert.match(bench.stdout, /--quick\s+a short run/);
  for (const args of [['--help'], ['-h'], ['help']]) {
    const r = runWith(NO_GPU, ...args);
    assert.is(r.status, 0, args.join(' '));
    assert.is(r.stderr, '');
    for (const c of ['train', 'predict', 'bench']) assert.match(r.stdout, new RegExp(`^  ${c} +\\w`, 'm'));
  }
  const bare = runWith(NO_GPU);
  assert.is(bare.status, 2, 'no command is a usage error');
  assert.match(bare.stderr, /^usage: voxgrad <command>/);
});

t('an unknown option or command suggests the nearest one', () => {
  const cases: [string[], RegExp][] = [
    [
      ['train', '--ecpochs', '3'],
      /^voxgrad train: argument '--ecpochs' expected an option of voxgrad train \(voxgrad help train lists them\), got an unknown option; did you mean --epochs\?$/,
    ],
    [['train', '--los-weights', '1,1'], /did you mean --loss-weights\?$/],
    [['train', '--batchsize', '2'], /did you mean --batch-size\?$/],
    [['predict', '--overlop', '0.5'], /^voxgrad predict: argument '--overlop' .*did you mean --overlap\?$/],
    [['predict', '--zzzzzzzz', '1'], /^voxgrad predict: argument '--zzzzzzzz' .*got an unknown option$/],
    [['trian'], /^voxgrad: unknown command 'trian' \(commands: train, predict, bench, help\); did you mean train\?$/],
    [['help', 'prdict'], /did you mean predict\?$/],
  ];
  for (const [args, re] of cases) {
    const r = runWith(NO_GPU, ...args);
    assert.ok(r.status === 1 || r.status === 2, `${args.join(' ')}: exit ${r.status}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.is(r.stderr.split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

t('malformed numbers and values are refused naming the option, before the GPU starts', () => {
  const out = join(work, 'never-numbers');
  const cases: [string[], string, RegExp][] = [
    [['--loss-weights', ','], 'loss-weights', /2 numbers separated by commas, each a number >= 0, got ','/],
    [['--loss-weights', '1'], 'loss-weights', /2 numbers separated by commas, got '1'/],
    [['--loss-weights', '1,2,3'], 'loss-weights', /got '1,2,3'/],
    [['--loss-weights', '1,-1'], 'loss-weights', /each a number >= 0, got '1,-1'/],
    [['--loss-weights', '0,0'], 'loss-weights', /weights not both 0, got '0,0'/],
    [['--loss-weights', '1,x'], 'loss-weights', /got '1,x'/],
    [['--lr', 'abc'], 'lr', /a number > 0, got 'abc'/],
    [['--lr', '0x10'], 'lr', /got '0x10'/],
    [['--lr', ''], 'lr', /got ''/],
    [['--lr', 'Infinity'], 'lr', /got 'Infinity'/],
    [['--lr', '0'], 'lr', /a number > 0, got '0'/],
    [['--lr=-1'], 'lr', /got '-1'/],
    [['--epochs', '1.5'], 'epochs', /an integer in \[1, 100000\], got '1.5'/],
    [['--steps', '1e99'], 'steps', /an integer in/],
    [['--patch', '10'], 'patch', /sides that are multiples of 4 \(2\^\(depth − 1\) for --depth 3\), got '10'/],
    [['--patch', '8,8'], 'patch', /N or X,Y,Z: integers in \[1, 256\], got '8,8'/],
    [['--base', '5'], 'base', /1, 2, 4 or a multiple of 8 channels, got 5: 10 channels at level 1/],
    [['--val', '1.5'], 'val', /a fraction in \[0, 1\) or case names .*got '1.5', which is no case/],
    [['--val', 'synthetic-1'], 'val', /got 'synthetic-1', which is no case; did you mean synthetic-01\?/],
    [
      ['--val', 'synthetic-01,synthetic-02,synthetic-03', '--cases', '3'],
      'val',
      /at least one case left for training, got all 3 cases for validation/,
    ],
    [['--overlap', '1'], 'overlap', /a number >= 0 and <= 0.95, got '1'/],
    [['--blend', 'linear'], 'blend', /one of gaussian, constant, got 'linear'/],
    [['--model', 'big'], 'model', /one of unet, small, got 'big'/],
    [['--norm', 'batch'], 'norm', /one of group, instance, none, got 'batch'/],
    [['--flip', '2'], 'flip', /<= 1, got '2'/],
    [['--nan-to', '1'], 'nan-to', /no value without --images/],
    [['--images', work], 'labels', /a folder, given with --images, got nothing/],
    [['--quiet=yes'], 'quiet', /no value \(it is a flag\), got 'yes'/],
    [['--epochs', '2', '--epochs', '3'], 'epochs', /the option once, got it twice/],
    [['--out', cli], 'out', /a folder to write to, got .*voxgrad\.js, which is a file/],
  ];
  for (const [args, option, re] of cases) {
    const r = runWith(NO_GPU, 'train', ...args, ...(args.includes('--out') ? [] : ['--out', out]));
    assert.is(r.status, 1, `${args.join(' ')}: exit ${r.status} ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^voxgrad train: argument '--${option}' expected `), args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
    assert.is(r.stderr.split('\n').length, 1, `one line: ${r.stderr}`);
  }
  const x = join(work, 'x.nii');
  const predictCases: [string[], RegExp][] = [
    [
      ['--model', work, '--input', cli, '--output', x, '--overlap', '2'],
      /'--overlap' expected a number >= 0 and <= 0.95, got '2'/,
    ],
    [
      ['--model', work, '--input', cli, '--output', x, '--batch-size', '0'],
      /'--batch-size' expected an integer in \[1, 256\], got '0'/,
    ],
    [['--model', work, '--input', cli, '--output', x, '--nan-to', 'nan'], /'--nan-to' expected a number, got 'nan'/],
    [
      ['--model', work, '--input', cli, '--output', join(work, 'x.txt')],
      /'--output' expected a file name ending in \.nii or \.nii\.gz, got/,
    ],
    [['--input', cli, '--output', x], /'--model' expected a folder \(it is required\), got nothing/],
  ];
  for (const [args, re] of predictCases) {
    const r = runWith(NO_GPU, 'predict', ...args);
    assert.is(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^voxgrad predict: argument ${re.source}`), args.join(' '));
  }
  assert.not.ok(existsSync(out), 'nothing was written');
});

t('a diverging run (--lr 1e30) stops at once naming the epoch and batch, exits 1 and writes nothing', () => {
  const out = join(work, 'diverged');
  const r = run('train', ...TINY, '--cases', '4', '--epochs', '2', '--steps', '3', '--lr', '1e30', '--out', out);
  assert.is(r.status, 1, r.stderr);
  assert.match(
    r.stderr,
    /^voxgrad train: training stopped at epoch 1, batch [1-3] of 3: (the loss is NaN|the update left \d+ of \d+ weights NaN or infinite).*; nothing was written\. The learning rate may be too high \(--lr 1e30\)\.$/,
  );
  assert.not.ok(existsSync(out), 'no output folder');
  assert.equal(partials(), [], 'no temporary folder left');
});

let trained = '';
const unseen = join(work, 'unseen.nii.gz');

t(
  'train on NIfTI cases of different sizes (.nii and .nii.gz paired by name), with --patch and --val: per-case sliding-window dice each epoch, a whole model written',
  async () => {
    const dir = folders('sizes');
    writeCase(dir, 'big1', [20, 18, 14], 1, { image: '.nii.gz', labels: '.nii' });
    writeCase(dir, 'big2', [18, 20, 16], 2);
    writeCase(dir, 'small1', [10, 7, 9], 3, { image: '.nii', labels: '.nii.gz' });
    writeCase(dir, 'small2', [9, 10, 6], 4);
    trained = join(work, 'sizes-run');
    const r = run(
      'train',
      ...TINY.filter((a) => a !== '--quiet'),
      '--images',
      dir.images,
      '--labels',
      dir.labels,
      '--val',
      'big2,small2',
      '--epochs',
      '2',
      '--steps',
      '3',
      '--out',
      trained,
    );
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '', 'nothing on stderr: no Dawn warning reaches the user');
    assert.match(r.stdout, /^data: 4 NIfTI cases from /m);
    assert.match(r.stdout, /^validation: big2 \(18x20x16\), small2 \(9x10x6\) \(named by --val\)$/m);
    assert.match(r.stdout, /^model: U-Net, depth 2, 2 base channels, [\d,]+ parameters; patch 8x8x8$/m);
    // Each epoch: one row per validation case (dice of class 1, class 2, mean) and the mean row.
    for (const name of ['big2 \\(18x20x16\\)', 'small2 \\(9x10x6\\)', 'mean']) {
      const rows = r.stdout.match(
        new RegExp(`^ {4}${name} +(\\d\\.\\d{3}|-) +(\\d\\.\\d{3}|-) +(\\d\\.\\d{3}|-)$`, 'gm'),
      );
      assert.is(rows?.length, 2, `${name}: a row per epoch\n${r.stdout}`);
    }
    assert.match(r.stdout, /^ {4}dice +class 1 +class 2 +mean$/m);
    assert.equal(readdirSync(trained).sort(), [
      'history.json',
      'loss.svg',
      'model.json',
      'slice.png',
      'val_dice.svg',
      'weights.safetensors',
    ]);
    const history = JSON.parse(readFileSync(join(trained, 'history.json'), 'utf8'));
    assert.is(history.epochs.length, 2);
    assert.equal(history.validation, ['big2', 'small2']);
    for (const e of history.epochs) {
      assert.ok(Number.isFinite(e.loss) && Number.isFinite(e.segmentation_loss) && Number.isFinite(e.foreground_loss));
      assert.equal(Object.keys(e.val.cases), ['big2', 'small2']);
      assert.is(e.val.cases.big2.length, 2, 'a dice per foreground class');
    }
    assert.match(readFileSync(join(trained, 'val_dice.svg'), 'utf8'), /^<svg /);
    // The model loads without the CLI's code, as any vg.loadModel folder.
    const model = await vg.loadModel(trained);
    assert.equal([...model.outputNames], ['segmentation', 'foreground']);
    assert.equal(model.inputs[0].shape.slice(1), [8, 8, 8, 1]);
    model.dispose();
    assert.equal(partials(), []);
  },
);

t('predict labels an unseen volume of another size by sliding windows, keeping its dims and geometry', () => {
  assert.ok(trained, 'trained above');
  const dims: [number, number, number] = [11, 13, 9];
  const c = makeCase(dims, 9);
  writeFileSync(
    unseen,
    niftiBytes({ data: c.image, dims, affine: OBLIQUE, qformCode: 1, sformCode: 2, xyztUnits: 10 }, 'image', true),
  );
  for (const [output, extra] of [
    [join(work, 'unseen_labels.nii.gz'), []],
    [join(work, 'unseen_labels.nii'), ['--blend', 'constant', '--overlap', '0.5', '--batch-size', '3']],
  ] as const) {
    const r = run('predict', '--model', trained, '--input', unseen, '--output', output, ...extra);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '');
    assert.match(
      r.stdout,
      /^wrote .*: 11x13x9 label map \(windows of 8x8x8, overlap 0\.(25|5), (gaussian|constant) blend\); voxels per class \d+, \d+, \d+$/m,
    );
    const labels = readNifti(output);
    const input = readNifti(unseen);
    assert.equal(labels.dims, input.dims);
    assert.equal(labels.affine, input.affine);
    assert.equal([labels.qformCode, labels.sformCode, labels.xyztUnits], [1, 2, 10]);
    assert.equal(labels.spacing, input.spacing);
    assert.is(labels.datatype, 'int16');
    assert.ok(vg.sameGeometry(input, labels));
    assert.ok(labels.data.every((k) => k === 0 || k === 1 || k === 2));
  }
  assert.equal(partials(), []);
  assert.not.ok(readdirSync(work).some((f) => f.includes('.partial-')));
});

t('--model small and --val 0: trains on synthetic cases without validation, and predict runs the small network', () => {
  const out = join(work, 'small-run');
  const r = run(
    'train',
    '--model',
    'small',
    '--base',
    '4',
    '--patch',
    '8',
    '--cases',
    '2',
    '--val',
    '0',
    '--epochs',
    '1',
    '--steps',
    '2',
    '--out',
    out,
  );
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^validation: none \(--val 0 or a single case\)$/m);
  assert.match(r.stdout, /^model: small two-head network, 4 base channels, [\d,]+ parameters; patch 8x8x8$/m);
  assert.not.match(r.stdout, /^ {4}dice/m, 'no validation table');
  assert.equal(readdirSync(out).sort(), ['history.json', 'loss.svg', 'model.json', 'weights.safetensors']);
  const labels = join(work, 'small_labels.nii.gz');
  const p = run('predict', '--model', out, '--input', unseen, '--output', labels);
  assert.is(p.status, 0, p.stderr);
  assert.equal(readNifti(labels).dims, [11, 13, 9]);
});

t('images with NaN or infinite voxels are refused naming the file and the count, unless --nan-to', () => {
  assert.ok(trained, 'trained above');
  const dir = folders('nan');
  writeCase(dir, 'a', [12, 10, 9], 5);
  writeCase(dir, 'b', [9, 12, 10], 6);
  writeCase(dir, 'c', [10, 9, 12], 7);
  const c = makeCase([12, 10, 9], 8);
  c.image[3] = Number.NaN;
  c.image[50] = Number.NaN;
  c.image[51] = Number.POSITIVE_INFINITY;
  c.image[99] = Number.NEGATIVE_INFINITY;
  const bad = join(dir.images, 'a.nii.gz');
  writeFileSync(
    bad,
    niftiBytes({ data: c.image, dims: [12, 10, 9], affine: OBLIQUE, qformCode: 1, sformCode: 2 }, 'image', true),
  );
  const out = join(work, 'nan-run');
  const refused = run('train', ...TINY, '--images', dir.images, '--labels', dir.labels, '--out', out);
  assert.is(refused.status, 1);
  assert.is(
    refused.stderr,
    `voxgrad train: ${bad}: 4 of 1080 voxels are not finite (2 NaN, 1 +Infinity, 1 -Infinity); fix the file, or replace them with --nan-to VALUE`,
  );
  assert.not.ok(existsSync(out));

  const r = run(
    'train',
    ...TINY.filter((a) => a !== '--quiet'),
    '--images',
    dir.images,
    '--labels',
    dir.labels,
    '--nan-to',
    '0',
    '--val',
    '0.5',
    '--epochs',
    '1',
    '--steps',
    '1',
    '--out',
    out,
  );
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /non-finite voxels set to 0: 4 in a/);
  // A fraction: the names drawn are printed.
  assert.match(
    r.stdout,
    /^validation: [abc] \(\d+x\d+x\d+\), [abc] \(\d+x\d+x\d+\) \(50% of 3 cases, drawn with seed 1\)$/m,
  );

  const output = join(work, 'nan_labels.nii');
  const p = run('predict', '--model', trained, '--input', bad, '--output', output);
  assert.is(p.status, 1);
  assert.match(p.stderr, /^voxgrad predict: .*a\.nii\.gz: 4 of 1080 voxels are not finite/);
  assert.not.ok(existsSync(output));
  const q = run('predict', '--model', trained, '--input', bad, '--output', output, '--nan-to', '-1.5');
  assert.is(q.status, 0, q.stderr);
  assert.match(q.stdout, /; 4 non-finite input voxels set to -1\.5$/m);
  assert.equal(readNifti(output).dims, [12, 10, 9]);
});

t('Dawn limit warnings are dropped from stderr; every other line passes, in order, with the exit status', async () => {
  for (const kind of ['Uniform', 'Storage'])
    assert.ok(
      DAWN_LIMIT_WARNING.test(
        `Warning: maxDynamic${kind}BuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.`,
      ),
    );
  for (const other of [
    'Warning: something else',
    'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced',
    'voxgrad train: argument ...',
  ])
    assert.not.ok(DAWN_LIMIT_WARNING.test(other), other);
  const script = join(work, 'noisy.mjs');
  writeFileSync(
    script,
    [
      "process.stderr.write('first line\\nWarning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\\n');",
      "process.stderr.write('Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\\nWarning: a real one\\npart');",
      "setTimeout(() => { process.stderr.write('ial line\\nlast without newline'); process.exitCode = 3; }, 20);",
    ].join('\n'),
  );
  let seen = '';
  const status = await runWithoutDawnWarnings(script, [], (text) => {
    seen += text;
  });
  assert.is(status, 3);
  assert.is(seen, 'first line\nWarning: a real one\npartial line\nlast without newline\n');
  // The command line itself: a GPU command shows no Dawn warning (the training test checks a run's stderr is empty).
  const r = run('predict', '--model', trained, '--input', unseen, '--output', join(work, 'again.nii'));
  assert.is(r.status, 0);
  assert.not.match(r.stderr, /artificially reduced/);
});

t('bad data and files: one clear line naming the files, a non-zero exit, nothing written', () => {
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
    join(shifted, 'a.nii.gz'),
    niftiBytes(
      { data: new Float32Array(8), dims: [2, 2, 2], affine: [1, 0, 0, 5, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] },
      'image',
      true,
    ),
  );
  const twice = join(work, 'twice-images');
  mkdirSync(twice);
  for (const f of ['a.nii', 'a.nii.gz'])
    writeFileSync(
      join(twice, f),
      niftiBytes({ data: new Float32Array(8), dims: [2, 2, 2] }, 'image', f.endsWith('.gz')),
    );
  const unlabelled = join(work, 'unlabelled-images');
  mkdirSync(unlabelled);
  writeFileSync(join(unlabelled, 'a.nii'), niftiBytes({ data: new Float32Array(8), dims: [2, 2, 2] }, 'image', false));
  writeFileSync(join(unlabelled, 'b.nii'), niftiBytes({ data: new Float32Array(8), dims: [2, 2, 2] }, 'image', false));
  const badLabels = join(work, 'fractional-labels');
  mkdirSync(badLabels);
  writeFileSync(
    join(badLabels, 'a.nii'),
    niftiBytes({ data: Float32Array.from([0, 1, 0.5, 2, 0, 0, 300, 0]), dims: [2, 2, 2] }, 'image', false),
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
  writeFileSync(volume, niftiBytes({ data: new Float32Array(27), dims: [3, 3, 3] }, 'image', true));
  const cases: [string[], RegExp][] = [
    [
      ['train', '--images', join(work, 'missing'), '--labels', labelsDir, '--out', out],
      /argument '--images' expected a folder, got .*missing, which is not a folder/,
    ],
    [['train', '--images', notNifti, '--labels', labelsDir, '--out', out], /a\.nii is not a NIfTI file/],
    [
      ['train', '--images', mismatch, '--labels', labelsDir, '--out', out],
      /mismatch-images\/a\.nii and .*bad-labels\/a\.nii: image 3x3x3 and label map 2x2x2 differ in shape/,
    ],
    [
      ['train', '--images', shifted, '--labels', labelsDir, '--out', out],
      /shifted-images\/a\.nii\.gz and .*bad-labels\/a\.nii: image and label map differ in geometry: affine\[0\]\[3\] is 5 vs 0/,
    ],
    [
      ['train', '--images', twice, '--labels', labelsDir, '--out', out],
      /twice-images\/a\.nii and .*a\.nii\.gz: two files for case 'a'/,
    ],
    [
      ['train', '--images', unlabelled, '--labels', labelsDir, '--out', out],
      /unlabelled-images\/b\.nii has no label map/,
    ],
    [
      ['train', '--images', mismatch, '--labels', badLabels, '--out', out],
      /fractional-labels\/a\.nii: 2 of 8 voxels are not class indices \(integers in \[0, 255\]\), the first 0\.5 at voxel/,
    ],
    [
      ['predict', '--model', corrupt, '--input', looping, '--output', join(out, 'x.nii')],
      /loop\.nii: field 'esize \(extension 0 at byte 352\)' expected a positive multiple of 16, got 0/,
    ],
    [['predict', '--model', corrupt, '--input', volume, '--output', join(out, 'x.nii')], /model\.json/],
    [
      ['predict', '--model', join(work, 'nothing'), '--input', volume, '--output', join(out, 'x.nii')],
      /nothing\/model\.json is missing \(is .*nothing a folder written by voxgrad train\?\)/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    assert.is(r.status, 1, `${args.join(' ')}: exit ${r.status}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.is(r.stderr.split('\n').length, 1, `one line: ${r.stderr}`);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.not.ok(existsSync(out), 'no output folder was created');
  assert.equal(partials(), [], 'no temporary folder left');
});

t('a device lost mid-training: one clear line, exit 1, no output folder, a prompt exit', () => {
  const out = join(work, 'lost');
  const started = Date.now();
  // Building the model and the first training step record well over 60 dispatches.
  const r = runWith({ VOXGRAD_LOSE_DEVICE_AFTER_DISPATCHES: '60' }, 'train', ...TINY, '--cases', '3', '--out', out);
  assert.is(r.status, 1, `exit ${r.status}: ${r.stderr}`);
  assert.match(
    r.stderr,
    /^voxgrad: \w+: the WebGPU device was lost \(destroyed: device loss injected after 60 dispatches\); call init\(\) again$/,
  );
  assert.not.ok(existsSync(out), 'no output folder was created');
  assert.equal(partials(), [], 'no temporary folder left');
  assert.ok(Date.now() - started < 60_000, 'the process ended');
});

t('without a WebGPU adapter the CLI says what to install and exits non-zero', () => {
  if (process.platform !== 'linux') return;
  const r = runWith(NO_GPU, 'train', ...TINY, '--cases', '2', '--out', join(work, 'no-adapter'));
  assert.is(r.status, 1);
  // Vulkan's own warnings about the missing driver come first (only Dawn's limit warnings are hidden).
  assert.match(
    r.stderr.split('\n').pop()!,
    /^voxgrad: init: no WebGPU adapter was found\. Install a Vulkan driver.*install-software-vulkan\.sh/,
  );
  assert.not.ok(existsSync(join(work, 'no-adapter')));
});

t.run();
