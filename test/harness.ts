/**
 * How the suites run: `suite(name)` is uvu's suite with every outcome counted, `setup()` opens the
 * one device the whole process shares, and the counts are written after each test to the file
 * named by VOXGRAD_TALLY_FILE (so a runner can report them even if the process dies).
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Callback, type Test, suite as uvuSuite } from 'uvu';
import { flags, init } from '../src/index.node.js';

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

export const tally: Tally = { passed: 0, failed: 0, skipped: 0 };

/** A test slower than this prints its time. */
const SLOW_SECONDS = 10;

function write(done: boolean): void {
  const file = process.env.VOXGRAD_TALLY_FILE;
  if (file) writeFileSync(file, JSON.stringify({ ...tally, done }));
}

function record(outcome: keyof Tally): void {
  tally[outcome]++;
  write(false);
}

/** The final counts (the runner prints its summary line right after). */
export function finish(failed: number): void {
  tally.failed = failed;
  write(true);
}

/** uvu's suite; each test's outcome is counted (and `skip` counts as skipped). */
export function suite<T = Record<string, unknown>>(name: string, context?: T): Test<T> {
  const s = uvuSuite<T>(name, context);
  // Counts the outcome, and prints the time of a slow test (to keep an eye on CI time).
  const counted =
    (title: string, fn: Callback<T>): Callback<T> =>
    async (ctx) => {
      const start = performance.now();
      try {
        await fn(ctx);
      } catch (e) {
        record('failed');
        throw e;
      } finally {
        const seconds = (performance.now() - start) / 1000;
        if (seconds > SLOW_SECONDS) console.log(`  (${seconds.toFixed(1)} s: ${title})`);
      }
      record('passed');
    };
  const test = ((title: string, fn: Callback<T>) => s(title, counted(title, fn))) as Test<T>;
  test.only = (title, fn) => s.only(title, counted(title, fn));
  test.skip = (title?: string, fn?: Callback<T>) => {
    record('skipped');
    s.skip(title, fn);
  };
  test.before = s.before;
  test.after = s.after;
  test.run = () => s.run();
  return test;
}

// Tests run the default kernel variants (or the ones they force), never choices tuned on this
// machine: no stored tuning is read and nothing is tuned behind their back.
process.env.VOXGRAD_TUNING_FILE = join(mkdtempSync(join(tmpdir(), 'voxgrad-test-')), 'tuning.json');
flags.autoTuneMs = 0;
// CLI processes the tests start inherit it.
process.env.VOXGRAD_AUTOTUNE_MS = '0';

let ready: Promise<unknown> | null = null;
/** Initialises the shared device once per process. */
export async function setup(): Promise<void> {
  ready ??= init();
  await ready;
}

/** The repository root (the folder with package.json above the running file). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above the tests');
    dir = up;
  }
  return dir;
}
