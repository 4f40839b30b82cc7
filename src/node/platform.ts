/**
 * voxgrad's platform in Node: WebGPU from Dawn's Node bindings (the `webgpu` package), the
 * tuner's choices in a JSON file (VOXGRAD_TUNING_FILE, or ~/.cache/voxgrad/tuning.json), fit's
 * automatic tuning budget from VOXGRAD_AUTOTUNE_MS when set (0 turns it off), and
 * AsyncLocalStorage as the async context of tidyAsync's scopes.
 *
 * dawn.node's GPU object (its Dawn instance) must stay strongly reachable while anything of it is
 * alive, including the event processing dawn.node schedules after a device is destroyed: if V8
 * collects it, the instance dies under that work and the process crashes at random moments (a
 * destroyed device's pending callbacks then ran on a freed instance). So each instance lives as
 * long as the process, one per adapter request, shared by every device opened on it (as a
 * browser's navigator.gpu); holding it does not keep Node from exiting.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ValueError } from '../errors.js';
import { type AsyncContext, type GpuRequest, type Platform, setPlatform } from '../platform.js';
import { flags } from '../tensor/flags.js';

/** Dawn's GPU objects by their creation flags, held for the life of the process (see the header). */
const instances = new Map<string, GPU>();

async function dawn(request: GpuRequest): Promise<GPU> {
  let mod: { create(flags: string[]): GPU; globals: Record<string, unknown> };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    throw new Error(
      `the 'webgpu' package (Dawn's Node bindings) could not be loaded: ${(e as Error).message}. Run \`npm install\``,
    );
  }
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const flags: string[] = [];
  if (request.adapter) flags.push(`adapter=${request.adapter}`);
  if (request.backend) flags.push(`backend=${request.backend}`);
  const key = flags.join(' ');
  let gpu = instances.get(key);
  if (!gpu) {
    gpu = mod.create(flags);
    instances.set(key, gpu);
  }
  return gpu;
}

const tuningFile = (): string => process.env.VOXGRAD_TUNING_FILE ?? join(homedir(), '.cache', 'voxgrad', 'tuning.json');

export const nodePlatform: Platform = {
  gpu: dawn,
  noAdapterHelp:
    process.platform === 'linux'
      ? 'Install a Vulkan driver for your GPU. On a headless Linux machine without a GPU, install ' +
        "Mesa's software driver (lavapipe, Mesa 23 or later): as root, run `bash scripts/install-software-vulkan.sh` " +
        'from the voxgrad repository (Debian bookworm: mesa-vulkan-drivers and libvulkan1 from bookworm-backports).'
      : 'Install a GPU driver with Vulkan, Metal or Direct3D 12 support.',
  loadTuning() {
    try {
      return JSON.parse(readFileSync(tuningFile(), 'utf8'));
    } catch {
      return null;
    }
  },
  saveTuning(value) {
    const file = tuningFile();
    try {
      mkdirSync(dirname(file), { recursive: true });
      // Written whole, then renamed, so a reader never sees half a file.
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(value, null, 1)}\n`);
      renameSync(tmp, file);
    } catch {
      // A read-only home: tuning then lasts for the process only.
    }
  },
  asyncContext<T>(): AsyncContext<T> {
    const storage = new AsyncLocalStorage<T>();
    return { get: () => storage.getStore(), run: <R>(value: T, fn: () => R): R => storage.run(value, fn) };
  },
};

setPlatform(nodePlatform);

const autoTuneMs = process.env.VOXGRAD_AUTOTUNE_MS;
if (autoTuneMs !== undefined) {
  const ms = Number(autoTuneMs);
  if (autoTuneMs.trim() === '' || !(ms >= 0))
    throw new ValueError(`environment variable VOXGRAD_AUTOTUNE_MS expected milliseconds >= 0, got '${autoTuneMs}'`);
  flags.autoTuneMs = ms;
}
