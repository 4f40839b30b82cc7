/**
 * The check every dispatch passes before it is recorded: each buffer binding against the
 * pipeline's layout read from its WGSL (binding_layout.ts) and the device's rules (binding size
 * limits, offset alignment, the buffer's bounds, a released buffer, a written range overlapping
 * another binding of the same buffer). A KernelError naming the kernel where WebGPU would reject
 * the command, so an invalid command never takes a whole batch down with it.
 */
import { DeviceError, KernelError } from '../../errors.js';
import type { Binding, DeviceLimits } from '../backend.js';
import type { Kernel } from '../kernel.js';
import type { StorageBinding } from './binding_layout.js';
import { PooledBuffer } from './buffer_pool.js';

export function checkBindings(
  kernel: Kernel,
  layout: readonly StorageBinding[],
  bindings: Readonly<Record<string, Binding>>,
  limits: DeviceLimits,
): void {
  const fail = (what: string): never => {
    throw new KernelError(`kernel ${kernel.name} (kernels/${kernel.file}): ${what}`);
  };
  const ranges: { name: string; buffer: PooledBuffer; start: number; end: number; writable: boolean }[] = [];
  kernel.bindings.forEach((name, i) => {
    const b = bindings[name];
    if (!b) return fail(`no buffer given for binding '${name}'`);
    if (!(b.buffer instanceof PooledBuffer)) return fail(`binding '${name}' is not a buffer of this device`);
    if (!b.buffer.live) return fail(`binding '${name}' is a buffer already released (a tensor used after dispose)`);
    const uniform = !!layout[i]?.uniform;
    const [limit, maxBinding, align] = uniform
      ? ['maxUniformBufferBindingSize', limits.maxUniformBufferBindingSize, limits.minUniformBufferOffsetAlignment]
      : ['maxStorageBufferBindingSize', limits.maxStorageBufferBindingSize, limits.minStorageBufferOffsetAlignment];
    if (b.size > maxBinding) {
      throw new DeviceError(
        `a tensor of ${b.size} bytes exceeds this device's ${limit} (${maxBinding} bytes), the most one binding of kernel ${kernel.name} may see, and this op does not split it`,
      );
    }
    const minBytes = layout[i]?.minBytes ?? 4;
    if (b.offset % align !== 0) fail(`binding '${name}' starts at byte ${b.offset}, not a multiple of ${align}`);
    if (b.size % 4 !== 0 || b.size < minBytes)
      fail(`binding '${name}' covers ${b.size} bytes; it needs a multiple of 4, at least ${minBytes}`);
    if (b.offset + b.size > b.buffer.size)
      fail(`binding '${name}' covers bytes [${b.offset}, ${b.offset + b.size}) of a buffer of ${b.buffer.size}`);
    ranges.push({ name, buffer: b.buffer, start: b.offset, end: b.offset + b.size, writable: !!layout[i]?.writable });
  });
  for (const [i, r] of ranges.entries())
    for (const q of ranges.slice(i + 1))
      if (r.buffer === q.buffer && (r.writable || q.writable) && r.start < q.end && q.start < r.end)
        fail(`bindings '${r.name}' and '${q.name}' overlap in one buffer and one of them is written`);
}
