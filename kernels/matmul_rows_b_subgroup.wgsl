// matmul_rows_b_subgroup.wgsl — matmul_rows_b.wgsl for devices with subgroups of at least 8
// invocations that the kernel's workgroups of WG fill (src/tensor/subgroups.ts): the KR rows of
// CB4 vec4s of B a round needs are loaded once per subgroup and handed to every lane with
// subgroupShuffle (matmul_rows_b_rounds_subgroup.wgsl, which precedes this file), instead of
// every lane loading every value (lavapipe 25.0 gathers a uniform address lane by lane unless it
// is a compile-time constant). The caller keeps control flow uniform, as subgroupShuffle
// requires. B is read element by element, at any strides; matmul_rows_b4_subgroup.wgsl reads
// whole vec4s where B's rows are contiguous.

@group(0) @binding(2) var<storage, read> b: array<f32>;

// This lane's loads of a round: vec4 n is vec4 e = n · 8 + lane of the round (row e / CB4, column
// block e % CB4), whose element indices in row 0 (columns clamped to N − 1) are computed once.
struct BColumns { v: array<vec4<u32>, NB> }

fn b_columns(b0: u32, n0: u32) -> BColumns {
  var cols: BColumns;
  for (var n = 0u; n < NB; n++) {
    let e = n * SUBGROUP_MIN + lane % SUBGROUP_MIN;
    let col = vec4<u32>(n0 + 4u * (e % CB4)) + vec4<u32>(0u, 1u, 2u, 3u);
    cols.v[n] = b0 + min(col, vec4<u32>(params.N - 1u)) * params.b_cs;
  }
  return cols;
}

// This lane's vec4s of rows k .. k + KR − 1 (clamped to row K − 1).
fn b_round(k: u32, cols: BColumns) -> BRound {
  var mine: BRound;
  for (var n = 0u; n < NB; n++) {
    let e = n * SUBGROUP_MIN + lane % SUBGROUP_MIN;
    let at = cols.v[n] + vec4<u32>(min(k + e / CB4, params.K - 1u) * params.b_rs);
    mine.v[n] = vec4<f32>(b[at.x], b[at.y], b[at.z], b[at.w]);
  }
  return mine;
}
