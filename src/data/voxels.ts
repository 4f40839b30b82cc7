/** Host-side helpers on channels-last voxel data, shared by the CLI and the browser demo. */

/** Mean and standard deviation (1 when the volume is constant) for a per-volume z-score. */
export function zScore(data: ArrayLike<number>): { mean: number; sd: number } {
  let mean = 0;
  for (let i = 0; i < data.length; i++) mean += data[i];
  mean /= Math.max(1, data.length);
  let sd = 0;
  for (let i = 0; i < data.length; i++) sd += (data[i] - mean) ** 2;
  return { mean, sd: Math.sqrt(sd / Math.max(1, data.length)) || 1 };
}

/** The class with the largest score (logit or probability) of voxel v in (…, classes) data. */
export function argmaxClass(scores: ArrayLike<number>, v: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (scores[v * classes + c] > scores[v * classes + best]) best = c;
  return best;
}
