/**
 * Command-line options: each command declares its options (kind, meaning, default), which both
 * `--help` and the parser read, and the typed readers below turn values into numbers, lists and
 * choices. Every reader is strict (`--lr 1e-3` yes; `--lr ''`, `--lr 0x10`, `--loss-weights ,`
 * no) and every error names the command, the option, what it expects and what it got.
 */
import { argMessage, ValueError } from '../errors.js';
import { nearest } from '../options.js';

export interface OptionSpec {
  /** 'flag' takes no value. */
  kind: 'value' | 'flag';
  /** How the value is written in help ('N', 'DIR', 'A,B'). */
  value?: string;
  /** What the option does. */
  meaning: string;
  /** The default as help shows it (absent: none). */
  default?: string;
}

/** A command's options by name (without the leading --); a bare kind declares an option without help text. */
export type OptionSpecs = Readonly<Record<string, OptionSpec | OptionSpec['kind']>>;

export type Options = Record<string, string | true>;

/** The command each parsed option set belongs to (named in error messages). */
const commands = new WeakMap<Options, string>();
const commandOf = (o: Options): string => `voxgrad ${commands.get(o) ?? ''}`.trimEnd();

const kindOf = (spec: OptionSpec | OptionSpec['kind']): OptionSpec['kind'] =>
  typeof spec === 'string' ? spec : spec.kind;

/** True when the arguments ask for help (`--help` or `-h` anywhere): nothing else is done then. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--help' || a === '-h');
}

/** `--name value`, `--name=value` and `--flag`, each checked against `allowed`. */
export function parseArgs(argv: readonly string[], allowed: OptionSpecs, command: string): Options {
  const out: Options = {};
  commands.set(out, command);
  const fn = `voxgrad ${command}`;
  const names = Object.keys(allowed);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--'))
      throw new ValueError(
        argMessage(fn, a, `an option starting with -- (voxgrad help ${command} lists them)`, 'a bare word'),
      );
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const spec = Object.hasOwn(allowed, name) ? allowed[name] : undefined;
    if (!spec) {
      const guess = nearest(name, names);
      throw new ValueError(
        argMessage(
          fn,
          `--${name}`,
          `an option of ${fn} (voxgrad help ${command} lists them)`,
          `an unknown option${guess ? `; did you mean --${guess}?` : ''}`,
        ),
      );
    }
    if (Object.hasOwn(out, name)) throw new ValueError(argMessage(fn, `--${name}`, 'the option once', 'it twice'));
    if (kindOf(spec) === 'flag') {
      if (eq >= 0) throw new ValueError(argMessage(fn, `--${name}`, 'no value (it is a flag)', `'${a.slice(eq + 1)}'`));
      out[name] = true;
      continue;
    }
    const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined || (eq < 0 && v.startsWith('--')))
      throw new ValueError(
        argMessage(fn, a, 'a value after it', v === undefined ? 'the end of the command line' : `the option ${v}`),
      );
    out[name] = v;
  }
  return out;
}

/** A decimal number as people write it: 3, -0.5, .25, 1e-3 (not '', 0x10, Infinity or 1,5). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** The number written in `text`, or NaN when it is not one. */
export function parseNumber(text: string): number {
  return NUMBER.test(text.trim()) ? Number(text) : Number.NaN;
}

const quoted = (v: string): string => `'${v}'`;

export function intOption(o: Options, name: string, fallback: number, min = 1, max = 1 << 20): number {
  const v = o[name];
  if (v === undefined) return fallback;
  const n = typeof v === 'string' ? parseNumber(v) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ValueError(argMessage(commandOf(o), `--${name}`, `an integer in [${min}, ${max}]`, quoted(String(v))));
  return n;
}

/** A finite number in [min, max] (or (min, max] with `exclusiveMin`). */
export function numberOption(
  o: Options,
  name: string,
  fallback: number,
  range: { min?: number; max?: number; exclusiveMin?: boolean } = {},
): number {
  const v = o[name];
  if (v === undefined) return fallback;
  return checkedNumber(o, name, String(v), String(v), range);
}

function checkedNumber(
  o: Options,
  name: string,
  text: string,
  whole: string,
  { min = -Infinity, max = Infinity, exclusiveMin = false }: { min?: number; max?: number; exclusiveMin?: boolean },
  what = 'a number',
): number {
  const n = parseNumber(text);
  const ok = Number.isFinite(n) && (exclusiveMin ? n > min : n >= min) && n <= max;
  if (!ok) {
    const bounds = [
      min > -Infinity ? `${exclusiveMin ? '>' : '>='} ${min}` : '',
      max < Infinity ? `<= ${max}` : '',
    ].filter(Boolean);
    const expected = `${what}${bounds.length ? ` ${bounds.join(' and ')}` : ''}`;
    throw new ValueError(argMessage(commandOf(o), `--${name}`, expected, quoted(whole)));
  }
  return n;
}

/** `count` comma-separated numbers, each in the range. */
export function numberListOption(
  o: Options,
  name: string,
  fallback: readonly number[],
  count: number,
  range: { min?: number; max?: number } = {},
): number[] {
  const v = o[name];
  if (v === undefined) return [...fallback];
  const text = String(v);
  const parts = text.split(',');
  if (parts.length !== count)
    throw new ValueError(
      argMessage(commandOf(o), `--${name}`, `${count} numbers separated by commas`, `${quoted(text)}`),
    );
  return parts.map((p) =>
    checkedNumber(o, name, p, text, range, `${count} numbers separated by commas, each a number`),
  );
}

/** One of `choices`. */
export function choiceOption<T extends string>(o: Options, name: string, choices: readonly T[], fallback: T): T {
  const v = o[name];
  if (v === undefined) return fallback;
  if (!choices.includes(v as T))
    throw new ValueError(argMessage(commandOf(o), `--${name}`, `one of ${choices.join(', ')}`, quoted(String(v))));
  return v as T;
}

/** Three sizes written as N (a cube) or X,Y,Z (or XxYxZ), each an integer in [min, max]. */
export function sizeOption(
  o: Options,
  name: string,
  fallback: readonly [number, number, number],
  min: number,
  max: number,
): [number, number, number] {
  const v = o[name];
  if (v === undefined) return [...fallback];
  const text = String(v);
  const parts = text.split(/[,x]/);
  const values = parts.map(parseNumber);
  if ((parts.length !== 1 && parts.length !== 3) || values.some((n) => !Number.isInteger(n) || n < min || n > max))
    throw new ValueError(
      argMessage(commandOf(o), `--${name}`, `N or X,Y,Z: integers in [${min}, ${max}]`, quoted(text)),
    );
  return parts.length === 1 ? [values[0], values[0], values[0]] : [values[0], values[1], values[2]];
}

export function stringOption(o: Options, name: string): string | undefined {
  const v = o[name];
  return typeof v === 'string' ? v : undefined;
}

/** The error for an option whose value is wrong for a reason the readers above do not know. */
export function optionError(o: Options, name: string, expected: string, got: string): ValueError {
  return new ValueError(argMessage(commandOf(o), `--${name}`, expected, got));
}
