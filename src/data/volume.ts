/**
 * Host volumes: one image of any size, channels-last (X, Y, Z, C), optionally with its label map
 * (X, Y, Z). The patch sampler draws training patches from cases; sliding-window inference reads
 * a volume. Both check their volumes here, before any work, so a wrong length or a NaN voxel is
 * an error naming the case instead of a silently misread volume.
 */
import { argMessage, ShapeError, ValueError } from '../errors.js';
import { describe } from '../tensor/ops/check.js';
import { showArg } from './check.js';

/** An image volume on the host. */
export interface HostVolume {
  /** Intensities, channels-last (X, Y, Z, C), row-major (z, then c, fastest). */
  readonly image: Float32Array;
  /** [X, Y, Z, C], or [X, Y, Z] for one channel. */
  readonly shape: readonly number[];
  /** Named in errors and in each patch's record (default `case <index>`). */
  readonly name?: string;
}

/** A training case: an image volume and its label map (0 = background, k > 0 = class k). */
export interface VolumeCase extends HostVolume {
  /** Class indices (X, Y, Z), same row-major order as the image's voxels. */
  readonly labels: Int32Array;
}

/** A volume after its checks: its spatial dims and channel count spelled out. */
export interface CheckedVolume {
  readonly image: Float32Array;
  readonly labels: Int32Array | null;
  readonly dims: readonly [number, number, number];
  readonly channels: number;
  readonly name: string;
}

/**
 * A volume as read by `readNifti` ({ data, dims, channels }) in HostVolume form (the same voxels,
 * not copied); anything else is returned as it is.
 */
export function fromNifti(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || 'image' in v || !('data' in v) || !('dims' in v)) return v;
  const n = v as { data: unknown; dims: unknown; channels?: unknown };
  if (!Array.isArray(n.dims)) return v;
  return { image: n.data, shape: [...n.dims, n.channels ?? 1] };
}

/**
 * Checks one volume: shape, lengths, finite intensities and (when `withLabels`) non-negative
 * labels, optionally below `classes`. `arg` names it in errors (`cases[3]`, `volume`).
 */
export function checkVolume(
  fn: string,
  arg: string,
  v: unknown,
  o: { withLabels: boolean; classes?: number },
): CheckedVolume {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new ValueError(
      argMessage(fn, arg, `a volume { image, shape${o.withLabels ? ', labels' : ''} }`, describe(v)),
    );
  const c = v as Partial<VolumeCase>;
  const name = c.name ?? arg;
  if (typeof name !== 'string') throw new ValueError(argMessage(fn, `${arg}.name`, 'a string', describe(c.name)));
  const shape = c.shape;
  if (
    !Array.isArray(shape) ||
    (shape.length !== 3 && shape.length !== 4) ||
    shape.some((d) => !Number.isInteger(d) || d < 1)
  ) {
    throw new ShapeError(
      argMessage(fn, `${arg}.shape`, '[X, Y, Z, C] or [X, Y, Z] of positive integers', showArg(shape)),
    );
  }
  const dims = [shape[0], shape[1], shape[2]] as const;
  const channels = shape[3] ?? 1;
  const voxels = dims[0] * dims[1] * dims[2];
  if (!(c.image instanceof Float32Array))
    throw new ValueError(argMessage(fn, `${arg}.image`, 'a Float32Array', describe(c.image)));
  if (c.image.length !== voxels * channels)
    throw new ShapeError(
      argMessage(
        fn,
        `${arg}.image`,
        `${voxels * channels} values (shape [${shape.join(', ')}])`,
        `${c.image.length} values`,
      ),
    );
  let nonFinite = 0;
  for (let i = 0; i < c.image.length; i++) if (!Number.isFinite(c.image[i])) nonFinite++;
  if (nonFinite > 0)
    throw new ValueError(
      argMessage(fn, `${arg}.image`, `finite intensities (in '${name}')`, `${nonFinite} NaN or infinite value(s)`),
    );
  let labels: Int32Array | null = null;
  if (o.withLabels) {
    if (!(c.labels instanceof Int32Array))
      throw new ValueError(argMessage(fn, `${arg}.labels`, 'an Int32Array of class indices', describe(c.labels)));
    if (c.labels.length !== voxels)
      throw new ShapeError(
        argMessage(
          fn,
          `${arg}.labels`,
          `${voxels} values (one per voxel of [${dims.join(', ')}])`,
          `${c.labels.length} values`,
        ),
      );
    const limit = o.classes ?? Infinity;
    for (let i = 0; i < voxels; i++) {
      const k = c.labels[i];
      if (k < 0 || k >= limit) {
        const expected = limit === Infinity ? 'labels >= 0' : `labels in [0, ${limit - 1}] (classes: ${limit})`;
        throw new ValueError(argMessage(fn, `${arg}.labels`, `${expected} in '${name}'`, `${k} at voxel ${i}`));
      }
    }
    labels = c.labels;
  }
  return { image: c.image, labels, dims, channels, name };
}
