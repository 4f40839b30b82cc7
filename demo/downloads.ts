/**
 * What the page hands back to the user: bytes saved as a file through a temporary link, and the
 * predicted label map as a NIfTI file with the geometry of the image it was predicted from.
 */
import { writeNifti } from '../src/index.js';
import type { DemoCase } from './dataset.js';

/** Offers `bytes` to the browser as a download named `filename`. */
export function saveBytes(bytes: Uint8Array, filename: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the URL by then; revoking it at once can cancel it in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A gzipped NIfTI-1 label map (uint8) of `c`'s dims, affine, qform/sform codes and units. */
export function labelMapNifti(c: DemoCase, labels: Uint8Array): Uint8Array {
  return writeNifti({ data: labels, dims: c.dims, ...c.geometry }, { datatype: 'uint8', gzip: true });
}
