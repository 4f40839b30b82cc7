// matmul_rows_b.wgsl — how matmul_rows.wgsl (which the registry puts after lanes.wgsl and this
// prelude) reads B: every invocation loads the CB4 vec4s of a row of B itself, one row per step.
// Every invocation of a workgroup reads the same addresses: a GPU's broadcast; on devices with
// subgroups, matmul_rows_b_subgroup.wgsl takes this file's place.

@group(0) @binding(2) var<storage, read> b: array<f32>;

// Rows of B per step.
const KR: u32 = 1u;

// The element indices of this invocation's columns in row 0: vec4 j holds the 4 columns of block
// j, clamped to column N − 1.
struct BColumns { v: array<vec4<u32>, CB4> }

fn b_columns(b0: u32, n0: u32) -> BColumns {
  var cols: BColumns;
  for (var j = 0u; j < CB4; j++) {
    let n = vec4<u32>(n0 + 4u * j) + vec4<u32>(0u, 1u, 2u, 3u);
    cols.v[j] = b0 + min(n, vec4<u32>(params.N - 1u)) * params.b_cs;
  }
  return cols;
}

// A round of B: row k (clamped to row K − 1) at the columns, [r][j].
struct BRound { v: array<array<vec4<f32>, CB4>, KR> }

fn b_round(k: u32, cols: BColumns) -> BRound {
  var out: BRound;
  let at0 = min(k, params.K - 1u) * params.b_rs;
  for (var j = 0u; j < CB4; j++) {
    let at = cols.v[j] + vec4<u32>(at0);
    out.v[0][j] = vec4<f32>(b[at.x], b[at.y], b[at.z], b[at.w]);
  }
  return out;
}

fn b_at(round: BRound, r: u32, j: u32) -> vec4<f32> {
  return round.v[r][j];
}
