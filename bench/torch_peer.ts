/**
 * PyTorch on the CPU as the U-Net step's peer (bench/torch_unet.py, Debian's python3-torch with
 * oneDNN on every core): installed with apt when missing and the benchmark runs as root, else
 * skipped with the reason. Never a dependency of the library or its tests.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface TorchStep {
  version: string;
  threads: number;
  stepMs: number;
}

const PYTHON = '/usr/bin/python3';

function hasTorch(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

/** Installs python3-torch with apt when it is missing (as root only); the reason when it cannot. */
function ensureTorch(install: boolean): string | null {
  if (hasTorch()) return null;
  if (!install) return 'python3-torch is not installed';
  if (process.getuid?.() !== 0) return 'python3-torch is not installed (run the benchmark as root to install it)';
  console.log('installing python3-torch for the CPU peer (apt-get) ...');
  const r = spawnSync('apt-get', ['install', '-y', '-q', 'python3-torch'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0 && hasTorch() ? null : 'apt-get could not install python3-torch';
}

/** Median ms of one training step of the same U-Net at size³ on PyTorch's CPU, or the reason it did not run. */
export function torchUNetStep(
  size: number,
  batch: number,
  runs: number,
  options: { install?: boolean } = {},
): TorchStep | { skipped: string } {
  const missing = ensureTorch(options.install ?? true);
  if (missing) return { skipped: missing };
  const script = fileURLToPath(new URL('../../bench/torch_unet.py', import.meta.url));
  const r = spawnSync(PYTHON, [script, String(size), String(batch), String(runs)], { encoding: 'utf8' });
  if (r.status !== 0) return { skipped: `torch_unet.py failed: ${r.stderr.trim().split('\n').pop()}` };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchStep;
}
