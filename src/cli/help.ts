/** What `--help` prints: a command's summary, then each option with its meaning and default. */
import type { OptionSpec } from './args.js';

export interface CommandHelp {
  name: string;
  /** One line for `voxgrad --help`. */
  summary: string;
  /** A paragraph for `voxgrad help <name>`. */
  description: string;
  options: Readonly<Record<string, OptionSpec>>;
  examples: readonly string[];
}

const WIDTH = 100;

/** `text` in lines of at most `width` characters, each after `indent` spaces. */
function wrap(text: string, indent: number, width = WIDTH): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => ' '.repeat(indent) + l);
}

function optionLines(name: string, spec: OptionSpec, column: number): string[] {
  const head = `  --${name}${spec.kind === 'value' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
  const text = `${spec.meaning}${spec.default !== undefined ? ` (default: ${spec.default})` : ''}`;
  const body = wrap(text, column);
  if (head.length + 2 <= column) body[0] = head.padEnd(column) + body[0].trimStart();
  else body.unshift(head);
  return body;
}

/** The help of one command: usage, description, every option, examples. */
export function commandHelp(c: CommandHelp): string {
  const heads = Object.entries(c.options).map(
    ([n, s]) => `  --${n}${s.kind === 'value' ? ` ${s.value ?? 'VALUE'}` : ''}`.length,
  );
  const column = Math.min(30, Math.max(...heads) + 2);
  return [
    `usage: voxgrad ${c.name} [options]`,
    '',
    ...wrap(c.description, 0),
    '',
    'options:',
    ...Object.entries(c.options).flatMap(([n, s]) => optionLines(n, s, column)),
    ...optionLines('help', { kind: 'flag', meaning: 'print this help and exit', default: 'off' }, column),
    '',
    'examples:',
    ...c.examples.map((e) => `  ${e}`),
  ].join('\n');
}

/** `voxgrad --help`: the commands, and how to get each one's options. */
export function mainHelp(commands: readonly Pick<CommandHelp, 'name' | 'summary'>[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 4;
  return [
    'usage: voxgrad <command> [options]',
    '',
    'commands:',
    ...commands.flatMap((c) => {
      const lines = wrap(c.summary, width + 2);
      lines[0] = `  ${c.name.padEnd(width)}${lines[0].trimStart()}`;
      return lines;
    }),
    '',
    'voxgrad help <command> (or voxgrad <command> --help) lists its options, their meaning and defaults.',
  ].join('\n');
}
