/**
 * The voxgrad command line: `voxgrad train`, `voxgrad predict`, `voxgrad bench`, `voxgrad help`.
 * Help (`--help` anywhere, `voxgrad help <command>`) is printed without starting anything. Errors
 * are one clear line and a non-zero exit status, never a stack trace; a missing WebGPU adapter
 * prints what to install. GPU commands run in a child process that hides Dawn's limit warnings
 * (see dawn_warnings.ts).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../node/platform.js';
import { DeviceError, VoxgradError } from '../errors.js';
import { nearest } from '../options.js';
import { dispose } from '../tensor/api.js';
import { flags } from '../tensor/flags.js';
import { type OptionSpec, parseArgs, wantsHelp } from './args.js';
import { CHILD_ENV, runWithoutDawnWarnings } from './dawn_warnings.js';
import { type CommandHelp, commandHelp, mainHelp } from './help.js';
import { PREDICT_HELP, predict } from './predict.js';
import { train } from './train.js';
import { TRAIN_HELP } from './train_options.js';

const BENCH_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  quick: { kind: 'flag', meaning: 'a short run (fewer repetitions and shapes)', default: 'off' },
  json: {
    kind: 'value',
    value: 'FILE',
    meaning: 'where to write the results as JSON',
    default: 'bench-results/bench.json',
  },
  markdown: {
    kind: 'value',
    value: 'FILE',
    meaning: 'where to write the results as tables',
    default: 'bench-results/bench.md',
  },
};

const BENCH_HELP: CommandHelp = {
  name: 'bench',
  summary: 'run the kernel, loss and training-step benchmark against TensorFlow.js and jax-js (from a checkout)',
  description:
    'Times the kernels, the losses forward and backward and a training step on this machine, each against ' +
    'its peers on the same adapter with their results checked first. Runs from a voxgrad checkout (npm run bench).',
  options: BENCH_OPTIONS,
  examples: ['voxgrad bench --quick'],
};

const COMMANDS: readonly CommandHelp[] = [TRAIN_HELP, PREDICT_HELP, BENCH_HELP];
const NAMES = COMMANDS.map((c) => c.name);

function unknownCommand(command: string): number {
  const guess = nearest(command, [...NAMES, 'help']);
  console.error(
    `voxgrad: unknown command '${command}' (commands: ${NAMES.join(', ')}, help)${guess ? `; did you mean ${guess}?` : ''}`,
  );
  return 2;
}

/** Prints help and returns the exit status, or returns null when the arguments are not a help request. */
function help(command: string | undefined, rest: readonly string[]): number | null {
  if (command === undefined) {
    console.error(mainHelp(COMMANDS));
    return 2;
  }
  if (command === '--help' || command === '-h') {
    console.log(mainHelp(COMMANDS));
    return 0;
  }
  if (command === 'help') {
    if (!rest.length) {
      console.log(mainHelp(COMMANDS));
      return 0;
    }
    const c = COMMANDS.find((x) => x.name === rest[0]);
    if (!c) return unknownCommand(rest[0]);
    console.log(commandHelp(c));
    return 0;
  }
  const c = COMMANDS.find((x) => x.name === command);
  if (!c) return unknownCommand(command);
  if (wantsHelp(rest)) {
    console.log(commandHelp(c));
    return 0;
  }
  return null;
}

async function runCommand(command: string, rest: string[]): Promise<number> {
  // Fault injection for the device-loss test (see flags.loseDeviceAfterDispatches).
  const loseAfter = Number(process.env.VOXGRAD_LOSE_DEVICE_AFTER_DISPATCHES ?? 0);
  if (Number.isInteger(loseAfter) && loseAfter > 0) flags.loseDeviceAfterDispatches = loseAfter;
  try {
    await (command === 'train' ? train(rest) : predict(rest));
    return 0;
  } catch (e) {
    const message = String((e as Error)?.message ?? e).split('\n')[0];
    // Option errors already start with the command's name.
    if (e instanceof DeviceError) console.error(`voxgrad: ${message}`);
    else if (e instanceof VoxgradError && message.startsWith(`voxgrad ${command}:`)) console.error(message);
    else console.error(`voxgrad ${command}: ${message}`);
    return 1;
  } finally {
    await dispose().catch(() => undefined);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const helped = help(command, rest);
  if (helped !== null) return helped;
  if (command === 'bench') {
    try {
      parseArgs(rest, BENCH_OPTIONS, 'bench');
    } catch (e) {
      console.error((e as Error).message);
      return 2;
    }
    // The benchmark (with its peers, TensorFlow.js and jax-js) lives in a voxgrad checkout, not in the package.
    const script = join(dirname(fileURLToPath(import.meta.url)), '../../build/bench/bench.js');
    if (!existsSync(script)) {
      console.error('voxgrad bench: the benchmark runs from a voxgrad checkout: git clone it, then `npm run bench`');
      return 1;
    }
    return runWithoutDawnWarnings(script, rest);
  }
  if (!process.env[CHILD_ENV]) return runWithoutDawnWarnings(fileURLToPath(import.meta.url), argv);
  return runCommand(command, rest);
}

process.exitCode = await main(process.argv.slice(2)).catch((e) => {
  console.error(`voxgrad: ${(e as Error)?.message ?? e}`);
  return 1;
});
