/**
 * Keras's `verbose` for fit, evaluate and predict: 0 silent; 1 a progress bar (on a terminal one
 * line redrawn in place, otherwise plain lines at most once a second and the last step); 2 one
 * line when the run (or, in fit, the epoch) ends. Node writes to process.stdout, found on
 * globalThis so that the browser bundle imports nothing; a browser writes lines to the console.
 */
import { argMessage, ValueError } from '../errors.js';
import { describe } from '../tensor/ops/check.js';
import type { Logs } from './batch_means.js';

export type Verbose = 0 | 1 | 2 | 'auto';

/** Where progress goes: a terminal takes carriage returns, anything else whole lines. */
export interface ProgressOutput {
  readonly isTTY: boolean;
  write(text: string): void;
}

interface NodeStdout {
  isTTY?: boolean;
  write?: (text: string) => unknown;
}

function defaultOutput(): ProgressOutput {
  const stdout = (globalThis as { process?: { stdout?: NodeStdout } }).process?.stdout;
  if (stdout?.write) return { isTTY: !!stdout.isTTY, write: (text) => void stdout.write!(text) };
  return { isTTY: false, write: (text) => console.log(text.replace(/\n$/, '')) };
}

/** The verbose argument as 0, 1 or 2 ('auto': 1 on a terminal, else 0). */
export function checkVerbose(fn: string, value: unknown, fallback: Verbose = 0): 0 | 1 | 2 {
  const v = value === undefined ? fallback : value;
  if (v === 'auto') return defaultOutput().isTTY ? 1 : 0;
  if (v !== 0 && v !== 1 && v !== 2) throw new ValueError(argMessage(fn, 'verbose', "0, 1, 2 or 'auto'", describe(v)));
  return v;
}

/** A loss or metric as Keras prints it: 4 decimals, or 3 significant digits when tiny. */
function format(v: number): string {
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toFixed(4);
}

const BAR_WIDTH = 20;
/** Plain-line output prints at most this often (and always the last step). */
const LINE_INTERVAL_MS = 1000;

/** Progress of one run of `steps` batches (one epoch of fit, an evaluate, a predict). */
export class Progress {
  readonly #start = performance.now();
  #lastLine = this.#start;

  constructor(
    readonly steps: number,
    readonly verbose: 0 | 1 | 2,
    /** Printed first on the run's line (fit: 'Epoch 2/10'). */
    readonly title = '',
    readonly output: ProgressOutput = defaultOutput(),
  ) {}

  /** Whether updates print the running logs (then the caller reads them every step). */
  get wantsStepLogs(): boolean {
    return this.verbose === 1;
  }

  /** Step `step` (1-based) is done; `logs` are the running means so far. */
  update(step: number, logs: Logs | null): void {
    if (this.verbose !== 1 || step >= this.steps) return;
    const now = performance.now();
    if (this.output.isTTY) this.output.write(`\r${this.#line(step, logs, true)}\x1b[K`);
    else if (now - this.#lastLine >= LINE_INTERVAL_MS) {
      this.#lastLine = now;
      this.output.write(`${this.#line(step, logs, true)}\n`);
    }
  }

  /** The run is done: the final line with its logs. */
  finish(logs: Logs | null): void {
    if (this.verbose === 0) return;
    const line = this.#line(this.steps, logs, this.verbose === 1);
    this.output.write(this.verbose === 1 && this.output.isTTY ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  #line(step: number, logs: Logs | null, bar: boolean): string {
    const elapsed = (performance.now() - this.#start) / 1000;
    const perStep = (1000 * elapsed) / Math.max(1, step);
    const parts: string[] = [];
    if (this.title) parts.push(this.title);
    const count = `${String(step).padStart(String(this.steps).length)}/${this.steps}`;
    if (bar) {
      const done = Math.round((BAR_WIDTH * step) / Math.max(1, this.steps));
      const head = done < BAR_WIDTH ? '>' : '';
      parts.push(`${count} [${'='.repeat(Math.max(0, done - head.length))}${head}${'.'.repeat(BAR_WIDTH - done)}]`);
    } else parts.push(count);
    parts.push(`${elapsed.toFixed(1)}s ${perStep.toFixed(0)}ms/step`);
    for (const [k, v] of Object.entries(logs ?? {})) parts.push(`${k}: ${format(v)}`);
    return parts.join(' - ');
  }
}
