/**
 * Device selection: `init()` finds a WebGPU adapter through the platform (dawn.node in Node,
 * `navigator.gpu` in a browser) or adopts a GPUDevice the caller passes; `dispose()` releases it.
 */
import { DeviceError } from '../../errors.js';
import { platform } from '../../platform.js';
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

async function requestAdapter(options: InitOptions): Promise<{ gpu: GPU; adapter: GPUAdapter }> {
  let gpu: GPU;
  try {
    gpu = await platform().gpu(options);
  } catch (e) {
    throw new DeviceError(`init: ${(e as Error).message}. ${platform().noAdapterHelp}`);
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
    throw new DeviceError(`init: no WebGPU adapter${which} was found${reason}. ${platform().noAdapterHelp}`);
  }
  return { gpu, adapter };
}

/** Every limit voxgrad may need, raised to what the adapter supports. */
function requiredLimits(adapter: GPUAdapter): Record<string, number> {
  const l = adapter.limits;
  return {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxUniformBufferBindingSize: l.maxUniformBufferBindingSize,
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
  const { adapter } = await requestAdapter(options);
  // Timestamps for profiling; subgroups let the direct kernels share loads across SIMD lanes.
  const features = (['timestamp-query', 'subgroups'] as const).filter((f) => adapter.features.has(f));
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits: requiredLimits(adapter), requiredFeatures: features });
  } catch (first) {
    // The optional features are only speed and profiling: without them, every kernel has a plain form.
    try {
      device = await adapter.requestDevice({ requiredLimits: requiredLimits(adapter) });
    } catch (e) {
      throw new DeviceError(
        `init: the adapter refused to create a device: ${(e as Error).message} (with features ${features.join(', ') || 'none'}: ${(first as Error).message})`,
      );
    }
  }
  // Let the event processing scheduled for requestDevice finish (in dawn.node, destroying the
  // device while that is still queued crashes the process at exit).
  await new Promise((resolve) => setTimeout(resolve, 0));
  const info = adapter.info;
  const name =
    [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  return { backend: new WebGPUBackend(device, name), owned: true };
}

export async function closeDevice(opened: OpenedDevice): Promise<void> {
  if (!opened.owned) return;
  opened.backend.destroy();
  await opened.backend.device.lost;
  // One more turn lets dawn.node finish the callbacks it queued.
  await new Promise((resolve) => setTimeout(resolve, 0));
}
