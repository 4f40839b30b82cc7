/**
 * Scores of a predicted volume against its label map, on the host (a volume the page already
 * holds): the label map of a segmentation head's logits (argmax), a sigmoid head's mask, and the
 * dice per class. A class absent from both the truth and the prediction has no score (NaN).
 */

/** The class of largest logit per voxel of (…, classes) logits. */
export function argmaxLabels(logits: ArrayLike<number>, classes: number): Uint8Array {
  const voxels = logits.length / classes;
  const out = new Uint8Array(voxels);
  for (let v = 0; v < voxels; v++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[v * classes + c] > logits[v * classes + best]) best = c;
    out[v] = best;
  }
  return out;
}

/** 1 where a one-channel logit is above 0 (probability above one half). */
export function maskOfLogits(logits: ArrayLike<number>): Uint8Array {
  return Uint8Array.from({ length: logits.length }, (_, v) => (logits[v] > 0 ? 1 : 0));
}

/** Dice of every class 0 … classes − 1 between two label maps of the same voxels. */
export function perClassDice(truth: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number[] {
  if (truth.length !== predicted.length)
    throw new Error(`perClassDice: ${truth.length} true labels vs ${predicted.length} predicted`);
  const both = new Float64Array(classes);
  const inTruth = new Float64Array(classes);
  const inPrediction = new Float64Array(classes);
  for (let v = 0; v < truth.length; v++) {
    const t = truth[v];
    const p = predicted[v];
    inTruth[t]++;
    inPrediction[p]++;
    if (t === p) both[t]++;
  }
  return Array.from({ length: classes }, (_, c) =>
    inTruth[c] + inPrediction[c] === 0 ? Number.NaN : (2 * both[c]) / (inTruth[c] + inPrediction[c]),
  );
}
