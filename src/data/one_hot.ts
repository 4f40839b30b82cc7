/** One-hot labels on the host, for losses or metrics that take (…, classes) targets. */
import { argMessage, ValueError } from '../errors.js';
import { checkInt, describe } from '../tensor/ops/check.js';

/**
 * (…) class indices → (…, classes) float32 one-hot. An index outside [0, classes) is an error
 * naming its position (the GPU losses read indices directly; this is for host-side targets).
 */
export function oneHot(labels: Int32Array, classes: number): Float32Array {
  const fn = 'oneHot';
  if (!(labels instanceof Int32Array))
    throw new ValueError(argMessage(fn, 'labels', 'an Int32Array of class indices', describe(labels)));
  checkInt(fn, 'classes', classes, 1);
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i];
    if (k < 0 || k >= classes)
      throw new ValueError(argMessage(fn, 'labels', `indices in [0, ${classes - 1}]`, `${k} at index ${i}`));
    out[i * classes + k] = 1;
  }
  return out;
}
