/**
 * The tuner: times every variant of each pending shape class (the classes the program has run
 * without a choice for this adapter) on the current device and records the fastest, which
 * src/tensor/tuning.ts keeps in memory and persists per adapter. `tune()` is public; `fit` calls
 * `autoTune()` between its first steps, within `flags.autoTuneMs` per process.
 */
import { engine } from './engine.js';
import { flags } from './flags.js';
import {
  clearChoices,
  currentChoices,
  forceVariant,
  pendingClasses,
  recordChoice,
  reloadChoices,
  tunable,
  tunableFamilies,
} from './tuning.js';

export interface TuneOptions {
  /** Stop starting new classes after this many milliseconds (default: no limit). */
  budgetMs?: number;
  /** Timed runs per variant after a warm-up run; the fastest counts (default 3). */
  repeats?: number;
  /** Called with one line per class tuned. */
  log?: (line: string) => void;
}

export interface TuneResult {
  family: string;
  shapeClass: string;
  /** The variant chosen. */
  variant: string;
  /** Milliseconds per run of each variant (Infinity where it failed). */
  times: Record<string, number>;
}

const now = (): number => globalThis.performance.now();

/**
 * Times the variants of every pending shape class on the current device and keeps the fastest
 * (persisted per adapter: a JSON file in Node, localStorage in a browser). Returns what it chose.
 */
export async function tune(options: TuneOptions = {}): Promise<TuneResult[]> {
  const budget = options.budgetMs ?? Number.POSITIVE_INFINITY;
  const repeats = Math.max(1, Math.floor(options.repeats ?? 3));
  const adapter = engine.backend.tuningKey;
  const start = now();
  const results: TuneResult[] = [];
  for (const { family, shapeClass } of pendingClasses()) {
    if (now() - start > budget) break;
    const t = tunable(family);
    const trial = t?.trial(shapeClass);
    if (!t || !trial) continue;
    const variants = t.variants.filter((v) => t.usable?.(v) ?? true);
    let times: Record<string, number>;
    try {
      times = await timeVariants(variants, (v) => trial.run(v), repeats);
    } finally {
      trial.dispose();
    }
    const variant = variants.reduce((best, v) => (times[v]! < times[best]! ? v : best), variants[0]!);
    recordChoice(adapter, family, shapeClass, variant);
    results.push({ family, shapeClass, variant, times });
    options.log?.(
      `${family} ${shapeClass}: ${variant} (${variants.map((v) => `${v} ${times[v]!.toFixed(2)} ms`).join(', ')})`,
    );
  }
  return results;
}

/**
 * Each variant's fastest of `repeats` runs after a warm-up run (which also compiles its
 * pipelines), Infinity for one that throws. The runs go round by round, every variant once a
 * round, so that a slow phase of the host (software adapters drift by up to 3x for seconds) hits
 * them alike instead of whichever was being timed. A run is timed between two GPU timestamps
 * where the adapter has them: the first is written before the run is recorded, so the time
 * includes recording it but not the wait for the result (on a software adapter a millisecond or
 * more of noise on a kernel of a few); a reading of 0 or less (timestamps are quantised, and may
 * run backwards) falls back to the wall clock.
 */
export async function timeVariants(
  variants: readonly string[],
  run: (variant: string) => void,
  repeats: number,
): Promise<Record<string, number>> {
  const best: Record<string, number> = {};
  const failed = new Set<string>();
  const timed = async (variant: string): Promise<number> => {
    const gpu = await engine.backend.gpuTimeMs(() => run(variant));
    if (gpu !== null && gpu > 0) return gpu;
    const t0 = now();
    run(variant);
    await engine.backend.sync();
    return now() - t0;
  };
  const attempt = async (variant: string, fn: () => Promise<number>): Promise<void> => {
    try {
      const ms = await fn();
      engine.backend.checkHealthy();
      best[variant] = Math.min(best[variant] ?? Number.POSITIVE_INFINITY, ms);
    } catch {
      failed.add(variant);
      best[variant] = Number.POSITIVE_INFINITY;
    }
  };
  for (const variant of variants) {
    await attempt(variant, async () => {
      run(variant);
      await engine.backend.sync();
      return Number.POSITIVE_INFINITY;
    });
  }
  for (let r = 0; r < repeats; r++) {
    for (const variant of variants) if (!failed.has(variant)) await attempt(variant, () => timed(variant));
  }
  return best;
}

let autoTuneSpentMs = 0;

/**
 * Tunes pending classes within what is left of `flags.autoTuneMs` for this process (0 turns
 * automatic tuning off). Returns what it chose.
 */
export async function autoTune(): Promise<TuneResult[]> {
  const left = flags.autoTuneMs - autoTuneSpentMs;
  if (left <= 0 || pendingClasses().length === 0) return [];
  const t0 = now();
  try {
    return await tune({ budgetMs: left, repeats: 2 });
  } finally {
    autoTuneSpentMs += now() - t0;
  }
}

/** What the tuner knows on the current adapter, and test and benchmark controls. */
export const tuning = {
  /** Every choice made for this adapter, `family|shape class` → variant. */
  choices: (): Record<string, string> => currentChoices(engine.backend.tuningKey),
  /** The classes run since without a timed choice. */
  pending: pendingClasses,
  /** Forces a variant of a family for every class (null: back to the tuned choices). */
  force: forceVariant,
  /** Every family with its variants. */
  families: (): Record<string, readonly string[]> =>
    Object.fromEntries(tunableFamilies().map((t) => [t.family, t.variants])),
  /** Reads the stored choices again (another process may have tuned). */
  reload: reloadChoices,
  /** Forgets this adapter's choices, in memory and stored, and the pending classes. */
  clear: (): void => clearChoices(engine.backend.tuningKey),
};
