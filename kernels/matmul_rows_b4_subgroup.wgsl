// matmul_rows_b4_subgroup.wgsl — matmul_rows_b_subgroup.wgsl where B's rows are contiguous and
// vec4-aligned: the host takes it where b_cs = 1 and N is a multiple of 4, so b_rs = N and b_batch
// (0 or K · N) are multiples of 4 too. Each lane loads its vec4s of a round whole, one load
// instead of four (on lavapipe the product 3-5% faster at 512³). (Preceded by lanes_subgroup.wgsl and
// matmul_rows_b_rounds_subgroup.wgsl.)

@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;

// This lane's loads of a round: vec4 n is vec4 e = n · 8 + lane of the round (row e / CB4, column
// block e % CB4), whose vec4 index in row 0 (clamped to the last vec4 of the row) is computed once.
struct BColumns { v: array<u32, NB> }

fn b_columns(b0: u32, n0: u32) -> BColumns {
  var cols: BColumns;
  for (var n = 0u; n < NB; n++) {
    let e = n * SUBGROUP_MIN + lane % SUBGROUP_MIN;
    cols.v[n] = (b0 + min(n0 + 4u * (e % CB4), params.N - 4u)) / 4u;
  }
  return cols;
}

// This lane's vec4s of rows k .. k + KR − 1 (clamped to row K − 1).
fn b_round(k: u32, cols: BColumns) -> BRound {
  var mine: BRound;
  for (var n = 0u; n < NB; n++) {
    let e = n * SUBGROUP_MIN + lane % SUBGROUP_MIN;
    mine.v[n] = b[cols.v[n] + min(k + e / CB4, params.K - 1u) * (params.b_rs / 4u)];
  }
  return mine;
}
