// matmul_rows_b.wgsl — how matmul_rows.wgsl (which the registry puts after lanes.wgsl and this
// prelude) reads B: every invocation loads the CB4 vec4s of a row of B itself, one row per step.
// Every invocation of a workgroup reads the same addresses: a GPU's broadcast; on devices with
// subgroups, matmul_rows_b_subgroup.wgsl takes this file's place.

// Rows of B per step.
const KR: u32 = 1u;

// Rows k .. k + KR − 1 of B (clamped to row K − 1) at the columns of bcol, whose vec4 j holds the
// element indices of 4 columns in row 0: [r][j].
fn b_rows(k: u32, bcol: array<vec4<u32>, CB4>) -> array<array<vec4<f32>, CB4>, KR> {
  var out: array<array<vec4<f32>, CB4>, KR>;
  let at0 = min(k, params.K - 1u) * params.b_rs;
  for (var j = 0u; j < CB4; j++) {
    let at = bcol[j] + vec4<u32>(at0);
    out[0][j] = vec4<f32>(b[at.x], b[at.y], b[at.z], b[at.w]);
  }
  return out;
}
