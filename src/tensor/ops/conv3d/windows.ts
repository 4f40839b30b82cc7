/**
 * Binding windows for the sliding-window kernels (conv3d, its gradients, pool3d). Their tensors
 * are channels-last, so the voxels of one sample from spatial row x onwards are one contiguous
 * range: a range of consecutive invocations touches a slab of x rows of each tensor, widened by
 * the window's halo where it reads across rows. These functions give those element ranges; the
 * launchers split their grids with `splitWorkgroups` so that every slab fits one binding.
 */
import type { Conv3dGeometry } from './geometry.js';

/** (b, x) of flat voxel v of a (B, X, Y, Z) volume. */
function sampleRow(v: number, X: number, Y: number, Z: number): [number, number] {
  const row = Math.floor(v / (Y * Z));
  return [Math.floor(row / X), row % X];
}

/** The input rows output rows [ox0, ox1] read (clipped to the input). */
export function inputRowsOf(g: Conv3dGeometry, ox0: number, ox1: number): [number, number] {
  const first = Math.max(0, ox0 * g.strides[0] - g.padBefore[0]);
  const last = Math.min(g.input[0] - 1, ox1 * g.strides[0] - g.padBefore[0] + (g.kernel[0] - 1) * g.dilation[0]);
  return [first, Math.max(first, last)];
}

/**
 * The output rows that read input rows [ix0, ix1], clipped to the output: input rows that no
 * output reads (past the last window, or between strided windows) give a neighbouring row, so the
 * range always lies inside the output.
 */
export function outputRowsOf(g: Conv3dGeometry, ix0: number, ix1: number): [number, number] {
  const end = g.output[0] - 1;
  const first = Math.min(
    end,
    Math.max(0, Math.ceil((ix0 + g.padBefore[0] - (g.kernel[0] - 1) * g.dilation[0]) / g.strides[0])),
  );
  const last = Math.max(0, Math.min(end, Math.floor((ix1 + g.padBefore[0]) / g.strides[0])));
  return [Math.min(first, last), Math.max(first, last)];
}

/** Elements of an input-shaped tensor from row xa of sample b0 through row xb of sample b1. */
export function inputSlab(g: Conv3dGeometry, b0: number, xa: number, b1: number, xb: number): [number, number] {
  const row = g.input[1] * g.input[2] * g.CI;
  return [(b0 * g.input[0] + xa) * row, (b1 * g.input[0] + xb + 1) * row];
}

/** Elements of an output-shaped tensor from row oa of sample b0 through row ob of sample b1. */
export function outputSlab(g: Conv3dGeometry, b0: number, oa: number, b1: number, ob: number): [number, number] {
  const row = g.output[1] * g.output[2] * g.CO;
  return [(b0 * g.output[0] + oa) * row, (b1 * g.output[0] + ob + 1) * row];
}

/**
 * The voxels [v0, v1) that workgroups [w0, w1) cover in the direct kernels' grid: workgroup w is
 * channel block w mod CBLOCKS of the 64 blocks w / CBLOCKS, and block j holds VZ consecutive voxels
 * along z of one row of extent Z (ceil(Z / VZ) blocks a row, `blocks` in all).
 */
export function zBlockVoxels(
  w0: number,
  w1: number,
  CBLOCKS: number,
  blocks: number,
  Z: number,
  VZ: number,
): [number, number] {
  const ZR = Math.ceil(Z / VZ);
  const j0 = Math.floor(w0 / CBLOCKS) * 64;
  const j1 = Math.min(blocks, (Math.floor((w1 - 1) / CBLOCKS) + 1) * 64) - 1;
  return [Math.floor(j0 / ZR) * Z + (j0 % ZR) * VZ, Math.floor(j1 / ZR) * Z + Math.min(Z, ((j1 % ZR) + 1) * VZ)];
}

/** Output voxels [v0, v1) (v1 > v0) as (sample, row) of their first and last voxel. */
export function outputRowsOfVoxels(
  g: Conv3dGeometry,
  v0: number,
  v1: number,
): { b0: number; o0: number; b1: number; o1: number } {
  const [b0, o0] = sampleRow(v0, g.output[0], g.output[1], g.output[2]);
  const [b1, o1] = sampleRow(v1 - 1, g.output[0], g.output[1], g.output[2]);
  return { b0, o0, b1, o1 };
}

/** Input voxels [v0, v1) (v1 > v0) as (sample, row) of their first and last voxel. */
export function inputRowsOfVoxels(
  g: Conv3dGeometry,
  v0: number,
  v1: number,
): { b0: number; i0: number; b1: number; i1: number } {
  const [b0, i0] = sampleRow(v0, g.input[0], g.input[1], g.input[2]);
  const [b1, i1] = sampleRow(v1 - 1, g.input[0], g.input[1], g.input[2]);
  return { b0, i0, b1, i1 };
}
