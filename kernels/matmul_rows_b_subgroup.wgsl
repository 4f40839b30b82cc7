// matmul_rows_b_subgroup.wgsl — matmul_rows_b.wgsl for devices with subgroups of at least 8
// invocations that the kernel's workgroups of WG fill (src/tensor/subgroups.ts): the 8 / CB4
// rows of B a step needs are loaded once per subgroup, lane l loading vec4 l mod CB4 of row
// l / CB4, and handed to every lane with subgroupShuffle, instead of every lane loading every
// value (lavapipe 25.0 gathers a uniform address lane by lane unless it is a compile-time
// constant). The caller keeps control flow uniform, as subgroupShuffle requires.
// (Preceded by lanes_subgroup.wgsl: `enable subgroups`, SUBGROUP_MIN and this invocation's lane.)

// Rows of B per step: one vec4 for each of the first 8 lanes (CB4 divides 8).
const KR: u32 = SUBGROUP_MIN / CB4;
const_assert SUBGROUP_MIN % CB4 == 0u;

// As in matmul_rows_b.wgsl: rows k .. k + KR − 1 of B (clamped to row K − 1): [r][j].
fn b_rows(k: u32, bcol: array<vec4<u32>, CB4>) -> array<array<vec4<f32>, CB4>, KR> {
  let q = lane % SUBGROUP_MIN;
  let at = bcol[q % CB4] + vec4<u32>(min(k + q / CB4, params.K - 1u) * params.b_rs);
  let mine = vec4<f32>(b[at.x], b[at.y], b[at.z], b[at.w]);
  var out: array<array<vec4<f32>, CB4>, KR>;
  for (var r = 0u; r < KR; r++) {
    for (var j = 0u; j < CB4; j++) { out[r][j] = subgroupShuffle(mine, r * CB4 + j); }
  }
  return out;
}
