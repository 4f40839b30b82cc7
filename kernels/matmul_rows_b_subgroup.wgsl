// matmul_rows_b_subgroup.wgsl — matmul_rows_b.wgsl for devices with subgroups of at least 8
// invocations that the kernel's workgroups of WG fill (src/tensor/subgroups.ts): the KR rows of
// CB4 vec4s of B a round needs are loaded once per subgroup, lane l loading vec4s l, l + 8, ...
// of them (row-major), and handed to every lane with subgroupShuffle, instead of every lane
// loading every value (lavapipe 25.0 gathers a uniform address lane by lane unless it is a
// compile-time constant). The caller keeps control flow uniform, as subgroupShuffle requires.
// (Preceded by lanes_subgroup.wgsl: `enable subgroups`, SUBGROUP_MIN and this invocation's lane.)

// Rows of B per round: at least 2, so each accumulator takes 2 products a visit, and enough
// that each of the first 8 lanes loads NB whole vec4s.
const KR: u32 = max(2u, SUBGROUP_MIN / CB4);
const NB: u32 = KR * CB4 / SUBGROUP_MIN;
const_assert (KR * CB4) % SUBGROUP_MIN == 0u;

// As in matmul_rows_b.wgsl: rows k .. k + KR − 1 of B (clamped to row K − 1): [r][j].
fn b_rows(k: u32, bcol: array<vec4<u32>, CB4>) -> array<array<vec4<f32>, CB4>, KR> {
  let q = lane % SUBGROUP_MIN;
  var mine: array<vec4<f32>, NB>;
  for (var n = 0u; n < NB; n++) {
    let e = n * SUBGROUP_MIN + q;
    let at = bcol[e % CB4] + vec4<u32>(min(k + e / CB4, params.K - 1u) * params.b_rs);
    mine[n] = vec4<f32>(b[at.x], b[at.y], b[at.z], b[at.w]);
  }
  var out: array<array<vec4<f32>, CB4>, KR>;
  for (var r = 0u; r < KR; r++) {
    for (var j = 0u; j < CB4; j++) {
      let e = r * CB4 + j;
      out[r][j] = subgroupShuffle(mine[e / SUBGROUP_MIN], e % SUBGROUP_MIN);
    }
  }
  return out;
}
