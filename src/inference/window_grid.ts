/**
 * Where the windows of a sliding-window inference go, as MONAI's `_get_scan_interval` and
 * `dense_patch_slices`: along each axis, windows every ⌊patch · (1 − overlap)⌋ voxels (at least
 * 1), as many as needed to reach the end, the last one moved back to end flush with the volume.
 * A volume smaller than the window is padded first (see sliding_window.ts), so size >= patch here.
 */

/** The step between window starts along one axis. */
export function scanInterval(size: number, patch: number, overlap: number): number {
  if (patch === size) return patch;
  return Math.max(1, Math.floor(patch * (1 - overlap)));
}

/** The window starts along one axis of `size` voxels (size >= patch). */
export function windowStarts(size: number, patch: number, interval: number): number[] {
  let count = 1;
  while ((count - 1) * interval + patch < size) count++;
  return Array.from({ length: count }, (_, i) => Math.min(i * interval, size - patch));
}
