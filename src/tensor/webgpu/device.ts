/**
 * Device selection: `init()` finds a WebGPU adapter (dawn.node in Node, `navigator.gpu` in a
 * browser) or adopts a GPUDevice the caller passes, and `dispose()` releases it.
 */
import { DeviceError } from '../../errors.js';
import { WebGPUBackend } from './backend.js';

export interface InitOptions {
  /** Use this device instead of requesting one. voxgrad will not destroy it on dispose(). */
  device?: GPUDevice;
  powerPreference?: GPUPowerPreference;
  /** Node only: the dawn.node adapter name to use (see dawn.node's `adapter=` option). */
  adapter?: string;
  /** Node only: the dawn.node backend ('vulkan', 'metal', 'd3d12', ...). */
  backend?: string;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

export const NO_ADAPTER_HELP =
  isNode && process.platform === 'linux'
    ? 'Install a Vulkan driver for your GPU. On a headless Linux machine without a GPU, install ' +
      "Mesa's software driver (lavapipe, Mesa 23 or later): as root, run `bash scripts/install-software-vulkan.sh` " +
      'from the voxgrad repository (Debian bookworm: mesa-vulkan-drivers and libvulkan1 from bookworm-backports).'
    : isNode
      ? 'Install a GPU driver with Vulkan, Metal or Direct3D 12 support.'
      : 'Use a browser with WebGPU enabled (Chrome/Edge 113+, or Chromium with --enable-unsafe-webgpu).';

/**
 * dawn.node's GPU object. It must stay strongly reachable for the device's whole life: if V8
 * collects it, Dawn's instance dies under the device and the process crashes at random moments.
 */
let dawnGpu: GPU | null = null;

async function nodeGpu(options: InitOptions): Promise<GPU> {
  let mod: { create(flags: string[]): GPU; globals: Record<string, unknown> };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    throw new DeviceError(
      `init: the 'webgpu' package (Dawn's Node bindings) could not be loaded: ${(e as Error).message}. Run \`npm install\`.`,
    );
  }
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const dawnFlags: string[] = [];
  if (options.adapter) dawnFlags.push(`adapter=${options.adapter}`);
  if (options.backend) dawnFlags.push(`backend=${options.backend}`);
  return mod.create(dawnFlags);
}

async function requestAdapter(options: InitOptions): Promise<{ gpu: GPU; adapter: GPUAdapter }> {
  let gpu: GPU | undefined;
  if (isNode) {
    gpu = await nodeGpu(options);
  } else {
    gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (!gpu)
      throw new DeviceError(`init: this browser has no WebGPU (navigator.gpu is undefined). ${NO_ADAPTER_HELP}`);
  }
  let adapter: GPUAdapter | null = null;
  let reason = '';
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  } catch (e) {
    reason = ` (${(e as Error).message.split('\n')[0]})`;
  }
  if (!adapter) {
    const which = options.adapter ? ` named '${options.adapter}'` : '';
    throw new DeviceError(`init: no WebGPU adapter${which} was found${reason}. ${NO_ADAPTER_HELP}`);
  }
  return { gpu, adapter };
}

/** Every limit voxgrad may need, raised to what the adapter supports. */
function requiredLimits(adapter: GPUAdapter): Record<string, number> {
  const l = adapter.limits;
  return {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
  };
}

export interface OpenedDevice {
  backend: WebGPUBackend;
  /** True when voxgrad created the device and so must destroy it. */
  owned: boolean;
}

export async function openDevice(options: InitOptions = {}): Promise<OpenedDevice> {
  if (options.device) {
    return { backend: new WebGPUBackend(options.device, 'user-provided device'), owned: false };
  }
  const { gpu, adapter } = await requestAdapter(options);
  const features: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits: requiredLimits(adapter), requiredFeatures: features });
  } catch (e) {
    throw new DeviceError(`init: the adapter refused to create a device: ${(e as Error).message}`);
  }
  if (isNode) {
    dawnGpu = gpu;
    // Let dawn.node finish the event processing it scheduled for requestDevice: destroying the
    // device while that is still queued crashes the process at exit.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const info = adapter.info;
  const name =
    [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  return { backend: new WebGPUBackend(device, name), owned: true };
}

export async function closeDevice(opened: OpenedDevice): Promise<void> {
  if (!opened.owned) return;
  const gpu = dawnGpu;
  opened.backend.destroy();
  await opened.backend.device.lost;
  // One more turn lets dawn.node finish the callbacks it queued; then dropping the last
  // reference to its GPU object lets Node exit.
  await new Promise((resolve) => setTimeout(resolve, 0));
  if (dawnGpu === gpu) dawnGpu = null;
}
