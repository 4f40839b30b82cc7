// matmul_rows.wgsl — batched C[b] = A[b] · B[b], A: (M, K), B: (K, N), without workgroup memory:
// each invocation owns RM rows of C across one block of CB4 · 4 columns, and the WG invocations
// of a workgroup share the column block, so every load of B is the same for the whole workgroup
// (one load and a broadcast where the compiler sees the address is uniform; lavapipe 25.0 still
// loads it lane by lane) and only A is read per invocation. The variant for software adapters;
// tiled matmul.wgsl is the GPU's. (Preceded by lanes.wgsl and matmul_rows_b.wgsl, or by
// lanes_subgroup.wgsl, matmul_rows_b_rounds_subgroup.wgsl and matmul_rows_b_subgroup.wgsl or
// matmul_rows_b4_subgroup.wgsl, which declare B and read its rows.)
//
// Bindings (group 0):
//   0 params  uniform       Params (as matmul.wgsl)
//   1 a       storage read  array<f32>
//   2 b       storage read  declared by the prelude: array<f32>, or array<vec4<f32>> (b4)
//   3 c       storage rw    array<f32>, batch * M * N elements, contiguous
// Constants: RM rows and CB4 vec4 blocks of columns per invocation, WG invocations per workgroup.
// Dispatch: ceil(M / (WG · RM)) · ceil(N / (4 · CB4)) · batch workgroups of WG (folded by the
//   host), ordered (batch, column block, row block) with row blocks fastest.

const RM: u32 = 2u;
const CB4: u32 = 4u;
const WG: u32 = 64u;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch: u32,
  a_batch: u32,
  b_batch: u32,
  a_rs: u32,
  a_cs: u32,
  b_rs: u32,
  b_cs: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;


// acc[i][j] += A[row i, k] · B[k, vec4 j] for the KR steps k from k0: the round's values of A are
// loaded first, then, column block by column block, the block's KR vec4s of B are taken from the
// round (b_at: a register, or a shuffle from the lane that loaded it, just before its use) and
// each accumulator takes its KR products in one visit (the same additions in the same order as
// step by step). In the last round (`tail`) the steps past K add 0 · 0: their loads are clamped
// into the matrices, and 0 times a clamped infinity would be NaN.
fn accumulate(acc: ptr<function, array<array<vec4<f32>, CB4>, RM>>, k0: u32, arow: array<u32, RM>, cols: BColumns, tail: bool) {
  let round = b_round(k0, cols);
  var in_k: array<bool, KR>;
  for (var r = 0u; r < KR; r++) { in_k[r] = !tail || k0 + r < params.K; }
  var ak: array<array<f32, KR>, RM>;
  for (var i = 0u; i < RM; i++) {
    for (var r = 0u; r < KR; r++) {
      ak[i][r] = select(0.0, a[arow[i] + min(k0 + r, params.K - 1u) * params.a_cs], in_k[r]);
    }
  }
  for (var j = 0u; j < CB4; j++) {
    var bv: array<vec4<f32>, KR>;
    for (var r = 0u; r < KR; r++) { bv[r] = select(vec4<f32>(0.0), b_at(round, r, j), in_k[r]); }
    for (var i = 0u; i < RM; i++) {
      var s = (*acc)[i][j];
      for (var r = 0u; r < KR; r++) { s += ak[i][r] * bv[r]; }
      (*acc)[i][j] = s;
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32, lanes: Lanes) {
  lanes_begin(lanes);
  let w = wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
  let row_blocks = (params.M + WG * RM - 1u) / (WG * RM);
  let col_blocks = (params.N + 4u * CB4 - 1u) / (4u * CB4);
  if (w >= row_blocks * col_blocks * params.batch) { return; }
  let m0 = (w % row_blocks) * WG * RM + lid * RM;
  let n0 = ((w / row_blocks) % col_blocks) * 4u * CB4;
  let bi = w / (row_blocks * col_blocks);
  // Rows past M read row M - 1 (in bounds) and are not written.
  var arow: array<u32, RM>;
  for (var i = 0u; i < RM; i++) { arow[i] = bi * params.a_batch + min(m0 + i, params.M - 1u) * params.a_rs; }
  // Columns past N read in-bounds columns and are not written.
  let cols = b_columns(bi * params.b_batch, n0);
  // The accumulators as rows of column blocks: lavapipe keeps this two-level array in registers
  // (and its own stack), where one flat array of RM · CB4 = 64 vec4s went to scratch memory and
  // ran 25% slower.
  var acc: array<array<vec4<f32>, CB4>, RM>;
  // Whole rounds of KR steps of K, then the rest of K in one round with a bound check.
  let whole = params.K - params.K % KR;
  for (var k0 = 0u; k0 < whole; k0 += KR) { accumulate(&acc, k0, arow, cols, false); }
  if (whole < params.K) { accumulate(&acc, whole, arow, cols, true); }
  for (var i = 0u; i < RM; i++) {
    let row = m0 + i;
    if (row >= params.M) { break; }
    for (var j = 0u; j < CB4; j++) {
      for (var l = 0u; l < 4u; l++) {
        let col = n0 + 4u * j + l;
        if (col < params.N) { c[(bi * params.M + row) * params.N + col] = acc[i][j][l]; }
      }
    }
  }
}
