/**
 * The browser demo: trains a two-output segmentation network through navigator.gpu on the built-in
 * synthetic shapes or on NIfTI pairs the user drops on the page, shows a slice of the case with
 * its label and the prediction as coloured overlays, plots the losses and the per-class dice as
 * it learns, and hands back the weights (safetensors) and the predicted label map (NIfTI, with
 * the image's geometry). Every GPU read is asynchronous, so the page keeps drawing while it trains.
 */
import { init } from '../src/index.js';
import { drawChart, type Series } from './charts.js';
import { type DemoCase, type DemoDataset, syntheticDataset } from './dataset.js';
import { labelMapNifti, saveBytes } from './downloads.js';
import { acceptFiles } from './file_input.js';
import { renderLegend } from './legend.js';
import { datasetFromFiles, type InputFile } from './nifti_cases.js';
import { cssColour } from './palette.js';
import { parseSettings } from './settings.js';
import { type Axis, drawSlice, intensityWindow, mostLabelledSlice } from './slice_view.js';
import { type CasePrediction, type StepLosses, TrainingRun } from './training_run.js';

/** What the page shows, also read by the browser test. */
interface DemoState {
  adapter: string;
  /** A device is open and a dataset loaded. */
  ready: boolean;
  running: boolean;
  /** Steps of the current run. */
  steps: number;
  dataset: { source: string; title: string; classes: number; cases: string[] } | null;
  losses: StepLosses[];
  /** Scores of each prediction of the case shown while training. */
  scores: { step: number; dice: number[]; foregroundDice: number }[];
  /** The prediction on the prediction panel: its case and step. */
  shownPrediction: { caseName: string; step: number } | null;
  /** The names of the current model's weights. */
  weightNames: string[];
  errors: string[];
}

const state: DemoState = {
  adapter: '',
  ready: false,
  running: false,
  steps: 0,
  dataset: null,
  losses: [],
  scores: [],
  shownPrediction: null,
  weightNames: [],
  errors: [],
};
(globalThis as unknown as { voxgradDemo: DemoState }).voxgradDemo = state;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const input = (id: string): HTMLInputElement => $<HTMLInputElement>(id);
const button = (id: string): HTMLButtonElement => $<HTMLButtonElement>(id);
const select = (id: string): HTMLSelectElement => $<HTMLSelectElement>(id);

let dataset: DemoDataset | null = null;
let run: TrainingRun | null = null;
/** The latest prediction of each case by the current run. */
const predictions = new Map<string, CasePrediction>();
let stopRequested = false;
/** Steps of the current run, the length of the charts' step axis. */
let plannedSteps = 0;

function fail(message: string): void {
  state.errors.push(message);
  $('error').textContent = message;
}

function shownCase(): DemoCase {
  return dataset!.shown[Number(select('case').value) || 0];
}

function axis(): Axis {
  return Number(select('axis').value) as Axis;
}

// ---- drawing ------------------------------------------------------------------------------------

const windows = new WeakMap<DemoCase, [number, number]>();

function drawViews(): void {
  if (!dataset) return;
  const c = shownCase();
  let window = windows.get(c);
  if (!window) {
    window = intensityWindow(c.image);
    windows.set(c, window);
  }
  const volume = { image: c.image, dims: c.dims, window };
  const index = Number(input('slice').value);
  const opacity = Number(input('opacity').value);
  $('slice-index').textContent = `${index} / ${c.dims[axis()] - 1}`;
  drawSlice($<HTMLCanvasElement>('label'), volume, c.labels, axis(), index, opacity);
  const p = predictions.get(c.name);
  drawSlice($<HTMLCanvasElement>('prediction'), volume, p ? p.labels : null, axis(), index, opacity);
  $('prediction-title').textContent = p ? `prediction after ${p.step} step(s)` : 'prediction (none yet)';
  state.shownPrediction = p ? { caseName: p.caseName, step: p.step } : null;
}

/** Moves the slider to the slice with the most classes across the current axis. */
function resetSlice(): void {
  const c = shownCase();
  const slider = input('slice');
  slider.max = String(c.dims[axis()] - 1);
  slider.value = String(mostLabelledSlice(c.labels, c.dims, axis()));
}

