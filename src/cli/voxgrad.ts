/**
 * The voxgrad command line: `voxgrad train`, `voxgrad predict`, `voxgrad bench`. Errors are one
 * clear line and a non-zero exit status, never a stack trace; a missing WebGPU adapter prints
 * what to install.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../node/platform.js';
import { DeviceError, VoxgradError } from '../errors.js';
import { dispose, init } from '../tensor/api.js';
import { flags } from '../tensor/flags.js';
import { PREDICT_OPTIONS, predict } from './predict.js';
import { TRAIN_OPTIONS, train } from './train.js';

const HELP = `usage: voxgrad <command> [options]

  train     train the two-head 3D model (dice + tversky) on synthetic volumes, or on NIfTI data
            ${Object.keys(TRAIN_OPTIONS)
              .map((k) => `--${k}`)
              .join(' ')}
            e.g. voxgrad train --epochs 15 --loss-weights 0.5,0.3 --out run1
                 voxgrad train --images imgs/ --labels labels/ --size 32 --out run2
  predict   label a NIfTI volume with a trained model
            ${Object.keys(PREDICT_OPTIONS)
              .map((k) => `--${k}`)
              .join(' ')}
  bench     run the kernel and loss benchmark (add --quick for a short run)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    console.log(HELP);
    return command ? 0 : 2;
  }
  if (command === 'bench') {
    // The benchmark (with its peers, TensorFlow.js and jax-js) lives in a voxgrad checkout, not in the package.
    const script = join(dirname(fileURLToPath(import.meta.url)), '../../build/bench/bench.js');
    if (!existsSync(script)) {
      console.error('voxgrad bench: the benchmark runs from a voxgrad checkout: git clone it, then `npm run bench`');
      return 1;
    }
    return spawnSync(process.execPath, [script, ...rest], { stdio: 'inherit' }).status ?? 1;
  }
  if (command !== 'train' && command !== 'predict') {
    console.error(`voxgrad: unknown command '${command}' (train, predict, bench)`);
    return 2;
  }
  // Fault injection for the device-loss test (see flags.loseDeviceAfterDispatches).
  const loseAfter = Number(process.env.VOXGRAD_LOSE_DEVICE_AFTER_DISPATCHES ?? 0);
  if (Number.isInteger(loseAfter) && loseAfter > 0) flags.loseDeviceAfterDispatches = loseAfter;
  try {
    const info = await init();
    if (command === 'train' && !rest.includes('--quiet')) console.log(`voxgrad on ${info.adapter}`);
    await (command === 'train' ? train(rest) : predict(rest));
    return 0;
  } catch (e) {
    if (e instanceof DeviceError) console.error(`voxgrad: ${e.message}`);
    else if (e instanceof VoxgradError) console.error(`voxgrad ${command}: ${e.message.split('\n')[0]}`);
    else console.error(`voxgrad ${command}: ${(e as Error)?.message ?? e}`);
    return 1;
  } finally {
    await dispose().catch(() => undefined);
  }
}

process.exitCode = await main(process.argv.slice(2));
