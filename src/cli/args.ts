/** Command-line options: `--name value` pairs and `--flag`s, checked against what a command accepts. */
import { ValueError } from '../errors.js';

export type Options = Record<string, string | true>;

export function parseArgs(argv: readonly string[], allowed: Readonly<Record<string, 'value' | 'flag'>>, command: string): Options {
  const out: Options = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new ValueError(`voxgrad ${command}: unexpected argument '${a}' (options start with --)`);
    const name = a.slice(2);
    const kind = allowed[name];
    if (!kind) throw new ValueError(`voxgrad ${command}: unknown option --${name}; options: ${Object.keys(allowed).map((k) => `--${k}`).join(' ')}`);
    if (kind === 'flag') out[name] = true;
    else {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new ValueError(`voxgrad ${command}: option --${name} needs a value`);
      out[name] = v;
    }
  }
  return out;
}

export function intOption(o: Options, name: string, fallback: number, min = 1, max = 1 << 20): number {
  const v = o[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new ValueError(`option --${name} expects an integer in [${min}, ${max}], got '${v}'`);
  return n;
}

export function numberOption(o: Options, name: string, fallback: number, min = 0): number {
  const v = o[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new ValueError(`option --${name} expects a number >= ${min}, got '${v}'`);
  return n;
}

export function stringOption(o: Options, name: string): string | undefined {
  const v = o[name];
  return typeof v === 'string' ? v : undefined;
}
