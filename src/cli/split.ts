/**
 * Which cases validate (`--val`): case names separated by commas, or a fraction of the cases
 * drawn with the run's seed. At least one case is always left for training.
 */
import { seededRandom } from '../data/synthetic.js';
import { nearest } from '../options.js';
import { type Options, optionError, parseNumber } from './args.js';

export const DEFAULT_VAL_FRACTION = 0.25;

export interface Split {
  train: number[];
  val: number[];
  /** How the validation cases were chosen, for the log. */
  how: string;
}

export function splitCases(o: Options, names: readonly string[], seed: number): Split {
  const text = typeof o.val === 'string' ? o.val : undefined;
  const n = names.length;
  const fraction = text === undefined ? DEFAULT_VAL_FRACTION : parseNumber(text);
  const byName = text !== undefined && !(fraction >= 0 && fraction < 1);
  let val: number[];
  let how: string;
  if (byName) {
    const wanted = text.split(',').map((s) => s.trim());
    val = wanted.map((w) => {
      const i = names.indexOf(w);
      if (i < 0) {
        const guess = nearest(w, names);
        throw optionError(
          o,
          'val',
          `a fraction in [0, 1) or case names separated by commas (cases: ${shortList(names)})`,
          `'${w}', which is no case${guess ? `; did you mean ${guess}?` : ''}`,
        );
      }
      return i;
    });
    if (new Set(val).size !== val.length) throw optionError(o, 'val', 'each case once', `'${text}'`);
    how = 'named by --val';
  } else {
    const count = fraction === 0 || n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
    const order = shuffled(n, seededRandom(seed * 31 + 5));
    val = order.slice(0, count);
    how = `${Math.round(100 * fraction)}% of ${n} cases, drawn with seed ${seed}`;
  }
  if (val.length >= n)
    throw optionError(o, 'val', 'at least one case left for training', `all ${n} cases for validation`);
  val.sort((a, b) => a - b);
  const train = names.map((_, i) => i).filter((i) => !val.includes(i));
  return { train, val, how };
}

function shortList(names: readonly string[]): string {
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 5).join(', ')}, … ${names[names.length - 1]}`;
}

function shuffled(n: number, random: () => number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