function drawCharts(): void {
  const points = (key: 'total' | 'segmentation' | 'foreground'): [number, number][] =>
    state.losses.map((l) => [l.step, l[key]]);
  drawChart(
    $<HTMLCanvasElement>('losses'),
    [
      { name: 'segmentation (dice + CE)', colour: '#1f77b4', points: points('segmentation') },
      { name: 'foreground (tversky)', colour: '#d62728', points: points('foreground') },
      { name: 'weighted total', colour: '#444', points: points('total'), dashed: true },
    ],
    { title: 'losses', xMax: plannedSteps },
  );
  const classes = dataset?.classes ?? 0;
  const dice: Series[] = [];
  for (let k = 1; k < classes; k++)
    dice.push({
      name: dataset!.classNames[k],
      colour: cssColour(k),
      points: state.scores.map((s) => [s.step, s.dice[k]]),
    });
  dice.push({
    name: 'foreground head',
    colour: '#444',
    points: state.scores.map((s) => [s.step, s.foregroundDice]),
    dashed: true,
  });
  drawChart($<HTMLCanvasElement>('dice'), dice, { title: 'dice', yMax: 1, xMax: plannedSteps });
}

// ---- data ---------------------------------------------------------------------------------------

function useDataset(d: DemoDataset, note = ''): void {
  run?.dispose();
  run = null;
  predictions.clear();
  dataset = d;
  state.dataset = { source: d.source, title: d.title, classes: d.classes, cases: d.shown.map((c) => c.name) };
  state.losses = [];
  state.scores = [];
  state.steps = 0;
  state.weightNames = [];
  plannedSteps = 0;
  $('data-title').textContent = d.title;
  $('data-status').textContent = note;
  $('dice-caption').textContent = d.heldOut
    ? 'dice per class of the held-out volume shown (not trained on), by step'
    : 'dice per class of the case shown (one of the training cases), by step';
  select('case').replaceChildren(
    ...d.shown.map((c, i) => {
      const option = document.createElement('option');
      option.value = String(i);
      option.textContent = `${c.name} (${c.dims.join('×')})`;
      return option;
    }),
  );
  renderLegend($('legend'), d.classNames);
  button('download-weights').disabled = true;
  button('download-labels').disabled = true;
  resetSlice();
  drawViews();
  drawCharts();
}

async function loadFiles(files: InputFile[]): Promise<void> {
  if (button('start').disabled) {
    $('data-status').textContent = 'wait for the training or prediction to end before loading other data';
    return;
  }
  $('data-status').textContent = `reading ${files.length} file(s)…`;
  try {
    const { dataset: d, ignored } = await datasetFromFiles(files);
    useDataset(d, ignored.length ? `ignored (not NIfTI): ${ignored.join(', ')}` : '');
    $('error').textContent = '';
  } catch (e) {
    $('data-status').textContent = '';
    fail(`could not use the files: ${(e as Error).message}`);
  }
}

// ---- training -----------------------------------------------------------------------------------

/**
 * What the page is doing: 'training', or 'predicting' a case after training (the run's weights
 * must then stay as they are, so nothing that replaces them can start), or 'idle'.
 */
function setActivity(activity: 'idle' | 'training' | 'predicting'): void {
  state.running = activity === 'training';
  const busy = activity !== 'idle';
  button('start').disabled = busy;
  button('stop').disabled = activity !== 'training';
  for (const id of ['use-synthetic', 'files', 'case', 'download-weights', 'download-labels'])
    ($(id) as HTMLInputElement).disabled = busy || (id.startsWith('download') && !run);
}

