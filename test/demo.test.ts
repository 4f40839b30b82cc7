// The browser demo in real Chromium (Debian's package, driven by playwright-core, WebGPU on
// SwiftShader): on the built-in synthetic shapes the held-out dice rises and the prediction panel
// is painted (read from a screenshot's pixels); then a NIfTI image + label pair made here is
// dropped on the page, trained on, and both downloads (weights, predicted label map) are checked.
// Full-page screenshots are saved to test-artifacts/: demo.png mid-training on the synthetic
// shapes, demo-own-data.png after training on the dropped pair.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { perClassDice } from '../demo/dice.js';
import { readNifti, sameGeometry, writeNifti } from '../src/io/nifti.js';
import { chromiumPath, launchChromium, serveDir } from './chromium.js';
import { repoRoot, suite } from './harness.js';

interface DemoState {
  adapter: string;
  ready: boolean;
  running: boolean;
  steps: number;
  dataset: { source: string; title: string; classes: number; cases: string[] } | null;
  losses: { step: number; total: number; segmentation: number; foreground: number }[];
  scores: { step: number; dice: number[]; foregroundDice: number }[];
  shownPrediction: { caseName: string; step: number } | null;
  weightNames: string[];
  errors: string[];
}

interface Context {
  page: Page;
  consoleErrors: string[];
  close(): Promise<void>;
}

const t = suite<Context>('browser demo in Chromium (WebGPU)', {} as Context);
const test = existsSync(chromiumPath) ? t : t.skip;
if (!existsSync(chromiumPath))
  console.log(`  (browser demo test skipped: no Chromium at ${chromiumPath}; .ci/run installs Debian's chromium)`);

const demoState = (page: Page): Promise<DemoState> =>
  page.evaluate(() => (globalThis as unknown as { voxgradDemo: DemoState }).voxgradDemo);

/** Waits for the run to reach `steps` and end, with its last prediction drawn. */
async function trainingDone(page: Page, steps: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const s = (globalThis as unknown as { voxgradDemo: DemoState }).voxgradDemo;
      return (s.steps >= n && !s.running && s.shownPrediction?.step === n) || s.errors.length > 0;
    },
    steps,
    { timeout: 240_000, polling: 500 },
  );
}

async function train(page: Page, o: { steps: number; every: number; batch: number; patch: number }): Promise<void> {
  await page.fill('#steps', String(o.steps));
  await page.fill('#eval-every', String(o.every));
  await page.fill('#batch', String(o.batch));
  await page.selectOption('#patch', String(o.patch));
  await page.click('#start');
}

interface Panels {
  /** Fractions of the label and prediction panels' pixels painted with a class colour (not grey). */
  labelPainted: number;
  predictionPainted: number;
  /**
   * Of the pixels painted in either panel, the fraction painted alike in both. Both panels draw
   * the same grey slice, so a pixel is equal in both exactly when it has the same class (or none).
   */
  agreement: number;
}

/** The label and prediction panels read from screenshots of them. */
async function panels(page: Page): Promise<Panels> {
  const shots = [
    (await page.locator('#label').screenshot()).toString('base64'),
    (await page.locator('#prediction').screenshot()).toString('base64'),
  ];
  return page.evaluate(async (pngs) => {
    const [label, prediction] = await Promise.all(
      pngs.map(async (base64) => {
        const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const g = canvas.getContext('2d')!;
        g.drawImage(bitmap, 0, 0);
        return g.getImageData(0, 0, bitmap.width, bitmap.height).data;
      }),
    );
    const painted = (d: Uint8ClampedArray, i: number): boolean =>
      Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60;
    let inLabel = 0;
    let inPrediction = 0;
    let either = 0;
    let alike = 0;
    for (let i = 0; i < label.length; i += 4) {
      const l = painted(label, i);
      const p = painted(prediction, i);
      inLabel += Number(l);
      inPrediction += Number(p);
      if (!l && !p) continue;
      either++;
      if ([0, 1, 2].every((c) => Math.abs(label[i + c] - prediction[i + c]) <= 3)) alike++;
    }
    const pixels = label.length / 4;
    return { labelPainted: inLabel / pixels, predictionPainted: inPrediction / pixels, agreement: alike / either };
  }, shots);
}

async function downloaded(page: Page, selector: string): Promise<{ name: string; bytes: Uint8Array }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const path = await download.path();
  return { name: download.suggestedFilename(), bytes: new Uint8Array(readFileSync(path)) };
}

