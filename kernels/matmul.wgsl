// matmul.wgsl — batched C[b] = A[b] · B[b], A: (M, K), B: (K, N), tiled through workgroup memory
// with a block of results per invocation in registers.
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 a       storage read  array<f32>
//   2 b       storage read  array<f32>
//   3 c       storage rw    array<f32>, batch * M * N elements, contiguous
// Params: M, N, K, batch; a_batch / b_batch (element stride between batch items, 0 broadcasts one
//   matrix to all), a_rs / a_cs (A's row and column strides: a transposed A just swaps them),
//   b_rs / b_cs likewise for B.
// Tile constants (fixed at shader creation, chosen per adapter by the tuner): TM rows × TN
// columns of C per workgroup, TK steps of K staged per round, RM × RN results per invocation;
// the workgroup has WG = (TM / RM) · (TN / RN) invocations.
// Dispatch: ceil(N / TN) · ceil(M / TM) · batch workgroups (linear index, folded into x, y, z by
//   the host), column tiles fastest.
// Workgroup memory: TK · (TM + TN) f32. Each round stages a TK × TM slice of A and a TK × TN slice
// of B, neighbouring invocations reading neighbouring elements of whichever axis is contiguous in
// storage (so a transposed operand still loads coalesced); invocations outside C still stage
// (zero-padded) so every barrier is reached by the whole workgroup. The inner loop is RM + RN
// workgroup-memory loads per RM · RN multiply-adds, with no index arithmetic.

const TM: u32 = 64u;
const TN: u32 = 64u;
const TK: u32 = 16u;
const RM: u32 = 4u;
const RN: u32 = 4u;
const WG: u32 = (TM / RM) * (TN / RN);
const RN4: u32 = RN / 4u;

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
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

var<workgroup> tile_a: array<f32, TK * TM>;
var<workgroup> tile_b: array<vec4<f32>, TK * TN / 4u>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y;
  let tiles_n = (params.N + TN - 1u) / TN;
  let tiles_m = (params.M + TM - 1u) / TM;
  if (w >= tiles_n * tiles_m * params.batch) { return; }
  let m0 = ((w / tiles_n) % tiles_m) * TM;
  let n0 = (w % tiles_n) * TN;
  let bi = w / (tiles_n * tiles_m);
  let a0 = bi * params.a_batch;
  let b0 = bi * params.b_batch;
  // Which axis neighbouring invocations walk when staging: the one contiguous in storage.
  let a_k_fast = params.a_cs == 1u;
  let b_n_fast = params.b_cs == 1u;
  let tm = lid / (TN / RN);
  let tn = lid % (TN / RN);
  var acc: array<vec4<f32>, RM * RN4>;
  for (var k0 = 0u; k0 < params.K; k0 += TK) {
    for (var e = lid; e < TK * TM; e += WG) {
      let kk = select(e / TM, e % TK, a_k_fast);
      let mm = select(e % TM, e / TK, a_k_fast);
      let row = m0 + mm;
      let k = k0 + kk;
      var v = 0.0;
      if (row < params.M && k < params.K) { v = a[a0 + row * params.a_rs + k * params.a_cs]; }
      tile_a[kk * TM + mm] = v;
    }
    for (var e = lid; e < TK * TN; e += WG) {
      let kk = select(e % TK, e / TN, b_n_fast);
      let nn = select(e / TK, e % TN, b_n_fast);
      let col = n0 + nn;
      let k = k0 + kk;
      var v = 0.0;
      if (col < params.N && k < params.K) { v = b[b0 + k * params.b_rs + col * params.b_cs]; }
      tile_b[(kk * TN + nn) / 4u][nn % 4u] = v;
    }
    workgroupBarrier();
    for (var t = 0u; t < TK; t++) {
      var br: array<vec4<f32>, RN4>;
      for (var j = 0u; j < RN4; j++) { br[j] = tile_b[t * (TN / 4u) + tn * RN4 + j]; }
      for (var i = 0u; i < RM; i++) {
        let av = tile_a[t * TM + tm * RM + i];
        for (var j = 0u; j < RN4; j++) { acc[i * RN4 + j] += av * br[j]; }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < RM; i++) {
    let row = m0 + tm * RM + i;
    if (row >= params.M) { break; }
    for (var j = 0u; j < RN; j++) {
      let col = n0 + tn * RN + j;
      if (col < params.N) { c[(bi * params.M + row) * params.N + col] = acc[i * RN4 + j / 4u][j % 4u]; }
    }
  }
}