async function start(): Promise<void> {
  if (!dataset) return;
  let settings: ReturnType<typeof parseSettings>;
  try {
    settings = parseSettings({
      model: select('model').value,
      filters: input('filters').value,
      patch: select('patch').value,
      batch: input('batch').value,
      lr: input('lr').value,
      w1: input('w1').value,
      w2: input('w2').value,
      steps: input('steps').value,
      evalEvery: input('eval-every').value,
    });
  } catch (e) {
    fail((e as Error).message);
    return;
  }
  $('error').textContent = '';
  run?.dispose();
  predictions.clear();
  state.losses = [];
  state.scores = [];
  state.steps = 0;
  plannedSteps = settings.steps;
  stopRequested = false;
  const shown = shownCase();
  const began = performance.now();
  try {
    run = new TrainingRun(dataset, settings);
    state.weightNames = run.weightNames;
    setActivity('training');
    $('status').textContent = 'compiling and taking the first step…';
    await run.train(shown, {
      onStep: (l) => {
        state.losses.push(l);
        state.steps = l.step;
        const perStep = (performance.now() - began) / 1000 / l.step;
        $('status').textContent = `step ${l.step} / ${settings.steps} (${perStep.toFixed(1)} s per step)`;
        drawCharts();
      },
      onPrediction: (p) => {
        predictions.set(p.caseName, p);
        state.scores.push({ step: p.step, dice: p.dice, foregroundDice: p.foregroundDice });
        drawViews();
        drawCharts();
      },
      stopRequested: () => stopRequested,
    });
    $('status').textContent = `${stopRequested ? 'stopped' : 'done'} after ${run.step} step(s)`;
  } catch (e) {
    fail(`training failed: ${(e as Error).message}`);
  } finally {
    setActivity('idle');
  }
}

/** The current run's prediction of the case shown, made now if it is missing or older than the weights. */
async function currentPrediction(): Promise<CasePrediction> {
  const c = shownCase();
  const p = predictions.get(c.name);
  if (p && p.step === run!.step) return p;
  $('status').textContent = `predicting ${c.name}…`;
  setActivity('predicting');
  try {
    const fresh = await run!.predict(c);
    predictions.set(c.name, fresh);
    drawViews();
    $('status').textContent = `predicted ${c.name} with the weights of step ${fresh.step}`;
    return fresh;
  } finally {
    setActivity('idle');
  }
}

async function downloadWeights(): Promise<void> {
  try {
    saveBytes(await run!.weights(), `voxgrad-${run!.settings.kind}.safetensors`, 'application/octet-stream');
  } catch (e) {
    fail(`could not save the weights: ${(e as Error).message}`);
  }
}

async function downloadLabels(): Promise<void> {
  try {
    const c = shownCase();
    const p = await currentPrediction();
    saveBytes(labelMapNifti(c, p.labels), `${c.name.replace(/\s+/g, '_')}_prediction.nii.gz`, 'application/gzip');
  } catch (e) {
    fail(`could not save the label map: ${(e as Error).message}`);
  }
}

// ---- wiring -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!('gpu' in navigator) || !navigator.gpu) {
    fail(
      'WebGPU is not available in this browser. Use a recent Chrome or Edge (or Chromium with --enable-unsafe-webgpu), or Firefox Nightly / Safari Technology Preview with WebGPU enabled.',
    );
    button('start').disabled = true;
    return;
  }
  try {
    const info = await init();
    state.adapter = info.adapter;
    $('adapter').textContent = info.adapter;
  } catch (e) {
    fail(`No WebGPU device: ${(e as Error).message}`);
    button('start').disabled = true;
    return;
  }
  button('start').onclick = () => void start();
  button('stop').onclick = () => {
    stopRequested = true;
  };
  button('use-synthetic').onclick = () => useDataset(syntheticDataset());
  button('download-weights').onclick = () => void downloadWeights();
  button('download-labels').onclick = () => void downloadLabels();
  select('case').onchange = () => {
    resetSlice();
    drawViews();
    // A trained model predicts the newly shown case at once.
    if (run) currentPrediction().catch((e) => fail(`could not predict: ${(e as Error).message}`));
  };
  select('axis').onchange = () => {
    resetSlice();
    drawViews();
  };
  input('slice').oninput = drawViews;
  input('opacity').oninput = drawViews;
  acceptFiles(document.documentElement, $('drop-zone'), input('files'), (files) => void loadFiles(files));
  useDataset(syntheticDataset());
  $('status').textContent = 'ready';
  state.ready = true;
}

main().catch((e) => fail(String(e)));