t.before(async (ctx) => {
  if (!existsSync(chromiumPath)) return;
  const server = await serveDir(join(repoRoot(), 'build/demo'));
  const browser = await launchChromium();
  ctx.consoleErrors = [];
  ctx.page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await ctx.page.setViewportSize({ width: 1200, height: 1100 });
  ctx.page.on('console', (m) => {
    if (m.type() === 'error') ctx.consoleErrors.push(m.text());
  });
  ctx.page.on('pageerror', (e) => ctx.consoleErrors.push(String(e)));
  ctx.close = async () => {
    await browser.close();
    server.close();
  };
  await ctx.page.goto(server.url);
  await ctx.page.waitForFunction(
    () => {
      const s = (globalThis as unknown as { voxgradDemo?: DemoState }).voxgradDemo;
      return !!s && (s.ready || s.errors.length > 0);
    },
    undefined,
    { timeout: 60_000 },
  );
});

t.after(async (ctx) => {
  await ctx.close?.();
});

test('on the synthetic shapes the held-out dice rises and the prediction panel is painted', async ({
  page,
  consoleErrors,
}) => {
  const before = await demoState(page);
  assert.equal(before.errors, [], 'the page found a WebGPU device');
  assert.equal(before.dataset?.source, 'synthetic');
  assert.equal(before.dataset?.classes, 4);
  const blank = await panels(page);
  assert.equal(blank.predictionPainted, 0, 'before training the prediction panel shows only the grey image');
  assert.ok(blank.labelPainted > 0.02, `the label panel shows the classes in colour: ${JSON.stringify(blank)}`);

  await train(page, { steps: 6, every: 3, batch: 1, patch: 32 });
  // The untrained model's prediction (step 0) is drawn before the first step, which takes a while.
  const showing = async (): Promise<number | undefined> => (await demoState(page)).shownPrediction?.step;
  await page.waitForFunction(
    () => (globalThis as unknown as { voxgradDemo: DemoState }).voxgradDemo.shownPrediction?.step === 0,
    undefined,
    { timeout: 120_000 },
  );
  const untrained = await panels(page);
  assert.equal(await showing(), 0, 'the screenshots are of the untrained prediction');
  await page.waitForFunction(() => (globalThis as unknown as { voxgradDemo: DemoState }).voxgradDemo.steps >= 3, {
    timeout: 240_000,
  });
  const artifacts = join(repoRoot(), 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'demo.png'), fullPage: true });
  await trainingDone(page, 6);

  const s = await demoState(page);
  assert.equal(s.errors, []);
  assert.equal(
    s.scores.map((e) => e.step),
    [0, 3, 6],
    'predicted before the first step, then every 3',
  );
  const foregroundMean = (dice: number[]): number => (dice[1] + dice[2] + dice[3]) / 3;
  const first = foregroundMean(s.scores[0].dice);
  const last = foregroundMean(s.scores[2].dice);
  assert.ok(
    last > first + 0.2,
    `mean dice of the 3 shapes rises: ${first.toFixed(3)} -> ${last.toFixed(3)} (${s.scores.map((e) => e.dice.map((d) => d.toFixed(2)).join('/')).join(', ')})`,
  );
  const total = (i: number): number => s.losses[i].total;
  assert.ok(total(5) < total(0), `the total loss falls: ${total(0).toFixed(3)} -> ${total(5).toFixed(3)}`);
  const trained = await panels(page);
  assert.equal(await showing(), 6);
  assert.ok(trained.predictionPainted > 0.02, `the prediction panel is painted: ${JSON.stringify(trained)}`);
  assert.ok(
    trained.agreement > 0.5 && trained.agreement > untrained.agreement + 0.2,
    `the prediction panel's colours match the label panel's: ${untrained.agreement.toFixed(3)} untrained -> ${trained.agreement.toFixed(3)}`,
  );
  assert.equal(consoleErrors, [], 'no console errors');
});

/** A small labelled volume with an oblique affine: a bright ellipsoid (1) and a dark box (2). */
function userVolume(): { dims: [number, number, number]; affine: number[]; image: Float32Array; labels: Uint8Array } {
  const dims: [number, number, number] = [36, 28, 20];
  const [c, s] = [Math.cos(Math.PI / 6), Math.sin(Math.PI / 6)];
  const affine = [1.2 * c, -0.9 * s, 0, -20, 1.2 * s, 0.9 * c, 0, 15, 0, 0, 2.5, 40, 0, 0, 0, 1];
  const n = dims[0] * dims[1] * dims[2];
  const image = new Float32Array(n);
  const labels = new Uint8Array(n);
  let seed = 3;
  const noise = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  for (let x = 0; x < dims[0]; x++)
    for (let y = 0; y < dims[1]; y++)
      for (let z = 0; z < dims[2]; z++) {
        const i = (x * dims[1] + y) * dims[2] + z;
        let k = 0;
        if (((x - 11) / 7) ** 2 + ((y - 14) / 6) ** 2 + ((z - 10) / 5) ** 2 < 1) k = 1;
        if (x >= 22 && x < 31 && y >= 6 && y < 20 && z >= 5 && z < 14) k = 2;
        labels[i] = k;
        image[i] = 100 + [0, 80, -60][k] + 20 * noise();
      }
  return { dims, affine, image, labels };
}

