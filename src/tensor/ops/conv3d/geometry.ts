/**
 * Geometry of a sliding 3D window over channels-last volumes (a convolution kernel or a pooling
 * window): argument checks, output shape, TensorFlow's 'same' padding, and the geometry uniform
 * that kernels/conv3d_geometry.wgsl gives the conv3d and pool3d kernels.
 */
import conv3dGeometrySource from '../../../../kernels/conv3d_geometry.wgsl';
import { argMessage, ShapeError, ValueError } from '../../../errors.js';
import type { ParamValues, Prelude } from '../../kernel.js';
import type { Tensor } from '../../tensor.js';
import { checkFloat, describe } from '../check.js';

export interface Conv3dOptions {
  /** Step between output positions, one number or [x, y, z] (default 1). */
  strides?: number | readonly number[];
  /** 'valid' (default, no padding) or 'same' (ceil(input / stride) outputs per axis). */
  padding?: 'same' | 'valid';
  /** Spacing between kernel taps, one number or [x, y, z] (default 1). */
  dilation?: number | readonly number[];
}

export interface Conv3dGeometry {
  readonly B: number;
  readonly input: readonly [number, number, number];
  readonly output: readonly [number, number, number];
  readonly kernel: readonly [number, number, number];
  readonly CI: number;
  readonly CO: number;
  readonly strides: readonly [number, number, number];
  readonly dilation: readonly [number, number, number];
  readonly padBefore: readonly [number, number, number];
}

function triple(fn: string, arg: string, v: unknown): [number, number, number] {
  const t = typeof v === 'number' ? [v, v, v] : Array.isArray(v) ? v : null;
  if (t?.length !== 3 || t.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ValueError(argMessage(fn, arg, 'a positive integer or three of them [x, y, z]', describe(v)));
  }
  return [t[0], t[1], t[2]];
}

/** Checks the arguments and computes the output shape and padding (before any GPU work). */
export function conv3dGeometry(fn: string, x: Tensor, w: Tensor, options: Conv3dOptions = {}): Conv3dGeometry {
  checkFloat(fn, 'x', x);
  checkFloat(fn, 'kernel', w);
  if (x.rank !== 5) throw new ShapeError(argMessage(fn, 'x', 'rank 5 (batch, x, y, z, channels)', describe(x)));
  if (w.rank !== 5) throw new ShapeError(argMessage(fn, 'kernel', 'rank 5 (kx, ky, kz, in, out)', describe(w)));
  if (w.shape[3] !== x.shape[4]) {
    throw new ShapeError(
      argMessage(fn, 'kernel', `${x.shape[4]} input channels (x's last axis) on axis 3`, describe(w)),
    );
  }
  // A window of no taps has no output position (PyTorch refuses it too).
  if (w.shape.slice(0, 3).some((d) => d === 0))
    throw new ShapeError(argMessage(fn, 'kernel', 'at least one tap on each spatial axis', describe(w)));
  return windowGeometry(fn, x, [w.shape[0], w.shape[1], w.shape[2]], w.shape[4], options);
}

/** Strides, dilation and padding checked and filled in with their defaults. */
export function windowOptions(
  fn: string,
  options: Conv3dOptions,
): { strides: [number, number, number]; dilation: [number, number, number]; padding: 'same' | 'valid' } {
  const strides = triple(fn, 'strides', options.strides ?? 1);
  const dilation = triple(fn, 'dilation', options.dilation ?? 1);
  const padding = options.padding ?? 'valid';
  if (padding !== 'same' && padding !== 'valid')
    throw new ValueError(argMessage(fn, 'padding', "'same' or 'valid'", describe(padding)));
  return { strides, dilation, padding };
}

/**
 * Output shape and padding of a sliding 3D window (a convolution kernel or a pooling window) of
 * `window` taps over the channels-last x, giving `channelsOut` channels.
 */
export function windowGeometry(
  fn: string,
  x: Tensor,
  window: readonly number[],
  channelsOut: number,
  options: Conv3dOptions,
): Conv3dGeometry {
  if (x.rank !== 5) throw new ShapeError(argMessage(fn, 'x', 'rank 5 (batch, x, y, z, channels)', describe(x)));
  return windowGeometryOfShape(fn, x.shape, window, channelsOut, options);
}

/** `windowGeometry` from x's shape alone (layers use it on symbolic shapes, batch -1 allowed). */
export function windowGeometryOfShape(
  fn: string,
  xShape: readonly number[],
  window: readonly number[],
  channelsOut: number,
  options: Conv3dOptions,
): Conv3dGeometry {
  const shown = `shape [${xShape.join(', ')}]`;
  const { strides, dilation, padding } = windowOptions(fn, options);
  const input = [xShape[1], xShape[2], xShape[3]] as [number, number, number];
  const kernel = [window[0], window[1], window[2]] as [number, number, number];
  const output = [0, 0, 0] as [number, number, number];
  const padBefore = [0, 0, 0] as [number, number, number];
  for (let a = 0; a < 3; a++) {
    const span = (kernel[a] - 1) * dilation[a] + 1;
    if (padding === 'valid') {
      output[a] = Math.floor((input[a] - span) / strides[a]) + 1;
      if (input[a] < span) {
        throw new ShapeError(
          argMessage(fn, 'x', `spatial size >= ${span} on axis ${a + 1} for a 'valid' window span of ${span}`, shown),
        );
      }
    } else {
      output[a] = Math.ceil(input[a] / strides[a]);
      padBefore[a] = Math.floor(Math.max((output[a] - 1) * strides[a] + span - input[a], 0) / 2);
    }
  }
  return { B: xShape[0], input, output, kernel, CI: xShape[4], CO: channelsOut, strides, dilation, padBefore };
}

/** The prelude of the conv3d and pool3d kernels: the geometry uniform and index helpers. */
export const CONV_GEOMETRY: Prelude = { file: 'conv3d_geometry.wgsl', source: conv3dGeometrySource };

/** The fields of the geometry uniform (kernels/conv3d_geometry.wgsl). */
export const GEOMETRY_PARAMS = {
  in_shape: 'vec4<u32>',
  out_shape: 'vec4<u32>',
  ksize: 'vec4<u32>',
  stride: 'vec4<u32>',
  dilation: 'vec4<u32>',
  pad: 'vec4<u32>',
  extra: 'vec4<u32>',
  window: 'vec4<u32>',
  blocks: 'vec4<u32>',
} as const;

/**
 * The geometry uniform's values. `extra` is kernel-specific; `window` is (first invocation, end
 * invocation, element base of input-shaped bindings, element base of output-shaped bindings) of
 * one windowed dispatch (the whole grid from element 0 by default); `blocks` (conv3d.wgsl) the
 * dispatch's first output-channel block and its number of blocks.
 */
export function geometryParams(
  g: Conv3dGeometry,
  extra: readonly number[] = [],
  window: readonly number[] = [0, 0xffffffff, 0, 0],
  blocks: readonly number[] = [],
): ParamValues<typeof GEOMETRY_PARAMS> {
  return {
    in_shape: [...g.input, g.CI],
    out_shape: [...g.output, g.CO],
    ksize: [...g.kernel, g.B],
    stride: g.strides,
    dilation: g.dilation,
    pad: g.padBefore,
    extra,
    window,
    blocks,
  };
}
