/** Command-line options: `--name value` pairs and `--flag`s, checked against what a command accepts. */
import { argMessage, ValueError } from '../errors.js';

export type Options = Record<string, string | true>;

/** The command each parsed option set belongs to (named in error messages). */
const commands = new WeakMap<Options, string>();
const commandOf = (o: Options): string => `voxgrad ${commands.get(o) ?? ''}`.trimEnd();

export function parseArgs(
  argv: readonly string[],
  allowed: Readonly<Record<string, 'value' | 'flag'>>,
  command: string,
): Options {
  const out: Options = {};
  commands.set(out, command);
  const fn = `voxgrad ${command}`;
  const list = Object.keys(allowed)
    .map((k) => `--${k}`)
    .join(' ');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--'))
      throw new ValueError(argMessage(fn, a, `an option starting with -- (${list})`, 'a bare word'));
    const name = a.slice(2);
    const kind = allowed[name];
    if (!kind) throw new ValueError(argMessage(fn, a, `one of the options ${list}`, 'an unknown option'));
    if (kind === 'flag') out[name] = true;
    else {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--'))
        throw new ValueError(
          argMessage(fn, a, 'a value after it', v === undefined ? 'the end of the command line' : `the option ${v}`),
        );
      out[name] = v;
    }
  }
  return out;
}

export function intOption(o: Options, name: string, fallback: number, min = 1, max = 1 << 20): number {
  const v = o[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ValueError(argMessage(commandOf(o), `--${name}`, `an integer in [${min}, ${max}]`, `'${v}'`));
  return n;
}

export function numberOption(o: Options, name: string, fallback: number, min = 0): number {
  const v = o[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min)
    throw new ValueError(argMessage(commandOf(o), `--${name}`, `a number >= ${min}`, `'${v}'`));
  return n;
}

export function stringOption(o: Options, name: string): string | undefined {
  const v = o[name];
  return typeof v === 'string' ? v : undefined;
}
