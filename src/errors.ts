/**
 * Named error classes. Every message names the function, the argument, what was expected and
 * what was given, so a user can fix the call without reading voxgrad's source.
 */

/** Base class of every error voxgrad throws on purpose. */
export class VoxgradError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A shape (rank, dims, broadcast compatibility) does not fit the operation. */
export class ShapeError extends VoxgradError {}
/** A dtype does not fit the operation. */
export class DTypeError extends VoxgradError {}
/** A value (number, option, range) is out of what the operation accepts. */
export class ValueError extends VoxgradError {}
/** A tensor was used after `dispose()`. */
export class DisposedError extends VoxgradError {}
/** No WebGPU adapter or device could be obtained, or the device was lost. */
export class DeviceError extends VoxgradError {}
/** A WGSL kernel failed to compile or validate. */
export class KernelError extends VoxgradError {}
/** A gradient could not be computed as asked. */
export class GradientError extends VoxgradError {}
/** A NaN or an infinity appeared (reported by the checkNumerics debug mode, naming the op). */
export class NumericsError extends VoxgradError {}

/** Formats a value for an error message: arrays as [a, b], strings quoted. */
export function show(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<unknown>).length})`;
  return String(v);
}

/** `fn: argument 'arg' expected EXPECTED, got GIVEN` */
export function argMessage(fn: string, arg: string, expected: string, given: unknown): string {
  return `${fn}: argument '${arg}' expected ${expected}, got ${typeof given === 'string' ? given : show(given)}`;
}
