// matmul_direct.wgsl — batched C[b] = A[b] · B[b] with one output element per invocation and no
// shared memory, optionally split along K: for thin products (K, M or N small) and for tiny
// outputs with a long K (a weight gradient X^T · dY over every voxel), where the tiled kernel
// would leave most of its tile idle or run one workgroup through the whole of K.
//
// Bindings (group 0):
//   0 params  uniform       Params
//   1 a       storage read  array<f32>
//   2 b       storage read  array<f32>
//   3 c       storage rw    array<f32>, splits * batch * M * N elements: partial products of the
//                           K chunk [s * k_chunk, (s + 1) * k_chunk) for s < splits (the host sums
//                           them over s with the deterministic reduce kernel when splits > 1)
// Params: M, N, K, batch, a_batch / b_batch (element stride between batch items, 0 broadcasts),
//   a_rs / a_cs, b_rs / b_cs (row and column strides: a transpose swaps them), splits, k_chunk.
// Workgroup: 256 x 1 x 1. Dispatch: ceil(splits * batch * M * N / 256) workgroups (folded into
//   x, y, z by the host). Invocation i computes (s, b, m, n) with n fastest, so neighbouring
//   invocations read neighbouring columns of B and the same row of A.

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
  splits: u32,
  k_chunk: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x + wid.z * nwg.x * nwg.y) * 256u + lid;
  let per_split = params.batch * params.M * params.N;
  if (i >= params.splits * per_split) { return; }
  let n = i % params.N;
  let m = (i / params.N) % params.M;
  let item = (i / (params.N * params.M)) % params.batch;
  let s = i / per_split;
  let k0 = s * params.k_chunk;
  let k1 = min(params.K, k0 + params.k_chunk);
  var ia = item * params.a_batch + m * params.a_rs + k0 * params.a_cs;
  var ib = item * params.b_batch + k0 * params.b_rs + n * params.b_cs;
  var acc = 0.0;
  for (var k = k0; k < k1; k++) {
    acc += a[ia] * b[ib];
    ia += params.a_cs;
    ib += params.b_rs;
  }
  c[i] = acc;
}
