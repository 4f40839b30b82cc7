/**
 * Copies a box of a channels-last volume into a patch, with a constant where the box leaves the
 * volume and optional flips per spatial axis. One function serves images (C channels) and label
 * maps (one channel), training patches and inference windows.
 *
 * The box starts at `start` (per axis, may be negative or run past the end: those voxels take
 * `padValue`). With `flip[a]`, patch index i on axis a reads box index size[a] − 1 − i, i.e. the
 * patch is the box mirrored on that axis, as MONAI's Flip / numpy's `flip` on the cropped array.
 */

export type Vec3 = readonly [number, number, number];

/** The source index along one axis for each patch index, or -1 outside the volume. */
function axisMap(dim: number, start: number, size: number, flip: boolean): Int32Array {
  const map = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const s = start + (flip ? size - 1 - i : i);
    map[i] = s >= 0 && s < dim ? s : -1;
  }
  return map;
}

/**
 * Writes the box into `out` from element `offset` as a (size[0], size[1], size[2], channels)
 * block. `src` is (dims[0], dims[1], dims[2], channels).
 */
export function copyBox(
  src: Float32Array | Int32Array,
  dims: Vec3,
  channels: number,
  start: Vec3,
  size: Vec3,
  flip: readonly [boolean, boolean, boolean],
  padValue: number,
  out: Float32Array | Int32Array,
  offset: number,
): void {
  const mx = axisMap(dims[0], start[0], size[0], flip[0]);
  const my = axisMap(dims[1], start[1], size[1], flip[1]);
  const mz = axisMap(dims[2], start[2], size[2], flip[2]);
  let o = offset;
  for (let x = 0; x < size[0]; x++) {
    const sx = mx[x];
    for (let y = 0; y < size[1]; y++) {
      const sy = my[y];
      if (sx < 0 || sy < 0) {
        out.fill(padValue, o, o + size[2] * channels);
        o += size[2] * channels;
        continue;
      }
      const row = (sx * dims[1] + sy) * dims[2];
      for (let z = 0; z < size[2]; z++) {
        const sz = mz[z];
        if (sz < 0) {
          for (let c = 0; c < channels; c++) out[o++] = padValue;
          continue;
        }
        const s = (row + sz) * channels;
        for (let c = 0; c < channels; c++) out[o++] = src[s + c];
      }
    }
  }
}
