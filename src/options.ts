/**
 * The one check of an object's keys against the names it may hold: option objects, and records
 * keyed by a model's output names. An unknown key is an error that lists the valid names and
 * suggests the nearest one, so a typo (`batchsize`, `segmentaton`) is never silently ignored.
 */
import { argMessage, ValueError } from './errors.js';

/** The allowed name closest to `key` (case-insensitive edit distance), when it is close. */
export function nearest(key: string, allowed: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const name of allowed) {
    const d = editDistance(key.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next.push(Math.min(prev[j] + 1, next[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = next;
  }
  return prev[b.length];
}

/**
 * Throws a ValueError naming `fn`, `arg` and the valid names unless every key of `record` is among
 * `allowed`. `noun` names what the keys are ('option', 'output').
 */
export function checkKeys(fn: string, arg: string, record: object, allowed: readonly string[], noun = 'option'): void {
  for (const key of Object.keys(record)) {
    if (allowed.includes(key)) continue;
    const guess = nearest(key, allowed);
    const list = allowed.map((k) => `'${k}'`).join(', ');
    throw new ValueError(
      `${fn}: argument '${arg}' expected keys among the ${noun}s ${list}, got the key '${key}', which is not an ${noun}${guess ? ` (did you mean '${guess}'?)` : ''}`,
    );
  }
}

/** An options argument: undefined (no options) or a plain object with only the allowed keys. */
export function checkOptions<T extends object>(
  fn: string,
  options: T | undefined,
  allowed: readonly string[],
  arg = 'options',
): T | Record<string, never> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValueError(
      argMessage(
        fn,
        arg,
        'an options object',
        options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options,
      ),
    );
  }
  checkKeys(fn, arg, options, allowed);
  return options;
}
