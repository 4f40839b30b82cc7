/**
 * The weight of each voxel of a window when overlapping windows are blended, as MONAI's
 * `compute_importance_map`: 'constant' is 1 everywhere (a plain average); 'gaussian' is the
 * product over axes of exp(−x² / (2σ²)), x from −(p − 1)/2 to (p − 1)/2 in steps of 1 and
 * σ = p · sigmaScale, so voxels near a window's border (where a network sees zero padding instead
 * of the volume) count less. As MONAI does, weights below 1e-3 are raised to 1e-3 (more exactly,
 * to max(min weight, 1e-3)), so every voxel keeps a positive weight and the blend stays defined.
 */

/** (px, py, pz) weights, row-major (z fastest). */
export function importanceMap(
  patch: readonly [number, number, number],
  blend: 'gaussian' | 'constant',
  sigmaScale: readonly [number, number, number] = [0.125, 0.125, 0.125],
): Float32Array {
  const [px, py, pz] = patch;
  const map = new Float32Array(px * py * pz);
  if (blend === 'constant') return map.fill(1);
  const axes = patch.map((p, a) => {
    const sigma = p * sigmaScale[a];
    return Array.from({ length: p }, (_, i) => {
      const x = i - (p - 1) / 2;
      return Math.exp((x * x) / (-2 * sigma * sigma));
    });
  });
  let i = 0;
  for (let x = 0; x < px; x++)
    for (let y = 0; y < py; y++) for (let z = 0; z < pz; z++) map[i++] = axes[0][x] * axes[1][y] * axes[2][z];
  let min = Infinity;
  for (const v of map) min = Math.min(min, v);
  const floor = Math.max(min, 1e-3);
  for (let k = 0; k < map.length; k++) if (map[k] < floor) map[k] = floor;
  return map;
}
