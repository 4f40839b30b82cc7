/**
 * Where a patch goes, as MONAI's RandCropByPosNegLabel: a voxel drawn uniformly from the
 * foreground (label > 0) or from the background (label 0), and a crop containing that voxel.
 *
 * Voxels are drawn without listing them when their set is at least a quarter of the volume
 * (rejection: a random voxel, kept if it is in the set; at most 64 tries); a smaller set is listed
 * once, on first use. Both draws are uniform over the set, and memory stays at most one index per
 * voxel of the smaller set instead of MONAI's two full index lists.
 */

/** The foreground and background voxels of one case, with uniform draws from either. */
export class VoxelSets {
  /** Voxels with label > 0 (and, with a threshold, an intensity above it). */
  readonly foreground: number;
  /** Voxels with label 0 (and, with a threshold, an intensity above it). */
  readonly background: number;
  readonly #labels: Int32Array;
  readonly #inImage: (v: number) => boolean;
  readonly #lists: { fg: Int32Array | null; bg: Int32Array | null } = { fg: null, bg: null };

  /**
   * `threshold`: as MONAI's `image_threshold`, only voxels where some channel's intensity is
   * above it are drawn (foreground and background alike); undefined counts every voxel.
   */
  constructor(labels: Int32Array, image: Float32Array, channels: number, threshold?: number) {
    this.#labels = labels;
    this.#inImage =
      threshold === undefined
        ? () => true
        : (v) => {
            for (let c = 0; c < channels; c++) if (image[v * channels + c] > threshold) return true;
            return false;
          };
    let fg = 0;
    let bg = 0;
    for (let v = 0; v < labels.length; v++) {
      if (!this.#inImage(v)) continue;
      if (labels[v] > 0) fg++;
      else bg++;
    }
    this.foreground = fg;
    this.background = bg;
  }

  #has(kind: 'fg' | 'bg', v: number): boolean {
    return (kind === 'fg' ? this.#labels[v] > 0 : this.#labels[v] <= 0) && this.#inImage(v);
  }

  /** A voxel (flat index) drawn uniformly from the set; the set must not be empty. */
  pick(kind: 'fg' | 'bg', random: () => number): number {
    const n = this.#labels.length;
    const count = kind === 'fg' ? this.foreground : this.background;
    if (count * 4 >= n) {
      for (let tries = 0; tries < 64; tries++) {
        const v = Math.floor(random() * n);
        if (this.#has(kind, v)) return v;
      }
    }
    let list = this.#lists[kind];
    if (!list) {
      list = new Int32Array(count);
      let k = 0;
      for (let v = 0; v < n; v++) if (this.#has(kind, v)) list[k++] = v;
      this.#lists[kind] = list;
    }
    return list[Math.floor(random() * count)];
  }
}

/**
 * The first voxel of a crop of `size` along an axis of `dim` voxels that contains `centre`: the
 * crop is centred on it (start centre − ⌊size/2⌋, as MONAI's crop) and moved inside the volume.
 * An axis shorter than the crop is padded symmetrically (⌊(size − dim)/2⌋ before, as MONAI's
 * SpatialPad), so the start is negative.
 */
export function cropStart(centre: number, dim: number, size: number): number {
  if (dim < size) return -Math.floor((size - dim) / 2);
  return Math.min(Math.max(centre - Math.floor(size / 2), 0), dim - size);
}