test('bring your own data: a dropped NIfTI pair trains, and both downloads check out', async ({
  page,
  consoleErrors,
}) => {
  const v = userVolume();
  const imageBytes = writeNifti(
    { data: v.image, dims: v.dims, affine: v.affine, sformCode: 2 },
    { datatype: 'float32', gzip: true },
  );
  const labelBytes = writeNifti(
    { data: v.labels, dims: v.dims, affine: v.affine, sformCode: 2 },
    { datatype: 'uint8' },
  );
  const files = [
    { name: 'case01.nii.gz', base64: Buffer.from(imageBytes).toString('base64') },
    { name: 'case01_seg.nii', base64: Buffer.from(labelBytes).toString('base64') },
    { name: 'notes.txt', base64: Buffer.from('not a volume').toString('base64') },
  ];
  // A drop as the browser delivers it: a DataTransfer of files on a drop event.
  await page.evaluate((list) => {
    const transfer = new DataTransfer();
    for (const f of list)
      transfer.items.add(new File([Uint8Array.from(atob(f.base64), (ch) => ch.charCodeAt(0))], f.name));
    document.documentElement.dispatchEvent(
      new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }),
    );
  }, files);
  await page.waitForFunction(
    () => {
      const s = (globalThis as unknown as { voxgradDemo: DemoState }).voxgradDemo;
      return s.dataset?.source === 'files' || s.errors.length > 0;
    },
    undefined,
    { timeout: 30_000 },
  );
  let s = await demoState(page);
  assert.equal(s.errors, []);
  assert.equal(s.dataset?.cases, ['case01']);
  assert.equal(s.dataset?.classes, 3);
  assert.match((await page.textContent('#data-status')) ?? '', /ignored \(not NIfTI\): notes.txt/);

  // Patches of 16³ from a 36×28×20 volume: crops along x and y, padding along z.
  await train(page, { steps: 4, every: 2, batch: 2, patch: 16 });
  await trainingDone(page, 4);
  s = await demoState(page);
  assert.equal(s.errors, []);
  assert.equal(
    s.scores.map((e) => e.step),
    [0, 2, 4],
  );

  await page.screenshot({ path: join(repoRoot(), 'test-artifacts/demo-own-data.png'), fullPage: true });
  const weights = await downloaded(page, '#download-weights');
  assert.equal(weights.name, 'voxgrad-two_heads.safetensors');
  const headerLength = Number(new DataView(weights.bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(weights.bytes.subarray(8, 8 + headerLength)));
  const { __metadata__: metadata, ...tensors } = header;
  assert.equal(Object.keys(tensors).sort(), [...s.weightNames].sort(), "the header names the model's weights");
  assert.equal(tensors['segmentation/kernel'].shape, [1, 1, 1, 8, 3], 'one segmentation logit per class');
  assert.equal(tensors['foreground/kernel'].shape, [1, 1, 1, 8, 1]);
  assert.equal(metadata, { model: 'two_heads', classes: '3', patch: '16', filters: '8', steps: '4' });
  const end = Math.max(...Object.values(tensors).map((e) => (e as { data_offsets: number[] }).data_offsets[1]));
  assert.equal(weights.bytes.length, 8 + headerLength + end, 'the data follows the header to the last byte');

  const labels = await downloaded(page, '#download-labels');
  assert.equal(labels.name, 'case01_prediction.nii.gz');
  const predicted = readNifti(labels.bytes, labels.name);
  assert.equal(predicted.dims, v.dims);
  assert.equal(predicted.datatype, 'uint8');
  assert.equal(predicted.sformCode, 2);
  assert.ok(
    sameGeometry(predicted, { dims: v.dims, affine: v.affine }, 1e-5),
    `the input's affine: ${predicted.affine}`,
  );
  const found = new Set(predicted.data);
  assert.ok(
    [...found].every((k) => k === 0 || k === 1 || k === 2),
    `labels are classes 0..2: ${[...found]}`,
  );
  // Voxel for voxel, the file holds the prediction the page scored (in the input's voxel order).
  const dice = perClassDice(v.labels, predicted.data, 3);
  const shown = s.scores[s.scores.length - 1].dice;
  dice.forEach((d, k) =>
    assert.ok(Math.abs(d - shown[k]) < 1e-9, `class ${k}: dice ${d} in the file, ${shown[k]} shown`),
  );
  assert.ok(dice[1] > 0.5 && dice[2] > 0.5, `both classes found after 4 steps: dice ${dice.map((d) => d.toFixed(3))}`);
  assert.equal(consoleErrors, [], 'no console errors');
});

t.run();
