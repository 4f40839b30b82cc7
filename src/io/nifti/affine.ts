/**
 * NIfTI's two rotations of the voxel grid: the qform's quaternion to an affine (method 2, as
 * nifti1_io), and back from an affine to the nearest rotation's quaternion (mat44_to_quatern).
 */

/** NIfTI method 2: the rotation of quaternion (b, c, d), voxel sizes, qfac, then the offset. */
export function quaternToAffine(q: number[], offset: number[], size: number[], qfac: number): number[] {
  let [b, c, d] = q;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // Not a unit quaternion: normalise (b, c, d) and take a 180° rotation, as nifti1_io does.
    const n = Math.sqrt(b * b + c * c + d * d);
    a = 0;
    b /= n;
    c /= n;
    d /= n;
  } else a = Math.sqrt(a);
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const s = [size[0], size[1], qfac < 0 ? -size[2] : size[2]];
  const m: number[] = [];
  for (let i = 0; i < 3; i++) m.push(r[i][0] * s[0], r[i][1] * s[1], r[i][2] * s[2], offset[i]);
  return [...m, 0, 0, 0, 1];
}

export function det3(m: number[][]): number {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}

/** The orthogonal matrix nearest to m (polar decomposition by Newton's iteration X ← (X + X⁻ᵀ)/2). */
function nearestRotation(m: number[][]): number[][] {
  let x = m.map((r) => [...r]);
  for (let it = 0; it < 100; it++) {
    const d = det3(x);
    // Inverse transpose: the cofactor matrix over the determinant.
    const cof = (i: number, j: number) => {
      const r = [0, 1, 2].filter((k) => k !== i);
      const c = [0, 1, 2].filter((k) => k !== j);
      const v = x[r[0]][c[0]] * x[r[1]][c[1]] - x[r[0]][c[1]] * x[r[1]][c[0]];
      return (i + j) % 2 ? -v : v;
    };
    const next = x.map((row, i) => row.map((e, j) => 0.5 * (e + cof(i, j) / d)));
    let diff = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) diff += Math.abs(next[i][j] - x[i][j]);
    x = next;
    if (diff < 1e-14) break;
  }
  return x;
}

/**
 * The qform of an affine (nifti1_io's mat44_to_quatern): pixdim from the column norms, the nearest
 * rotation, qfac from the sign of its determinant, and the rotation's quaternion (b, c, d).
 */
export function affineToQuatern(affine: readonly number[]): {
  quatern: number[];
  qoffset: number[];
  pixdim: number[];
  qfac: number;
} {
  const m = [0, 1, 2].map((i) => [affine[4 * i], affine[4 * i + 1], affine[4 * i + 2]]);
  const pixdim = [0, 1, 2].map((j) => Math.hypot(m[0][j], m[1][j], m[2][j]));
  const unit = m.map((row) => row.map((e, j) => e / pixdim[j]));
  const r = nearestRotation(unit);
  let qfac = 1;
  if (det3(r) < 0) {
    qfac = -1;
    for (const row of r) row[2] = -row[2];
  }
  let a = r[0][0] + r[1][1] + r[2][2] + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r[2][1] - r[1][2])) / a;
    c = (0.25 * (r[0][2] - r[2][0])) / a;
    d = (0.25 * (r[1][0] - r[0][1])) / a;
  } else {
    const xd = 1 + r[0][0] - (r[1][1] + r[2][2]);
    const yd = 1 + r[1][1] - (r[0][0] + r[2][2]);
    const zd = 1 + r[2][2] - (r[0][0] + r[1][1]);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      a = (0.25 * (r[2][1] - r[1][2])) / b;
      c = (0.25 * (r[0][1] + r[1][0])) / b;
      d = (0.25 * (r[0][2] + r[2][0])) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      a = (0.25 * (r[0][2] - r[2][0])) / c;
      b = (0.25 * (r[0][1] + r[1][0])) / c;
      d = (0.25 * (r[1][2] + r[2][1])) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      a = (0.25 * (r[1][0] - r[0][1])) / d;
      b = (0.25 * (r[0][2] + r[2][0])) / d;
      c = (0.25 * (r[1][2] + r[2][1])) / d;
    }
    // q and -q are the same rotation; NIfTI stores the one with a >= 0.
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { quatern: [b, c, d], qoffset: [affine[3], affine[7], affine[11]], pixdim, qfac };
}
